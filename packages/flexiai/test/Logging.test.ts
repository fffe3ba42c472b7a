// Logging through FlexiAI: JSON lines at Debug carry the router's callId on every attempt line and
// on the request/response summaries; a distinctive key appears in no log line, status, error or
// config error.
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider } from "@flexiai/core"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Console, Effect, Layer, Stream } from "effect"
import * as FlexiAI from "../src/FlexiAI.ts"
import { canary, capturingConsole, fragments, twoProviders } from "./helpers.ts"

const assertClean = (label: string, text: string) => {
  for (const fragment of fragments) assert.notInclude(text, fragment, `${label} leaks the key`)
}

describe("logging and secrets", () => {
  it.live("Debug JSON lines: callId on every attempt and summary line, no key anywhere", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const primary = yield* MockProviderServer.make({
        replies: [
          MockProviderServer.text("first"),
          MockProviderServer.unauthorized(),
          MockProviderServer.rateLimited({ retryAfterSeconds: 60, message: `slow down {key}` })
        ]
      })
      const backup = yield* MockProviderServer.make({ fallback: MockProviderServer.text("backup") })
      const config = twoProviders(primary.url, backup.url, { level: "debug", format: "json" })

      const errors = yield* Effect.gen(function*() {
        yield* ChatProvider.chat("one")
        yield* ChatProvider.chat("two") // 401 on the primary: failover
        yield* Stream.runDrain(ChatProvider.stream("three"))
        const flexi = yield* FlexiAI.FlexiAI
        assertClean("status", JSON.stringify(yield* flexi.status))
        assertClean("stats", JSON.stringify(yield* flexi.stats))
        yield* backup.setScript({ fallback: MockProviderServer.unauthorized() })
        yield* primary.setScript({ fallback: MockProviderServer.error(500, { message: "oops {key}" }) })
        yield* flexi.resetCircuits()
        return [yield* Effect.flip(ChatProvider.chat("four"))]
      }).pipe(
        Effect.provide(FlexiAI.layer(config)),
        Effect.provideService(Console.Console, capturingConsole(lines))
      )

      for (const error of errors) {
        assert.strictEqual(error._tag, "AllProvidersFailed")
        assertClean("error", `${JSON.stringify(error)} ${String(error)} ${error.message}`)
      }
      assert.isAbove(lines.length, 0)
      for (const line of lines) assertClean("log line", line)

      const parsed = lines.map((line) => JSON.parse(line) as { message: unknown; level: string; annotations: Record<string, unknown> })
      const messageOf = (entry: { message: unknown }) => Array.isArray(entry.message) ? String(entry.message[0]) : String(entry.message)
      const attempts = parsed.filter((entry) => messageOf(entry).startsWith("attempt "))
      const summaries = parsed.filter((entry) => ["provider request", "provider response"].includes(messageOf(entry)))
      assert.isAbove(attempts.length, 3)
      assert.isAbove(summaries.length, 3)
      for (const entry of [...attempts, ...summaries]) assert.match(String(entry.annotations.callId), /^flx-/)
      for (const entry of summaries) assert.strictEqual(entry.level, "DEBUG")
      const response = summaries.find((entry) => messageOf(entry) === "provider response")
      assert.strictEqual(response?.annotations.provider, "primary")
      assert.isDefined(response?.annotations.usage)
      // wire bodies at Debug: the prompt is there, the key is not (checked for every line above)
      const bodies = parsed.filter((entry) => messageOf(entry) === "provider http request")
      assert.isAbove(bodies.length, 0)
      assert.include(String(bodies[0]?.annotations.body), "\"content\":\"one\"")
      assert.isDefined(parsed.find((entry) => messageOf(entry) === "provider http response"))
      // every line of one call shares its id
      const firstCall = parsed.filter((entry) => entry.annotations.callId === attempts[0]?.annotations.callId)
      assert.isAbove(firstCall.length, 1)
    }))

  it.live("at Info no request/response summaries are logged", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const server = yield* MockProviderServer.make({})
      yield* ChatProvider.chat("hi").pipe(
        Effect.provide(FlexiAI.layer({
          providers: [{ kind: "openai-compatible", model: "mock-model", baseUrl: `${server.url}/v1`, apiKey: canary }],
          logging: { level: "info", format: "json" }
        })),
        Effect.provideService(Console.Console, capturingConsole(lines))
      )
      assert.deepStrictEqual(lines.filter((line) => line.includes("provider request")), [])
      assert.deepStrictEqual(lines.filter((line) => line.includes("provider http")), [])
    }))

  it.effect("a config error never shows the key", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(FlexiAI.layer({
        providers: [{ kind: "openai", model: "", apiKey: canary, baseUrl: "" }]
      })))
      assertClean("config error", `${error.message} ${JSON.stringify(error)} ${String(error)} ${error.stack}`)
    }))
})
