// The providers' rate-limit headers as `RateLimitHeaders.read` takes them: OpenAI/Azure's Go-style
// durations, Anthropic's RFC 3339 times, and what is not a header of either.
import { RateLimitHeaders } from "@flexiai/provider"
import { assert, describe, it } from "vitest"

describe("RateLimitHeaders", () => {
  it("parses Go-style durations and refuses what is not one", () => {
    assert.strictEqual(RateLimitHeaders.parseDuration("6m0s"), 360_000)
    assert.strictEqual(RateLimitHeaders.parseDuration("1s"), 1000)
    assert.strictEqual(RateLimitHeaders.parseDuration("20ms"), 20)
    assert.strictEqual(RateLimitHeaders.parseDuration("1h2m3.5s"), 3_723_500)
    assert.strictEqual(RateLimitHeaders.parseDuration("0.5s"), 500)
    for (const bad of ["", "5", "soon", "5 s", "1s2", "-1s"]) assert.isUndefined(RateLimitHeaders.parseDuration(bad), bad)
  })

  it("reads the OpenAI family relative to now", () => {
    const reported = RateLimitHeaders.read({
      "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": "6m0s",
      "x-ratelimit-remaining-tokens": "1234",
      "x-ratelimit-reset-tokens": "20ms"
    }, 1000)
    assert.deepStrictEqual(reported, { requests: { remaining: 0, resetAtMillis: 361_000 }, tokens: { remaining: 1234, resetAtMillis: 1020 } })
  })

  it("reads the Anthropic family as absolute times", () => {
    const reported = RateLimitHeaders.read({
      "anthropic-ratelimit-requests-remaining": "7",
      "anthropic-ratelimit-requests-reset": "2026-01-01T00:00:30Z",
      "anthropic-ratelimit-tokens-remaining": "0",
      "anthropic-ratelimit-tokens-reset": "not a time"
    }, 0)
    assert.deepStrictEqual(reported, {
      requests: { remaining: 7, resetAtMillis: Date.UTC(2026, 0, 1, 0, 0, 30) },
      tokens: { remaining: 0, resetAtMillis: undefined }
    })
  })

  it("is undefined without either family, and ignores a remaining count that is not one", () => {
    assert.isUndefined(RateLimitHeaders.read({ "content-type": "application/json" }, 0))
    assert.isUndefined(RateLimitHeaders.read({ "x-ratelimit-remaining-requests": "many" }, 0))
  })
})
