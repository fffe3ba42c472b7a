/**
 * Costs and budgets with no keys: two MockProviderServer instances on 127.0.0.1 stand in for a
 * premium provider (`gpt-4o`) and a cheap one (`gpt-4o-mini`), reporting usage as a real API does.
 * The program estimates a request before sending it, shows the cost on each answer (and on a
 * stream's finish), hits a small daily budget on the premium provider's key so that the router
 * fails over to the cheap one (`failoverOnBudgetExceeded`), and prints the totals per provider and
 * per tag, and the budget's window.
 *
 * Run: `pnpm exec node examples/costs.ts` (Node >= 22 runs TypeScript directly).
 */
import type { ChatRequest } from "@flexiai/core"
import { MockProviderServer } from "@flexiai/testing"
import { Effect, Stream } from "effect"
import { chat, FlexiAI, stream } from "flexiai"

export interface CostsReport {
  readonly estimateUsd: number
  readonly answers: ReadonlyArray<{ readonly provider: string; readonly costUsd: number | undefined; readonly attempts: ReadonlyArray<string> }>
  readonly streamCostUsd: number | undefined
  readonly costs: FlexiAI.Costs
}

const usd = (value: number | undefined) => value === undefined ? "no price" : `$${value.toFixed(6)}`

export const runCosts = async (write: (line: string) => void = (line) => console.log(line)): Promise<CostsReport> => {
  // what the API reports for the request below: its 11 prompt tokens, and 300 written
  const usage = { promptTokens: 11, completionTokens: 300 }
  const premium = await MockProviderServer.start({ fallback: MockProviderServer.text("a careful premium answer", { usage }) })
  const cheap = await MockProviderServer.start({ fallback: MockProviderServer.text("a quick cheap answer", { usage }) })
  const config: FlexiAI.Input = {
    providers: [
      { kind: "openai-compatible", name: "premium", model: "gpt-4o", baseUrl: `${premium.url}/v1`, priority: 1 },
      { kind: "openai-compatible", name: "cheap", model: "gpt-4o-mini", baseUrl: `${cheap.url}/v1`, priority: 2 }
    ],
    // a BudgetExceeded moves on to the next (cheaper) provider instead of stopping the call
    policy: { retry: { maxRetries: 0 }, failoverOnBudgetExceeded: true },
    pricing: { tagKey: "team" },
    budgets: { limits: [{ name: "premium-daily", provider: "premium", period: "day", limitUsd: 0.01 }] },
    logging: { level: "error" }
  }
  const request = (team: string): ChatRequest.ChatRequest => ({
    messages: [{ role: "user", content: "Summarise our quarter" }],
    maxTokens: 300,
    metadata: { team }
  })

  const program = Effect.gen(function*() {
    const estimate = yield* FlexiAI.estimateCost(request("research"))
    write(`estimate on ${estimate.model}: ${estimate.promptTokens} prompt tokens (${estimate.method}), at most ${usd(estimate.maxUsd)}`)
    const answers: Array<CostsReport["answers"][number]> = []
    // each premium answer costs about $0.003: a fourth would pass the $0.01 budget, so it goes to the cheap one
    for (const team of ["research", "research", "sales", "sales"]) {
      const answer = yield* chat(request(team))
      const attempts = answer.attempts.map((attempt) => `${attempt.provider}:${attempt.reason ?? attempt.outcome}`)
      answers.push({ provider: answer.provider, costUsd: answer.cost?.totalUsd, attempts })
      write(`${team}: ${answer.provider} answered for ${usd(answer.cost?.totalUsd)} (${attempts.join(", ")})`)
    }
    let streamCostUsd: number | undefined
    yield* stream(request("sales")).pipe(Stream.runForEach((part) =>
      Effect.sync(() => {
        if (part.type === "finish") streamCostUsd = part.cost?.totalUsd
      })
    ))
    write(`stream: finished for ${usd(streamCostUsd)}`)
    const costs = yield* FlexiAI.costs
    for (const [name, totals] of Object.entries(costs.usage?.byProvider ?? {})) {
      write(`provider ${name}: ${totals.requests} answers, ${totals.promptTokens + totals.completionTokens} tokens, ${usd(totals.costUsd)}`)
    }
    for (const [tag, totals] of Object.entries(costs.usage?.byTag ?? {})) write(`team ${tag}: ${usd(totals.costUsd)}`)
    for (const budget of costs.budgets) {
      write(`budget ${budget.budget}: ${usd(budget.spentUsd)} of $${budget.limitUsd} until ${new Date(budget.windowEnd!).toISOString()}`)
    }
    return { estimateUsd: estimate.maxUsd, answers, streamCostUsd, costs }
  })

  try {
    return await Effect.runPromise(program.pipe(Effect.provide(FlexiAI.layer(config))))
  } finally {
    await Promise.all([premium.stop(), cheap.stop()])
  }
}

if (import.meta.main) {
  runCosts().catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
