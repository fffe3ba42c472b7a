// The optional bearer key (hosted Ollama) must never appear in anything the library emits across
// the fault suite: error messages, String(error), JSON.stringify(error), any log line (all levels),
// or any span (names, attributes, events, status), Effect's HTTP client spans with their headers
// included.
import { assert, describe, it } from "@effect/vitest"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import * as RecordingTracer from "@flexiai/testing/RecordingTracer"
import { Cause, Effect, Logger, Redacted, References, Stream } from "effect"
import { HttpClient } from "effect/http"
import { request, setup } from "./helpers.ts"

const canary = "olk-canary-3b8e1f07c5d94a26b1e0f9d7c3a5e8b2"
const fragments = [canary, "3b8e1f07", canary.slice(0, 12), canary.slice(-8), "b1e0f9d7"]

const faults: ReadonlyArray<MockProviderServer.Reply> = [
  MockProviderServer.error(401, { message: `unauthorized: key ${canary} is not valid` }),
  MockProviderServer.error(429, { message: `slow down ${canary}` }, { headers: { "retry-after": "1" } }),
  MockProviderServer.error(400, { message: `bad request for key ${canary.slice(0, 20)}****${canary.slice(-4)}` }),
  MockProviderServer.ollamaNotPulled(canary),
  MockProviderServer.serverError(500),
  MockProviderServer.reset(),
  MockProviderServer.cutAfter(1),
  MockProviderServer.inBandError({ message: `runner failed for ${canary}` }, { afterChunks: 1 }),
  MockProviderServer.hang()
]

const assertClean = (label: string, text: string) => {
  for (const fragment of fragments) assert.notInclude(text, fragment, `${label} leaks the key`)
}

describe("secret canary", () => {
  it.live("the bearer key appears in no error, log line or span across the fault suite", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const { spans, tracer } = RecordingTracer.make()
      const logger = Logger.make((options) => {
        lines.push(JSON.stringify(options.message), String(options.message), Cause.pretty(options.cause))
      })
      const { provider, server } = yield* setup({ replies: faults }, {
        client: { apiKey: Redacted.make(canary), timeouts: { firstByte: "150 millis", idle: "150 millis" }, httpSpans: true }
      })
      let failures = 0
      for (let index = 0; index < faults.length; index++) {
        const call = index % 2 === 0 ? provider.chat(request("hi")) : Stream.runCollect(provider.stream(request("hi")))
        const exit = yield* Effect.exit(call as Effect.Effect<unknown, unknown>).pipe(
          Effect.tapCause((cause) => Effect.logError("call failed", cause)),
          Effect.provide(Logger.layer([logger])),
          Effect.provideService(References.MinimumLogLevel, "All"),
          Effect.withTracer(tracer),
          Effect.provideService(HttpClient.TracerHeaderFilter, () => true)
        )
        if (exit._tag === "Failure") {
          failures++
          const error = Cause.squash(exit.cause)
          assertClean(`fault ${index} message`, error instanceof Error ? error.message : "")
          assertClean(`fault ${index} String`, String(error))
          assertClean(`fault ${index} JSON`, JSON.stringify(error))
          assertClean(`fault ${index} cause`, Cause.pretty(exit.cause))
        }
      }
      // fault 7 (an error line) goes to a chat, which gets a plain answer: every other call fails
      assert.strictEqual(failures, faults.length - 1)
      assert.isAbove(lines.length, 0)
      for (const line of lines) assertClean("log line", line)
      assert.isTrue(spans.some((span) => [...span.attributes.keys()].some((key) => key.startsWith("http.request.header."))))
      for (const span of spans) {
        assertClean(`span ${span.name}`, JSON.stringify({ name: span.name, attributes: [...span.attributes], events: span.events, status: String(span.status._tag) }))
        for (const value of span.attributes.values()) assertClean(`span ${span.name} attribute`, String(value))
      }
      // the server did receive the real key (masked in its own records): the canary was in play
      assert.strictEqual((yield* server.calls)[0]?.headers.authorization, `Bearer ****${canary.slice(-4)}`)
    }))

  // Not with httpSpans: Effect's own client span records response headers as they came (see the
  // package README), so a server that echoes the key into one is checked on the default path.
  it.live("a key echoed into the request-id header and the message comes back masked", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const logger = Logger.make((options) => {
        lines.push(JSON.stringify(options.message), String(options.message), Cause.pretty(options.cause))
      })
      const { provider } = yield* setup({
        replies: [MockProviderServer.error(400, { message: `bad key ${canary}` }, { headers: { "x-request-id": canary } })]
      }, { client: { apiKey: Redacted.make(canary) } })
      const exit = yield* Effect.exit(provider.chat(request("hi"))).pipe(
        Effect.tapCause((cause) => Effect.logError("call failed", cause)),
        Effect.provide(Logger.layer([logger])),
        Effect.provideService(References.MinimumLogLevel, "All")
      )
      assert.strictEqual(exit._tag, "Failure")
      if (exit._tag === "Failure") {
        const error = Cause.squash(exit.cause) as { readonly requestId?: string }
        assert.strictEqual(error.requestId, "[REDACTED]")
        assertClean("echo", [String(error), JSON.stringify(error), Cause.pretty(exit.cause)].join("\n"))
      }
      for (const line of lines) assertClean("log line", line)
    }))
})
