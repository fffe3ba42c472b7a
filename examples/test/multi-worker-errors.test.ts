// examples/multi-worker's error mapping as a table: each FlexiAI failure gets the status a caller can
// act on, a retry-after where one is known, and a body without the provider's own messages unless the
// request itself was at fault. (The wire test covers 400, 404, 502 and a broken stream end to end.)
import { assert, describe, it } from "@effect/vitest"
import { Duration } from "effect"
import { ProviderError } from "flexiai"
import { fromChatError } from "../multi-worker/errors.ts"

const failure = (provider: string, reason: ProviderError.ProviderErrorReason): ProviderError.Attempt => ({
  provider,
  model: "m",
  outcome: "failure",
  reason: reason._tag,
  error: ProviderError.make(provider, reason, { model: "m" }),
  tries: 1,
  latencyMillis: 12.4
})

const skipped = (provider: string, retryAfter: Duration.Duration): ProviderError.Attempt => ({
  provider,
  outcome: "skipped",
  reason: "CircuitOpen",
  error: new ProviderError.CircuitOpen({ provider, key: `${provider}:m`, state: "Open", retryAfter }),
  tries: 0,
  latencyMillis: 0
})

const all = (...attempts: ReadonlyArray<ProviderError.Attempt>) => new ProviderError.AllProvidersFailed({ attempts })

describe("examples/multi-worker error mapping", () => {
  it("maps the decisive reason to a status", () => {
    const cases: ReadonlyArray<readonly [ProviderError.ChatError, number, string]> = [
      [all(failure("a", new ProviderError.ServerError({ message: "boom", status: 500 }))), 502, "ServerError"],
      [all(failure("a", new ProviderError.Authentication({ message: "bad key" }))), 502, "Authentication"],
      [all(failure("a", new ProviderError.Timeout({ message: "slow", phase: "first-byte" }))), 504, "Timeout"],
      [new ProviderError.AllProvidersFailed({ attempts: [], deadlineExceeded: true }), 504, "DeadlineExceeded"],
      [all(skipped("a", Duration.seconds(3)), skipped("b", Duration.seconds(12))), 503, "CircuitOpen"],
      [all(failure("a", new ProviderError.RateLimited({ message: "slow down", retryAfter: Duration.seconds(7) }))), 429, "RateLimited"],
      [ProviderError.make("flexiai", new ProviderError.InvalidRequest({ message: "messages is empty" })), 400, "InvalidRequest"],
      [all(failure("a", new ProviderError.ContextLengthExceeded({ message: "too long" }))), 400, "ContextLengthExceeded"],
      [all(failure("a", new ProviderError.ContentFiltered({ message: "refused" }))), 422, "ContentFiltered"],
      [all(failure("a", new ProviderError.NotFound({ message: "no such model", model: "m" }))), 404, "NotFound"]
    ]
    for (const [error, status, reason] of cases) {
      const mapped = fromChatError(error)
      assert.deepStrictEqual([mapped.status, mapped.body.error.reason], [status, reason], error.message)
    }
  })

  it("sends retry-after from a rate limit or from the open circuit the call ended on, rounded up to whole seconds", () => {
    const limited = fromChatError(all(failure("a", new ProviderError.RateLimited({ message: "", retryAfter: Duration.millis(6100) }))))
    assert.strictEqual(limited.retryAfterSeconds, 7)
    assert.strictEqual(limited.body.error.retryAfterSeconds, 7)
    // the decisive skip is the last one: the circuit the call ended on
    const open = fromChatError(all(skipped("a", Duration.seconds(3)), skipped("b", Duration.millis(11_200))))
    assert.strictEqual(open.retryAfterSeconds, 12)
  })

  it("says what to fix when the request is at fault, and nothing of the provider's message otherwise", () => {
    const invalid = fromChatError(ProviderError.make("flexiai", new ProviderError.InvalidRequest({ message: "messages is empty" })))
    assert.include(invalid.body.error.message, "messages is empty")
    assert.isFalse(invalid.body.error.retryable)

    const refused = fromChatError(all(failure("a", new ProviderError.Authentication({ message: "Incorrect API key provided: sk-abc…wxyz" }))))
    assert.notInclude(JSON.stringify(refused.body), "sk-abc")
    assert.notInclude(JSON.stringify(refused.body), "Incorrect API key")
    assert.isTrue(refused.body.error.retryable)
    assert.deepStrictEqual(refused.body.error.attempts, [
      { provider: "a", model: "m", outcome: "failure", reason: "Authentication", tries: 1, latencyMillis: 12 }
    ])
  })

  it("keeps a broken stream's partial text", () => {
    const broken = fromChatError(all(failure("a", new ProviderError.StreamInterrupted({ message: "cut", partialText: "one two " }))))
    assert.deepStrictEqual([broken.status, broken.body.error.reason, broken.body.error.partialText], [502, "StreamInterrupted", "one two "])
  })
})
