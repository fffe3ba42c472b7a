// One router call from start to end (issue 11): the deadline bounds a stream to its last part,
// every run of a call's effect is a call of its own (its own id), and an interrupt at any point
// of a stream's opening neither leaks the provider's response nor leaves its probe unrecorded.
// Every timer is virtual (TestClock); the interrupt sweep steps the scheduler, not the clock.
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider, CircuitBreaker, ProviderError, Router } from "@flexiai/core"
import { RouterPolicy } from "@flexiai/core"
import type { ChatRequest, StreamPart } from "@flexiai/core"
import { RecordingTracer, TestChatProvider } from "@flexiai/testing"
import { Context, Effect, Exit, Fiber, Layer, Logger, References, Schedule, Stream } from "effect"
import { TestClock } from "effect/testing"

const request: ChatRequest.ChatRequest = { messages: [{ role: "user", content: "hello" }] }

// Long per-attempt limits, so only the deadline can end these streams
const patient: RouterPolicy.Policy = {
  retry: { maxRetries: 0, jitter: false },
  attemptTimeout: "10 minutes",
  firstTokenTimeout: "10 minutes",
  idleTimeout: "10 minutes"
}

const build = (
  providers: ReadonlyArray<Layer.Layer<ChatProvider.ChatProvider>>,
  policy: RouterPolicy.Policy,
  breaker: CircuitBreaker.Options = {}
) =>
  Effect.map(
    Layer.build(
      Router.layer({ providers, policy: { ...patient, ...policy } }).pipe(
        Layer.provideMerge(CircuitBreaker.layerMemory({ failureThreshold: 1, openDuration: "10 seconds", jitter: 0, ...breaker }))
      )
    ),
    (context) => ({
      router: Context.get(context, ChatProvider.ChatProvider),
      breaker: Context.get(context, CircuitBreaker.CircuitBreaker)
    })
  )

const scripted = (name: string, script: TestChatProvider.Script) => TestChatProvider.recorded({ name, script })

const textOf = (parts: ReadonlyArray<StreamPart.StreamPart>) =>
  parts.map((part) => (part.type === "text-delta" ? part.text : "")).join("")

/** Consumes a stream in a fiber, keeping every part it delivered (also when it fails). */
const consume = (stream: Stream.Stream<StreamPart.StreamPart, ProviderError.ChatError>) =>
  Effect.gen(function*() {
    const parts: Array<StreamPart.StreamPart> = []
    const fiber = yield* Effect.forkChild(Stream.runForEach(stream, (part) => Effect.sync(() => parts.push(part))))
    return { parts, fiber }
  })

const interruptedBy = (error: ProviderError.ChatError) => {
  if (error._tag !== "ProviderError" || error.reason._tag !== "StreamInterrupted") {
    throw new Error(`expected StreamInterrupted, got ${error._tag}: ${error.message}`)
  }
  return error.reason
}

describe("the deadline bounds a whole stream", () => {
  // "one" at once, then one word a second: the whole answer takes 3 s
  const threeSeconds: TestChatProvider.Reply = { reply: "one two three four", chunkDelay: "1 second" }

  it.effect("a 1.5 s deadline ends a 3 s stream with the deadline's error carrying the partial output", () =>
    Effect.gen(function*() {
      const primary = yield* scripted("primary", [threeSeconds])
      const { breaker, router } = yield* build([primary.layer], { deadline: "1500 millis" })
      const { fiber, parts } = yield* consume(router.stream(request))
      yield* TestClock.adjust("1499 millis")
      assert.isUndefined(fiber.pollUnsafe(), "still within the deadline")
      yield* TestClock.adjust("1 millis")
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.isFailure(exit), "the stream did not outlive its deadline")
      const error = yield* Effect.flip(Effect.suspend(() => exit))
      const reason = interruptedBy(error)
      assert.strictEqual(textOf(parts), "one two")
      assert.strictEqual(reason.partialText, "one two")
      assert.strictEqual(reason.cause, "DeadlineExceeded")
      assert.include(reason.message, "deadline")
      assert.isFalse(parts.some((part) => part.type === "finish"), "never ends as if complete")
      assert.deepStrictEqual(reason.attempts?.map((attempt) => [attempt.provider, attempt.outcome, attempt.reason]), [
        ["primary", "failure", "DeadlineExceeded"]
      ])
      // the deadline is the caller's limit, not the provider's fault
      assert.deepStrictEqual(yield* breaker.state("primary:test-model"), { _tag: "Closed", failures: 0 })
    }))

  for (const streamPolicy of ["restart", "continue"] as const) {
    it.effect(`a slow drip under a 5 s deadline ends at 5 s, with no ${streamPolicy} past the deadline`, () =>
      Effect.gen(function*() {
        const drip: TestChatProvider.Reply = { reply: Array.from({ length: 100 }, (_, i) => `w${i}`).join(" "), chunkDelay: "1100 millis" }
        const primary = yield* scripted("primary", [drip])
        const backup = yield* TestChatProvider.recorded({
          name: "backup",
          script: [{ reply: "backup answer" }],
          capabilities: { assistantPrefill: true }
        })
        const { router } = yield* build([primary.layer, backup.layer], { deadline: "5 seconds", streamPolicy })
        const { fiber, parts } = yield* consume(router.stream(request))
        yield* TestClock.adjust("5 seconds")
        const exit = yield* Fiber.await(fiber)
        assert.isTrue(Exit.isFailure(exit), "the drip did not run past its deadline")
        const reason = interruptedBy(yield* Effect.flip(Effect.suspend(() => exit)))
        assert.strictEqual(reason.cause, "DeadlineExceeded")
        assert.strictEqual(reason.partialText, "w0 w1 w2 w3 w4")
        assert.strictEqual(reason.partialText, textOf(parts))
        assert.isFalse(parts.some((part) => part.type === "restart" || part.type === "resume" || part.type === "finish"))
        assert.strictEqual((yield* backup.calls).length, 0, "no attempt starts past the deadline")
      }))
  }

  it.effect("a restart that is still streaming when the deadline passes fails with everything it delivered", () =>
    Effect.gen(function*() {
      const primary = yield* scripted("primary", [{ reply: "one two three", cutAfter: 1 }])
      const backup = yield* scripted("backup", [{ reply: "a b c d e f", chunkDelay: "1 second" }])
      const { router } = yield* build([primary.layer, backup.layer], { deadline: "2500 millis", streamPolicy: "restart" })
      const { fiber, parts } = yield* consume(router.stream(request))
      yield* TestClock.adjust("2500 millis")
      const reason = interruptedBy(yield* Effect.flip(Fiber.join(fiber)))
      assert.deepStrictEqual(parts.filter((part) => part.type === "restart").length, 1)
      assert.strictEqual(reason.partialText, "a b c")
      assert.strictEqual(reason.cause, "DeadlineExceeded")
      assert.deepStrictEqual(reason.attempts?.map((attempt) => [attempt.provider, attempt.reason]), [
        ["primary", "Connection"],
        ["backup", "DeadlineExceeded"]
      ])
    }))

  it.effect("a consumer slower than the deadline gets the deadline's error at its next read", () =>
    Effect.gen(function*() {
      const primary = yield* scripted("primary", [{ reply: "one two three" }])
      const { router } = yield* build([primary.layer], { deadline: "1 second" })
      const parts: Array<StreamPart.StreamPart> = []
      const fiber = yield* Effect.forkChild(Stream.runForEach(
        router.stream(request).pipe(Stream.rechunk(1)),
        (part) => Effect.andThen(Effect.sleep("2 seconds"), Effect.sync(() => parts.push(part)))
      ))
      yield* TestClock.adjust("10 seconds")
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.isFailure(exit))
      assert.isFalse(parts.some((part) => part.type === "finish"))
      const reason = interruptedBy(yield* Effect.flip(Effect.suspend(() => exit)))
      assert.strictEqual(reason.cause, "DeadlineExceeded")
    }))

  it.effect("a stream that ends within its deadline is untouched", () =>
    Effect.gen(function*() {
      const primary = yield* scripted("primary", [threeSeconds])
      const { router } = yield* build([primary.layer], { deadline: "3001 millis" })
      const { fiber, parts } = yield* consume(router.stream(request))
      yield* TestClock.adjust("3 seconds")
      yield* Fiber.join(fiber)
      assert.strictEqual(textOf(parts), "one two three four")
      assert.strictEqual(parts.at(-1)?.type, "finish")
    }))
})

describe("a call's id belongs to each run of its effect", () => {
  const callIdsOf = <A, E>(effect: Effect.Effect<A, E>) =>
    Effect.gen(function*() {
      const ids: Array<unknown> = []
      const capture = Logger.make((options) => {
        const id = options.fiber.getRef(References.CurrentLogAnnotations)["callId"]
        if (String(options.message).startsWith("attempt")) ids.push(id)
      })
      yield* effect.pipe(Effect.provide(Logger.layer([capture])), Effect.provideService(References.MinimumLogLevel, "Debug"))
      return ids
    })

  it.effect("the same chat effect run twice (Effect.repeat, Effect.retry) logs and traces two call ids", () =>
    Effect.gen(function*() {
      const primary = yield* scripted("primary", [{ reply: "first" }, { reply: "second" }, { fail: TestChatProvider.serverError(500) }, { reply: "fourth" }])
      const { router } = yield* build([primary.layer], {}, { failureThreshold: 10 })
      const call = router.chat(request)

      const repeated = yield* callIdsOf(Effect.repeat(call, { times: 1 }))
      assert.strictEqual(repeated.length, 2)
      assert.notStrictEqual(repeated[0], repeated[1], "each run of the effect is its own call")

      const retried = yield* callIdsOf(Effect.retry(call, { times: 1 }))
      assert.strictEqual(retried.length, 2) // the failed run's attempt, then the successful one
      assert.notStrictEqual(retried[0], retried[1])
      assert.notInclude(repeated, retried[0])

      const recording = RecordingTracer.make()
      yield* Effect.repeat(call, { times: 1, schedule: Schedule.recurs(1) }).pipe(Effect.withTracer(recording.tracer))
      const spanIds = recording.spans.filter((span) => span.name === "Router.chat").map((span) => span.attributes.get("flexiai.call_id"))
      assert.strictEqual(spanIds.length, 2)
      assert.notStrictEqual(spanIds[0], spanIds[1])
    }))

  it.effect("the same stream run twice has two call ids", () =>
    Effect.gen(function*() {
      const primary = yield* scripted("primary", [{ reply: "one two" }])
      const { router } = yield* build([primary.layer], {})
      const stream = router.stream(request)
      const ids = yield* callIdsOf(Effect.andThen(Stream.runDrain(stream), Stream.runDrain(stream)))
      assert.strictEqual(ids.length, 2)
      assert.notStrictEqual(ids[0], ids[1])
    }))
})

describe("an interrupt while a call opens", () => {
  // A provider whose stream holds a resource (the "response") from its first pull to its close.
  const tracked = (name: string) => {
    const state = { opened: 0, closed: 0 }
    const answer: ReadonlyArray<StreamPart.StreamPart> = [
      { type: "text-delta", text: "hello" },
      { type: "finish", finishReason: "stop", provider: name, model: "m" }
    ]
    const provider = ChatProvider.ChatProvider.of({
      name,
      defaultModel: "m",
      capabilities: { streaming: true, tools: true, images: true, jsonSchema: true, assistantPrefill: false },
      chat: () => Effect.die("not used"),
      stream: () =>
        Stream.unwrap(Effect.as(
          Effect.acquireRelease(Effect.sync(() => { state.opened++ }), () => Effect.sync(() => { state.closed++ })),
          Stream.fromIterable(answer)
        ))
    })
    return { state, layer: Layer.succeed(ChatProvider.ChatProvider, provider) }
  }

  it.effect("at every step, the provider's response is closed and its half-open probe recorded", () =>
    Effect.gen(function*() {
      let landedOpen = 0
      // the whole stream takes about 130 steps here: 250 covers every one of them
      for (let steps = 0; steps < 250; steps++) {
        const primary = tracked("primary")
        const { breaker, router } = yield* build([primary.layer], {}, { failureThreshold: 1 })
        // a failure opens the circuit; after its open duration the next call is the probe
        const permit = yield* breaker.admit("primary:m")
        yield* breaker.record(permit, { _tag: "Failure" })
        yield* TestClock.adjust("10 seconds")

        // the consumer yields every other operation (at 2 it would only ever yield), so the
        // interrupt lands after exactly `steps` of the test's yields
        const fiber = yield* Effect.forkChild(
          Stream.runDrain(router.stream(request)).pipe(Effect.provideService(References.MaxOpsBeforeYield, 3))
        )
        for (let i = 0; i < steps; i++) yield* Effect.yieldNow
        yield* Fiber.interrupt(fiber)
        const exit = fiber.pollUnsafe()
        if (exit !== undefined && Exit.hasInterrupts(exit) && primary.state.opened > 0) landedOpen++
        assert.strictEqual(primary.state.closed, primary.state.opened, `step ${steps}: the response was closed`)
        // the probe was recorded (or never taken): the next caller may probe at once
        const next = yield* Effect.result(breaker.admit("primary:m"))
        assert.isTrue(next._tag === "Success", `step ${steps}: the probe was recorded`)
        if (next._tag === "Success") yield* breaker.record(next.success, { _tag: "Ignored" })
      }
      assert.isAbove(landedOpen, 20, "many interrupts landed while the response was open")
    }), { timeout: 60_000 })

  it.effect("a chat call's probe is recorded too, wherever the interrupt lands", () =>
    Effect.gen(function*() {
      for (let steps = 0; steps < 150; steps++) {
        const primary = yield* scripted("primary", [{ reply: "hello" }])
        const { breaker, router } = yield* build([primary.layer], {}, { failureThreshold: 1 })
        const permit = yield* breaker.admit("primary:test-model")
        yield* breaker.record(permit, { _tag: "Failure" })
        yield* TestClock.adjust("10 seconds")
        const fiber = yield* Effect.forkChild(router.chat(request).pipe(Effect.provideService(References.MaxOpsBeforeYield, 3)))
        for (let i = 0; i < steps; i++) yield* Effect.yieldNow
        yield* Fiber.interrupt(fiber)
        const next = yield* Effect.result(breaker.admit("primary:test-model"))
        assert.isTrue(next._tag === "Success", `step ${steps}: the probe was recorded`)
        if (next._tag === "Success") yield* breaker.record(next.success, { _tag: "Ignored" })
      }
    }), { timeout: 60_000 })
})

describe("the malformed-event rule reaches each provider's stream", () => {
  // A provider whose stream reports the rule its decoder would follow (`StreamDecoder` reads it so)
  const reporting = (name: string) =>
    Layer.succeed(
      ChatProvider.ChatProvider,
      ChatProvider.ChatProvider.of({
        name,
        defaultModel: "m",
        capabilities: { streaming: true, tools: true, images: true, jsonSchema: true, assistantPrefill: false },
        chat: () => Effect.die("not used"),
        stream: () =>
          Stream.unwrap(Effect.map(Effect.service(RouterPolicy.OnMalformedEvent), (rule) =>
            Stream.fromIterable<StreamPart.StreamPart>([
              { type: "text-delta", text: rule },
              { type: "finish", finishReason: "stop", provider: name, model: "m" }
            ])))
      })
    )

  it.effect("fail by default; the router's policy, then a provider's own policy, override it", () =>
    Effect.gen(function*() {
      assert.strictEqual(RouterPolicy.defaults.onMalformedEvent, "fail")
      const byDefault = yield* build([reporting("a")], {})
      assert.strictEqual(textOf([...(yield* Stream.runCollect(byDefault.router.stream(request)))]), "fail")
      const skipping = yield* build([reporting("a")], { onMalformedEvent: "skip" })
      assert.strictEqual(textOf([...(yield* Stream.runCollect(skipping.router.stream(request)))]), "skip")
      const perProvider = yield* Effect.map(
        Layer.build(
          Router.layer({ providers: [{ layer: reporting("a"), policy: { onMalformedEvent: "skip" } }], policy: patient }).pipe(
            Layer.provideMerge(CircuitBreaker.layerMemory())
          )
        ),
        (context) => Context.get(context, ChatProvider.ChatProvider)
      )
      assert.strictEqual(textOf([...(yield* Stream.runCollect(perProvider.stream(request)))]), "skip")
    }))
})
