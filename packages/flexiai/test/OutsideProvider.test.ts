// The registry, end to end: a provider package written only in the tests (echo-provider/: its own
// descriptor, wire codec, client and mock encoder) is configured from a config file, filled from
// and detected by its standard variables, appears in the JSON Schema, and fails over with the
// OpenAI family in both directions — passed in as a descriptor, with no change to config or flexiai.
import { assert, describe, it } from "@effect/vitest"
import { FlexiConfig } from "@flexiai/config"
import { ChatProvider } from "@flexiai/core"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { ConfigProvider, Effect, Layer, Redacted, Stream } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as FlexiAI from "../src/FlexiAI.ts"
import * as Providers from "../src/Providers.ts"
import { EchoKind, echoServer } from "./echo-provider/EchoWire.ts"

const echoKey = "echo-secret-3f9a1c7e5b2d"
const providers = [EchoKind]

const echoCalls = (server: MockProviderServer.MockProviderServer["Service"]) =>
  Effect.map(server.calls, (calls) => calls.filter((call) => call.path === "/echo/generate"))

const configFile = (contents: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const directory = Fs.mkdtempSync(Path.join(Os.tmpdir(), "flexiai-echo-"))
      const file = Path.join(directory, "flexiai.config.yaml")
      Fs.writeFileSync(file, contents)
      return file
    }),
    (file) => Effect.sync(() => Fs.rmSync(Path.dirname(file), { recursive: true, force: true }))
  )

describe("a provider package from outside, through its descriptor", () => {
  it.live("configured from a file; fails over to the OpenAI family and back", () =>
    Effect.gen(function*() {
      const echo = yield* echoServer()
      const openai = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from openai") })
      const file = yield* configFile([
        "providers:",
        "  - kind: echo",
        "    name: echo",
        "    model: echo-1",
        `    baseUrl: ${echo.url}`,
        "    apiKey: env:TEST_ECHO_KEY",
        "    region: eu",
        "    priority: 1",
        "  - kind: openai-compatible",
        "    name: backup",
        "    model: m",
        `    baseUrl: ${openai.url}/v1`,
        "    priority: 2",
        "policy:",
        "  retry: { maxRetries: 0 }",
        "logging: { level: error }"
      ].join("\n"))
      const layer = FlexiAI.layerConfig({ file, providers }).pipe(
        Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { TEST_ECHO_KEY: echoKey } })))
      )
      yield* Effect.gen(function*() {
        const first = yield* ChatProvider.chat("hello echo")
        assert.strictEqual(first.provider, "echo")
        assert.strictEqual(first.text, "echo: hello echo") // the mock echoes the last user line
        const [call] = yield* echoCalls(echo)
        // the env: reference was resolved as a secret and sent by the echo client
        assert.strictEqual(call?.headers["x-echo-key"], echoKey)
        assert.deepStrictEqual(call?.body, { model: "echo-1", prompt: "user: hello echo" })

        yield* echo.setScript({ replies: [MockProviderServer.serverError(503)] })
        const second = yield* ChatProvider.chat("again")
        assert.strictEqual(second.provider, "backup")
        assert.strictEqual(second.text, "from openai")
        assert.deepStrictEqual(second.attempts.map((attempt) => [attempt.provider, attempt.outcome]), [["echo", "failure"], ["backup", "success"]])

        const flexi = yield* FlexiAI.FlexiAI
        const [status] = yield* flexi.status
        assert.strictEqual(status?.kind, "echo")
      }).pipe(Effect.provide(layer))
    }))

  it.live("OpenAI first, the outside provider as its backup", () =>
    Effect.gen(function*() {
      const echo = yield* echoServer()
      const openai = yield* MockProviderServer.make({ replies: [MockProviderServer.serverError(500)] })
      const answer = yield* ChatProvider.chat("to the backup").pipe(Effect.provide(FlexiAI.layer({
        providers: [
          { kind: "openai-compatible", name: "primary", model: "m", baseUrl: `${openai.url}/v1`, priority: 1 },
          { kind: "echo", name: "echo", model: "echo-1", baseUrl: echo.url, apiKey: Redacted.make(echoKey), priority: 2 } as never
        ],
        policy: { retry: { maxRetries: 0 } },
        logging: { level: "error" }
      }, { providers })))
      assert.strictEqual(answer.provider, "echo")
      assert.strictEqual(answer.text, "echo: to the backup")
    }))

  it.live("detected from its standard variables, ranked by its descriptor's priority before OpenAI", () =>
    Effect.gen(function*() {
      const echo = yield* echoServer()
      const openai = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from openai") })
      const env = {
        ECHO_API_KEY: echoKey,
        ECHO_BASE_URL: echo.url,
        OPENAI_API_KEY: "sk-test-openai-0000000000",
        OPENAI_BASE_URL: `${openai.url}/v1`
      }
      yield* Effect.gen(function*() {
        const flexi = yield* FlexiAI.FlexiAI
        assert.deepStrictEqual(yield* flexi.order, ["echo", "openai"])
        const answer = yield* ChatProvider.chat("detected")
        assert.strictEqual(answer.provider, "echo")
        assert.strictEqual((yield* echoCalls(echo))[0]?.headers["x-echo-key"], echoKey)
      }).pipe(Effect.provide(
        FlexiAI.layerConfig({ file: false, providers }).pipe(
          Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))
        )
      ))
    }))

  it.effect("config refuses the kind without its descriptor, and a bad field of its own by path", () =>
    Effect.gen(function*() {
      const entry = { kind: "echo", name: "echo", model: "echo-1", baseUrl: "http://127.0.0.1:1", apiKey: "k" } as never
      const without = yield* Effect.flip(FlexiConfig.fromObject({ providers: [entry] }))
      assert.strictEqual(without._tag, "FlexiConfigError")
      assert.isTrue(without.problems.some((problem) => problem.path.startsWith("providers[0]")))
      const bad = yield* Effect.flip(FlexiConfig.fromObject({ providers: [{ ...(entry as object), region: "" } as never] }, { providers }))
      assert.deepStrictEqual(bad.problems.map((problem) => problem.path), ["providers[0].region"])
      const loaded = yield* FlexiConfig.fromObject({ providers: [entry] }, { providers })
      assert.strictEqual(loaded.providers[0]?.kind, "echo")
    }))

  it("its kind and fields appear in the generated JSON Schema and the annotated example, beside the bundled kinds", () => {
    const text = JSON.stringify(Providers.jsonSchema(providers))
    assert.include(text, "\"echo\"")
    assert.include(text, "The tests' echo provider")
    assert.include(text, "\"openai\"")
    assert.notInclude(JSON.stringify(Providers.jsonSchema()), "The tests' echo provider")
    const example = Providers.exampleConfig("flexiai.schema.json", providers)
    assert.include(example, "  - kind: echo\n")
    assert.include(example, "  # Detected from ECHO_API_KEY + ECHO_BASE_URL (priority 5).")
    assert.include(example, "    apiKey: env:ECHO_API_KEY\n")
  })

  // The echo provider is built on the kit (HttpTransport, NDJSON framing, StreamDecoder): the
  // kit's guarantees hold for a format nobody in this repository wrote a decoder for
  describe("its stream, through the kit's decoder", () => {
    const withEchoThenBackup = (echo: { readonly url: string }, backup: { readonly url: string }, streamPolicy: "fail" | "restart") =>
      FlexiAI.layer({
        providers: [
          { kind: "echo", name: "echo", model: "echo-1", baseUrl: echo.url, apiKey: Redacted.make(echoKey), priority: 1 } as never,
          { kind: "openai-compatible", name: "backup", model: "m", baseUrl: `${backup.url}/v1`, priority: 2 }
        ],
        policy: { retry: { maxRetries: 0 }, streamPolicy },
        logging: { level: "none" }
      }, { providers })

    it.live("streams NDJSON lines as text deltas and a finish", () =>
      Effect.gen(function*() {
        const echo = yield* echoServer({ replies: [MockProviderServer.text("one two three")] })
        const backup = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from openai") })
        const parts = yield* Stream.runCollect(ChatProvider.stream("hi")).pipe(Effect.provide(withEchoThenBackup(echo, backup, "fail")))
        assert.deepStrictEqual(parts.filter((part) => part.type === "text-delta").map((part) => part.text), ["one ", "two ", "three"])
        const last = parts.at(-1)
        assert.strictEqual(last?.type, "finish")
        assert.strictEqual(last?.type === "finish" ? last.provider : undefined, "echo")
        const [call] = yield* echoCalls(echo)
        assert.strictEqual((call?.body as { stream?: unknown }).stream, true)
      }))

    it.live("a cut after content restarts on the OpenAI backup (policy restart)", () =>
      Effect.gen(function*() {
        const echo = yield* echoServer({ replies: [MockProviderServer.cutAfter(2)] })
        const backup = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from openai") })
        const parts = yield* Stream.runCollect(ChatProvider.stream("hi")).pipe(Effect.provide(withEchoThenBackup(echo, backup, "restart")))
        const restart = parts.find((part) => part.type === "restart")
        assert.strictEqual(restart?.type === "restart" ? restart.provider : undefined, "backup")
        const afterRestart = parts.slice(parts.indexOf(restart!) + 1)
        assert.strictEqual(afterRestart.filter((part) => part.type === "text-delta").map((part) => part.text).join(""), "from openai")
      }))

    it.live("a body that ends without its done line fails as StreamInterrupted with the partial text (policy fail)", () =>
      Effect.gen(function*() {
        const echo = yield* echoServer({ replies: [MockProviderServer.withoutDone("half an answer")] })
        const backup = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from openai") })
        const error = yield* Effect.flip(Stream.runCollect(ChatProvider.stream("hi")).pipe(Effect.provide(withEchoThenBackup(echo, backup, "fail"))))
        assert.strictEqual(error._tag, "ProviderError")
        const reason = error._tag === "ProviderError" ? error.reason : undefined
        assert.strictEqual(reason?._tag, "StreamInterrupted")
        assert.strictEqual(reason?._tag === "StreamInterrupted" ? reason.partialText : undefined, "half an answer")
      }))

    it.live("a malformed first line and a 429 are classified by the kit and fail over before any content", () =>
      Effect.gen(function*() {
        const echo = yield* echoServer({ replies: [MockProviderServer.malformedEvent("never shown", 0), MockProviderServer.rateLimited({ retryAfterSeconds: 30 })] })
        const backup = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from openai") })
        yield* Effect.gen(function*() {
          const first = yield* Stream.runCollect(ChatProvider.stream("one"))
          assert.strictEqual(first.filter((part) => part.type === "text-delta").map((part) => part.text).join(""), "from openai")
          const second = yield* ChatProvider.chat("two")
          assert.strictEqual(second.provider, "backup")
          assert.deepStrictEqual(second.attempts.map((attempt) => [attempt.provider, attempt.reason]), [["echo", "RateLimited"], ["backup", undefined]])
        }).pipe(Effect.provide(withEchoThenBackup(echo, backup, "fail")))
      }))
  })
})
