// examples/costs.ts end to end: the estimate, the cost on each answer, the budget failing over to
// the cheap provider, and totals that add up.
import { assert, describe, it } from "@effect/vitest"
import { runCosts } from "../costs.ts"

describe("examples/costs.ts", () => {
  it("prices every answer, fails over at the premium budget, and the totals add up", async () => {
    const lines: Array<string> = []
    const report = await runCosts((line) => lines.push(line))
    assert.isAbove(report.estimateUsd, 0)
    assert.deepStrictEqual(report.answers.map((answer) => answer.provider), ["premium", "premium", "premium", "cheap"])
    assert.deepStrictEqual(report.answers[3]!.attempts, ["premium:BudgetExceeded", "cheap:success"])
    // the mock reports 11 prompt and 300 completion tokens; gpt-4o: $2.50 / $10 per 1M, gpt-4o-mini: $0.15 / $0.60
    const premium = (11 * 2.5 + 300 * 10) / 1e6
    const cheap = (11 * 0.15 + 300 * 0.6) / 1e6
    for (const answer of report.answers.slice(0, 3)) assert.approximately(answer.costUsd!, premium, 1e-12)
    assert.approximately(report.answers[3]!.costUsd!, cheap, 1e-12)
    assert.approximately(report.streamCostUsd!, cheap, 1e-12)
    const usage = report.costs.usage!
    assert.strictEqual(usage.total.requests, 5)
    assert.approximately(usage.total.costUsd, 3 * premium + 2 * cheap, 1e-12)
    assert.approximately(usage.byTag["research"]!.costUsd, 2 * premium, 1e-12)
    // the budget is never passed: three premium answers are what fits under $0.01
    assert.approximately(report.costs.budgets[0]!.spentUsd, 3 * premium, 1e-9)
    assert.isAtMost(report.costs.budgets[0]!.spentUsd, 0.01)
    assert.isTrue(lines.some((line) => line.startsWith("budget premium-daily:")))
  })
})
