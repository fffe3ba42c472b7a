// FlexiAI.layer / layerConfig end to end: config → providers → router → real HTTP against
// MockProviderServer, then the control service's view of what happened.
import { assert, describe, it } from "@effect/vitest"
import { FlexiConfig } from "@flexiai/config"
import { ChatProvider } from "@flexiai/core"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { ConfigProvider, Effect, Layer } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as FlexiAI from "../src/FlexiAI.ts"
import * as Providers from "../src/Providers.ts"
import { EchoKind } from "./echo-provider/EchoWire.ts"
import { canary, twoProviders } from "./helpers.ts"

describe("FlexiAI.layer", () => {
  it.live("chats, fails over, and reports status, circuits and stats", () =>
    Effect.gen(function*() {
      const primary = yield* MockProviderServer.make({})
      const backup = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from the backup") })

      yield* Effect.gen(function*() {
        const first = yield* ChatProvider.chat("hello there")
        assert.strictEqual(first.provider, "primary")
        assert.include(first.text, "hello there")

        // one try + the primary's own retry (maxRetries 1), then failover
        yield* primary.setScript({ replies: [MockProviderServer.serverError(503), MockProviderServer.serverError(503)] })
        const second = yield* ChatProvider.chat("again")
        assert.strictEqual(second.provider, "backup")
        assert.strictEqual(second.text, "from the backup")
        assert.deepStrictEqual(second.attempts.map((attempt) => [attempt.provider, attempt.outcome]), [["primary", "failure"], ["backup", "success"]])
        assert.strictEqual((yield* primary.calls).filter((call) => call.path === "/v1/chat/completions").length, 3)

        const flexi = yield* FlexiAI.FlexiAI
        const [p, b] = yield* flexi.status
        assert.strictEqual(p?.circuitStore, "local")
        assert.strictEqual(p?.name, "primary")
        assert.strictEqual(p?.kind, "openai-compatible")
        assert.strictEqual(p?.requests, 2)
        assert.strictEqual(p?.successes, 1)
        assert.strictEqual(p?.failures, 1)
        assert.strictEqual(p?.successRate, 0.5)
        assert.strictEqual(p?.lastError?.reason, "ServerError")
        assert.match(p?.lastError?.time ?? "", /^\d{4}-\d\d-\d\dT/)
        // the primary's own breaker (failureThreshold 1) opened; the backup's (top-level, 5) did not
        assert.strictEqual(p?.circuit, "Open")
        assert.strictEqual(b?.circuit, "Closed")
        assert.strictEqual(b?.requests, 1)
        assert.strictEqual(b?.successRate, 1)
        assert.isDefined(b?.latencyP50Millis)
        assert.isDefined(b?.latencyP95Millis)

        const stats = yield* flexi.stats
        assert.strictEqual(stats.requests, 2)
        assert.strictEqual(stats.failovers, 1)
        assert.deepStrictEqual(stats.providers.map(({ name, requests }) => [name, requests]), [["primary", 2], ["backup", 1]])

        // open circuit: skipped without a call
        const third = yield* ChatProvider.chat("third")
        assert.strictEqual(third.provider, "backup")
        assert.strictEqual(third.attempts[0]?.outcome, "skipped")
        assert.strictEqual((yield* primary.calls).filter((call) => call.path === "/v1/chat/completions").length, 3)

        yield* flexi.resetCircuits()
        assert.strictEqual((yield* flexi.status)[0]?.circuit, "Closed")
        assert.strictEqual((yield* ChatProvider.chat("fourth")).provider, "primary")

        yield* flexi.setPrimary("backup")
        assert.deepStrictEqual(yield* flexi.order, ["backup", "primary"])
        yield* flexi.disable("backup")
        assert.strictEqual((yield* ChatProvider.chat("fifth")).provider, "primary")
        yield* flexi.enable("backup")
        const unknown = yield* Effect.flip(flexi.resetCircuits("nope"))
        assert.strictEqual(unknown._tag, "UnknownProvider")
      }).pipe(Effect.provide(FlexiAI.layer(twoProviders(primary.url, backup.url))))
    }))

  it.live("health is cached for its TTL; listModels merges providers and caches each list", () =>
    Effect.gen(function*() {
      const primary = yield* MockProviderServer.make({ models: ["alpha", "beta"] })
      const backup = yield* MockProviderServer.make({ models: ["gamma"] })
      const modelCalls = Effect.map(
        Effect.all([primary.calls, backup.calls]),
        (lists) => lists.map((calls) => calls.filter((call) => call.path === "/v1/models").length)
      )

      yield* Effect.gen(function*() {
        const flexi = yield* FlexiAI.FlexiAI
        const report = yield* flexi.health
        assert.strictEqual(report.status, "ok")
        assert.deepStrictEqual(report.providers.map((p) => [p.name, p.ok, p.probe]), [["primary", true, "listModels"], ["backup", true, "listModels"]])
        assert.deepStrictEqual(yield* modelCalls, [1, 1])
        const again = yield* flexi.health
        assert.strictEqual(again.checkedAt, report.checkedAt)
        assert.deepStrictEqual(yield* modelCalls, [1, 1]) // cached: no new request

        const list = yield* flexi.listModels
        assert.deepStrictEqual(list.models.map((m) => [m.provider, m.id, m.source]), [
          ["primary", "alpha", "listed"],
          ["primary", "beta", "listed"],
          ["backup", "gamma", "listed"]
        ])
        assert.deepStrictEqual(list.failures, [])
        assert.deepStrictEqual(yield* modelCalls, [2, 2])
        yield* flexi.listModels
        assert.deepStrictEqual(yield* modelCalls, [2, 2])

        // a down provider is reported, not hidden; after the TTL the report is made again
        yield* primary.setScript({ byPath: { "/v1/models": [MockProviderServer.serverError(500)] } })
        yield* Effect.sleep("120 millis")
        const degraded = yield* flexi.health
        assert.strictEqual(degraded.status, "degraded")
        assert.strictEqual(degraded.providers[0]?.ok, false)
        assert.strictEqual(degraded.providers[0]?.error?.reason, "ServerError")
      }).pipe(Effect.provide(FlexiAI.layer(twoProviders(primary.url, backup.url), { healthTtl: "100 millis" })))
    }))
})

describe("FlexiAI.layerConfig", () => {
  it.live("reads a YAML file", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({ fallback: MockProviderServer.text("yaml works") })
      const directory = Fs.mkdtempSync(Path.join(Os.tmpdir(), "flexiai-"))
      const file = Path.join(directory, "flexiai.config.yaml")
      Fs.writeFileSync(
        file,
        [
          "providers:",
          "  - kind: openai-compatible",
          "    name: local",
          "    model: mock-model",
          `    baseUrl: ${server.url}/v1`,
          "    apiKey: env:LOCAL_KEY",
          "logging:",
          "  level: error"
        ].join("\n")
      )
      const response = yield* ChatProvider.chat("hi").pipe(
        Effect.provide(FlexiAI.layerConfig({ file })),
        Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env: { LOCAL_KEY: canary } }))
      )
      assert.strictEqual(response.text, "yaml works")
      assert.strictEqual(response.provider, "local")
      const [call] = yield* server.calls
      assert.strictEqual(call?.headers["authorization"], `Bearer ****${canary.slice(-4)}`)
      Fs.rmSync(directory, { recursive: true })
    }))

  it.live("reads environment variables only", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({ fallback: MockProviderServer.text("env works") })
      const env = {
        FLEXIAI_PROVIDERS_0_KIND: "openai-compatible",
        FLEXIAI_PROVIDERS_0_NAME: "from-env",
        FLEXIAI_PROVIDERS_0_MODEL: "mock-model",
        FLEXIAI_PROVIDERS_0_BASE_URL: `${server.url}/v1`,
        FLEXIAI_PROVIDERS_0_API_KEY: canary,
        FLEXIAI_LOGGING_LEVEL: "error"
      }
      const response = yield* ChatProvider.chat("hi").pipe(
        Effect.provide(FlexiAI.layerConfig({ file: false })),
        Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env }))
      )
      assert.strictEqual(response.text, "env works")
      assert.strictEqual(response.provider, "from-env")
    }))

  it.live("standard variables of a kind no descriptor declares are not read", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({ fallback: MockProviderServer.text("detected works") })
      // OPENAI_API_KEY is the openai descriptor's; no bundled descriptor reads MISTRAL_API_KEY
      const env = { OPENAI_API_KEY: canary, OPENAI_BASE_URL: `${server.url}/v1`, MISTRAL_API_KEY: canary, FLEXIAI_LOGGING_LEVEL: "error" }
      const program = Effect.gen(function*() {
        const response = yield* ChatProvider.chat("hi")
        const status = yield* FlexiAI.status
        return { response, names: status.map((provider) => provider.name) }
      })
      const { names, response } = yield* program.pipe(
        Effect.provide(FlexiAI.layerConfig({ file: false })),
        Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env }))
      )
      assert.strictEqual(response.text, "detected works")
      assert.deepStrictEqual(names, ["openai"])
    }))
})

describe("configuration errors", () => {
  it.effect("several mistakes: one FlexiConfigError listing every path, at layer construction", () =>
    Effect.gen(function*() {
      const bad = {
        providers: [
          { kind: "openai-compatible", model: "", baseUrl: "http://127.0.0.1:1/v1" },
          { kind: "openai", model: "gpt-4o-mini" },
          { kind: "openai-compatible", name: "x", model: "m", baseUrl: "http://127.0.0.1:1/v1", priority: canary }
        ],
        policy: { deadline: "soon" }
      } as unknown as FlexiAI.Input
      const error = yield* Effect.flip(Layer.build(FlexiAI.layer(bad)))
      assert.strictEqual(error._tag, "FlexiConfigError")
      const paths = error.problems.map((problem) => problem.path)
      for (const path of ["providers[0].model", "providers[1].apiKey", "providers[2].priority", "policy.deadline"]) {
        assert.include(paths, path)
      }
      assert.notInclude(error.message, canary)
      assert.notInclude(JSON.stringify(error), canary)
      assert.notMatch(error.stack ?? "", /\n\s+at /) // the problems, not a trace
    }))

  it.effect("a kind no descriptor declares: one clear error per entry naming the registered kinds", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(FlexiAI.layer({
        providers: [
          { kind: "openai-compatible", model: "m", baseUrl: "http://127.0.0.1:1/v1" },
          { kind: "mistral", model: "mistral-small", apiKey: canary, priority: 0 },
          { kind: "cohere", name: "c", model: "command-r", apiKey: canary }
        ]
      } as unknown as FlexiAI.Input)))
      assert.strictEqual(error._tag, "FlexiConfigError")
      assert.deepStrictEqual(error.problems.map((problem) => problem.path), ["providers[1].kind", "providers[2].kind"])
      for (const kind of Providers.bundled.map((descriptor) => descriptor.kind)) assert.include(error.message, `"${kind}"`)
      assert.notInclude(JSON.stringify(error), canary)
    }))

  it.effect("a ResolvedConfig loaded with other descriptors: its unknown kinds are refused before any provider is built", () =>
    Effect.gen(function*() {
      const resolved = yield* FlexiConfig.fromObject(
        { providers: [{ kind: "echo", model: "m", region: "r1", apiKey: "k", baseUrl: "http://127.0.0.1:1" }] },
        { providers: [EchoKind] }
      )
      const error = yield* Effect.flip(Layer.build(FlexiAI.layer(resolved)))
      assert.include(error.message, `provider "echo": (kind echo): no registered provider descriptor for this kind`)
    }))
})
