// The metering's events (`cost`, `budget`) on the router's hub: in their documented place for a
// priced chat, a budget denial that fails over and a stream cut after tokens (a billed failure);
// nothing request-derived beyond names and numbers in them (a canary in the prompt and tag).
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
import type * as RouterEvent from "@flexiai/core/RouterEvent"
import * as RouterEvents from "@flexiai/core/RouterEvents"
import * as RouterMetrics from "@flexiai/core/RouterMetrics"
import * as TestChatProvider from "@flexiai/testing/TestChatProvider"
import { Context, Effect, Layer, Metric, PubSub, Stream } from "effect"
import { PrometheusMetrics } from "effect/observability"

const pricing = Pricing.index(PriceTable.rows)
const usage = (promptTokens: number, completionTokens: number) => ({ promptTokens, completionTokens, totalTokens: promptTokens + completionTokens })
const canary = "sk-canary-7f3e9a1b2c4d5e6f7a8b9c0d"
const request: ChatRequest.ChatRequest = { messages: [{ role: "user", content: `hello ${canary}` }], metadata: { tag: canary } }

const metered = (options: TestChatProvider.Options, metering: Omit<Metering.Options, "pricing">) =>
  Effect.map(TestChatProvider.make(options), ({ provider }) =>
    Layer.succeed(ChatProvider.ChatProvider, Metering.wrap(provider, { pricing, ...metering })))

const setup = (entries: ReadonlyArray<Layer.Layer<ChatProvider.ChatProvider>>, policy: Router.Options["policy"] = {}) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      Router.layer({ providers: entries, policy: { retry: { maxRetries: 0 }, ...policy } }).pipe(
        Layer.provideMerge(CircuitBreaker.layerMemory()),
        Layer.provideMerge(RouterEvents.layer({ capacity: 64 }))
      )
    )
    const hub = Context.get(context, RouterEvents.RouterEvents)
    return { router: Context.get(context, ChatProvider.ChatProvider), hub, subscription: yield* hub.subscribe }
  })

const drain = (subscription: PubSub.Subscription<RouterEvent.RouterEvent>) =>
  Effect.map(PubSub.takeUpTo(subscription, 1000), (events) => [...events])

const shape = (event: RouterEvent.RouterEvent): string => {
  switch (event.type) {
    case "attempt-start":
      return `attempt-start ${event.provider}`
    case "attempt-finish":
      return `attempt-finish ${event.provider} ${event.outcome}${event.reason ? ` ${event.reason}` : ""}`
    case "failover":
      return `failover from ${event.from} ${event.reason}`
    case "cost":
      return `cost ${event.provider} ${event.model} ${event.outcome}${event.estimated ? " estimated" : ""}`
    case "budget":
      return `budget ${event.decision} ${event.provider} ${event.budget}`
    default:
      return event.type
  }
}

const assertClean = (events: ReadonlyArray<RouterEvent.RouterEvent>) => {
  for (const event of events) assert.notInclude(JSON.stringify(event), canary.slice(10, 22), `${event.type} leaks request data`)
}

describe("cost and budget events", () => {
  it.effect("a priced chat: its cost right after its attempt-finish, with the charge's numbers", () =>
    Effect.gen(function*() {
      const ledger = Ledger.make()
      const openai = yield* metered({ name: "openai", defaultModel: "gpt-4o", script: [{ reply: "hi", usage: usage(1000, 200) }] }, { ledger })
      const { router, subscription } = yield* setup([openai])
      const response = yield* router.chat(request)
      const events = yield* drain(subscription)
      assert.deepStrictEqual(events.map(shape), [
        "call-start",
        "attempt-start openai",
        "attempt-finish openai success",
        "cost openai gpt-4o success",
        "call-finish"
      ])
      const cost = events.find((event) => event.type === "cost")
      assert.strictEqual(cost?.type, "cost")
      if (cost?.type !== "cost") return
      assert.strictEqual(cost.callId, events[0]!.type === "call-start" ? events[0]!.callId : "")
      assert.strictEqual(cost.usd, response.cost!.totalUsd)
      assert.approximately(cost.usd, ledger.report().total.costUsd, 1e-12)
      assert.isAbove(cost.usd, 0)
      assert.deepStrictEqual(cost.usage, usage(1000, 200))
      assertClean(events)
    }))

  it.effect("a budget denial that fails over: attempt-finish BudgetExceeded, budget, failover, then the cheap provider's cost", () =>
    Effect.gen(function*() {
      const budgets = Budget.make([{ name: "premium-cap", limitUsd: 0.000001, period: "day", provider: "premium" }], yield* Budget.makeMemoryStore)
      const ledger = Ledger.make()
      const premium = yield* metered({ name: "premium", defaultModel: "claude-opus-4-1", script: [{ reply: "dear" }] }, { ledger, budgets })
      const cheap = yield* metered({ name: "cheap", defaultModel: "gpt-4o-mini", script: [{ reply: "ok", usage: usage(10, 2) }] }, { ledger, budgets })
      const { router, subscription } = yield* setup([premium, cheap], { failoverOnBudgetExceeded: true })
      yield* router.chat(request)
      const events = yield* drain(subscription)
      assert.deepStrictEqual(events.map(shape), [
        "call-start",
        "attempt-start premium",
        "attempt-finish premium failure BudgetExceeded",
        "budget denied premium premium-cap",
        "failover from premium BudgetExceeded",
        "attempt-start cheap",
        "attempt-finish cheap success",
        "cost cheap gpt-4o-mini success",
        "call-finish"
      ])
      const denied = events.find((event) => event.type === "budget")
      if (denied?.type !== "budget") return assert.fail("no budget event")
      assert.strictEqual(denied.limitUsd, 0.000001)
      assert.isAbove(denied.requestedUsd, denied.limitUsd)
      assert.strictEqual(denied.model, "claude-opus-4-1")
      assertClean(events)
    }))

  it.effect("a stream cut after tokens: its estimated billed-failure cost after its attempt-finish, then the restart's", () =>
    Effect.gen(function*() {
      const ledger = Ledger.make()
      const a = yield* metered({ name: "a", defaultModel: "gpt-4o", script: [{ reply: "one two three four", cutAfter: 2 }] }, { ledger })
      const b = yield* metered({ name: "b", defaultModel: "gpt-4o-mini", script: [{ reply: "done", usage: usage(50, 10) }] }, { ledger })
      const { router, subscription } = yield* setup([a, b], { streamPolicy: "restart" })
      yield* Stream.runDrain(router.stream(request))
      const events = yield* drain(subscription)
      const shapes = events.map(shape)
      const cut = shapes.indexOf("attempt-finish a failure Connection")
      assert.isAtLeast(cut, 0, shapes.join("\n"))
      assert.strictEqual(shapes[cut + 1], "cost a gpt-4o billed-failure estimated")
      assert.deepStrictEqual(shapes.slice(-3), ["attempt-finish b success", "cost b gpt-4o-mini success", "call-finish"])
      const costs = events.filter((event) => event.type === "cost")
      const total = costs.reduce((sum, event) => sum + (event.type === "cost" ? event.usd : 0), 0)
      assert.approximately(total, ledger.report().total.costUsd, 1e-12)
      assertClean(events)
    }))

  it.effect("no listener: no cost event is built (the hub stays inactive)", () =>
    Effect.gen(function*() {
      const ledger = Ledger.make()
      const openai = yield* metered({ name: "openai", defaultModel: "gpt-4o", script: [{ reply: "hi", usage: usage(1, 1) }] }, { ledger })
      const context = yield* Layer.build(
        Router.layer({ providers: [openai] }).pipe(Layer.provideMerge(CircuitBreaker.layerMemory()), Layer.provideMerge(RouterEvents.layer()))
      )
      const hub = Context.get(context, RouterEvents.RouterEvents)
      yield* Context.get(context, ChatProvider.ChatProvider).chat(request)
      assert.isFalse(hub.active)
      assert.strictEqual(ledger.report().total.requests, 1)
    }))

  it.effect("metrics: cost in USD by outcome and budget denials by budget, from the events", () =>
    Effect.gen(function*() {
      const budgets = Budget.make([{ name: "premium-cap", limitUsd: 0.000001, period: "day", provider: "premium" }], yield* Budget.makeMemoryStore)
      const ledger = Ledger.make()
      const premium = yield* metered({ name: "premium", defaultModel: "claude-opus-4-1", script: [{ reply: "dear" }] }, { ledger, budgets })
      const cheap = yield* metered({ name: "cheap", defaultModel: "gpt-4o-mini", script: [{ reply: "ok", usage: usage(1000, 200) }] }, { ledger, budgets })
      const events = RouterEvents.layer()
      const context = yield* Layer.build(
        Layer.merge(
          Router.layer({ providers: [premium, cheap], policy: { retry: { maxRetries: 0 }, failoverOnBudgetExceeded: true } }),
          RouterMetrics.layer().pipe(Layer.provide(events))
        ).pipe(Layer.provideMerge(CircuitBreaker.layerMemory()), Layer.provideMerge(events))
      )
      const response = yield* Context.get(context, ChatProvider.ChatProvider).chat(request)
      const text = yield* PrometheusMetrics.format()
      assert.include(text, `flexiai_budget_denials_total{provider="premium",model="claude-opus-4-1",budget="premium-cap"} 1`)
      assert.include(text, `flexiai_cost_usd_total{provider="cheap",model="gpt-4o-mini",outcome="success"} ${response.cost!.totalUsd}`)
      assert.notInclude(text, canary.slice(10, 22))
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))
})
