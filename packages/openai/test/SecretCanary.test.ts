// A distinctive key must never appear in anything the library emits across the fault suite:
// error messages, String(error), JSON.stringify(error), any log line (all levels), or any span
// (names, attributes, events, status) — HttpClient's own spans carry request headers.
import { assert, describe, it } from "@effect/vitest"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import * as RecordingTracer from "@flexiai/testing/RecordingTracer"
import { Cause, Effect, Logger, Redacted, References, Stream } from "effect"
import { NodeHttpClient } from "@effect/platform-node"
import { HttpClient } from "effect/http"
import { Layer } from "effect"
import * as OpenAiChat from "../src/OpenAiChat.ts"
import * as OpenAiClient from "../src/OpenAiClient.ts"
import * as OpenAiCompatible from "../src/OpenAiCompatible.ts"
import { build, request, setup } from "./helpers.ts"

const canary = "sk-canary-7f3a9c51d2e84b06a9f1c3d5e7b9a2c4"
const fragments = [canary, "7f3a9c51", canary.slice(0, 12), canary.slice(-8), "a9f1c3d5"]

const faults: ReadonlyArray<MockProviderServer.Reply> = [
  MockProviderServer.unauthorized(),
  MockProviderServer.rateLimited({ retryAfterSeconds: 2, message: `slow down ${canary}` }),
  MockProviderServer.error(400, { message: `bad request for key ${canary.slice(0, 20)}****${canary.slice(-4)}` }),
  MockProviderServer.serverError(500),
  MockProviderServer.contentFiltered(),
  MockProviderServer.reset(),
  MockProviderServer.cutAfter(1),
  MockProviderServer.malformedEvent("a b", 1),
  MockProviderServer.inBandError({ message: `in-band ${canary}`, type: "server_error" }),
  MockProviderServer.hang()
]

const assertClean = (label: string, text: string) => {
  for (const fragment of fragments) assert.notInclude(text, fragment, `${label} leaks the key`)
}

describe("secret canary", () => {
  it.live("the key appears in no error and no log line across the fault suite (bearer and api-key auth)", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const { spans, tracer } = RecordingTracer.make()
      const logger = Logger.make((options) => {
        lines.push(JSON.stringify(options.message), String(options.message), Cause.pretty(options.cause))
      })
      const openAi = yield* setup({ replies: faults }, {
        // with effect's HTTP spans (off by default) and their header attributes: the worst case for a leak
        client: { apiKey: Redacted.make(canary), timeouts: { firstByte: "150 millis", idle: "150 millis" }, httpSpans: true }
      })
      const azureServer = yield* MockProviderServer.make({ replies: faults })
      const azurePreset = OpenAiCompatible.azure({
        endpoint: azureServer.url,
        apiKey: Redacted.make(canary),
        timeouts: { firstByte: "150 millis", idle: "150 millis" },
        httpSpans: true
      })
      const azure = yield* build(
        OpenAiChat.layer(azurePreset.chat).pipe(
          Layer.provideMerge(OpenAiClient.layer(azurePreset.client)),
          Layer.provide(NodeHttpClient.layerUndici)
        )
      )
      let failures = 0
      for (const provider of [openAi.provider, azure.provider]) {
        for (let index = 0; index < faults.length; index++) {
          const call = index % 2 === 0
            ? provider.chat(request("hi", { model: "deploy" }))
            : Stream.runCollect(provider.stream(request("hi", { model: "deploy" })))
          const exit = yield* Effect.exit(call as Effect.Effect<unknown, unknown>).pipe(
            Effect.tapCause((cause) => Effect.logError("call failed", cause)),
            Effect.provide(Logger.layer([logger])),
            Effect.provideService(References.MinimumLogLevel, "All"),
            Effect.withTracer(tracer),
            // record every header on the client spans: the worst case for a leak
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
      }
      // stream-only faults sent as a chat (cut, in-band error) succeed; a malformed event fails the stream
      assert.strictEqual(failures, (faults.length - 2) * 2)
      assert.isAbove(lines.length, 0)
      for (const line of lines) assertClean("log line", line)
      // HttpClient's client spans were recorded, with their request header attributes
      assert.isTrue(spans.some((span) => [...span.attributes.keys()].some((key) => key.startsWith("http.request.header."))))
      for (const span of spans) {
        assertClean(
          `span ${span.name}`,
          JSON.stringify({ name: span.name, attributes: [...span.attributes], events: span.events, status: String(span.status._tag) })
        )
        for (const value of span.attributes.values()) assertClean(`span ${span.name} attribute`, String(value))
      }
      // the server did receive the real key (masked in its own records): the canary was in play
      assert.strictEqual((yield* azureServer.calls)[0]?.headers["api-key"], `****${canary.slice(-4)}`)
    }))
})
