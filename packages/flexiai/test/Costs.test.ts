// Cost metering through FlexiAI.make over MockProviderServers (real HTTP on 127.0.0.1): cost on
// responses and finish parts, usage and cost totals in status and stats (a billed failed attempt
// after a scripted failover included), config budgets that fail over or stop, estimateCost, and
// the key never in any cost or budget data.
import { ChatProvider } from "@flexiai/core"
import type { RouterEvent } from "@flexiai/core"
import { Deferred, Effect } from "effect"
import { FlexiAI } from "../src/index.ts"
import * as FlexiAILayer from "../src/FlexiAI.ts"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { assert, describe, it } from "vitest"
import { canary, fragments, serverPool } from "./helpers.ts"

const { start } = serverPool()

const usage = { promptTokens: 1000, completionTokens: 200 }

const config = (primaryUrl: string, backupUrl: string, extra: Partial<FlexiAI.Input> = {}): FlexiAI.Input => ({
  providers: [
    { kind: "openai-compatible", name: "primary", model: "gpt-4o", baseUrl: `${primaryUrl}/v1`, apiKey: canary, priority: 1 },
    { kind: "openai-compatible", name: "backup", model: "gpt-4o-mini", baseUrl: `${backupUrl}/v1`, apiKey: canary, priority: 2 }
  ],
  policy: { retry: { maxRetries: 0 }, streamPolicy: "restart" },
  logging: { level: "none" },
  ...extra
})

const completions = (server: MockProviderServer.Handle) => server.calls().filter((call) => call.path === "/v1/chat/completions").length

describe("cost metering", () => {
  it("every response and finish part carries its cost; status and stats carry the totals", async () => {
    const primary = await start({ fallback: MockProviderServer.text("an answer", { usage }) })
    const backup = await start({ fallback: MockProviderServer.text("unused") })
    const client = FlexiAI.make(config(primary.url, backup.url))
    try {
      const answer = await client.chat({ messages: [{ role: "user", content: "hi" }], metadata: { tag: "team-a" } })
      // gpt-4o: $2.50 in, $10 out per 1M
      assert.approximately(answer.cost!.totalUsd, (1000 * 2.5 + 200 * 10) / 1e6, 1e-12)
      assert.strictEqual(answer.cost!.model, "gpt-4o")
      let finishCost: number | undefined
      for await (const part of client.stream("hi")) if (part.type === "finish") finishCost = part.cost?.totalUsd
      assert.approximately(finishCost!, answer.cost!.totalUsd, 1e-12)
      const stats = await client.stats()
      assert.strictEqual(stats.usage!.total.requests, 2)
      assert.approximately(stats.usage!.total.costUsd, 2 * answer.cost!.totalUsd, 1e-12)
      assert.strictEqual(stats.usage!.byTag["team-a"]!.requests, 1)
      const status = await client.status()
      assert.strictEqual(status.find((row) => row.name === "primary")!.usage!.promptTokens, 2000)
      assert.strictEqual(status.find((row) => row.name === "backup")!.usage!.requests, 0)
    } finally {
      await client.dispose()
    }
  })

  it("a stream cut after tokens is billed (estimated) on its attempt and in the totals; the restart's answer is billed too", async () => {
    const primary = await start({ fallback: MockProviderServer.cutAfter(3, "one two three four five six") })
    const backup = await start({ fallback: MockProviderServer.text("whole answer", { usage: { promptTokens: 20, completionTokens: 5 } }) })
    const client = FlexiAI.make(config(primary.url, backup.url))
    try {
      const parts = []
      for await (const part of client.stream("count to six")) parts.push(part)
      const finish = parts.find((part) => part.type === "finish")
      assert.strictEqual(finish?.type === "finish" && finish.provider, "backup")
      const cut = finish?.type === "finish" ? finish.attempts?.[0] : undefined
      assert.strictEqual(cut?.provider, "primary")
      assert.isTrue(cut?.cost?.estimated)
      const stats = await client.stats()
      assert.strictEqual(stats.usage!.byProvider["primary"]!.billedFailures, 1)
      assert.strictEqual(stats.usage!.byProvider["backup"]!.requests, 1)
      assert.approximately(stats.usage!.total.costUsd, cut!.cost!.totalUsd + (finish?.type === "finish" ? finish.cost!.totalUsd : 0), 1e-12)
    } finally {
      await client.dispose()
    }
  })

  it("a budget on the primary's key fails over to the cheaper backup when the policy says so, and stops otherwise", async () => {
    const primary = await start({ fallback: MockProviderServer.text("dear", { usage }) })
    const backup = await start({ fallback: MockProviderServer.text("cheap", { usage }) })
    const budgets = { limits: [{ name: "primary-daily", limitUsd: 0.01, period: "day" as const, provider: "primary" }] }
    const stopping = FlexiAI.make(config(primary.url, backup.url, { budgets }))
    const failing = FlexiAI.make(config(primary.url, backup.url, { budgets, policy: { retry: { maxRetries: 0 }, failoverOnBudgetExceeded: true } }))
    try {
      // no maxTokens: 4096 output tokens at $10/1M are reserved, more than the $0.01 budget
      const error = await stopping.chat("hi").then(() => undefined, (cause: unknown) => cause) as { _tag: string; reason?: { _tag: string; budget: string } }
      assert.strictEqual(error._tag, "ProviderError")
      assert.strictEqual(error.reason?._tag, "BudgetExceeded")
      assert.strictEqual(error.reason?.budget, "primary-daily")
      assert.strictEqual(completions(primary), 0)
      assert.strictEqual(completions(backup), 0)

      const answer = await failing.chat("hi")
      assert.strictEqual(answer.provider, "backup")
      assert.deepStrictEqual(answer.attempts.map((attempt) => attempt.reason ?? attempt.outcome), ["BudgetExceeded", "success"])
      // with maxTokens the reservation fits: the primary answers and its spend is in the window
      const small = await failing.chat({ messages: [{ role: "user", content: "hi" }], maxTokens: 100 })
      assert.strictEqual(small.provider, "primary")
      const costs = await failing.costs()
      assert.approximately(costs.budgets[0]!.spentUsd, small.cost!.totalUsd, 1e-9)
      assert.strictEqual(completions(primary), 1)

      // estimateCost before sending: the primary's model, counted with the tokenizer
      const estimate = await failing.estimateCost({ messages: [{ role: "user", content: "What is the capital of Mexico?" }], maxTokens: 50 })
      assert.strictEqual(estimate.model, "gpt-4o")
      assert.strictEqual(estimate.promptTokens, 13)
      assert.strictEqual(estimate.method, "tokenizer:o200k_base")
      assert.approximately(estimate.maxUsd, (13 * 2.5 + 50 * 10) / 1e6, 1e-12)

      // the key never appears in cost or budget data, nor in the budget error
      const everything = JSON.stringify([error, String(error), answer, small, costs, await failing.stats(), await failing.status(), estimate])
      for (const fragment of fragments) assert.notInclude(everything, fragment)
    } finally {
      await stopping.dispose()
      await failing.dispose()
    }
  })

  it("pricing.enabled: false leaves responses without cost and the totals empty", async () => {
    const primary = await start({ fallback: MockProviderServer.text("an answer", { usage }) })
    const backup = await start({ fallback: MockProviderServer.text("unused") })
    const client = FlexiAI.make(config(primary.url, backup.url, { pricing: { enabled: false } }))
    try {
      const answer = await client.chat("hi")
      assert.isUndefined(answer.cost)
      assert.isUndefined((await client.stats()).usage)
    } finally {
      await client.dispose()
    }
  })
})

describe("cost and budget events through FlexiAI.layer", () => {
  it("a budget denial that fails over: budget then failover, the backup's cost after its attempt; no key or prompt in them", async () => {
    const promptCanary = "PROMPT-CANARY-3e1f9b7a"
    const primary = await start({ fallback: MockProviderServer.text("dear", { usage }) })
    const backup = await start({ fallback: MockProviderServer.text("cheap", { usage }) })
    const budgets = { limits: [{ name: "primary-daily", limitUsd: 0.01, period: "day" as const, provider: "primary" }] }
    const seen: Array<RouterEvent.RouterEvent> = []
    const finished = Effect.runSync(Deferred.make<void>())
    const layer = FlexiAILayer.layer(
      config(primary.url, backup.url, { budgets, policy: { retry: { maxRetries: 0 }, failoverOnBudgetExceeded: true } }),
      {
        observers: [(event) =>
          Effect.sync(() => seen.push(event)).pipe(Effect.andThen(event.type === "call-finish" ? Deferred.succeed(finished, undefined) : Effect.void))]
      }
    )
    const answer = await Effect.runPromise(
      ChatProvider.chat({ messages: [{ role: "user", content: promptCanary }], metadata: { tag: promptCanary } }).pipe(
        // observers run on their own fiber: wait until the call's last event is in
        Effect.tap(() => Deferred.await(finished)),
        Effect.provide(layer)
      )
    )
    assert.strictEqual(answer.provider, "backup")
    assert.deepStrictEqual(seen.map((event) => event.type).filter((type) => type !== "circuit-transition"), [
      "call-start",
      "attempt-start",
      "attempt-finish",
      "budget",
      "failover",
      "attempt-start",
      "attempt-finish",
      "cost",
      "call-finish"
    ])
    const cost = seen.find((event) => event.type === "cost")
    assert.strictEqual(cost?.type === "cost" && cost.provider, "backup")
    assert.approximately(cost?.type === "cost" ? cost.usd : 0, answer.cost!.totalUsd, 1e-12)
    const everything = JSON.stringify(seen)
    for (const fragment of [...fragments, promptCanary]) assert.notInclude(everything, fragment)
  })
})
