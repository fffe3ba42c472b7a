// The connection-level faults of MockProviderServer against the Anthropic provider: a reset before
// the headers, a hang (first-byte timeout), a stall inside a stream (idle timeout), a body that
// ends without message_stop; each is its typed reason, and a stream never ends as if complete.
import { assert, describe, it } from "@effect/vitest"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Effect, Stream } from "effect"
import { partialText, reasonOf, request, setup } from "./helpers.ts"

const fast = { client: { timeouts: { firstByte: "300 millis", idle: "300 millis" } } } as const

describe("connection faults", () => {
  it.live("a reset before the headers is Connection", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.reset(), MockProviderServer.reset()] }, fast)
      assert.strictEqual(reasonOf(yield* Effect.flip(provider.chat(request())))._tag, "Connection")
      assert.strictEqual(reasonOf(yield* Effect.flip(Stream.runDrain(provider.stream(request()))))._tag, "Connection")
    }))

  it.live("no answer within firstByte is a Timeout", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.hang()] }, fast)
      const reason = reasonOf(yield* Effect.flip(provider.chat(request())))
      assert.strictEqual(reason._tag, "Timeout")
    }))

  it.live("a stream that stalls after content fails with the idle Timeout (the router's stream policy takes it from there)", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.stallAfter(2)] }, fast)
      const error = yield* Effect.flip(Stream.runCollect(provider.stream(request())))
      const reason = reasonOf(error)
      assert.strictEqual(reason._tag, "Timeout")
      assert.strictEqual(reason._tag === "Timeout" && reason.phase, "idle")
    }))

  it.live("a stream without message_stop (the mock's withoutDone) is StreamInterrupted, not complete", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.withoutDone("no terminator here")] }, fast)
      const error = yield* Effect.flip(Stream.runCollect(provider.stream(request())))
      assert.strictEqual(reasonOf(error)._tag, "StreamInterrupted")
      assert.strictEqual(partialText(error), "no terminator here")
    }))

  it.live("a malformed event is skipped with onMalformedEvent: skip, and the answer completes", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.malformedEvent("one two three", 1)] }, { chat: { onMalformedEvent: "skip" } })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      assert.strictEqual(parts.map((part) => (part.type === "text-delta" ? part.text : "")).join(""), "one two three")
      assert.strictEqual(parts.at(-1)?.type, "finish")
    }))
})
