// Every fault MockProviderServer injects, through one OpenAI provider over real sockets.
// Timeout tests use short real timeouts (it.live): the waiting is real network I/O.
import { assert, describe, it } from "@effect/vitest"
import * as ProviderError from "@flexiai/core/ProviderError"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import * as TokenSource from "@flexiai/provider/TokenSource"
import { Duration, Effect, Logger, Redacted, Stream } from "effect"
import { apiKey, request, setup } from "./helpers.ts"

const reasonOf = (error: ProviderError.ChatError) => {
  if (error._tag !== "ProviderError") throw new Error(`expected a ProviderError, got ${error._tag}`)
  return error.reason
}

const chatError = (reply: MockProviderServer.Reply, options: Parameters<typeof setup>[1] = {}) =>
  Effect.gen(function*() {
    const { provider } = yield* setup({ replies: [reply] }, options)
    return yield* Effect.flip(provider.chat(request()))
  })

const streamError = (reply: MockProviderServer.Reply, options: Parameters<typeof setup>[1] = {}) =>
  Effect.gen(function*() {
    const { provider } = yield* setup({ replies: [reply] }, options)
    return yield* Effect.flip(Stream.runCollect(provider.stream(request())))
  })

const retryAfterMillis = (error: ProviderError.ChatError) => {
  const reason = reasonOf(error)
  return reason._tag === "RateLimited" && reason.retryAfter !== undefined ? Duration.toMillis(reason.retryAfter) : undefined
}

describe("status faults", () => {
  it.effect("an unknown status (418) and OpenRouter's 402 fail over; a 301 is not followed and names its host", () =>
    Effect.gen(function*() {
      const teapot = reasonOf(yield* chatError(MockProviderServer.raw("I'm a teapot", { status: 418 })))
      assert.strictEqual(teapot._tag, "UnexpectedStatus")
      assert.isTrue(teapot.failsOver)
      assert.isFalse(teapot.isRetryable)
      const credits = reasonOf(
        yield* chatError(MockProviderServer.error(402, { message: "Insufficient credits", code: 402 }))
      )
      assert.strictEqual(credits._tag, "QuotaExceeded")
      assert.isTrue(credits.failsOver)
      const moved = reasonOf(
        yield* chatError(MockProviderServer.raw("", { status: 301, headers: { location: "https://elsewhere.example/v1/chat/completions" } }))
      )
      assert.strictEqual(moved._tag, "UnexpectedStatus")
      assert.isTrue(moved.failsOver)
      assert.include(moved.message, "elsewhere.example")
    }))

  it.effect("429 with retry-after seconds and retry-after-ms", () =>
    Effect.gen(function*() {
      assert.strictEqual(retryAfterMillis(yield* chatError(MockProviderServer.rateLimited({ retryAfterSeconds: 7 }))), 7000)
      assert.strictEqual(retryAfterMillis(yield* chatError(MockProviderServer.rateLimited({ retryAfterMillis: 1250 }))), 1250)
    }))

  it.live("429 with an HTTP-date retry-after is relative to now", () =>
    Effect.gen(function*() {
      const error = yield* chatError(MockProviderServer.rateLimited({ retryAfterDate: new Date(Date.now() + 60_000) }))
      assert.strictEqual(reasonOf(error)._tag, "RateLimited")
      const millis = retryAfterMillis(error) ?? -1
      // an HTTP-date has whole seconds, so allow for the truncation and the round trip
      assert.isAtLeast(millis, 58_000)
      assert.isAtMost(millis, 60_500)
    }))

  it.effect("quota, context length, content policy, invalid request, auth, permission, not found", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [MockProviderServer.Reply, string]> = [
        [MockProviderServer.quotaExceeded(), "QuotaExceeded"],
        [MockProviderServer.contextLengthExceeded(), "ContextLengthExceeded"],
        [MockProviderServer.contentFiltered(), "ContentFiltered"],
        [MockProviderServer.contentFiltered("content_filter"), "ContentFiltered"],
        [MockProviderServer.invalidRequest("temperature"), "InvalidRequest"],
        [MockProviderServer.unauthorized(), "Authentication"],
        [MockProviderServer.permissionDenied(), "PermissionDenied"],
        [MockProviderServer.modelNotFound("gpt-9"), "NotFound"]
      ]
      for (const [reply, expected] of cases) {
        const error = yield* chatError(reply)
        assert.strictEqual(reasonOf(error)._tag, expected)
        assert.match(error._tag === "ProviderError" ? error.requestId ?? "" : "", /^req_mock_/)
      }
      const invalid = reasonOf(yield* chatError(MockProviderServer.invalidRequest("top_p")))
      assert.strictEqual(invalid._tag === "InvalidRequest" ? invalid.param : undefined, "top_p")
    }))

  it.effect("500, 503 overloaded and 529", () =>
    Effect.gen(function*() {
      const server = reasonOf(yield* chatError(MockProviderServer.serverError(500)))
      assert.strictEqual(server._tag === "ServerError" ? server.status : undefined, 500)
      assert.strictEqual(reasonOf(yield* chatError(MockProviderServer.overloaded(503)))._tag, "Overloaded")
      assert.strictEqual(reasonOf(yield* chatError(MockProviderServer.overloaded(529)))._tag, "Overloaded")
    }))

  it.effect("the 401 message echoing part of the key is masked", () =>
    Effect.gen(function*() {
      const error = yield* chatError(MockProviderServer.unauthorized())
      assert.include(error.message, "Incorrect API key provided: [REDACTED]")
      assert.notInclude(error.message, apiKey.slice(0, 8))
      assert.notInclude(error.message, apiKey.slice(-4))
    }))

  it.effect("an unparseable 2xx body is MalformedResponse", () =>
    Effect.gen(function*() {
      const error = yield* chatError(MockProviderServer.raw("{\"choices\": not json"))
      assert.strictEqual(reasonOf(error)._tag, "MalformedResponse")
      const empty = yield* chatError(MockProviderServer.raw("{\"object\":\"chat.completion\",\"choices\":[]}"))
      assert.strictEqual(reasonOf(empty)._tag, "MalformedResponse")
    }))
})

describe("connection faults", () => {
  it.effect("a reset before headers is Connection, for chat and for stream", () =>
    Effect.gen(function*() {
      assert.strictEqual(reasonOf(yield* chatError(MockProviderServer.reset()))._tag, "Connection")
      assert.strictEqual(reasonOf(yield* streamError(MockProviderServer.reset()))._tag, "Connection")
    }))

  it.live("no response at all is Timeout{first-byte}", () =>
    Effect.gen(function*() {
      const reason = reasonOf(yield* chatError(MockProviderServer.hang(), { client: { timeouts: { firstByte: "200 millis" } } }))
      assert.strictEqual(reason._tag, "Timeout")
      assert.strictEqual(reason._tag === "Timeout" ? reason.phase : undefined, "first-byte")
    }))

  it.live("a slow first token beyond the idle timeout is Timeout{idle}; within it the stream completes", () =>
    Effect.gen(function*() {
      const slow = reasonOf(yield* streamError(MockProviderServer.slowFirstToken(800), { client: { timeouts: { idle: "200 millis" } } }))
      assert.strictEqual(slow._tag === "Timeout" ? slow.phase : slow._tag, "idle")
      const { provider } = yield* setup({ replies: [MockProviderServer.slowFirstToken(50, "made it")] }, {
        client: { timeouts: { idle: "1 second" } }
      })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      assert.strictEqual(parts.map((part) => (part.type === "text-delta" ? part.text : "")).join(""), "made it")
    }))

  it.effect("a stream cut after N chunks fails with StreamInterrupted carrying the partial text", () =>
    Effect.gen(function*() {
      const reason = reasonOf(yield* streamError(MockProviderServer.cutAfter(2, "one two three four")))
      assert.strictEqual(reason._tag, "StreamInterrupted")
      assert.strictEqual(reason._tag === "StreamInterrupted" ? reason.partialText : undefined, "one two ")
    }))

  it.effect("the parts before a cut reach the consumer, and no finish part is ever emitted", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.cutAfter(3, "a b c d e")] })
      const seen: Array<string> = []
      const error = yield* Effect.flip(Stream.runForEach(provider.stream(request()), (part) => Effect.sync(() => seen.push(part.type))))
      assert.deepStrictEqual(seen, ["text-delta", "text-delta", "text-delta"])
      assert.strictEqual(reasonOf(error)._tag, "StreamInterrupted")
    }))

  it.live("a stall after N chunks is Timeout{idle}", () =>
    Effect.gen(function*() {
      const started = Date.now()
      const reason = reasonOf(yield* streamError(MockProviderServer.stallAfter(2), { client: { timeouts: { idle: "200 millis" } } }))
      assert.strictEqual(reason._tag === "Timeout" ? reason.phase : reason._tag, "idle")
      assert.isBelow(Date.now() - started, 3000)
    }))
})

describe("stream integrity", () => {
  it.effect("a malformed event is skipped with a warning with onMalformedEvent: skip (opt-in)", () =>
    Effect.gen(function*() {
      const warnings: Array<string> = []
      const logger = Logger.make((options) => {
        if (options.logLevel === "Warn") warnings.push(String((options.message as ReadonlyArray<unknown>)[0]))
      })
      const { provider } = yield* setup({ replies: [MockProviderServer.malformedEvent("x y z", 1)] }, { chat: { onMalformedEvent: "skip" } })
      const parts = yield* Stream.runCollect(provider.stream(request())).pipe(Effect.provide(Logger.layer([logger])))
      assert.strictEqual(parts.map((part) => (part.type === "text-delta" ? part.text : "")).join(""), "x y z")
      assert.strictEqual(parts.at(-1)?.type, "finish")
      assert.deepStrictEqual(warnings, ["skipped undecodable stream events"])
    }))

  it.effect("a malformed event fails the stream by default, and with onMalformedEvent: fail", () =>
    Effect.gen(function*() {
      const reason = reasonOf(yield* streamError(MockProviderServer.malformedEvent("x y z", 1), { chat: { onMalformedEvent: "fail" } }))
      assert.strictEqual(reason._tag, "MalformedResponse")
      const byDefault = reasonOf(yield* streamError(MockProviderServer.malformedEvent("x y z", 1)))
      assert.strictEqual(byDefault._tag, "MalformedResponse")
    }))

  it.live("a stream without [DONE] finishes as soon as finish and usage arrived, not when the socket closes", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.withoutDone("still complete", { hold: true })] }, {
        client: { timeouts: { idle: "5 seconds" } }
      })
      const started = Date.now()
      const parts = yield* Stream.runCollect(provider.stream(request()))
      assert.isBelow(Date.now() - started, 2000)
      const finish = parts.at(-1)
      assert.strictEqual(finish?.type, "finish")
      assert.isDefined(finish?.type === "finish" ? finish.usage : undefined)
      assert.strictEqual(parts.filter((part) => part.type === "finish").length, 1)
    }))

  it.effect("a stream without [DONE] whose response ends completes too", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.withoutDone("ended")] })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      assert.strictEqual(parts.at(-1)?.type, "finish")
    }))

  it.effect("a stream that ends without a finish reason is StreamInterrupted, never complete", () =>
    Effect.gen(function*() {
      const frames = [
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"half an \"}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"answer\"}}]}\n\n",
        "data: [DONE]\n\n"
      ]
      const reason = reasonOf(yield* streamError(MockProviderServer.raw(frames, { headers: { "content-type": "text/event-stream" } })))
      assert.strictEqual(reason._tag, "StreamInterrupted")
      assert.strictEqual(reason._tag === "StreamInterrupted" ? reason.partialText : undefined, "half an answer")
    }))

  it.effect("an in-band error event becomes the matching typed error", () =>
    Effect.gen(function*() {
      const limited = reasonOf(yield* streamError(MockProviderServer.inBandError({ message: "slow down", type: "requests", code: "rate_limit_exceeded" })))
      assert.strictEqual(limited._tag, "RateLimited")
      const server = reasonOf(yield* streamError(MockProviderServer.inBandError({ message: "boom", type: "server_error" }, { afterChunks: 1 })))
      assert.strictEqual(server._tag, "ServerError")
      const length = reasonOf(yield* streamError(MockProviderServer.inBandError({ message: "too long", code: "context_length_exceeded" })))
      assert.strictEqual(length._tag, "ContextLengthExceeded")
    }))
})

describe("body limit", () => {
  // 40 pieces of 64 KiB: 2.5 MiB sent in chunks, no content-length, against a 1 MiB cap
  const piece = "x".repeat(64 * 1024)
  const big = Array.from({ length: 40 }, () => piece)

  it.effect("a non-streamed body past the cap is a MalformedResponse that fails over", () =>
    Effect.gen(function*() {
      const reason = reasonOf(
        yield* chatError(MockProviderServer.raw(big), { client: { maxBodyBytes: 1024 * 1024 } })
      )
      assert.strictEqual(reason._tag, "MalformedResponse")
      assert.include(reason.message, "1048576-byte limit")
      // read piece by piece and stopped: the server announced no length
      assert.notInclude(reason.message, "announced")
      assert.isTrue(reason.failsOver)
    }))

  it.effect("an announced content-length past the cap fails before the body is read", () =>
    Effect.gen(function*() {
      const reason = reasonOf(
        yield* chatError(
          MockProviderServer.raw(big, {
            headers: { "content-type": "application/json", "content-length": String(big.length * piece.length) }
          }),
          { client: { maxBodyBytes: 1024 * 1024 } }
        )
      )
      assert.strictEqual(reason._tag, "MalformedResponse")
      assert.include(reason.message, "announced")
    }))

  it.effect("a body within the cap, sent in pieces without a length, still decodes", () =>
    Effect.gen(function*() {
      const completion = JSON.stringify({
        id: "c",
        object: "chat.completion",
        created: 1,
        model: "m",
        choices: [{ index: 0, message: { role: "assistant", content: "fine" }, finish_reason: "stop" }]
      })
      const { provider } = yield* setup(
        { replies: [MockProviderServer.raw([completion.slice(0, 20), completion.slice(20)])] },
        { client: { maxBodyBytes: completion.length } }
      )
      const response = yield* provider.chat(request())
      assert.strictEqual(response.text, "fine")
    }))
})

describe("token source auth", () => {
  it.effect("a 401 refreshes the token once and sends the request again", () =>
    Effect.gen(function*() {
      let fetches = 0
      const tokenSource = TokenSource.make(Effect.sync(() => {
        fetches++
        return { value: Redacted.make(`entra-token-${fetches}-0123456789abcdef`) }
      }))
      const { provider, server } = yield* setup(
        { replies: [MockProviderServer.unauthorized(), MockProviderServer.text("renewed")] },
        { client: { apiKey: undefined, tokenSource } }
      )
      const response = yield* provider.chat(request())
      assert.strictEqual(response.text, "renewed")
      assert.strictEqual(fetches, 2)
      assert.strictEqual((yield* server.calls).length, 2)
    }))

  it.effect("a second 401 with the renewed token is the failure, and its message cannot hold the token", () =>
    Effect.gen(function*() {
      const token = "entra-token-only-0123456789abcdef"
      const tokenSource = TokenSource.make(Effect.succeed({ value: Redacted.make(token) }))
      const echo = MockProviderServer.error(401, { message: `bad token ${token}` })
      const { provider, server } = yield* setup({ replies: [echo, echo] }, { client: { apiKey: undefined, tokenSource } })
      const reason = reasonOf(yield* Effect.flip(provider.chat(request())))
      assert.strictEqual(reason._tag, "Authentication")
      assert.notInclude(reason.message, token)
      assert.strictEqual((yield* server.calls).length, 2)
    }))
})
