// examples/cache.ts end to end (the README's "Response cache" example): a repeat is served from
// the cache without a request, a tenant has its own answers, a stream is replayed, bypass calls.
import { assert, describe, it } from "@effect/vitest"
import { runCache } from "../cache.ts"

describe("examples/cache.ts", () => {
  it("serves a repeat from the cache, keeps tenants apart, replays a stream, bypasses on request", async () => {
    const report = await runCache(() => {})
    assert.deepStrictEqual(report.sources, ["provider", "cache", "provider", "provider"])
    // three chats and a stream reached the server; the repeat and the replayed stream did not
    assert.strictEqual(report.requests, 4)
    assert.isTrue(report.streamsEqual)
    // gpt-4o-mini at $0.15 / $0.60 per 1M: four priced answers (9 in, 7 out), the cached ones free
    assert.approximately(report.costUsd, 4 * (9 * 0.15 + 7 * 0.6) / 1e6, 1e-12)
  })
})
