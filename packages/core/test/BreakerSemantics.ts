// The circuit breaker's semantics as one suite over any `BreakerStore`: run here against the
// memory store (TestClock) and by @flexiai/redis against its Redis store (a real server, real
// time). Durations are multiples of the harness's `unit`, and times are checked within `slack`,
// so the same assertions hold on a virtual clock and on a wall clock.
import { assert, describe, type it } from "@effect/vitest"
import { Clock, Context, Duration, Effect, Exit, Fiber, Layer, Result, Scope, Stream } from "effect"
import * as CircuitBreaker from "../src/CircuitBreaker.ts"

type Breaker = CircuitBreaker.CircuitBreaker["Service"]

export interface Harness {
  readonly name: string
  /** A fresh store (no circuits) whose probes are lost after `probeLease`. */
  readonly store: (options: { readonly probeLease: Duration.Duration }) => Layer.Layer<CircuitBreaker.BreakerStore>
  /** Lets `millis` pass: `TestClock.adjust` or a real sleep. */
  readonly advance: (millis: number) => Effect.Effect<void>
  /** The suite's time unit in millis (1000 on a TestClock; short on a real server). */
  readonly unit: number
  /** How far a measured time may fall short of the exact one (0 on a TestClock). */
  readonly slack: number
  /** `it.effect` (TestClock) or `it.live`. */
  readonly test: typeof it.effect
  /**
   * The store keeps a circuit's opening count for a while after it closes (Effect's Redis store),
   * where the memory store resets it on close.
   */
  readonly keepsOpeningsAfterClose: boolean
}

const success: CircuitBreaker.Outcome = { _tag: "Success" }
const ignored: CircuitBreaker.Outcome = { _tag: "Ignored" }
const failure: CircuitBreaker.Outcome = { _tag: "Failure" }

export const breakerSemantics = (harness: Harness) => {
  const { advance, slack, test, unit } = harness
  const probeLease = 6 * unit

  /** A breaker over a fresh store, its transitions collected until `finish`. */
  const start = Effect.fnUntraced(function*(options: CircuitBreaker.Options) {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(
      CircuitBreaker.layer({ jitter: 0, ...options }).pipe(
        Layer.provide(harness.store({ probeLease: Duration.millis(probeLease) }))
      ),
      scope
    )
    const breaker = Context.get(context, CircuitBreaker.CircuitBreaker)
    const collector = yield* Effect.forkChild(Stream.runCollect(breaker.transitions))
    yield* Effect.yieldNow
    const finish = Effect.andThen(Scope.close(scope, Exit.void), Fiber.join(collector))
    return { breaker, finish }
  })

  const call = (breaker: Breaker, key: string, outcome: CircuitBreaker.Outcome) =>
    Effect.flatMap(breaker.admit(key), (permit) => breaker.record(permit, outcome))

  const trip = (breaker: Breaker, key: string, times: number) =>
    Effect.repeat(call(breaker, key, failure), { times: times - 1 })

  const rejection = (breaker: Breaker, key: string) => Effect.flip(breaker.admit(key))

  /** Millis until an Open circuit's end, or undefined. */
  const remaining = (breaker: Breaker, key: string) =>
    Effect.flatMap(breaker.state(key), (state) =>
      Effect.map(Clock.currentTimeMillis, (now) => state._tag === "Open" ? state.until - now : undefined))

  const near = (actual: number | undefined, expected: number, what: string) =>
    assert.isTrue(
      actual !== undefined && actual <= expected && actual >= expected - slack,
      `${what}: ${actual} not within ${slack} ms below ${expected}`
    )

  const path = (transitions: ReadonlyArray<CircuitBreaker.Transition>) =>
    transitions.map((transition) => `${transition.key} ${transition.from}->${transition.to}`)

  describe(`CircuitBreaker semantics (${harness.name} store)`, () => {
    test("opens after exactly N consecutive failures; a success resets the count, Ignored does nothing", () =>
      Effect.gen(function*() {
        const { breaker, finish } = yield* start({ failureThreshold: 3, openDuration: Duration.millis(10 * unit) })
        yield* trip(breaker, "p:m", 2)
        assert.deepStrictEqual(yield* breaker.state("p:m"), { _tag: "Closed", failures: 2 })
        yield* call(breaker, "p:m", ignored)
        assert.deepStrictEqual(yield* breaker.state("p:m"), { _tag: "Closed", failures: 2 })
        yield* call(breaker, "p:m", success)
        assert.deepStrictEqual(yield* breaker.state("p:m"), { _tag: "Closed", failures: 0 })
        yield* trip(breaker, "p:m", 3)
        const state = yield* breaker.state("p:m")
        assert.deepStrictEqual(state._tag === "Open" ? state.openings : undefined, 1)
        near(yield* remaining(breaker, "p:m"), 10 * unit, "open for")
        assert.deepStrictEqual(yield* breaker.state("other"), { _tag: "Closed", failures: 0 })
        const transitions = yield* finish
        assert.deepStrictEqual(path(transitions), ["p:m Closed->Open"])
        assert.strictEqual(transitions[0]?.openForMillis, 10 * unit)
      }))

    test("rejects with a shrinking retryAfterMillis, then lets exactly one probe through", () =>
      Effect.gen(function*() {
        const { breaker, finish } = yield* start({ failureThreshold: 1, openDuration: Duration.millis(4 * unit) })
        yield* call(breaker, "p:m", failure)
        const first = yield* rejection(breaker, "p:m")
        assert.strictEqual(first.state, "Open")
        near(first.retryAfterMillis, 4 * unit, "retryAfter")
        yield* advance(2 * unit)
        near((yield* rejection(breaker, "p:m")).retryAfterMillis, 2 * unit, "retryAfter later")
        yield* advance(2 * unit + slack)

        const results = yield* Effect.all(Array.from({ length: 20 }, () => breaker.admit("p:m")), {
          concurrency: "unbounded",
          mode: "result"
        })
        const granted = results.filter(Result.isSuccess).map((result) => result.success)
        const refused = results.filter(Result.isFailure).map((result) => result.failure)
        assert.strictEqual(granted.length, 1)
        assert.isTrue(granted[0]?.probe)
        assert.deepStrictEqual(new Set(refused.map((error) => `${error.state} ${error.retryAfterMillis}`)), new Set(["HalfOpen undefined"]))
        assert.deepStrictEqual(yield* breaker.state("p:m"), { _tag: "HalfOpen", openings: 1 })

        yield* breaker.record(granted[0]!, success)
        assert.deepStrictEqual(yield* breaker.state("p:m"), { _tag: "Closed", failures: 0 })
        assert.isFalse((yield* breaker.admit("p:m")).probe)
        assert.deepStrictEqual(path(yield* finish), ["p:m Closed->Open", "p:m Open->HalfOpen", "p:m HalfOpen->Closed"])
      }))

    test("a probe failure reopens for backoffFactor times as long, up to the cap", () =>
      Effect.gen(function*() {
        const { breaker, finish } = yield* start({
          failureThreshold: 1,
          openDuration: Duration.millis(unit),
          backoffFactor: 2,
          maxOpenDuration: Duration.millis(3 * unit)
        })
        yield* call(breaker, "p:m", failure)
        for (const expected of [unit, 2 * unit, 3 * unit]) {
          near(yield* remaining(breaker, "p:m"), expected, "opening")
          yield* advance(expected + slack)
          yield* call(breaker, "p:m", failure)
        }
        const openings = (yield* finish).filter((transition) => transition.to === "Open").map((t) => t.openForMillis)
        assert.deepStrictEqual(openings, [unit, 2 * unit, 3 * unit, 3 * unit])
      }))

    test(`after a close, the next opening is ${harness.keepsOpeningsAfterClose ? "still backed off" : "the base duration again"}`, () =>
      Effect.gen(function*() {
        const { breaker, finish } = yield* start({
          failureThreshold: 1,
          openDuration: Duration.millis(unit),
          backoffFactor: 2,
          maxOpenDuration: Duration.millis(4 * unit)
        })
        yield* call(breaker, "p:m", failure)
        yield* advance(unit + slack)
        yield* call(breaker, "p:m", failure)
        yield* advance(2 * unit + slack)
        yield* call(breaker, "p:m", success)
        yield* call(breaker, "p:m", failure)
        const openings = (yield* finish).filter((transition) => transition.to === "Open").map((t) => t.openForMillis)
        assert.deepStrictEqual(openings, [unit, 2 * unit, harness.keepsOpeningsAfterClose ? 4 * unit : unit])
      }))

    test("a Retry-After longer than the computed duration wins, even above the cap", () =>
      Effect.gen(function*() {
        const { breaker } = yield* start({ failureThreshold: 1, openDuration: Duration.millis(unit), maxOpenDuration: Duration.millis(2 * unit) })
        const permit = yield* breaker.admit("p:m")
        yield* breaker.record(permit, { _tag: "Failure", retryAfter: Duration.millis(50 * unit) })
        near((yield* rejection(breaker, "p:m")).retryAfterMillis, 50 * unit, "retryAfter")
      }))

    test("a permit from before a reset does not count, nor reopen a fresh circuit", () =>
      Effect.gen(function*() {
        const { breaker } = yield* start({ failureThreshold: 2 })
        const early = yield* breaker.admit("p:m")
        const late = yield* breaker.admit("p:m")
        yield* breaker.record(early, failure)
        assert.deepStrictEqual(yield* breaker.state("p:m"), { _tag: "Closed", failures: 1 })
        yield* breaker.reset("p:m")
        yield* breaker.record(late, failure)
        assert.deepStrictEqual(yield* breaker.state("p:m"), { _tag: "Closed", failures: 0 })

        const stragglers = yield* Effect.all([breaker.admit("p:m"), breaker.admit("p:m"), breaker.admit("p:m")])
        yield* trip(breaker, "p:m", 2)
        yield* breaker.reset("p:m")
        yield* Effect.forEach(stragglers, (permit) => breaker.record(permit, failure))
        assert.deepStrictEqual(yield* breaker.state("p:m"), { _tag: "Closed", failures: 0 })
      }))

    test("while half-open only the probe decides; a released probe cannot decide later", () =>
      Effect.gen(function*() {
        const { breaker } = yield* start({ failureThreshold: 1, openDuration: Duration.millis(unit) })
        const straggler = yield* breaker.admit("p:m")
        yield* call(breaker, "p:m", failure)
        yield* advance(unit + slack)
        const probe = yield* breaker.admit("p:m")
        assert.isTrue(probe.probe)
        yield* breaker.record(straggler, success)
        yield* breaker.record(straggler, failure)
        assert.deepStrictEqual(yield* breaker.state("p:m"), { _tag: "HalfOpen", openings: 1 })
        assert.strictEqual((yield* rejection(breaker, "p:m")).state, "HalfOpen")

        yield* breaker.record(probe, ignored)
        yield* breaker.record(probe, failure)
        assert.deepStrictEqual(yield* breaker.state("p:m"), { _tag: "HalfOpen", openings: 1 })
        const secondProbe = yield* breaker.admit("p:m")
        assert.isTrue(secondProbe.probe)
        yield* breaker.record(probe, failure)
        assert.deepStrictEqual(yield* breaker.state("p:m"), { _tag: "HalfOpen", openings: 1 })
        yield* breaker.record(secondProbe, success)
        assert.deepStrictEqual(yield* breaker.state("p:m"), { _tag: "Closed", failures: 0 })
        yield* breaker.record(secondProbe, failure)
        assert.deepStrictEqual(yield* breaker.state("p:m"), { _tag: "Closed", failures: 0 })
      }))

    test("a probe never recorded is lost after its lease (at most twice it while renewed): the next caller probes", () =>
      Effect.gen(function*() {
        const { breaker } = yield* start({ failureThreshold: 1, openDuration: Duration.millis(unit) })
        yield* call(breaker, "p:m", failure)
        yield* advance(unit + slack)
        const lost = yield* breaker.admit("p:m")
        assert.isTrue(lost.probe)
        yield* advance(probeLease - 2 * unit)
        assert.strictEqual((yield* rejection(breaker, "p:m")).state, "HalfOpen") // within the lease
        yield* advance(probeLease + 2 * unit + slack)
        const next = yield* breaker.admit("p:m")
        assert.isTrue(next.probe)
        yield* breaker.record(lost, success) // too late: a stale generation
        assert.deepStrictEqual(yield* breaker.state("p:m"), { _tag: "HalfOpen", openings: 1 })
        yield* breaker.record(next, success)
        assert.deepStrictEqual(yield* breaker.state("p:m"), { _tag: "Closed", failures: 0 })
      }))

    test("forceOpen opens for the base duration or the one given; reset closes; states lists known circuits", () =>
      Effect.gen(function*() {
        const { breaker, finish } = yield* start({ openDuration: Duration.millis(30 * unit) })
        assert.deepStrictEqual(yield* breaker.state("unknown"), { _tag: "Closed", failures: 0 })
        yield* breaker.reset("unknown")
        assert.deepStrictEqual([...(yield* breaker.states).keys()], [])

        yield* breaker.forceOpen("a")
        near(yield* remaining(breaker, "a"), 30 * unit, "forced open")
        near((yield* rejection(breaker, "a")).retryAfterMillis, 30 * unit, "retryAfter")
        yield* breaker.forceOpen("a", Duration.millis(300 * unit))
        near(yield* remaining(breaker, "a"), 300 * unit, "forced open again")
        const a = yield* breaker.state("a")
        assert.strictEqual(a._tag === "Open" ? a.openings : undefined, 2)

        yield* breaker.admit("b")
        const states = yield* breaker.states
        assert.deepStrictEqual([...states.keys()].sort(), ["a", "b"])
        assert.deepStrictEqual(states.get("b"), { _tag: "Closed", failures: 0 })

        yield* breaker.reset("a")
        yield* breaker.reset("b")
        assert.deepStrictEqual(yield* breaker.state("a"), { _tag: "Closed", failures: 0 })
        assert.isFalse((yield* breaker.admit("a")).probe)
        const transitions = yield* finish
        assert.deepStrictEqual(path(transitions), ["a Closed->Open", "a Open->Open", "a Open->Closed"])
        assert.deepStrictEqual(transitions.map((t) => t.openForMillis), [30 * unit, 300 * unit, undefined])
      }))

    test("concurrent failures below the threshold are all counted; above it they open the circuit exactly once", () =>
      Effect.gen(function*() {
        const concurrently = (breaker: Breaker, key: string, count: number) =>
          Effect.forEach(
            Array.from({ length: count }),
            () => Effect.ignore(call(breaker, key, failure)),
            { concurrency: "unbounded", discard: true }
          )
        const { breaker, finish } = yield* start({ failureThreshold: 150 })
        yield* concurrently(breaker, "below", 100)
        assert.deepStrictEqual(yield* breaker.state("below"), { _tag: "Closed", failures: 100 })
        yield* concurrently(breaker, "above", 200)
        const state = yield* breaker.state("above")
        assert.strictEqual(state._tag === "Open" ? state.openings : undefined, 1)
        assert.deepStrictEqual(path(yield* finish), ["above Closed->Open"])
      }))

    test("concurrent admits on an expired open circuit make exactly one probe", () =>
      Effect.gen(function*() {
        const { breaker, finish } = yield* start({ failureThreshold: 1, openDuration: Duration.millis(unit) })
        yield* call(breaker, "p:m", failure)
        yield* advance(unit + slack)
        const results = yield* Effect.all(Array.from({ length: 200 }, () => breaker.admit("p:m")), {
          concurrency: "unbounded",
          mode: "result"
        })
        assert.strictEqual(results.filter((result) => Result.isSuccess(result) && result.success.probe).length, 1)
        assert.strictEqual(results.filter((result) => Result.isFailure(result) && result.failure.state === "HalfOpen").length, 199)
        assert.deepStrictEqual(path(yield* finish), ["p:m Closed->Open", "p:m Open->HalfOpen"])
      }))
  })
}
