import { assert, describe, it } from "@effect/vitest"
import { ChatProvider, ChatRequest, CircuitBreaker, ProviderError, Router } from "@flexiai/core"
import type { RouterPolicy, StreamPart } from "@flexiai/core"
import { TestChatProvider } from "@flexiai/testing"
import { Context, Duration, Effect, Exit, Fiber, Layer, Logger, References, Stream } from "effect"
import { TestClock } from "effect/testing"

const request: ChatRequest.ChatRequest = { messages: [{ role: "user", content: "hello" }] }

// No jitter anywhere, so every wait below is exact.
const noJitter: RouterPolicy.Policy = {
  retry: { maxRetries: 2, initialDelay: "100 millis", factor: 2, maxDelay: "1 second", jitter: false }
}

const breakerLayer = (options: CircuitBreaker.Options = {}) =>
  CircuitBreaker.layerMemory({ failureThreshold: 3, openDuration: "10 seconds", jitter: 0, ...options })

interface Scripted {
  readonly name: string
  readonly script: TestChatProvider.Script
  readonly capabilities?: Partial<ChatProvider.Capabilities>
}

/** Builds a router over scripted providers; returns the services plus each provider's recorded calls. */
const setup = (
  providers: ReadonlyArray<Scripted>,
  policy: RouterPolicy.Policy = noJitter,
  breaker: CircuitBreaker.Options = {}
) =>
  Effect.gen(function*() {
    const recorded = yield* Effect.forEach(providers, (provider) =>
      TestChatProvider.recorded({
        name: provider.name,
        script: provider.script,
        ...(provider.capabilities === undefined ? {} : { capabilities: provider.capabilities })
      }))
    const context = yield* Layer.build(
      Router.layer({ providers: recorded.map((entry) => entry.layer), policy: { ...noJitter, ...policy } }).pipe(
        Layer.provideMerge(breakerLayer(breaker))
      )
    )
    return {
      router: Context.get(context, ChatProvider.ChatProvider),
      control: Context.get(context, Router.Router),
      breaker: Context.get(context, CircuitBreaker.CircuitBreaker),
      calls: (index: number) => Effect.map(recorded[index]!.calls, (calls) => calls.length)
    }
  })

/** Runs an effect in a fiber and moves the TestClock far enough for every scripted wait. */
const runTimed = <A, E>(effect: Effect.Effect<A, E>, advance: Duration.Input = "10 minutes") =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(effect)
    yield* TestClock.adjust(advance)
    return yield* Fiber.await(fiber)
  })

const collect = (stream: Stream.Stream<StreamPart.StreamPart, ProviderError.ChatError>) =>
  Stream.runCollect(stream).pipe(Effect.map((parts) => [...parts]))

const textOf = (parts: ReadonlyArray<StreamPart.StreamPart>) =>
  parts.map((part) => (part.type === "text-delta" ? part.text : "")).join("")

describe("Router chat", () => {
  it.effect("answers from the primary when it is healthy", () =>
    Effect.gen(function*() {
      const { calls, router } = yield* setup([
        { name: "primary", script: [{ reply: "from primary" }] },
        { name: "secondary", script: [{ reply: "from secondary" }] }
      ])
      const response = yield* router.chat(request)
      assert.strictEqual(response.provider, "primary")
      assert.strictEqual(response.text, "from primary")
      assert.deepStrictEqual(response.attempts.map((attempt) => [attempt.provider, attempt.outcome]), [["primary", "success"]])
      assert.strictEqual(yield* calls(1), 0)
    }))

  it.effect("retries a retryable failure with backoff, then fails over, recording every attempt", () =>
    Effect.gen(function*() {
      const { calls, router } = yield* setup([
        { name: "primary", script: [{ fail: TestChatProvider.serverError(503) }] },
        { name: "secondary", script: [{ reply: "rescued" }] }
      ])
      const fiber = yield* Effect.forkChild(router.chat(request))
      yield* TestClock.adjust("99 millis")
      assert.strictEqual(yield* calls(0), 1) // first backoff is 100 ms
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* calls(0), 2)
      yield* TestClock.adjust("199 millis")
      assert.strictEqual(yield* calls(0), 2) // second backoff is 200 ms
      yield* TestClock.adjust("1 millis")
      const response = yield* Fiber.join(fiber)
      assert.strictEqual(yield* calls(0), 3)
      assert.strictEqual(response.provider, "secondary")
      assert.deepStrictEqual(
        response.attempts.map((attempt) => [attempt.provider, attempt.outcome, attempt.reason, attempt.tries]),
        [["primary", "failure", "ServerError", 3], ["secondary", "success", undefined, 1]]
      )
      assert.strictEqual(response.attempts[0]!.latencyMillis, 300)
    }))

  it.effect("skips an open circuit without calling it, then lets one probe through after the open duration", () =>
    Effect.gen(function*() {
      const { breaker, calls, router } = yield* setup(
        [
          { name: "primary", script: [{ fail: TestChatProvider.serverError(500) }, { reply: "recovered" }] },
          { name: "secondary", script: [{ reply: "backup" }] }
        ],
        { retry: { maxRetries: 0 } },
        { failureThreshold: 1 }
      )
      const first = yield* router.chat(request)
      assert.strictEqual(first.provider, "secondary")
      assert.strictEqual((yield* breaker.state("primary:test-model"))._tag, "Open")

      const second = yield* router.chat(request)
      assert.strictEqual(second.provider, "secondary")
      assert.strictEqual(yield* calls(0), 1) // skipped: no call reached it
      assert.deepStrictEqual(
        second.attempts.map((attempt) => [attempt.provider, attempt.outcome, attempt.reason]),
        [["primary", "skipped", "CircuitOpen"], ["secondary", "success", undefined]]
      )

      yield* TestClock.adjust("10 seconds")
      const third = yield* router.chat(request)
      assert.strictEqual(third.provider, "primary")
      assert.strictEqual(third.text, "recovered")
      assert.strictEqual((yield* breaker.state("primary:test-model"))._tag, "Closed")
    }))

  it.effect("a circuit reset by hand is tried again at once (no stale skip)", () =>
    Effect.gen(function*() {
      const { breaker, calls, router } = yield* setup(
        [
          { name: "primary", script: [{ fail: TestChatProvider.serverError(500) }, { reply: "back" }] },
          { name: "secondary", script: [{ reply: "backup" }] }
        ],
        { retry: { maxRetries: 0 } },
        { failureThreshold: 1 }
      )
      yield* router.chat(request) // opens the primary's circuit
      assert.strictEqual((yield* router.chat(request)).provider, "secondary") // skipped
      assert.strictEqual((yield* router.chat(request)).provider, "secondary") // skipped again, without an admission
      assert.strictEqual(yield* calls(0), 1)
      yield* breaker.reset("primary:test-model")
      const after = yield* router.chat(request)
      assert.strictEqual(after.provider, "primary")
      assert.strictEqual(after.text, "back")
    }))

  it.effect("stops at a reason no provider can fix, with the provider's own reason", () =>
    Effect.gen(function*() {
      const { calls, router } = yield* setup([
        { name: "primary", script: [{ fail: TestChatProvider.contentFiltered("policy") }] },
        { name: "secondary", script: [{ reply: "should not be asked" }] }
      ])
      const error = yield* Effect.flip(router.chat(request))
      assert.strictEqual(error._tag, "ProviderError")
      assert.strictEqual(error._tag === "ProviderError" && error.reason._tag, "ContentFiltered")
      assert.strictEqual(yield* calls(1), 0)
      assert.strictEqual(yield* calls(0), 1) // not retried either
    }))

  it.effect("fails over on ContentFiltered when the policy says so", () =>
    Effect.gen(function*() {
      const { router } = yield* setup([
        { name: "primary", script: [{ fail: TestChatProvider.contentFiltered() }] },
        { name: "secondary", script: [{ reply: "other policy" }] }
      ], { failoverOnContentFiltered: true })
      assert.strictEqual((yield* router.chat(request)).provider, "secondary")
    }))

  it.effect("fails over on ContextLengthExceeded without retrying", () =>
    Effect.gen(function*() {
      const { calls, router } = yield* setup([
        { name: "small", script: [{ fail: new ProviderError.ContextLengthExceeded({ message: "too long" }) }] },
        { name: "large", script: [{ reply: "fits" }] }
      ])
      const response = yield* router.chat(request)
      assert.strictEqual(response.provider, "large")
      assert.strictEqual(yield* calls(0), 1)
    }))

  it.effect("a hung provider times out per attempt and fails over without a retry", () =>
    Effect.gen(function*() {
      const { calls, router } = yield* setup([
        { name: "silent", script: [{ hang: true }] },
        { name: "secondary", script: [{ reply: "here" }] }
      ], { attemptTimeout: "5 seconds" })
      const fiber = yield* Effect.forkChild(router.chat(request))
      yield* TestClock.adjust("4999 millis")
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust("1 millis")
      const response = yield* Fiber.join(fiber)
      assert.strictEqual(response.provider, "secondary")
      assert.strictEqual(yield* calls(0), 1)
      assert.strictEqual(response.attempts[0]!.reason, "Timeout")
    }))

  it.effect("the overall deadline interrupts in-flight work and lists the attempts", () =>
    Effect.gen(function*() {
      const { router } = yield* setup([
        { name: "slow-a", script: [{ reply: "late", delay: "6 seconds" }] },
        { name: "slow-b", script: [{ reply: "late", delay: "6 seconds" }] }
      ], { attemptTimeout: "5 seconds", deadline: "8 seconds" })
      const fiber = yield* Effect.forkChild(router.chat(request))
      yield* TestClock.adjust("8 seconds")
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.isFailure(exit))
      const error = yield* Effect.flip(Effect.suspend(() => exit))
      assert.strictEqual(error._tag, "AllProvidersFailed")
      if (error._tag !== "AllProvidersFailed") return
      assert.isTrue(error.deadlineExceeded)
      assert.deepStrictEqual(
        error.attempts.map((attempt) => [attempt.provider, attempt.reason]),
        [["slow-a", "Timeout"], ["slow-b", "DeadlineExceeded"]]
      )
    }))

  it.effect("a retry whose backoff would end past the deadline is not made", () =>
    Effect.gen(function*() {
      const { calls, router } = yield* setup([
        { name: "only", script: [{ fail: TestChatProvider.serverError(503) }, { reply: "too late" }] }
      ], { retry: { maxRetries: 2, initialDelay: "5 seconds", jitter: false }, deadline: "3 seconds" })
      const fiber = yield* Effect.forkChild(Effect.flip(router.chat(request)))
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(fiber) // done at once: no 5 s wait that the deadline cannot fit
      assert.strictEqual(error._tag, "AllProvidersFailed")
      assert.strictEqual(yield* calls(0), 1)
    }))

  it.effect("waits out a short Retry-After on the same provider", () =>
    Effect.gen(function*() {
      const { calls, router } = yield* setup([
        { name: "primary", script: [{ fail: TestChatProvider.rateLimited("2 seconds") }, { reply: "after wait" }] },
        { name: "secondary", script: [{ reply: "unused" }] }
      ])
      const fiber = yield* Effect.forkChild(router.chat(request))
      yield* TestClock.adjust("1999 millis") // the 100 ms backoff is stretched to the Retry-After
      assert.strictEqual(yield* calls(0), 1)
      yield* TestClock.adjust("1 millis")
      const response = yield* Fiber.join(fiber)
      assert.strictEqual(response.provider, "primary")
      assert.strictEqual(response.text, "after wait")
      assert.strictEqual(yield* calls(1), 0)
    }))

  it.effect("fails over at once on a long Retry-After and skips that provider until then", () =>
    Effect.gen(function*() {
      const { calls, router } = yield* setup([
        { name: "primary", script: [{ fail: TestChatProvider.rateLimited("30 seconds") }, { reply: "back" }] },
        { name: "secondary", script: [{ reply: "covering" }] }
      ])
      const first = yield* router.chat(request) // no TestClock move needed: nothing waits
      assert.strictEqual(first.provider, "secondary")
      assert.strictEqual(yield* calls(0), 1)

      yield* TestClock.adjust("29 seconds")
      const second = yield* router.chat(request)
      assert.strictEqual(second.provider, "secondary")
      assert.strictEqual(yield* calls(0), 1)
      assert.strictEqual(second.attempts[0]!.error?._tag, "CircuitOpen")

      yield* TestClock.adjust("1 second")
      const third = yield* router.chat(request)
      assert.strictEqual(third.provider, "primary")
    }))

  it.effect("AllProvidersFailed lists every attempt in order", () =>
    Effect.gen(function*() {
      const { router } = yield* setup([
        { name: "a", script: [{ fail: TestChatProvider.authentication() }] },
        { name: "b", script: [{ fail: new ProviderError.NotFound({ message: "no such model" }) }] },
        { name: "c", script: [{ fail: TestChatProvider.serverError(502) }] }
      ], { retry: { maxRetries: 0 } })
      const error = yield* Effect.flip(router.chat(request))
      assert.strictEqual(error._tag, "AllProvidersFailed")
      if (error._tag !== "AllProvidersFailed") return
      assert.deepStrictEqual(error.attempts.map((attempt) => [attempt.provider, attempt.reason]), [
        ["a", "Authentication"],
        ["b", "NotFound"],
        ["c", "ServerError"]
      ])
      assert.include(error.message, "a/test-model: Authentication")
    }))

  it.effect("the chat accessor rejects an invalid request before any provider is called", () =>
    Effect.gen(function*() {
      const { calls, router } = yield* setup([{ name: "primary", script: [{ reply: "x" }] }])
      const error = yield* Effect.flip(
        ChatProvider.chat({ messages: [{ role: "user", content: "hi" }], temperature: 7 }).pipe(
          Effect.provideService(ChatProvider.ChatProvider, router)
        )
      )
      assert.strictEqual(error._tag === "ProviderError" && error.reason._tag, "InvalidRequest")
      assert.include(error.message, "temperature")
      assert.strictEqual(yield* calls(0), 0)
    }))
})

describe("Router control", () => {
  it.effect("setPrimary, disable, enable and reorder change who answers", () =>
    Effect.gen(function*() {
      const { control, router } = yield* setup([
        { name: "a", script: [{ reply: "A" }] },
        { name: "b", script: [{ reply: "B" }] },
        { name: "c", script: [{ reply: "C" }] }
      ])
      yield* control.setPrimary("b")
      assert.deepStrictEqual(yield* control.order, ["b", "a", "c"])
      assert.strictEqual((yield* router.chat(request)).provider, "b")
      yield* control.disable("b")
      const skipped = yield* router.chat(request)
      assert.strictEqual(skipped.provider, "a")
      assert.strictEqual(skipped.attempts[0]!.error?._tag === "CircuitOpen" && skipped.attempts[0]!.error.state, "Disabled")
      yield* control.enable("b")
      yield* control.reorder(["c"])
      assert.deepStrictEqual(yield* control.order, ["c", "b", "a"])
      assert.strictEqual((yield* router.chat(request)).provider, "c")
      const unknown = yield* Effect.flip(control.setPrimary("zzz"))
      assert.strictEqual(unknown._tag, "UnknownProvider")
    }))

  it.effect("status reports circuits, counts and the last error after a failover", () =>
    Effect.gen(function*() {
      const { control, router } = yield* setup([
        { name: "primary", script: [{ fail: TestChatProvider.serverError(500, "boom") }] },
        { name: "secondary", script: [{ reply: "ok", delay: "40 millis" }] }
      ], { retry: { maxRetries: 0 } }, { failureThreshold: 1 })
      yield* runTimed(router.chat(request), "1 second")
      const [primary, secondary] = yield* control.status
      assert.strictEqual(primary!.failures, 1)
      assert.strictEqual(primary!.lastError?.reason, "ServerError")
      assert.include(primary!.lastError?.message ?? "", "boom")
      assert.deepStrictEqual(primary!.circuits, [{ key: "primary:test-model", state: "Open" }])
      assert.strictEqual(secondary!.successes, 1)
      assert.strictEqual(secondary!.successRate, 1)
      assert.strictEqual(secondary!.latencyP50Millis, 40)
      const stats = yield* control.stats
      assert.deepStrictEqual(stats, { requests: 1, attempts: 2, failovers: 1, failed: 0 })
    }))

  it.effect("200 concurrent requests keep consistent counts in the router and the breaker", () =>
    Effect.gen(function*() {
      const { breaker, control, router } = yield* setup(
        [
          // even calls fail, odd calls succeed: whatever the interleaving, counts must add up
          { name: "flaky", script: ({ index }) => index % 2 === 0 ? { fail: TestChatProvider.serverError(500) } : { reply: "ok", delay: "10 millis" } },
          { name: "backup", script: [{ reply: "backup", delay: "5 millis" }] }
        ],
        { retry: { maxRetries: 0 } },
        { failureThreshold: 1000 }
      )
      const fiber = yield* Effect.forkChild(
        Effect.all(Array.from({ length: 200 }, () => router.chat(request)), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust("1 second")
      const responses = yield* Fiber.join(fiber)
      const byProvider = responses.reduce((counts, response) => {
        counts[response.provider] = (counts[response.provider] ?? 0) + 1
        return counts
      }, {} as Record<string, number>)
      assert.deepStrictEqual(byProvider, { flaky: 100, backup: 100 })
      const [flaky] = yield* control.status
      assert.strictEqual(flaky!.requests, 200)
      assert.strictEqual(flaky!.successes, 100)
      assert.strictEqual(flaky!.failures, 100)
      const state = yield* breaker.state("flaky:test-model")
      assert.strictEqual(state._tag, "Closed")
    }))
})

describe("Router streams", () => {
  const answer = "one two three four"

  it.effect("fails over freely before the first content part; the consumer sees one clean answer", () =>
    Effect.gen(function*() {
      const { calls, router } = yield* setup([
        { name: "a", script: [{ errorBeforeContent: TestChatProvider.overloaded() }] },
        { name: "b", script: [{ reply: answer, cutAfter: 0 }] },
        { name: "c", script: [{ reply: answer, stallAfter: 0 }] },
        { name: "d", script: [{ reply: answer }] }
      ], { retry: { maxRetries: 0 }, firstTokenTimeout: "3 seconds" })
      const exit = yield* runTimed(collect(router.stream(request)))
      assert.isTrue(Exit.isSuccess(exit))
      if (!Exit.isSuccess(exit)) return
      const parts = exit.value
      assert.strictEqual(textOf(parts), answer)
      assert.isFalse(parts.some((part) => part.type === "restart" || part.type === "resume"))
      const finish = parts.at(-1)
      assert.strictEqual(finish?.type, "finish")
      if (finish?.type !== "finish") return
      assert.strictEqual(finish.provider, "d")
      assert.deepStrictEqual(finish.attempts?.map((attempt) => [attempt.provider, attempt.reason]), [
        ["a", "Overloaded"],
        ["b", "Connection"], // the cut before any content is the reason itself
        ["c", "Timeout"],
        ["d", undefined]
      ])
      assert.strictEqual(yield* calls(3), 1)
    }))

  it.effect("stream calls count in the router's stats: attempts, failovers, failures", () =>
    Effect.gen(function*() {
      const { control, router } = yield* setup([
        { name: "a", script: [{ errorBeforeContent: TestChatProvider.overloaded() }] },
        { name: "b", script: [{ reply: answer }, { reply: answer, cutAfter: 1 }] }
      ], { retry: { maxRetries: 0 } })
      yield* runTimed(collect(router.stream(request)))
      yield* runTimed(Effect.ignore(collect(router.stream(request))))
      const stats = yield* control.stats
      // call 1: a fails over to b; call 2: a fails over again, b breaks after content (policy fail)
      assert.deepStrictEqual(stats, { requests: 2, attempts: 4, failovers: 3, failed: 1 })
    }))

  it.effect("policy fail: a cut after content ends with StreamInterrupted carrying the partial text", () =>
    Effect.gen(function*() {
      const { calls, router } = yield* setup([
        { name: "a", script: [{ reply: answer, cutAfter: 2 }] },
        { name: "b", script: [{ reply: answer }] }
      ])
      const received: Array<StreamPart.StreamPart> = []
      const exit = yield* runTimed(Stream.runForEach(router.stream(request), (part) => Effect.sync(() => received.push(part))))
      assert.strictEqual(textOf(received), "one two")
      assert.isFalse(received.some((part) => part.type === "finish"))
      const error = yield* Effect.flip(Effect.suspend(() => exit))
      assert.strictEqual(error._tag === "ProviderError" && error.reason._tag, "StreamInterrupted")
      if (error._tag !== "ProviderError" || error.reason._tag !== "StreamInterrupted") return
      assert.strictEqual(error.reason.partialText, "one two")
      assert.strictEqual(error.reason.cause, "Connection")
      // the failed stream's error carries every attempt of the call
      assert.deepStrictEqual(error.reason.attempts?.map((attempt) => [attempt.provider, attempt.outcome, attempt.reason]), [
        ["a", "failure", "Connection"]
      ])
      assert.strictEqual(yield* calls(1), 0)
    }))

  it.effect("policy restart: a restart part, then a complete answer from the next provider", () =>
    Effect.gen(function*() {
      const { router } = yield* setup([
        { name: "a", script: [{ reply: answer, cutAfter: 2 }] },
        { name: "b", script: [{ reply: "fresh full answer" }] }
      ], { streamPolicy: "restart" })
      const exit = yield* runTimed(collect(router.stream(request)))
      assert.isTrue(Exit.isSuccess(exit))
      if (!Exit.isSuccess(exit)) return
      const parts = exit.value
      const restartAt = parts.findIndex((part) => part.type === "restart")
      assert.strictEqual(textOf(parts.slice(0, restartAt)), "one two")
      assert.deepStrictEqual(parts[restartAt], { type: "restart", provider: "b", reason: "Connection" })
      assert.strictEqual(textOf(parts.slice(restartAt + 1)), "fresh full answer")
      assert.strictEqual(parts.at(-1)?.type, "finish")
    }))

  it.effect("policy restart onto a provider whose first read already holds the finish", () =>
    Effect.gen(function*() {
      const { router } = yield* setup([
        { name: "a", script: [{ reply: answer, cutAfter: 2 }] },
        { name: "b", script: [{ reply: "short", chunks: ["short"] }] }
      ], { streamPolicy: "restart" })
      const exit = yield* runTimed(collect(router.stream(request)))
      assert.isTrue(Exit.isSuccess(exit))
      if (!Exit.isSuccess(exit)) return
      const parts = exit.value
      const restartAt = parts.findIndex((part) => part.type === "restart")
      assert.strictEqual(textOf(parts.slice(restartAt + 1)), "short")
      assert.strictEqual(parts.at(-1)?.type, "finish")
    }))

  it.effect("policy continue: resumes on a prefill-capable provider from the text already sent", () =>
    Effect.gen(function*() {
      const recorded = yield* TestChatProvider.recorded({ name: "b", script: [{ reply: answer }] })
      const cut = TestChatProvider.layer({ name: "a", script: [{ reply: answer, cutAfter: 2 }] })
      const context = yield* Layer.build(
        Router.layer({ providers: [cut, recorded.layer], policy: { ...noJitter, streamPolicy: "continue" } }).pipe(
          Layer.provide(breakerLayer())
        )
      )
      const router = Context.get(context, ChatProvider.ChatProvider)
      const exit = yield* runTimed(collect(router.stream(request)))
      assert.isTrue(Exit.isSuccess(exit))
      if (!Exit.isSuccess(exit)) return
      const parts = exit.value
      const resumeAt = parts.findIndex((part) => part.type === "resume")
      assert.deepStrictEqual(parts[resumeAt], { type: "resume", provider: "b", reason: "Connection" })
      assert.strictEqual(textOf(parts), answer) // nothing repeated, nothing lost
      const [call] = yield* recorded.calls
      assert.deepStrictEqual(call?.request.messages.at(-1), { role: "assistant", content: "one two" })
    }))

  it.effect("policy continue falls back to restart when no provider supports prefill", () =>
    Effect.gen(function*() {
      const { router } = yield* setup([
        { name: "a", script: [{ reply: answer, cutAfter: 2 }] },
        { name: "b", script: [{ reply: "whole again" }], capabilities: { assistantPrefill: false } }
      ], { streamPolicy: "continue" })
      const exit = yield* runTimed(collect(router.stream(request)))
      assert.isTrue(Exit.isSuccess(exit))
      if (!Exit.isSuccess(exit)) return
      assert.isTrue(exit.value.some((part) => part.type === "restart"))
      assert.isFalse(exit.value.some((part) => part.type === "resume"))
    }))

  it.effect("a stall after content is an idle timeout, handled by the stream policy", () =>
    Effect.gen(function*() {
      const { router } = yield* setup([
        { name: "a", script: [{ reply: answer, stallAfter: 1 }] },
        { name: "b", script: [{ reply: "replacement" }] }
      ], { streamPolicy: "restart", idleTimeout: "2 seconds" })
      const fiber = yield* Effect.forkChild(collect(router.stream(request)))
      yield* TestClock.adjust("1999 millis")
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust("1 millis")
      const parts = yield* Fiber.join(fiber)
      const restart = parts.find((part) => part.type === "restart")
      assert.deepStrictEqual(restart, { type: "restart", provider: "b", reason: "Timeout" })
      assert.strictEqual(textOf(parts.slice(parts.indexOf(restart!) + 1)), "replacement")
    }))

  it.effect("a cut stream counts against the provider's circuit", () =>
    Effect.gen(function*() {
      const { breaker, router } = yield* setup([
        { name: "a", script: [{ reply: answer, cutAfter: 1 }] }
      ], {}, { failureThreshold: 1 })
      yield* runTimed(collect(router.stream(request)))
      assert.strictEqual((yield* breaker.state("a:test-model"))._tag, "Open")
    }))
})

describe("Router capability checks", () => {
  const narrow = { temperature: { min: 0, max: 1 }, maxStopSequences: 1 }

  it.effect("skips a candidate that cannot take the request without calling it, and says why", () =>
    Effect.gen(function*() {
      const { breaker, calls, router } = yield* setup([
        { name: "a", script: [{ reply: "from a" }], capabilities: narrow },
        { name: "b", script: [{ reply: "from b" }] }
      ], {}, { failureThreshold: 1 })
      const response = yield* router.chat({ ...request, temperature: 1.5 })
      assert.strictEqual(response.provider, "b")
      assert.strictEqual(yield* calls(0), 0)
      const [skipped] = response.attempts
      assert.deepStrictEqual([skipped?.provider, skipped?.outcome, skipped?.reason, skipped?.tries], [
        "a",
        "skipped",
        "Unsupported",
        0
      ])
      const reason = skipped?.error?._tag === "ProviderError" ? skipped.error.reason : undefined
      assert.strictEqual(reason?._tag, "Unsupported")
      assert.strictEqual(reason?._tag === "Unsupported" ? reason.field : undefined, "temperature")
      // a refusal is not the provider's fault: its circuit (threshold 1) stays closed
      assert.strictEqual((yield* breaker.state("a:test-model"))._tag, "Closed")
      // a request within its limits goes to it as before
      assert.strictEqual((yield* router.chat({ ...request, temperature: 1 })).provider, "a")
    }))

  it.effect("when no candidate can serve the request, AllProvidersFailed lists why each was skipped; no call is made", () =>
    Effect.gen(function*() {
      const { calls, router } = yield* setup([
        { name: "a", script: [{ reply: "from a" }], capabilities: narrow },
        { name: "b", script: [{ reply: "from b" }], capabilities: { tools: false } }
      ])
      const tooled: ChatRequest.ChatRequest = {
        ...request,
        stop: ["x", "y"],
        tools: [{ name: "lookup", parameters: { type: "object" } }]
      }
      const error = yield* Effect.flip(router.chat(tooled))
      assert.strictEqual(error._tag, "AllProvidersFailed")
      if (error._tag !== "AllProvidersFailed") return
      assert.deepStrictEqual(error.attempts.map((attempt) => [attempt.provider, attempt.outcome, attempt.reason]), [
        ["a", "skipped", "Unsupported"],
        ["b", "skipped", "Unsupported"]
      ])
      assert.include(error.message, "a/test-model: Unsupported (2 stop sequences, at most 1 taken)")
      assert.include(error.message, "b/test-model: Unsupported (tools are not supported)")
      const streamError = yield* Effect.flip(collect(router.stream(tooled)))
      assert.strictEqual(streamError._tag, "AllProvidersFailed")
      assert.strictEqual(yield* calls(0), 0)
      assert.strictEqual(yield* calls(1), 0)
    }))

  it.effect("streams skip a refusing candidate before opening it", () =>
    Effect.gen(function*() {
      const { calls, router } = yield* setup([
        { name: "a", script: [{ reply: "from a" }], capabilities: { jsonSchema: false } },
        { name: "b", script: [{ reply: "from b" }] }
      ])
      const parts = yield* collect(router.stream({
        ...request,
        responseFormat: { type: "json_schema", name: "answer", schema: { type: "object" } }
      }))
      const finish = parts.at(-1)
      assert.strictEqual(finish?.type === "finish" ? finish.provider : undefined, "b")
      assert.deepStrictEqual(
        finish?.type === "finish" ? finish.attempts?.map((attempt) => [attempt.provider, attempt.reason]) : undefined,
        [["a", "Unsupported"], ["b", undefined]]
      )
      assert.strictEqual(yield* calls(0), 0)
    }))
})

describe("Router file parts", () => {
  const pdf: ChatRequest.ChatRequest = {
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "summarize" },
        { type: "file", source: { type: "base64", mediaType: "application/pdf", data: "JVBERi0xLjQK" }, fileName: "a.pdf" }
      ]
    }]
  }

  it.effect("a candidate that takes no PDFs is skipped (Unsupported, files) without a call; the next one gets the file", () =>
    Effect.gen(function*() {
      const { calls, router } = yield* setup([
        { name: "a", script: [{ reply: "from a" }], capabilities: { files: ["text/plain"] } },
        { name: "b", script: [{ reply: "from b" }], capabilities: { files: ["application/pdf"], fileUrls: false } }
      ])
      const response = yield* router.chat(pdf)
      assert.strictEqual(response.provider, "b")
      assert.strictEqual(yield* calls(0), 0)
      assert.strictEqual(yield* calls(1), 1)
      const [skipped] = response.attempts
      assert.deepStrictEqual([skipped?.provider, skipped?.outcome, skipped?.reason], ["a", "skipped", "Unsupported"])
      const reason = skipped?.error?._tag === "ProviderError" ? skipped.error.reason : undefined
      assert.strictEqual(reason?._tag === "Unsupported" ? reason.field : undefined, "files")
      // by URL, b (no fileUrls) is skipped too: nothing can serve it
      const byUrl: ChatRequest.ChatRequest = {
        messages: [{ role: "user", content: [{ type: "file", source: { type: "url", url: "https://example.com/a.pdf", mediaType: "application/pdf" } }] }]
      }
      const error = yield* Effect.flip(router.chat(byUrl))
      assert.strictEqual(error._tag, "AllProvidersFailed")
      assert.include(error.message, "b/test-model: Unsupported (files by URL are not supported")
      assert.strictEqual(yield* calls(1), 1)
    }))
})

describe("Router reasoning", () => {
  const reasonedCut = { reply: "one two three", reasoning: ["thinking ", "hard"], reasoningSignature: "sig-a" }

  it.effect("chat passes the provider's reasoning blocks through", () =>
    Effect.gen(function*() {
      const { router } = yield* setup([
        { name: "a", script: [{ fail: TestChatProvider.overloaded() }] },
        { name: "b", script: [{ reply: "answer", reasoning: ["why"], reasoningSignature: "sig-b" }] }
      ], { retry: { maxRetries: 0 } })
      const response = yield* router.chat(request)
      assert.strictEqual(response.provider, "b")
      assert.deepStrictEqual(response.reasoning, [{ text: "why", signature: "sig-b" }])
    }))

  it.effect("reasoning the caller has seen is delivered content: policy fail ends the stream, no silent failover", () =>
    Effect.gen(function*() {
      const { calls, router } = yield* setup([
        { name: "a", script: [{ ...reasonedCut, cutAfter: 1 }] },
        { name: "b", script: [{ reply: "backup" }] }
      ])
      const received: Array<StreamPart.StreamPart> = []
      const exit = yield* runTimed(Stream.runForEach(router.stream(request), (part) => Effect.sync(() => received.push(part))))
      assert.deepStrictEqual(received, [{ type: "reasoning-delta", text: "thinking " }])
      const error = yield* Effect.flip(Effect.suspend(() => exit))
      assert.strictEqual(error._tag === "ProviderError" && error.reason._tag, "StreamInterrupted")
      assert.strictEqual(yield* calls(1), 0)
    }))

  it.effect("reasoning is the first token: it stops the first-token timeout, later silence is an idle timeout", () =>
    Effect.gen(function*() {
      const { router } = yield* setup([
        { name: "a", script: [{ ...reasonedCut, stallAfter: 1, delay: "1 second" }] },
        { name: "b", script: [{ reply: "replacement" }] }
      ], { streamPolicy: "restart", firstTokenTimeout: "2 seconds", idleTimeout: "5 seconds" })
      const fiber = yield* Effect.forkChild(collect(router.stream(request)))
      // a first-token timeout would have switched at 2 s; the idle timeout runs from the reasoning at 1 s
      yield* TestClock.adjust("5999 millis")
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust("1 millis")
      const parts = yield* Fiber.join(fiber)
      assert.deepStrictEqual(parts[0], { type: "reasoning-delta", text: "thinking " })
      assert.deepStrictEqual(parts[1], { type: "restart", provider: "b", reason: "Timeout" })
      assert.strictEqual(textOf(parts), "replacement")
    }))

  it.effect("policy restart after reasoning: a restart part, then the next provider's whole answer", () =>
    Effect.gen(function*() {
      const { router } = yield* setup([
        { name: "a", script: [{ ...reasonedCut, cutAfter: 2 }] },
        { name: "b", script: [{ reply: "fresh", reasoning: ["anew"] }] }
      ], { streamPolicy: "restart" })
      const exit = yield* runTimed(collect(router.stream(request)))
      assert.isTrue(Exit.isSuccess(exit))
      if (!Exit.isSuccess(exit)) return
      const types = exit.value.map((part) => part.type)
      assert.deepStrictEqual(types, ["reasoning-delta", "reasoning-delta", "restart", "reasoning-delta", "text-delta", "finish"])
      assert.strictEqual(textOf(exit.value), "fresh")
    }))

  it.effect("policy continue with only reasoning delivered restarts: there is no answer text to continue", () =>
    Effect.gen(function*() {
      const recorded = yield* TestChatProvider.recorded({ name: "b", script: [{ reply: "one two three" }] })
      const cut = TestChatProvider.layer({ name: "a", script: [{ ...reasonedCut, cutAfter: 2 }] })
      const context = yield* Layer.build(
        Router.layer({ providers: [cut, recorded.layer], policy: { ...noJitter, streamPolicy: "continue" } }).pipe(
          Layer.provide(breakerLayer())
        )
      )
      const router = Context.get(context, ChatProvider.ChatProvider)
      const exit = yield* runTimed(collect(router.stream(request)))
      assert.isTrue(Exit.isSuccess(exit))
      if (!Exit.isSuccess(exit)) return
      assert.deepStrictEqual(exit.value.find((part) => part.type === "restart"), {
        type: "restart",
        provider: "b",
        reason: "Connection"
      })
      assert.isFalse(exit.value.some((part) => part.type === "resume"))
      const [call] = yield* recorded.calls
      assert.deepStrictEqual(call?.request.messages, request.messages) // no empty prefill
    }))

  it.effect("policy continue after reasoning and text: resumes from the text only, reasoning is not prefilled", () =>
    Effect.gen(function*() {
      const recorded = yield* TestChatProvider.recorded({ name: "b", script: [{ reply: "one two three" }] })
      const cut = TestChatProvider.layer({ name: "a", script: [{ ...reasonedCut, cutAfter: 3 }] })
      const context = yield* Layer.build(
        Router.layer({ providers: [cut, recorded.layer], policy: { ...noJitter, streamPolicy: "continue" } }).pipe(
          Layer.provide(breakerLayer())
        )
      )
      const router = Context.get(context, ChatProvider.ChatProvider)
      const exit = yield* runTimed(collect(router.stream(request)))
      assert.isTrue(Exit.isSuccess(exit))
      if (!Exit.isSuccess(exit)) return
      assert.isTrue(exit.value.some((part) => part.type === "resume"))
      assert.strictEqual(textOf(exit.value), "one two three")
      const [call] = yield* recorded.calls
      assert.deepStrictEqual(call?.request.messages.at(-1), { role: "assistant", content: "one" })
    }))
})

describe("Router logging", () => {
  it.effect("one correlation id per call on every attempt's log line, with provider, model, attempt and latency", () =>
    Effect.gen(function*() {
      const lines: Array<{ message: string; level: string; annotations: Record<string, unknown> }> = []
      const capture = Logger.make((options) => {
        lines.push({
          message: String(options.message),
          level: options.logLevel,
          annotations: { ...options.fiber.getRef(References.CurrentLogAnnotations) }
        })
      })
      const { router } = yield* setup([
        { name: "a", script: [{ fail: TestChatProvider.serverError(500) }] },
        { name: "b", script: [{ reply: "ok" }] }
      ], { retry: { maxRetries: 0 } })
      const logged = <A, E>(effect: Effect.Effect<A, E>) =>
        effect.pipe(Effect.provide(Logger.layer([capture])), Effect.provideService(References.MinimumLogLevel, "Debug"))
      yield* logged(router.chat(request))
      yield* logged(router.chat(request))
      const attemptLines = lines.filter((line) => line.message.startsWith("attempt"))
      assert.deepStrictEqual(
        attemptLines.map((line) => [line.level, line.annotations["provider"], line.annotations["attempt"]]),
        [["Warn", "a", 1], ["Debug", "b", 2], ["Warn", "a", 1], ["Debug", "b", 2]]
      )
      const ids = attemptLines.map((line) => line.annotations["callId"])
      assert.strictEqual(ids[0], ids[1])
      assert.strictEqual(ids[2], ids[3])
      assert.notStrictEqual(ids[0], ids[2])
      assert.strictEqual(attemptLines[0]!.annotations["model"], "test-model")
      assert.isNumber(attemptLines[1]!.annotations["latencyMillis"])

      // a stream's attempts, including a switch after content, share one id too
      lines.length = 0
      const streaming = yield* setup([
        { name: "a", script: [{ reply: "one two three", cutAfter: 1 }] },
        { name: "b", script: [{ reply: "again" }] }
      ], { retry: { maxRetries: 0 }, streamPolicy: "restart" })
      yield* logged(collect(streaming.router.stream(request)))
      const streamLines = lines.filter((line) => line.message.startsWith("attempt"))
      assert.deepStrictEqual(streamLines.map((line) => line.annotations["provider"]), ["a", "b"])
      assert.strictEqual(streamLines[0]!.annotations["callId"], streamLines[1]!.annotations["callId"])
      assert.match(String(streamLines[0]!.annotations["callId"]), /^flx-/)
    }))
})
