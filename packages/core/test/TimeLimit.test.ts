// TimeLimit.within on both of its paths: the live clock (a child fiber and a plain timer) and any
// other clock (TestClock here), with the same semantics.
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, Ref } from "effect"
import { TestClock } from "effect/testing"
import * as TimeLimit from "../src/TimeLimit.ts"

class TimedOut {
  readonly _tag = "TimedOut"
}
const timedOut = () => new TimedOut()

describe("TimeLimit.within", () => {
  describe("on the live clock", () => {
    it.live("an effect that ends first gives its own exit: success, failure, defect", () =>
      Effect.gen(function*() {
        assert.strictEqual(yield* TimeLimit.within(Effect.succeed(1), Duration.seconds(5), timedOut), 1)
        assert.strictEqual(
          yield* TimeLimit.within(Effect.sleep("5 millis").pipe(Effect.as(2)), Duration.seconds(5), timedOut),
          2
        )
        const failed = yield* Effect.exit(TimeLimit.within(Effect.fail("boom"), Duration.seconds(5), timedOut))
        assert.deepStrictEqual(failed, Exit.fail("boom"))
        const died = yield* Effect.exit(TimeLimit.within(Effect.die("bug"), Duration.seconds(5), timedOut))
        assert.isTrue(Exit.hasDies(died))
      }))

    it.live("a slower effect fails with onTimeout and is interrupted", () =>
      Effect.gen(function*() {
        const interrupted = yield* Deferred.make<void>()
        const slow = Effect.never.pipe(Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined)))
        const error = yield* Effect.flip(TimeLimit.within(slow, Duration.millis(20), timedOut))
        assert.instanceOf(error, TimedOut)
        yield* Deferred.await(interrupted)
      }))

    it.live("the limit does not wait for an effect that cannot be interrupted", () =>
      Effect.gen(function*() {
        const release = yield* Deferred.make<void>()
        const stubborn = Effect.uninterruptible(Deferred.await(release))
        const error = yield* Effect.flip(TimeLimit.within(stubborn, Duration.millis(20), timedOut))
        assert.instanceOf(error, TimedOut)
        yield* Deferred.succeed(release, undefined)
      }))

    it.live("limits of different lengths share one timer: a shorter one started later still ends first", () =>
      Effect.gen(function*() {
        const long = yield* Effect.forkChild(Effect.flip(TimeLimit.within(Effect.never, Duration.millis(400), timedOut)))
        const short = yield* Effect.forkChild(Effect.flip(TimeLimit.within(Effect.never, Duration.millis(20), timedOut)))
        const done = yield* Effect.forkChild(TimeLimit.within(Effect.succeed("quick"), Duration.millis(10), timedOut))
        assert.strictEqual(yield* Fiber.join(done), "quick")
        assert.instanceOf(yield* Fiber.join(short), TimedOut)
        assert.isUndefined(long.pollUnsafe())
        assert.instanceOf(yield* Fiber.join(long), TimedOut)
      }))

    it.live("a limit inside one that ends sooner runs its effect in the enclosing limit's fiber", () =>
      Effect.gen(function*() {
        const fiberIds = (inner: Duration.Duration) =>
          TimeLimit.within(
            Effect.withFiber((outer) =>
              TimeLimit.within(Effect.withFiber((fiber) => Effect.succeed([outer.id, fiber.id])), inner, timedOut)
            ),
            Duration.seconds(10),
            timedOut
          )
        // the inner limit cannot end first: no fiber of its own
        const [outer, nested] = yield* fiberIds(Duration.seconds(60))
        assert.strictEqual(nested, outer)
        // the inner limit ends first: it needs its own fiber (and timer)
        const [outer2, nested2] = yield* fiberIds(Duration.seconds(1))
        assert.notStrictEqual(nested2, outer2)
      }))

    it.live("nested limits: the one that ends first decides, with its own failure", () =>
      Effect.gen(function*() {
        class Outer {
          readonly _tag = "Outer"
        }
        class Inner {
          readonly _tag = "Inner"
        }
        const nested = (outer: number, inner: number) =>
          Effect.flip(
            TimeLimit.within(
              TimeLimit.within(Effect.never, Duration.millis(inner), () => new Inner()),
              Duration.millis(outer),
              () => new Outer()
            )
          )
        assert.instanceOf(yield* nested(20, 5_000), Outer)
        assert.instanceOf(yield* nested(5_000, 20), Inner)
      }))

    it.live("interrupting the caller interrupts the effect", () =>
      Effect.gen(function*() {
        const started = yield* Deferred.make<void>()
        const stopped = yield* Ref.make(false)
        const running = Deferred.succeed(started, undefined).pipe(
          Effect.andThen(Effect.never),
          Effect.onInterrupt(() => Ref.set(stopped, true))
        )
        const fiber = yield* Effect.forkChild(TimeLimit.within(running, Duration.seconds(30), timedOut))
        yield* Deferred.await(started)
        yield* Fiber.interrupt(fiber)
        assert.isTrue(yield* Ref.get(stopped))
      }))
  })

  describe("on the TestClock", () => {
    it.effect("times out exactly at the limit, driven by virtual time", () =>
      Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(Effect.flip(TimeLimit.within(Effect.never, Duration.seconds(30), timedOut)))
        yield* TestClock.adjust("29999 millis")
        assert.isUndefined(fiber.pollUnsafe())
        yield* TestClock.adjust("1 millis")
        assert.instanceOf(yield* Fiber.join(fiber), TimedOut)
      }))

    it.effect("an effect that ends first gives its own value", () =>
      Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(
          TimeLimit.within(Effect.sleep("10 seconds").pipe(Effect.as("done")), Duration.seconds(30), timedOut)
        )
        yield* TestClock.adjust("10 seconds")
        assert.strictEqual(yield* Fiber.join(fiber), "done")
      }))
  })

  it.effect("an infinite limit runs the effect as it is; a zero one fails without running it", () =>
    Effect.gen(function*() {
      const runs = yield* Ref.make(0)
      const counted = Ref.updateAndGet(runs, (n) => n + 1)
      assert.strictEqual(yield* TimeLimit.within(counted, Duration.infinity, timedOut), 1)
      assert.instanceOf(yield* Effect.flip(TimeLimit.within(counted, Duration.zero, timedOut)), TimedOut)
      assert.strictEqual(yield* Ref.get(runs), 1)
    }))
})
