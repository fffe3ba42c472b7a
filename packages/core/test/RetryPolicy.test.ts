import { assert, describe, it } from "@effect/vitest"
import { ProviderError, RetryPolicy, RouterPolicy } from "@flexiai/core"
import { Clock, Duration, Effect, Fiber, Ref } from "effect"
import { TestClock } from "effect/testing"

const policy = RouterPolicy.resolve({
  retry: { maxRetries: 3, initialDelay: "100 millis", factor: 2, maxDelay: "300 millis", jitter: false },
  maxRetryAfter: "5 seconds"
})

const failWith = (reason: ProviderError.ProviderErrorReason) => new ProviderError.ProviderError({ provider: "p", reason })

/** Runs a call that fails with `errors` in turn (then succeeds) under the policy; returns the Clock times of each try. */
const tryTimes = (errors: ReadonlyArray<ProviderError.ProviderError>, advance: Duration.Input) =>
  Effect.gen(function*() {
    const times = yield* Ref.make<ReadonlyArray<number>>([])
    const call = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const seen = yield* Ref.updateAndGet(times, (all) => [...all, now])
      const error = errors[seen.length - 1]
      return error === undefined ? "ok" : yield* Effect.fail(error)
    })
    const fiber = yield* Effect.forkChild(Effect.result(Effect.retry(call, RetryPolicy.make(policy))))
    yield* TestClock.adjust(advance)
    const result = yield* Fiber.join(fiber)
    return { result, times: yield* Ref.get(times) }
  })

describe("RetryPolicy", () => {
  it.effect("backs off exponentially and caps each delay", () =>
    Effect.gen(function*() {
      const server = failWith(new ProviderError.ServerError({ message: "x", status: 500 }))
      const { result, times } = yield* tryTimes([server, server, server], "10 seconds")
      assert.strictEqual(result._tag, "Success")
      assert.deepStrictEqual(times, [0, 100, 300, 600]) // 100, 200, then 400 capped to 300
    }))

  it.effect("gives up after maxRetries with the last error", () =>
    Effect.gen(function*() {
      const server = failWith(new ProviderError.ServerError({ message: "x", status: 502 }))
      const { result, times } = yield* tryTimes([server, server, server, server, server], "10 seconds")
      assert.strictEqual(result._tag, "Failure")
      assert.strictEqual(times.length, 4)
    }))

  it.effect("never waits less than a short Retry-After", () =>
    Effect.gen(function*() {
      const limited = failWith(new ProviderError.RateLimited({ message: "slow", retryAfter: Duration.seconds(2) }))
      const { times } = yield* tryTimes([limited], "10 seconds")
      assert.deepStrictEqual(times, [0, 2000])
    }))

  it.effect("does not retry a Retry-After longer than maxRetryAfter, nor a non-retryable reason", () =>
    Effect.gen(function*() {
      const long = failWith(new ProviderError.RateLimited({ message: "slow", retryAfter: Duration.seconds(30) }))
      assert.strictEqual((yield* tryTimes([long], "1 minute")).times.length, 1)
      const auth = failWith(new ProviderError.Authentication({ message: "bad key" }))
      assert.strictEqual((yield* tryTimes([auth], "1 minute")).times.length, 1)
      const timeout = failWith(new ProviderError.Timeout({ message: "slow", phase: "first-byte" }))
      assert.strictEqual((yield* tryTimes([timeout], "1 minute")).times.length, 1)
    }))

  it.effect("jitter keeps each delay within 0.8–1.2 of the base", () =>
    Effect.gen(function*() {
      const jittered = RouterPolicy.resolve({ retry: { maxRetries: 1, initialDelay: "1 second", jitter: true } })
      for (let run = 0; run < 20; run++) {
        const times = yield* Ref.make<ReadonlyArray<number>>([])
        const call = Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.andThen(Ref.update(times, (all) => [...all, now]), Effect.fail(failWith(new ProviderError.Connection({ message: "reset" })))))
        const fiber = yield* Effect.forkChild(Effect.ignore(Effect.retry(call, RetryPolicy.make(jittered))))
        yield* TestClock.adjust("2 seconds")
        yield* Fiber.join(fiber)
        const [first, second] = yield* Ref.get(times)
        const delay = second! - first!
        assert.isAtLeast(delay, 800)
        assert.isAtMost(delay, 1200)
      }
    }))
})
