// examples/rate-limits.ts end to end: the requests past primary's limit fail over to backup
// without primary receiving them, and each decision is an event.
import { assert, describe, it } from "@effect/vitest"
import { runRateLimits } from "../rate-limits.ts"

describe("examples/rate-limits.ts", () => {
  it("two requests a minute go to primary, the rest to backup unsent to primary", async () => {
    const lines: Array<string> = []
    const report = await runRateLimits((line) => lines.push(line))
    assert.deepStrictEqual(report.answeredBy, ["primary", "primary", "backup", "backup"])
    assert.deepStrictEqual(report.received, { primary: 2, backup: 2 })
    // the third request is refused by the limiter; the fourth finds primary skipped (RateLimited) by the router
    assert.deepStrictEqual(report.decisions, ["primary failover (requests)"])
    assert.include(lines, "question 3: backup (primary:RateLimited, backup:success)")
  })
})
