// The router's events: in order for a scripted failover (with retries), a stream restart and a
// stream resume, a skip and a circuit transition; read from the PubSub as a user would. No
// subscriber, no event built; a slow subscriber never holds a call up; a throwing listener is
// caught and counted.
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider, CircuitBreaker, Router, RouterEvents } from "@flexiai/core"
import type { ChatRequest, RouterEvent, RouterPolicy, StreamPart } from "@flexiai/core"
import { TestChatProvider } from "@flexiai/testing"
import { Context, Effect, Exit, Fiber, Layer, PubSub, Stream } from "effect"
import { TestClock } from "effect/testing"

const request: ChatRequest.ChatRequest = { messages: [{ role: "user", content: "hello" }] }

const noJitter: RouterPolicy.Policy = {
  retry: { maxRetries: 2, initialDelay: "100 millis", factor: 2, maxDelay: "1 second", jitter: false }
}

const setup = (providers: ReadonlyArray<TestChatProvider.Options>, policy: RouterPolicy.Policy = {}, threshold = 3) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      Router.layer({ providers: providers.map(TestChatProvider.layer), policy: { ...noJitter, ...policy } }).pipe(
        Layer.provideMerge(CircuitBreaker.layerMemory({ failureThreshold: threshold, openDuration: "10 seconds", jitter: 0 })),
        Layer.provideMerge(RouterEvents.layer({ capacity: 64 }))
      )
    )
    const hub = Context.get(context, RouterEvents.RouterEvents)
    return { router: Context.get(context, ChatProvider.ChatProvider), hub }
  })

const runTimed = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(effect)
    yield* TestClock.adjust("10 minutes")
    return yield* Fiber.await(fiber)
  })

const drain = (subscription: PubSub.Subscription<RouterEvent.RouterEvent>) =>
  Effect.map(PubSub.takeUpTo(subscription, 1000), (events) => [...events])

// type plus the fields that say what happened (times and ids left out)
const shape = (event: RouterEvent.RouterEvent): string => {
  switch (event.type) {
    case "call-start":
      return `call-start ${event.operation}`
    case "attempt-start":
      return `attempt-start ${event.provider} #${event.attempt}`
    case "retry":
      return `retry ${event.provider} try ${event.try} after ${event.reason}`
    case "attempt-finish":
      return `attempt-finish ${event.provider} #${event.attempt} ${event.outcome}${event.reason ? ` ${event.reason}` : ""} tries ${event.tries}`
    case "attempt-skip":
      return `attempt-skip ${event.provider} #${event.attempt} ${event.reason}`
    case "failover":
      return `failover from ${event.from} ${event.reason}`
    case "first-token":
      return `first-token ${event.provider}`
    case "stream-restart":
    case "stream-resume":
      return `${event.type} ${event.provider} ${event.reason}`
    case "call-finish":
      return `call-finish ${event.outcome} ${event.provider ?? event.reason}`
    case "circuit-transition":
      return `circuit ${event.key} ${event.from}->${event.to}`
    default:
      return event.type
  }
}

describe("RouterEvents", () => {
  it.effect("a failover with retries, in order, one callId", () =>
    Effect.gen(function*() {
      const { hub, router } = yield* setup([
        { name: "primary", script: [{ fail: TestChatProvider.serverError(503) }] },
        { name: "fallback", script: [{ reply: "ok", usage: { promptTokens: 3, completionTokens: 1, totalTokens: 4 } }] }
      ])
      const subscription = yield* hub.subscribe
      const exit = yield* runTimed(router.chat(request))
      assert.isTrue(Exit.isSuccess(exit))
      const events = yield* drain(subscription)
      assert.deepStrictEqual(events.map(shape), [
        "call-start chat",
        "attempt-start primary #1",
        "retry primary try 2 after ServerError",
        "retry primary try 3 after ServerError",
        "attempt-finish primary #1 failure ServerError tries 3",
        "failover from primary ServerError",
        "attempt-start fallback #2",
        "attempt-finish fallback #2 success tries 1",
        "call-finish success fallback"
      ])
      const ids = new Set(events.map((event) => event.type === "circuit-transition" ? "" : event.callId))
      assert.strictEqual(ids.size, 1)
      const finish = events.at(-1)!
      assert.deepStrictEqual(finish.type === "call-finish" ? finish.usage : undefined, {
        promptTokens: 3,
        completionTokens: 1,
        totalTokens: 4
      })
    }))

  it.effect("a stream restart: first token, the broken attempt, the restart, the next attempt", () =>
    Effect.gen(function*() {
      const { hub, router } = yield* setup([
        { name: "a", script: [{ reply: "one two three", cutAfter: 2 }] },
        { name: "b", script: [{ reply: "fresh answer" }] }
      ], { streamPolicy: "restart", retry: { maxRetries: 0 } })
      const subscription = yield* hub.subscribe
      const exit = yield* runTimed(Stream.runCollect(router.stream(request)))
      assert.isTrue(Exit.isSuccess(exit))
      assert.deepStrictEqual((yield* drain(subscription)).map(shape), [
        "call-start stream",
        "attempt-start a #1",
        "first-token a",
        "attempt-finish a #1 failure Connection tries 1",
        "attempt-start b #2",
        // the restart is told when b's stream opened; b's attempt ends with its stream
        "stream-restart b Connection",
        "attempt-finish b #2 success tries 1",
        "call-finish success b"
      ])
    }))

  it.effect("a stream resume (continue policy)", () =>
    Effect.gen(function*() {
      const { hub, router } = yield* setup([
        { name: "a", script: [{ reply: "one two three", cutAfter: 2 }] },
        { name: "b", script: [{ reply: "one two three" }] }
      ], { streamPolicy: "continue", retry: { maxRetries: 0 } })
      const subscription = yield* hub.subscribe
      const exit = yield* runTimed(Stream.runCollect(router.stream(request)))
      assert.isTrue(Exit.isSuccess(exit))
      const shapes = (yield* drain(subscription)).map(shape)
      assert.include(shapes, "stream-resume b Connection")
      assert.strictEqual(shapes.filter((line) => line.startsWith("first-token")).length, 1)
    }))

  it.effect("a stream its consumer stops early ends as Cancelled", () =>
    Effect.gen(function*() {
      const { hub, router } = yield* setup([{ name: "a", script: [{ reply: "one two three" }] }])
      const subscription = yield* hub.subscribe
      yield* Stream.runDrain(Stream.take(router.stream(request), 1))
      const shapes = (yield* drain(subscription)).map(shape)
      assert.strictEqual(shapes.at(-1), "call-finish failure Cancelled")
    }))

  it.effect("an open circuit: the transition, then a skip on the next call", () =>
    Effect.gen(function*() {
      const { hub, router } = yield* setup([
        { name: "a", defaultModel: "m", script: [{ fail: TestChatProvider.serverError(500) }] },
        { name: "b", defaultModel: "m", script: [{ reply: "ok" }] }
      ], { retry: { maxRetries: 0 } }, 1)
      const subscription = yield* hub.subscribe
      // no retries, no waits: the clock stays where the circuit opened
      yield* router.chat(request)
      yield* router.chat(request)
      // transitions come from the breaker's own stream, on a fiber of their own
      yield* Effect.yieldNow
      const shapes = (yield* drain(subscription)).map(shape)
      assert.include(shapes, "circuit a:m Closed->Open")
      assert.include(shapes, "attempt-skip a #1 Open")
    }))

  it.effect("nobody listening: inactive, and a call still answers", () =>
    Effect.gen(function*() {
      const { hub, router } = yield* setup([{ name: "a", script: [{ reply: "ok" }] }])
      assert.isFalse(hub.active)
      const response = yield* router.chat(request)
      assert.strictEqual(response.text, "ok")
      yield* Effect.scoped(Effect.andThen(hub.subscribe, Effect.sync(() => assert.isTrue(hub.active))))
      assert.isFalse(hub.active)
    }))

  it.effect("skips for a disabled provider, a capability refusal and a model not served", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(
        Router.layer({
          providers: [
            { layer: TestChatProvider.layer({ name: "off", script: [{ reply: "no" }] }), enabled: false },
            TestChatProvider.layer({ name: "notools", script: [{ reply: "no" }], capabilities: { tools: false } }),
            { layer: TestChatProvider.layer({ name: "other", script: [{ reply: "no" }] }), models: { other: "other" } },
            TestChatProvider.layer({ name: "any", script: [{ reply: "yes" }] })
          ]
        }).pipe(Layer.provideMerge(CircuitBreaker.layerMemory()), Layer.provideMerge(RouterEvents.layer()))
      )
      const hub = Context.get(context, RouterEvents.RouterEvents)
      const subscription = yield* hub.subscribe
      const answer = yield* Context.get(context, ChatProvider.ChatProvider).chat({
        ...request,
        model: "m",
        tools: [{ name: "lookup", parameters: { type: "object" } }]
      })
      assert.strictEqual(answer.provider, "any")
      assert.deepStrictEqual((yield* drain(subscription)).map(shape), [
        "call-start chat",
        "attempt-skip off #1 Disabled",
        "attempt-skip notools #2 Unsupported",
        "attempt-skip other #0 ModelNotServed",
        "attempt-start any #3",
        "attempt-finish any #3 success tries 1",
        "call-finish success any"
      ])
    }))

  it.effect("an interrupted chat ends with call-finish Interrupted", () =>
    Effect.gen(function*() {
      const { hub, router } = yield* setup([{ name: "a", script: [{ hang: true }] }])
      const subscription = yield* hub.subscribe
      const fiber = yield* Effect.forkChild(router.chat(request), { startImmediately: true })
      yield* Effect.yieldNow
      yield* Fiber.interrupt(fiber)
      const shapes = (yield* drain(subscription)).map(shape)
      assert.deepStrictEqual(shapes, [
        "call-start chat",
        "attempt-start a #1",
        "attempt-finish a #1 failure Interrupted tries 1",
        "call-finish failure Interrupted"
      ])
    }))

  it.effect("the events stream counts as a listener only while it runs", () =>
    Effect.gen(function*() {
      const { hub, router } = yield* setup([{ name: "a", script: [{ reply: "ok" }] }])
      const reader = yield* Effect.forkChild(Stream.runCollect(Stream.take(hub.events, 2)), { startImmediately: true })
      yield* Effect.yieldNow
      assert.isTrue(hub.active)
      yield* router.chat(request)
      const read = yield* Fiber.join(reader)
      assert.deepStrictEqual(read.map((event) => event.type), ["call-start", "attempt-start"])
      assert.isFalse(hub.active)
    }))

  it.effect("a subscriber that never reads loses the oldest events and holds no call up", () =>
    Effect.gen(function*() {
      const { hub, router } = yield* setup([{ name: "a", script: [{ reply: "ok" }] }])
      const subscription = yield* hub.subscribe
      // 64 events fit; 40 calls make 160
      for (let index = 0; index < 40; index++) yield* router.chat(request)
      const events = yield* drain(subscription)
      assert.strictEqual(events.length, 64)
      assert.strictEqual(events.at(-1)?.type, "call-finish")
    }))

  it.effect("a listener that throws is counted, and the call answers", () =>
    Effect.gen(function*() {
      const { hub, router } = yield* setup([{ name: "a", script: [{ reply: "ok" }] }])
      yield* hub.listen(() => {
        throw new Error("observer bug")
      })
      const response = yield* router.chat(request)
      assert.strictEqual(response.text, "ok")
      assert.strictEqual(hub.listenerFailures(), 4)
    }))

  it.effect("a router built without RouterEvents works as before", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(
        Router.layer({ providers: [TestChatProvider.layer({ name: "a", script: [{ reply: "ok" }] })] }).pipe(
          Layer.provideMerge(CircuitBreaker.layerMemory())
        )
      )
      const parts: ReadonlyArray<StreamPart.StreamPart> = yield* Stream.runCollect(
        Context.get(context, ChatProvider.ChatProvider).stream(request)
      )
      assert.strictEqual(parts.at(-1)?.type, "finish")
    }))
})
