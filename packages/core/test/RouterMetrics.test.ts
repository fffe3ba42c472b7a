// RouterMetrics on a router of scripted providers, read back from Prometheus text: the circuit
// gauge follows the circuit through Open, HalfOpen and back to Closed; `modelLabel: false` leaves
// every model out of the labels; without the layer nothing is recorded.
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider, CircuitBreaker, Router, RouterEvents, RouterMetrics } from "@flexiai/core"
import type { ChatRequest } from "@flexiai/core"
import { TestChatProvider } from "@flexiai/testing"
import { Context, Effect, Layer, Metric } from "effect"
import { PrometheusMetrics } from "effect/observability"
import { TestClock } from "effect/testing"

const request: ChatRequest.ChatRequest = { messages: [{ role: "user", content: "hello" }] }

const build = (options: RouterMetrics.Options | undefined) =>
  Effect.gen(function*() {
    const events = RouterEvents.layer()
    const metrics = options === undefined ? Layer.empty : RouterMetrics.layer(options).pipe(Layer.provide(events))
    const context = yield* Layer.build(
      Layer.merge(
        Router.layer({
          providers: [
            TestChatProvider.layer({
              name: "a",
              defaultModel: "m1",
              script: ({ index }) => index === 0 ? { fail: TestChatProvider.serverError(500) } : { reply: "back" }
            }),
            TestChatProvider.layer({ name: "b", defaultModel: "m2", script: [{ reply: "ok" }] })
          ],
          policy: { retry: { maxRetries: 0 } }
        }),
        metrics
      ).pipe(
        Layer.provideMerge(CircuitBreaker.layerMemory({ failureThreshold: 1, openDuration: "1 second", jitter: 0 })),
        Layer.provideMerge(events)
      )
    )
    return Context.get(context, ChatProvider.ChatProvider)
  })

const gauge = (text: string) =>
  /^flexiai_circuit_state\{provider="a",model="m1"\} (\d)$/m.exec(text)?.[1]

describe("RouterMetrics", () => {
  it.effect("the circuit gauge: open after the failure, closed again after the probe", () =>
    Effect.gen(function*() {
      const router = yield* build({})
      yield* router.chat(request)
      yield* Effect.yieldNow
      assert.strictEqual(gauge(yield* PrometheusMetrics.format()), String(RouterMetrics.circuitStateValue.Open))
      yield* TestClock.adjust("2 seconds")
      const answer = yield* router.chat(request)
      assert.strictEqual(answer.provider, "a")
      yield* Effect.yieldNow
      assert.strictEqual(gauge(yield* PrometheusMetrics.format()), String(RouterMetrics.circuitStateValue.Closed))
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))

  it.effect("modelLabel: false keeps models out of every label", () =>
    Effect.gen(function*() {
      const router = yield* build({ modelLabel: false })
      yield* router.chat(request)
      const text = yield* PrometheusMetrics.format()
      assert.include(text, `flexiai_requests_total{provider="b",operation="chat",outcome="success",reason=""} 1`)
      assert.notInclude(text, "m1")
      assert.notInclude(text, "m2")
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))

  it.effect("without the layer, nothing is recorded", () =>
    Effect.gen(function*() {
      const router = yield* build(undefined)
      yield* router.chat(request)
      assert.notInclude(yield* PrometheusMetrics.format(), "flexiai_")
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))
})
