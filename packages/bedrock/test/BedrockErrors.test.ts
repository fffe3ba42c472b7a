// Bedrock's errors to reasons: the pure table (header, __type and code forms), HTTP errors over
// the wire, exception frames inside a 200 stream, a frame with a bad CRC, and the stream faults.
import { assert, describe, it } from "@effect/vitest"
import * as Mask from "@flexiai/provider/Mask"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Duration, Effect, Stream } from "effect"
import { reasonFromResponse } from "../src/internal/errors.ts"
import { reasonOf, request, setup } from "./helpers.ts"

const response = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  reasonFromResponse({ status, headers, body: typeof body === "string" ? body : JSON.stringify(body), nowMillis: 0, mask: Mask.make([]), model: "m" })

describe("the error table", () => {
  const table: ReadonlyArray<readonly [string, number, string]> = [
    ["ThrottlingException", 429, "RateLimited"],
    ["ServiceUnavailableException", 503, "Overloaded"],
    ["ModelNotReadyException", 429, "Overloaded"],
    ["ModelTimeoutException", 408, "Timeout"],
    ["ValidationException", 400, "InvalidRequest"],
    ["AccessDeniedException", 403, "PermissionDenied"],
    ["UnrecognizedClientException", 403, "Authentication"],
    ["ExpiredTokenException", 403, "Authentication"],
    ["ResourceNotFoundException", 404, "NotFound"],
    ["ServiceQuotaExceededException", 400, "QuotaExceeded"],
    ["InternalServerException", 500, "ServerError"],
    ["ModelErrorException", 424, "ServerError"]
  ]
  for (const [type, status, reason] of table) {
    it(`${type} (${status}) is ${reason}, from the header, the body's __type or its code`, () => {
      const header = response(status, { message: "m" }, { "x-amzn-errortype": `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` })
      assert.strictEqual(header._tag, reason)
      assert.strictEqual(response(status, { __type: `com.amazon.coral.validate#${type}`, message: "m" })._tag, reason)
      assert.strictEqual(response(status, { code: type, Message: "m" })._tag, reason)
    })
  }

  it("the input-too-long ValidationException is ContextLengthExceeded; other ones InvalidRequest", () => {
    const headers = { "x-amzn-errortype": "ValidationException" }
    assert.strictEqual(response(400, { message: "Input is too long for requested model." }, headers)._tag, "ContextLengthExceeded")
    assert.strictEqual(response(400, { message: "prompt is too long: 210000 tokens > 200000 maximum" }, headers)._tag, "ContextLengthExceeded")
    assert.strictEqual(response(400, { message: "The provided model identifier is invalid." }, headers)._tag, "InvalidRequest")
  })

  it("throttling keeps Retry-After; no exception name falls back to the status table", () => {
    const throttled = response(429, { message: "slow" }, { "x-amzn-errortype": "ThrottlingException", "retry-after": "3" })
    assert.strictEqual(throttled._tag, "RateLimited")
    assert.deepStrictEqual(throttled._tag === "RateLimited" ? throttled.retryAfter : undefined, Duration.seconds(3))
    assert.strictEqual(response(502, "<html>bad gateway</html>")._tag, "ServerError")
    assert.strictEqual(response(418, "")._tag, "UnexpectedStatus")
  })

  it("the recorded 400 (no x-amzn-errortype) is InvalidRequest with Bedrock's message", () => {
    const reason = response(400, { message: "The provided model identifier is invalid." })
    assert.strictEqual(reason._tag, "InvalidRequest")
    assert.include(reason.message, "model identifier is invalid")
  })
})

const chatError = (reply: MockProviderServer.Reply) =>
  Effect.gen(function*() {
    const { provider } = yield* setup({ replies: [reply] })
    return reasonOf(yield* Effect.flip(provider.chat(request())))
  })

const streamError = (reply: MockProviderServer.Reply) =>
  Effect.gen(function*() {
    const { provider } = yield* setup({ replies: [reply] })
    return reasonOf(yield* Effect.flip(Stream.runCollect(provider.stream(request()))))
  })

const frame = (type: string, payload: unknown) =>
  MockProviderServer.eventStreamFrame({ ":event-type": type, ":content-type": "application/json", ":message-type": "event" }, JSON.stringify(payload))

const exceptionFrame = (type: string, message: string) =>
  MockProviderServer.eventStreamFrame({ ":exception-type": type, ":content-type": "application/json", ":message-type": "exception" }, JSON.stringify({ message }))

const eventStream = (frames: ReadonlyArray<Uint8Array>) =>
  MockProviderServer.raw(frames, { headers: { "content-type": "application/vnd.amazon.eventstream" } })

describe("errors over the wire", () => {
  it.effect("HTTP errors in Bedrock's shape (header form and __type form)", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* chatError(MockProviderServer.rateLimited({ retryAfterSeconds: 2 })))._tag, "RateLimited")
      assert.strictEqual((yield* chatError(MockProviderServer.overloaded()))._tag, "Overloaded")
      assert.strictEqual((yield* chatError(MockProviderServer.contextLengthExceeded()))._tag, "ContextLengthExceeded")
      assert.strictEqual((yield* chatError(MockProviderServer.unauthorized()))._tag, "Authentication")
      assert.strictEqual((yield* chatError(MockProviderServer.permissionDenied()))._tag, "PermissionDenied")
      assert.strictEqual((yield* chatError(MockProviderServer.modelNotFound()))._tag, "NotFound")
      assert.strictEqual((yield* chatError(MockProviderServer.serverError()))._tag, "ServerError")
      const expired = yield* chatError(
        MockProviderServer.error(403, { message: "The security token included in the request is expired" }, {
          headers: { "x-amzn-errortype": "ExpiredTokenException:http://internal.amazon.com/coral/com.amazon.coral.service/" }
        })
      )
      assert.strictEqual(expired._tag, "Authentication")
      assert.include(expired.message, "expired")
      const timeout = yield* chatError(MockProviderServer.error(408, { message: "Model has timed out", type: "ModelTimeoutException" }))
      assert.strictEqual(timeout._tag, "Timeout")
      const notReady = yield* chatError(MockProviderServer.error(429, { message: "Model is not ready", type: "ModelNotReadyException" }))
      assert.strictEqual(notReady._tag, "Overloaded")
    }))

  it.effect("the recorded 400 cassette replays as InvalidRequest", () =>
    Effect.gen(function*() {
      const { fixturesDir } = yield* Effect.promise(() => import("./helpers.ts"))
      const reason = yield* chatError(MockProviderServer.fixture(`${fixturesDir()}pydantic-ai__bedrock-400-invalid-model.yaml`))
      assert.strictEqual(reason._tag, "InvalidRequest")
      assert.include(reason.message, "model identifier is invalid")
    }))

  it.effect("exception frames inside a 200 stream map to their reasons", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["throttlingException", "RateLimited"],
        ["serviceUnavailableException", "Overloaded"],
        ["modelStreamErrorException", "ServerError"],
        ["internalServerException", "ServerError"],
        ["validationException", "InvalidRequest"],
        ["modelTimeoutException", "Timeout"]
      ]
      for (const [type, reason] of cases) {
        const got = yield* streamError(eventStream([frame("messageStart", { role: "assistant" }), exceptionFrame(type, "boom")]))
        assert.strictEqual(got._tag, reason, type)
        assert.include(got.message, "boom")
      }
      // the mock's scripted in-band error, after content: the stream fails, not a silent end
      const inBand = yield* streamError(MockProviderServer.inBandError({ message: "Too many tokens", type: "ThrottlingException" }, { afterChunks: 1 }))
      assert.strictEqual(inBand._tag, "RateLimited")
    }))

  it.effect("a frame with a bad CRC is MalformedResponse; the frames before it were delivered", () =>
    Effect.gen(function*() {
      const bad = frame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "lost" } })
      bad[bad.length - 6] = bad[bad.length - 6]! ^ 0x55
      const { provider } = yield* setup({ replies: [eventStream([frame("messageStart", { role: "assistant" }), bad])] })
      const reason = reasonOf(yield* Effect.flip(Stream.runCollect(provider.stream(request()))))
      assert.strictEqual(reason._tag, "MalformedResponse")
      assert.include(reason.message, "CRC")
      // after content, the same corruption keeps the partial text
      const again = yield* streamError(eventStream([frame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "kept" } }), bad]))
      assert.include(["MalformedResponse", "StreamInterrupted"], again._tag)
    }))

  it.effect("stream faults: cut mid-body is StreamInterrupted with the text; a malformed event fails; no metadata still finishes", () =>
    Effect.gen(function*() {
      const cut = yield* streamError(MockProviderServer.cutAfter(2, "one two three four"))
      assert.strictEqual(cut._tag, "StreamInterrupted")
      assert.strictEqual((cut as unknown as { partialText: string }).partialText, "one two ")
      assert.strictEqual((yield* streamError(MockProviderServer.malformedEvent("one two three", 1)))._tag, "MalformedResponse")
      const { provider } = yield* setup({ replies: [MockProviderServer.withoutDone("no metadata here")] })
      const parts = Array.from(yield* Stream.runCollect(provider.stream(request())))
      const finish = parts.at(-1)
      assert.strictEqual(finish?.type, "finish")
      assert.isUndefined(finish?.type === "finish" ? finish.usage : "x")
      // a body that ends before messageStop is interrupted, never complete
      const early = yield* streamError(eventStream([frame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "half" } })]))
      assert.strictEqual(early._tag, "StreamInterrupted")
    }))
})
