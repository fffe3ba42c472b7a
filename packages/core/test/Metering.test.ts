import { assert, describe, it } from "@effect/vitest"
import * as Budget from "@flexiai/core/Budget"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import * as CircuitBreaker from "@flexiai/core/CircuitBreaker"
import * as Ledger from "@flexiai/core/Ledger"
import * as Metering from "@flexiai/core/Metering"
import * as Pricing from "@flexiai/core/Pricing"
import * as PriceTable from "@flexiai/core/PriceTable"
import * as Router from "@flexiai/core/Router"
import * as TestChatProvider from "@flexiai/testing/TestChatProvider"
import { Effect, Fiber, Layer, Stream } from "effect"
import { TestClock } from "effect/testing"

const pricing = Pricing.index(PriceTable.rows)
const usage = (promptTokens: number, completionTokens: number) => ({ promptTokens, completionTokens, totalTokens: promptTokens + completionTokens })

// a provider built from a script and metered as FlexiAI does it
const metered = (options: TestChatProvider.Options, metering: Omit<Metering.Options, "pricing"> & { readonly pricing?: Pricing.Index }) =>
  Effect.map(TestChatProvider.make(options), ({ calls, provider }) => ({
    calls,
    layer: Layer.succeed(ChatProvider.ChatProvider, Metering.wrap(provider, { pricing, ...metering }))
  }))

const routed = (entries: ReadonlyArray<Layer.Layer<ChatProvider.ChatProvider>>, policy: Router.Options["policy"] = {}) =>
  Router.layer({ providers: entries, policy: { retry: { maxRetries: 0 }, ...policy } }).pipe(Layer.provide(CircuitBreaker.layerMemory()))

describe("cost on responses", () => {
  it.effect("a chat response and a stream's finish carry the cost of their usage; the ledger sums them by provider, model and tag", () =>
    Effect.gen(function*() {
      const ledger = Ledger.make()
      const { layer } = yield* metered(
        { name: "openai", defaultModel: "gpt-4o", script: [{ reply: "hi there", usage: usage(1000, 200) }] },
        { ledger }
      )
      const response = yield* ChatProvider.chat({ messages: [{ role: "user", content: "hi" }], metadata: { tag: "team-a" } }).pipe(Effect.provide(layer))
      const expected = Pricing.costOf(Pricing.lookup(pricing, "gpt-4o")!, usage(1000, 200))
      assert.deepStrictEqual(response.cost, expected)
      const parts = yield* Stream.runCollect(ChatProvider.stream({ messages: [{ role: "user", content: "hi" }] }).pipe(Stream.provide(layer)))
      const finish = parts.find((part) => part.type === "finish")
      assert.deepStrictEqual(finish?.type === "finish" ? finish.cost : undefined, expected)
      const report = ledger.report()
      assert.strictEqual(report.total.requests, 2)
      assert.approximately(report.total.costUsd, 2 * expected.totalUsd, 1e-12)
      assert.strictEqual(report.byProvider["openai"]!.promptTokens, 2000)
      assert.strictEqual(report.byModel["gpt-4o"]!.completionTokens, 400)
      assert.strictEqual(report.byTag["team-a"]!.requests, 1)
    }))

  it.effect("a model without a price gets no cost and counts as unpriced", () =>
    Effect.gen(function*() {
      const ledger = Ledger.make()
      const { layer } = yield* metered({ name: "local", defaultModel: "mock-model", script: [{ reply: "x" }] }, { ledger })
      const response = yield* ChatProvider.chat("hi").pipe(Effect.provide(layer))
      assert.isUndefined(response.cost)
      assert.strictEqual(ledger.report().total.unpriced, 1)
      assert.strictEqual(ledger.report().total.costUsd, 0)
    }))

  it.effect("after a scripted failover the stream cut after tokens is a billed failed attempt: on the attempt, in the totals", () =>
    Effect.gen(function*() {
      const ledger = Ledger.make()
      const a = yield* metered(
        { name: "a", defaultModel: "gpt-4o", script: [{ reply: "one two three four", cutAfter: 2 }] },
        { ledger }
      )
      const b = yield* metered({ name: "b", defaultModel: "gpt-4o-mini", script: [{ reply: "done", usage: usage(50, 10) }] }, { ledger })
      const parts = yield* Stream.runCollect(
        ChatProvider.stream({ messages: [{ role: "user", content: "count" }], metadata: { tag: "t" } }).pipe(
          Stream.provide(routed([a.layer, b.layer], { streamPolicy: "restart" }))
        )
      )
      const finish = parts.find((part) => part.type === "finish")!
      assert.strictEqual(finish.type === "finish" && finish.provider, "b")
      const attempts = finish.type === "finish" ? finish.attempts! : []
      assert.strictEqual(attempts[0]!.outcome, "failure")
      const billed = attempts[0]!.cost!
      assert.isTrue(billed.estimated)
      assert.isAbove(billed.totalUsd, 0)
      const report = ledger.report()
      assert.strictEqual(report.byProvider["a"]!.billedFailures, 1)
      assert.strictEqual(report.byProvider["b"]!.requests, 1)
      assert.approximately(report.total.costUsd, billed.totalUsd + finish.cost!.totalUsd, 1e-12)
      assert.strictEqual(report.byTag["t"]!.billedFailures, 1)
    }))
})

describe("budgets", () => {
  const rule = (limitUsd: number, extra: Partial<Budget.Rule> = {}): Budget.Rule => ({ name: "cap", limitUsd, period: "day", ...extra })

  it.effect("100 concurrent requests never overspend an in-memory budget, and every settled cent is counted", () =>
    Effect.gen(function*() {
      const store = yield* Budget.makeMemoryStore
      // each request reserves its prompt estimate (11 tokens, +50%) + 100 output tokens; it really uses 10 + 100
      const budgets = Budget.make([rule(0.01)], store)
      const ledger = Ledger.make()
      const { calls, layer } = yield* metered(
        { name: "openai", defaultModel: "gpt-4o", script: [{ reply: "ok", usage: usage(10, 100), delay: "10 millis" }] },
        { ledger, budgets }
      )
      const request: ChatRequest.ChatRequest = { messages: [{ role: "user", content: "a short question" }], maxTokens: 100 }
      const fiber = yield* Effect.forkChild(Effect.forEach(
        Array.from({ length: 100 }, () => Effect.result(ChatProvider.chat(request).pipe(Effect.provide(layer)))),
        (effect) => effect,
        { concurrency: "unbounded" }
      ))
      yield* TestClock.adjust("1 second")
      const results = yield* Fiber.join(fiber)
      const ok = results.filter((result) => result._tag === "Success").length
      const refused = results.filter((result) => result._tag === "Failure" && result.failure._tag === "ProviderError" && result.failure.reason._tag === "BudgetExceeded").length
      assert.strictEqual(ok + refused, 100)
      assert.isAbove(ok, 0)
      assert.isAbove(refused, 0)
      assert.strictEqual((yield* calls).length, ok, "a refused request sends nothing")
      const [standing] = yield* budgets.standings
      assert.isAtMost(standing!.spentUsd, 0.01)
      assert.approximately(standing!.spentUsd, ledger.report().total.costUsd, 1e-6)
    }))

  it.effect("BudgetExceeded stops by default, and fails over to the cheaper provider when the policy says so", () =>
    Effect.gen(function*() {
      const store = yield* Budget.makeMemoryStore
      const budgets = Budget.make([rule(0.000001, { provider: "premium" })], store)
      const ledger = Ledger.make()
      const premium = yield* metered({ name: "premium", defaultModel: "claude-opus-4-1", script: [{ reply: "dear" }] }, { ledger, budgets })
      const cheap = yield* metered({ name: "cheap", defaultModel: "gpt-4o-mini", script: [{ reply: "cheap" }] }, { ledger, budgets })
      const stopped = yield* ChatProvider.chat("hi").pipe(Effect.provide(routed([premium.layer, cheap.layer])), Effect.flip)
      assert.strictEqual(stopped._tag === "ProviderError" && stopped.reason._tag, "BudgetExceeded")
      assert.strictEqual((yield* premium.calls).length, 0)
      assert.strictEqual((yield* cheap.calls).length, 0)
      const answered = yield* ChatProvider.chat("hi").pipe(Effect.provide(routed([premium.layer, cheap.layer], { failoverOnBudgetExceeded: true })))
      assert.strictEqual(answered.provider, "cheap")
      assert.deepStrictEqual(answered.attempts.map((attempt) => [attempt.provider, attempt.outcome, attempt.reason]), [
        ["premium", "failure", "BudgetExceeded"],
        ["cheap", "success", undefined]
      ])
      assert.strictEqual((yield* premium.calls).length, 0)
    }))

  it.effect("a budget per tag counts each tag apart; untagged requests are outside it", () =>
    Effect.gen(function*() {
      const budgets = Budget.make([rule(1, { tag: "*" })], yield* Budget.makeMemoryStore)
      const a = yield* budgets.reserve({ provider: "p", model: "m", tag: "a" }, 0.6)
      const b = yield* budgets.reserve({ provider: "p", model: "m", tag: "b" }, 0.6)
      const a2 = yield* budgets.reserve({ provider: "p", model: "m", tag: "a" }, 0.6)
      const none = yield* budgets.reserve({ provider: "p", model: "m", tag: undefined }, 5)
      assert.isFalse(Budget.isDenial(a))
      assert.isFalse(Budget.isDenial(b))
      assert.isTrue(Budget.isDenial(a2))
      assert.isUndefined(none)
    }))

  it.effect("a daily window rolls over at UTC midnight (TestClock)", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 11, 7, 23, 59, 0))
      const budgets = Budget.make([rule(1)], yield* Budget.makeMemoryStore)
      const subject = { provider: "p", model: "m", tag: undefined }
      const first = yield* budgets.reserve(subject, 0.9)
      assert.isFalse(Budget.isDenial(first))
      const refused = yield* budgets.reserve(subject, 0.2)
      assert.isTrue(Budget.isDenial(refused))
      assert.strictEqual(Budget.isDenial(refused) && refused.resetsAt, Date.UTC(2026, 11, 8))
      yield* TestClock.adjust("1 minute")
      assert.isFalse(Budget.isDenial(yield* budgets.reserve(subject, 0.2)))
      // settling the old ticket adjusts the old window, not the new one
      yield* budgets.settle(first as Budget.Ticket, 0.1)
      const [standing] = yield* budgets.standings
      assert.approximately(standing!.spentUsd, 0.2, 1e-9)
    }))

  it("windows: hour, day, week from Monday, month, total", () => {
    const now = Date.UTC(2026, 11, 9, 13, 30) // a Wednesday
    assert.deepStrictEqual(Budget.windowOf("hour", now), { start: Date.UTC(2026, 11, 9, 13), end: Date.UTC(2026, 11, 9, 14) })
    assert.deepStrictEqual(Budget.windowOf("day", now), { start: Date.UTC(2026, 11, 9), end: Date.UTC(2026, 11, 10) })
    assert.deepStrictEqual(Budget.windowOf("week", now), { start: Date.UTC(2026, 11, 7), end: Date.UTC(2026, 11, 14) })
    assert.deepStrictEqual(Budget.windowOf("month", now), { start: Date.UTC(2026, 11, 1), end: Date.UTC(2027, 0, 1) })
    assert.deepStrictEqual(Budget.windowOf("total", now), { start: 0, end: undefined })
  })
})
