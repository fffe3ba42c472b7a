// The router's spans: opened under an installed tracer (with the call's id), not opened under
// Effect's default tracer, which exports nothing. A provider that reads its current span tells
// which span it runs in.
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider, CircuitBreaker, Router, Spans } from "@flexiai/core"
import type { ChatResponse, StreamPart } from "@flexiai/core"
import { RecordingTracer } from "@flexiai/testing"
import { Effect, Layer, Stream } from "effect"

const answer = (text: string): ChatResponse.ChatResponse => ({
  id: "a",
  text,
  toolCalls: [],
  finishReason: "stop",
  provider: "spy",
  model: "m",
  latencyMillis: 0,
  attempts: []
})

// Answers with the name of the span it runs in ("none" outside any span).
const currentSpanName = Effect.currentSpan.pipe(
  Effect.map((span) => span.name),
  Effect.orElseSucceed(() => "none")
)
const spy = Layer.succeed(
  ChatProvider.ChatProvider,
  ChatProvider.ChatProvider.of({
    name: "spy",
    defaultModel: "m",
    capabilities: ChatProvider.allCapabilities,
    chat: () => Effect.map(currentSpanName, answer),
    stream: () =>
      Stream.fromEffect(currentSpanName).pipe(
        Stream.flatMap((name): Stream.Stream<StreamPart.StreamPart> =>
          Stream.make(
            { type: "text-delta", text: name },
            { type: "finish", finishReason: "stop", provider: "spy", model: "m", attempts: [] }
          )
        )
      )
  })
)

const router = Effect.service(ChatProvider.ChatProvider).pipe(
  Effect.provide(Router.layer({ providers: [spy] }).pipe(Layer.provide(CircuitBreaker.layerMemory())))
)

const recording = RecordingTracer.make

const streamedText = (provider: ChatProvider.ChatProvider["Service"]) =>
  Stream.runCollect(provider.stream({ messages: [{ role: "user", content: "hi" }] })).pipe(
    Effect.map((parts) => parts.flatMap((part) => part.type === "text-delta" ? [part.text] : []).join(""))
  )

describe("spans", () => {
  it.effect("with a tracer installed, a call runs in its Router span, which carries the call id", () =>
    Effect.gen(function*() {
      const { spans, tracer } = recording()
      const provider = yield* router
      const response = yield* provider.chat({ model: "m", messages: [{ role: "user", content: "hi" }] }).pipe(
        Effect.withTracer(tracer)
      )
      // the provider runs in its attempt's span ("chat {model}"), a child of the call's
      assert.strictEqual(response.text, "chat m")
      const span = spans.find((span) => span.name === "Router.chat")!
      assert.match(String(span.attributes.get("flexiai.call_id")), /^flx-/)
      assert.strictEqual(span.attributes.get("flexiai.model"), "m")
      assert.strictEqual(span.status._tag, "Ended")
      const attempt = spans.find((candidate) => candidate.name === "chat m")!
      assert.strictEqual(attempt.parent._tag === "Some" ? attempt.parent.value.spanId : undefined, span.spanId)

      assert.strictEqual(yield* streamedText(provider).pipe(Effect.withTracer(tracer)), "chat m")
      const streamSpan = spans.find((candidate) => candidate.name === "Router.stream")!
      const streamAttempt = spans.filter((candidate) => candidate.name === "chat m").at(-1)!
      assert.strictEqual(
        streamAttempt.parent._tag === "Some" ? streamAttempt.parent.value.spanId : undefined,
        streamSpan.spanId
      )
    }))

  it.effect("under Effect's default tracer, which exports nothing, the router opens no span", () =>
    Effect.gen(function*() {
      const provider = yield* router
      const response = yield* provider.chat({ messages: [{ role: "user", content: "hi" }] })
      assert.strictEqual(response.text, "none")
      assert.strictEqual(yield* streamedText(provider), "none")
      assert.isFalse(yield* Spans.isTracing)
    }))

  it.effect("Spans.withSpan keeps the caller's span as parent", () =>
    Effect.gen(function*() {
      const { spans, tracer } = recording()
      yield* Spans.withSpan(Effect.void, "inner", { k: 1 }).pipe(Effect.withSpan("outer"), Effect.withTracer(tracer))
      const inner = spans.find((span) => span.name === "inner")!
      const outer = spans.find((span) => span.name === "outer")!
      assert.strictEqual(inner.attributes.get("k"), 1)
      assert.strictEqual(inner.parent._tag === "Some" ? inner.parent.value.spanId : undefined, outer.spanId)
    }))
})
