// Per-call options (issue 11, item 10): `Router.withCallOptions` gives one call a deadline of its
// own (shorter or longer than the policy's; attempt limits still apply) and the providers to use or
// avoid, checked against the router's names before any request. Every timer is virtual (TestClock).
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider, CircuitBreaker, ProviderError, Router } from "@flexiai/core"
import type { ChatRequest, ChatResponse, RouterPolicy, StreamPart } from "@flexiai/core"
import { TestChatProvider } from "@flexiai/testing"
import { Context, Effect, Exit, Fiber, Layer, Stream } from "effect"
import { TestClock } from "effect/testing"

const request: ChatRequest.ChatRequest = { messages: [{ role: "user", content: "hello" }] }

const patient: RouterPolicy.Policy = {
  retry: { maxRetries: 0, jitter: false },
  attemptTimeout: "10 minutes",
  firstTokenTimeout: "10 minutes",
  idleTimeout: "10 minutes",
  deadline: "10 minutes"
}

const breakerLayer = CircuitBreaker.layerMemory({ failureThreshold: 5, openDuration: "10 seconds", jitter: 0 })

/** Builds a router over `providers`; returns its context (ChatProvider + Router) to provide. */
const build = (providers: ReadonlyArray<Layer.Layer<ChatProvider.ChatProvider>>, policy: RouterPolicy.Policy = {}) =>
  Layer.build(Router.layer({ providers, policy: { ...patient, ...policy } }).pipe(Layer.provide(breakerLayer)))

const scripted = (name: string, script: TestChatProvider.Script) =>
  TestChatProvider.recorded({ name, script, whenExhausted: "fail" })

const answering = (name: string) => scripted(name, [{ reply: `${name} here` }, { reply: `${name} again` }])

const chat = ChatProvider.ChatProvider.use((router) => router.chat(request))
const stream = Stream.unwrap(ChatProvider.ChatProvider.use((router) => Effect.succeed(router.stream(request))))

const textOf = (parts: ReadonlyArray<StreamPart.StreamPart>) =>
  parts.map((part) => (part.type === "text-delta" ? part.text : "")).join("")

const threeProviders = Effect.gen(function*() {
  const a = yield* answering("a")
  const b = yield* answering("b")
  const c = yield* answering("c")
  const context = yield* build([a.layer, b.layer, c.layer])
  const counts = Effect.all([a.calls, b.calls, c.calls]).pipe(Effect.map((all) => all.map((calls) => calls.length)))
  return { context, counts }
})

describe("a per-call deadline", () => {
  it.effect("shortens the policy's deadline for that call only", () =>
    Effect.gen(function*() {
      const slow = yield* scripted("slow", [{ hang: true }, { reply: "at last", delay: "3 seconds" }])
      const context = yield* build([slow.layer], { deadline: "10 minutes" })
      const fiber = yield* Effect.forkChild(
        chat.pipe(Router.withCallOptions({ deadline: "2 seconds" }), Effect.provideContext(context))
      )
      yield* TestClock.adjust("1999 millis")
      assert.isUndefined(fiber.pollUnsafe(), "within its deadline")
      yield* TestClock.adjust("1 millis")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "AllProvidersFailed")
      assert.isTrue(error._tag === "AllProvidersFailed" && error.deadlineExceeded)
      assert.deepStrictEqual(
        error._tag === "AllProvidersFailed" ? error.attempts.map((attempt) => attempt.reason) : [],
        ["DeadlineExceeded"]
      )
      // the next call, without options, has the policy's 10 minutes again
      const next = yield* Effect.forkChild(chat.pipe(Effect.provideContext(context)))
      yield* TestClock.adjust("3 seconds")
      assert.strictEqual((yield* Fiber.join(next)).text, "at last")
    }))

  it.effect("replaces a shorter policy deadline, so one call may take longer", () =>
    Effect.gen(function*() {
      const slow = yield* scripted("slow", [{ reply: "took three seconds", delay: "3 seconds" }, { reply: "again", delay: "3 seconds" }])
      const context = yield* build([slow.layer], { deadline: "1 second" })
      // control: under the policy's 1 s deadline the call fails
      const control = yield* Effect.forkChild(chat.pipe(Effect.provideContext(context)))
      yield* TestClock.adjust("1 second")
      const failed = yield* Effect.flip(Fiber.join(control))
      assert.isTrue(failed._tag === "AllProvidersFailed" && failed.deadlineExceeded)

      const fiber = yield* Effect.forkChild(
        chat.pipe(Router.withCallOptions({ deadline: "5 seconds" }), Effect.provideContext(context))
      )
      yield* TestClock.adjust("3 seconds")
      assert.strictEqual((yield* Fiber.join(fiber)).text, "again")
    }))

  it.effect("leaves each attempt's own limit in force", () =>
    Effect.gen(function*() {
      const stuck = yield* scripted("stuck", [{ hang: true }])
      const backup = yield* answering("backup")
      const context = yield* build([stuck.layer, backup.layer], { attemptTimeout: "1 second", deadline: "2 seconds" })
      const fiber = yield* Effect.forkChild(
        chat.pipe(Router.withCallOptions({ deadline: "1 minute" }), Effect.provideContext(context))
      )
      yield* TestClock.adjust("1 second")
      const answer = yield* Fiber.join(fiber)
      assert.strictEqual(answer.provider, "backup")
      assert.deepStrictEqual(answer.attempts.map((attempt) => [attempt.provider, attempt.reason]), [
        ["stuck", "Timeout"],
        ["backup", undefined]
      ])
    }))

  it.effect("bounds a stream to its last part, and the error names the call's own deadline", () =>
    Effect.gen(function*() {
      const drip = yield* scripted("drip", [{ reply: "one two three four", chunkDelay: "1 second" }])
      const context = yield* build([drip.layer], { deadline: "10 minutes" })
      const parts: Array<StreamPart.StreamPart> = []
      const fiber = yield* Effect.forkChild(
        Stream.runForEach(stream.pipe(Router.withCallOptions({ deadline: "1500 millis" })), (part) =>
          Effect.sync(() => parts.push(part))).pipe(Effect.provideContext(context))
      )
      yield* TestClock.adjust("1499 millis")
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust("1 millis")
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.isFailure(exit))
      const error = yield* Effect.flip(Effect.suspend(() => exit))
      const reason = error._tag === "ProviderError" && error.reason._tag === "StreamInterrupted" ? error.reason : undefined
      assert.strictEqual(reason?.cause, "DeadlineExceeded")
      assert.strictEqual(reason?.partialText, "one two")
      assert.include(reason?.message ?? "", "1s 500ms")
      assert.strictEqual(textOf(parts), "one two")
    }))

  it.effect("rejects a deadline that is not a positive duration, before any request", () =>
    Effect.gen(function*() {
      const { context, counts } = yield* threeProviders
      for (const deadline of [0, -5, "soon" as never]) {
        const error = yield* Effect.flip(chat.pipe(Router.withCallOptions({ deadline }), Effect.provideContext(context)))
        assert.strictEqual(error._tag, "InvalidCallOptions")
        assert.strictEqual(error._tag === "InvalidCallOptions" && error.field, "deadline")
      }
      assert.deepStrictEqual(yield* counts, [0, 0, 0])
    }))
})

describe("providers to use or to avoid", () => {
  it.effect("only: the named providers are the candidates, the others get no request", () =>
    Effect.gen(function*() {
      const { context, counts } = yield* threeProviders
      const answer = yield* chat.pipe(Router.withCallOptions({ providers: { only: ["c"] } }), Effect.provideContext(context))
      assert.strictEqual(answer.provider, "c")
      assert.deepStrictEqual(answer.attempts.map((attempt) => attempt.provider), ["c"])
      assert.deepStrictEqual(yield* counts, [0, 0, 1])
      // the next call without options goes to the primary again
      assert.strictEqual((yield* chat.pipe(Effect.provideContext(context))).provider, "a")
    }))

  it.effect("only keeps the router's order (it is a set, not an order)", () =>
    Effect.gen(function*() {
      const { context } = yield* threeProviders
      const answer = yield* chat.pipe(Router.withCallOptions({ providers: { only: ["c", "b"] } }), Effect.provideContext(context))
      assert.strictEqual(answer.provider, "b")
    }))

  it.effect("avoid: the named providers are left out, the call fails over past them", () =>
    Effect.gen(function*() {
      const { context, counts } = yield* threeProviders
      const answer = yield* chat.pipe(Router.withCallOptions({ providers: { avoid: ["a"] } }), Effect.provideContext(context))
      assert.strictEqual(answer.provider, "b")
      assert.deepStrictEqual(answer.attempts.map((attempt) => attempt.provider), ["b"])
      assert.deepStrictEqual(yield* counts, [0, 1, 0])
    }))

  it.effect("applies to streams too", () =>
    Effect.gen(function*() {
      const { context, counts } = yield* threeProviders
      const parts = yield* Stream.runCollect(stream.pipe(Router.withCallOptions({ providers: { avoid: ["a", "b"] } }))).pipe(
        Effect.provideContext(context)
      )
      assert.strictEqual(textOf(parts), "c here")
      const finish = parts.find((part) => part.type === "finish")
      assert.deepStrictEqual(finish?.type === "finish" ? finish.attempts?.map((attempt) => attempt.provider) : [], ["c"])
      assert.deepStrictEqual(yield* counts, [0, 0, 1])
    }))

  it.effect("an unknown name fails with UnknownProvider, before any request", () =>
    Effect.gen(function*() {
      const { context, counts } = yield* threeProviders
      for (const providers of [{ only: ["a", "openai"] }, { avoid: ["gpt"] }]) {
        const error = yield* Effect.flip(chat.pipe(Router.withCallOptions({ providers }), Effect.provideContext(context)))
        assert.instanceOf(error, Router.UnknownProvider)
        assert.include(error.message, "known: a, b, c")
      }
      const streamed = yield* Effect.flip(
        Stream.runDrain(stream.pipe(Router.withCallOptions({ providers: { only: ["nope"] } }))).pipe(Effect.provideContext(context))
      )
      assert.strictEqual(streamed._tag, "UnknownProvider")
      assert.deepStrictEqual(yield* counts, [0, 0, 0])
    }))

  it.effect("options that leave no provider fail with InvalidCallOptions, before any request", () =>
    Effect.gen(function*() {
      const { context, counts } = yield* threeProviders
      for (const providers of [{ only: [] }, { only: ["a"], avoid: ["a"] }, { avoid: ["a", "b", "c"] }]) {
        const error = yield* Effect.flip(chat.pipe(Router.withCallOptions({ providers }), Effect.provideContext(context)))
        assert.strictEqual(error._tag, "InvalidCallOptions")
        assert.strictEqual(error._tag === "InvalidCallOptions" && error.field, "providers")
        assert.include(error.message, "no provider left to try")
        assert.include(error.message, "(providers: a, b, c)")
      }
      assert.deepStrictEqual(yield* counts, [0, 0, 0])
    }))

  it.effect("a disabled provider among `only` is still skipped, as on any call", () =>
    Effect.gen(function*() {
      const { context } = yield* threeProviders
      yield* Router.Router.use((router) => router.disable("a")).pipe(Effect.provideContext(context))
      const error = yield* Effect.flip(chat.pipe(Router.withCallOptions({ providers: { only: ["a"] } }), Effect.provideContext(context)))
      assert.instanceOf(error, ProviderError.AllProvidersFailed)
      assert.deepStrictEqual(
        error._tag === "AllProvidersFailed" ? error.attempts.map((attempt) => [attempt.provider, attempt.outcome]) : [],
        [["a", "skipped"]]
      )
    }))

  it.effect("nested: the inner options override the fields they set and keep the others", () =>
    Effect.gen(function*() {
      const slow = yield* scripted("slow", [{ hang: true }])
      const other = yield* scripted("other", [{ hang: true }])
      const context = yield* build([slow.layer, other.layer])
      const fiber = yield* Effect.forkChild(
        chat.pipe(
          Router.withCallOptions({ providers: { avoid: ["slow"] } }),
          Router.withCallOptions({ deadline: "1 second", providers: { avoid: ["other"] } }),
          Effect.provideContext(context)
        )
      )
      yield* TestClock.adjust("1 second")
      const error = yield* Effect.flip(Fiber.join(fiber))
      // the inner `avoid` (slow) replaced the outer one (other); the outer deadline still holds
      assert.isTrue(error._tag === "AllProvidersFailed" && error.deadlineExceeded)
      assert.deepStrictEqual((yield* slow.calls).length, 0)
      assert.deepStrictEqual((yield* other.calls).length, 1)
    }))

  it.effect("a router among the providers does not see the outer router's options", () =>
    Effect.gen(function*() {
      const deep = yield* answering("deep")
      const inner = Layer.effect(
        ChatProvider.ChatProvider,
        Effect.map(build([deep.layer]), (context) => Context.get(context, ChatProvider.ChatProvider))
      )
      const sibling = yield* answering("sibling")
      const context = yield* build([sibling.layer, inner])
      // "router" is the inner router's name among the outer router's providers
      const answer = yield* chat.pipe(Router.withCallOptions({ providers: { only: ["router"] }, deadline: "1 minute" }), Effect.provideContext(context))
      assert.strictEqual(answer.text, "deep here")
      assert.deepStrictEqual((yield* sibling.calls).length, 0)
      const parts = yield* Stream.runCollect(stream.pipe(Router.withCallOptions({ providers: { only: ["router"] } }))).pipe(
        Effect.provideContext(context)
      )
      assert.strictEqual(textOf(parts), "deep again")
    }))

  it.effect("without options nothing changes and no Router check runs", () =>
    Effect.gen(function*() {
      const { context } = yield* threeProviders
      // empty options read nothing from the Router: one whose order dies is never asked
      const unread = { order: Effect.die("the Router was asked") } as unknown as Router.Router["Service"]
      const answer = yield* chat.pipe(
        Router.withCallOptions({ providers: {} }),
        Effect.provideService(Router.Router, unread),
        Effect.provideService(ChatProvider.ChatProvider, Context.get(context, ChatProvider.ChatProvider))
      )
      assert.strictEqual(answer.provider, "a")
    }))
})

describe("the core README's example", () => {
  it.effect("has the type it documents and runs", () =>
    Effect.gen(function*() {
      const openai = yield* answering("openai")
      const backup = yield* answering("backup")
      const context = yield* build([openai.layer, backup.layer])
      const answer: Effect.Effect<
        ChatResponse.ChatResponse,
        ProviderError.ChatError | Router.UnknownProvider | Router.InvalidCallOptions,
        ChatProvider.ChatProvider | Router.Router
      > = ChatProvider.chat("hi").pipe(
        Router.withCallOptions({ deadline: "5 seconds", providers: { avoid: ["openai"] } })
      )
      assert.strictEqual((yield* answer.pipe(Effect.provideContext(context))).provider, "backup")
    }))
})
