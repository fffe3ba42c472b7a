import { assert, describe, it } from "@effect/vitest"
import { ProviderError } from "@flexiai/core"
import { Duration, Effect, Schema } from "effect"

const rateLimited = new ProviderError.ProviderError({
  provider: "openai",
  model: "gpt-4o-mini",
  reason: new ProviderError.RateLimited({ message: "slow down", retryAfter: Duration.seconds(2) }),
  requestId: "req_1"
})

describe("ProviderError", () => {
  it.effect("is caught by reason with Effect's reason helpers", () =>
    Effect.gen(function*() {
      const caught = yield* Effect.fail(rateLimited).pipe(
        Effect.catchReason("ProviderError", "RateLimited", (reason) => Effect.succeed(Duration.toMillis(reason.retryAfter ?? Duration.zero)))
      )
      assert.strictEqual(caught, 2000)
      const other = yield* Effect.fail(rateLimited).pipe(
        Effect.catchReason("ProviderError", "Authentication", () => Effect.succeed("wrong reason")),
        Effect.flip
      )
      assert.strictEqual(other.reason._tag, "RateLimited")
    }))

  it("classifies every reason: retry on the same provider, fail over, count against health", () => {
    const reasons: ReadonlyArray<readonly [ProviderError.ProviderErrorReason, boolean, boolean, boolean]> = [
      [new ProviderError.Authentication({ message: "" }), false, true, true],
      [new ProviderError.PermissionDenied({ message: "" }), false, true, true],
      [new ProviderError.RateLimited({ message: "" }), true, true, false],
      [new ProviderError.QuotaExceeded({ message: "" }), false, true, true],
      [new ProviderError.Overloaded({ message: "" }), true, true, true],
      [new ProviderError.ServerError({ message: "", status: 500 }), true, true, true],
      [new ProviderError.UnexpectedStatus({ message: "", status: 418 }), false, true, true],
      [new ProviderError.Timeout({ message: "", phase: "first-byte" }), false, true, true],
      [new ProviderError.Connection({ message: "" }), true, true, true],
      [new ProviderError.InvalidRequest({ message: "" }), false, false, false],
      [new ProviderError.ContextLengthExceeded({ message: "" }), false, true, false],
      [new ProviderError.ContentFiltered({ message: "" }), false, false, false],
      [new ProviderError.NotFound({ message: "" }), false, true, false],
      [new ProviderError.MalformedResponse({ message: "" }), true, true, true],
      [new ProviderError.StreamInterrupted({ message: "", partialText: "" }), false, true, true]
    ]
    for (const [reason, retry, failover, health] of reasons) {
      assert.deepStrictEqual(
        [reason.isRetryable, reason.failsOver, reason.countsAgainstHealth],
        [retry, failover, health],
        reason._tag
      )
    }
  })

  it("renders who, what and why, and round-trips through its JSON codec", () => {
    assert.strictEqual(rateLimited.message, "openai (gpt-4o-mini): RateLimited (retry after 2s): slow down")
    const codec = Schema.toCodecJson(ProviderError.ProviderError)
    const json = JSON.parse(JSON.stringify(Schema.encodeSync(codec)(rateLimited)))
    const back = Schema.decodeUnknownSync(codec)(json)
    assert.strictEqual(back.reason._tag, "RateLimited")
    assert.strictEqual(back.requestId, "req_1")
  })

  it("AllProvidersFailed lists each attempt in its message", () => {
    const error = new ProviderError.AllProvidersFailed({
      attempts: [
        { provider: "a", model: "m", outcome: "failure", reason: "ServerError", tries: 3, latencyMillis: 10 },
        { provider: "b", outcome: "skipped", reason: "CircuitOpen", tries: 0, latencyMillis: 0 }
      ]
    })
    assert.strictEqual(error.message, "all providers failed (2 attempts): a/m: ServerError; b: CircuitOpen")
  })
})
