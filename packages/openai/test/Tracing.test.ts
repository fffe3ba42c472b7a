// Spans per call: the provider's own span always; Effect's HTTP client span (and the trace headers
// it writes into the request) only with `httpSpans: true`.
import { assert, describe, it } from "@effect/vitest"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import * as RecordingTracer from "@flexiai/testing/RecordingTracer"
import { Effect, Stream } from "effect"
import { request, setup } from "./helpers.ts"

const recording = RecordingTracer.make

describe("tracing", () => {
  it.live("by default: the provider's span, no HTTP span, no trace headers sent to the provider", () =>
    Effect.gen(function*() {
      const { server, provider } = yield* setup({ replies: [MockProviderServer.text("hi"), MockProviderServer.text("there")] })
      const { spans, tracer } = recording()
      yield* provider.chat(request()).pipe(Effect.withTracer(tracer))
      yield* Stream.runDrain(provider.stream(request())).pipe(Effect.withTracer(tracer))
      assert.deepStrictEqual(spans.map((span) => span.name), ["OpenAiChat.chat"])
      assert.strictEqual(spans[0]!.attributes.get("provider"), "openai")
      for (const call of yield* server.calls) {
        assert.notProperty(call.headers, "traceparent")
        assert.notProperty(call.headers, "b3")
      }
    }))

  it.live("httpSpans: true adds Effect's client span under the provider's, and propagates the trace", () =>
    Effect.gen(function*() {
      const { server, provider } = yield* setup({ replies: [MockProviderServer.text("hi")] }, { client: { httpSpans: true } })
      const { spans, tracer } = recording()
      yield* provider.chat(request()).pipe(Effect.withTracer(tracer))
      const outer = spans.find((span) => span.name === "OpenAiChat.chat")!
      const http = spans.find((span) => span.kind === "client")!
      assert.isDefined(http)
      assert.strictEqual(http.parent._tag === "Some" ? http.parent.value.spanId : undefined, outer.spanId)
      const [call] = yield* server.calls
      assert.include(call!.headers["traceparent"], http.traceId)
    }))
})
