// Recovery with the default breaker and router policy, as properties over outage lengths (1 min to
// 1 h), request rates and how the primary fails (fast 503s, slow 503s, hangs until the attempt
// timeout), all on the TestClock:
//
// - a primary that comes back serves every request that starts 30 s or more after it recovered;
// - while its circuit is open it gets at most one probe per 15 s (a probe: one admitted attempt,
//   its retries included).
//
// The old defaults (60 s open, doubling up to 10 min) fail the first property: a probe that fails
// just before the recovery keeps the primary dark for minutes.
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider, ChatRequest, CircuitBreaker, ProviderError, Router } from "@flexiai/core"
import type { ChatResponse } from "@flexiai/core"
import { Clock, Context, Duration, Effect, Exit, Fiber, Layer, Random, References, Scope, Stream } from "effect"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"

type Failure = "fast" | "slow" | "hang"

interface Scenario {
  /** When the outage starts and how long it lasts (Clock millis). */
  readonly outageStart: number
  readonly outage: number
  /** Time between two requests, and the first request's offset. */
  readonly interval: number
  readonly phase: number
  readonly failure: Failure
  readonly seed: number
}

const recoveryBound = 30_000
const probeSpacing = 15_000

const answer = (name: string, request: ChatRequest.ChatRequest, at: number): ChatResponse.ChatResponse => ({
  id: `${name}-${at}`,
  text: `ok ${ChatRequest.textOf(request.messages[0]!)}`,
  toolCalls: [],
  finishReason: "stop",
  provider: name,
  model: "m",
  latencyMillis: 0,
  attempts: []
})

/**
 * A provider that is down during `[from, until)` by the Clock: a 503 at once (`fast`), a 503
 * after 2 s (`slow`), or no answer at all (`hang`, ended by the router's attempt timeout). A call
 * started before `until` keeps its outcome, as a real request in flight would.
 */
const flaky = (name: string, from: number, until: number, failure: Failure) => {
  const down = ProviderError.make(name, new ProviderError.ServerError({ status: 503, message: "down" }), { model: "m" })
  const chat = (request: ChatRequest.ChatRequest) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      if (now < from || now >= until) return Effect.succeed(answer(name, request, now))
      return failure === "hang"
        ? Effect.never
        : failure === "slow"
        ? Effect.andThen(Effect.sleep("2 seconds"), Effect.fail(down))
        : Effect.fail(down)
    })
  return Layer.succeed(
    ChatProvider.ChatProvider,
    ChatProvider.ChatProvider.of({
      name,
      defaultModel: "m",
      capabilities: ChatProvider.allCapabilities,
      chat,
      stream: () => Stream.die("not used")
    })
  )
}

/**
 * The default breaker, wrapped to note when each probe is admitted (the router asks the breaker
 * in context, so it sees the same circuits).
 */
const watchedBreaker = (probes: Array<number>) =>
  Layer.effect(
    CircuitBreaker.CircuitBreaker,
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.CircuitBreaker
      return CircuitBreaker.CircuitBreaker.of({
        ...breaker,
        admit: (key) =>
          Effect.tap(breaker.admit(key), (permit) =>
            permit.probe && key.startsWith("primary:")
              ? Effect.map(Clock.currentTimeMillis, (now) => {
                probes.push(now)
              })
              : Effect.void)
      })
    })
  ).pipe(Layer.provide(CircuitBreaker.layerMemory()))

interface Served {
  readonly startedAt: number
  readonly provider: string | undefined
}

/** Runs one scenario: requests every `interval` from `phase` until well past the recovery. */
const simulate = (scenario: Scenario) =>
  Effect.gen(function*() {
    const recoveredAt = scenario.outageStart + scenario.outage
    const probes: Array<number> = []
    const context = yield* Layer.build(
      Router.layer({
        providers: [flaky("primary", scenario.outageStart, recoveredAt, scenario.failure), flaky("backup", 0, 0, "fast")]
      }).pipe(Layer.provide(watchedBreaker(probes)))
    )
    const router = Context.get(context, ChatProvider.ChatProvider)
    const served: Array<Served> = []
    const fibers: Array<Fiber.Fiber<void>> = []
    // past the bound by two requests at least, so the property is never vacuous
    const end = recoveredAt + recoveryBound + 2 * scenario.interval + 1
    yield* TestClock.adjust(Duration.millis(scenario.phase))
    for (let index = 0; (yield* Clock.currentTimeMillis) < end; index++) {
      const request: ChatRequest.ChatRequest = { messages: [{ role: "user", content: `#${index}` }] }
      const fiber = yield* Effect.forkChild(
        Effect.gen(function*() {
          const startedAt = yield* Clock.currentTimeMillis
          const response = yield* Effect.result(router.chat(request))
          served.push({ startedAt, provider: response._tag === "Success" ? response.success.provider : undefined })
        })
      )
      fibers.push(fiber)
      yield* Effect.yieldNow
      yield* TestClock.adjust(Duration.millis(scenario.interval))
    }
    // let every request still in flight end (a hung one ends at its attempt timeout)
    yield* TestClock.adjust("5 minutes")
    yield* Fiber.joinAll(fibers)
    return { recoveredAt, probes, served }
  }).pipe(Random.withSeed(scenario.seed))

const run = (scenario: Scenario) =>
  Effect.runPromise(
    Effect.scoped(simulate(scenario)).pipe(
      // thousands of failed attempts: their log lines are not what is tested here
      Effect.provideService(References.MinimumLogLevel, "None"),
      Effect.provide(TestClock.layer())
    )
  )

const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  outageStart: fc.integer({ min: 0, max: 60_000 }),
  outage: fc.oneof(
    fc.constantFrom(60_000, 3_600_000),
    fc.integer({ min: 60_000, max: 10 * 60_000 }),
    fc.integer({ min: 60_000, max: 3_600_000 })
  ),
  // from several requests a second to one per 45 s (slower than the bound: then the first request
  // after it must reach the primary)
  interval: fc.oneof(
    { arbitrary: fc.integer({ min: 250, max: 2_000 }), weight: 1 },
    { arbitrary: fc.integer({ min: 2_000, max: 45_000 }), weight: 2 }
  ),
  phase: fc.integer({ min: 0, max: 999 }),
  failure: fc.constantFrom<Failure>("fast", "slow", "hang"),
  seed: fc.integer()
})

// The cases first: a one-minute outage under steady traffic, an hour-long one under heavy
// traffic, and an hour of hangs (only the probe lease keeps those from holding recovery back).
const examples: ReadonlyArray<[Scenario]> = [
  [{ outageStart: 5_000, outage: 60_000, interval: 1_000, phase: 0, failure: "fast", seed: 1 }],
  [{ outageStart: 5_000, outage: 3_600_000, interval: 250, phase: 0, failure: "fast", seed: 2 }],
  [{ outageStart: 5_000, outage: 3_600_000, interval: 1_000, phase: 0, failure: "hang", seed: 3 }]
]

describe("recovery with the default breaker", () => {
  it.effect("a recovered primary serves every request from 30 s after its recovery; an open circuit costs at most one probe per 15 s", () =>
    Effect.gen(function*() {
      let probed = 0
      const property = fc.asyncProperty(scenarioArbitrary, async (scenario) => {
        const { probes, recoveredAt, served } = await run(scenario)
        if (probes.length >= 3) probed++
        const late = served.filter((request) => request.startedAt >= recoveredAt + recoveryBound)
        assert.isAtLeast(late.length, 2)
        for (const request of late) {
          assert.strictEqual(
            request.provider,
            "primary",
            `a request at ${request.startedAt - recoveredAt} ms after the recovery went to ${request.provider}`
          )
        }
        for (let index = 1; index < probes.length; index++) {
          assert.isAtLeast(probes[index]! - probes[index - 1]!, probeSpacing, `probes at ${probes.join(", ")}`)
        }
      })
      yield* Effect.promise(() => fc.assert(property, { numRuns: 40, examples: [...examples] }))
      // most outages open the circuit and probe it repeatedly, so the spacing is really checked
      assert.isAtLeast(probed, 10)
    }), 180_000)

  it.effect("the growth rule: with the defaults every opening lasts 16–25 s, however many probes failed before", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 240 }), fc.integer(), async (failedProbes, seed) => {
          const openings = await Effect.runPromise(openingsAfter(failedProbes).pipe(
            Random.withSeed(seed),
            Effect.provide(TestClock.layer())
          ))
          assert.strictEqual(openings.length, failedProbes + 1)
          for (const openFor of openings) {
            assert.isTrue(openFor !== undefined && openFor >= 16_000 && openFor <= 25_000, `opening of ${openFor} ms`)
          }
        }),
        { numRuns: 50 }
      )
    ), 60_000)
})

/** Trips a default breaker, fails `failedProbes` probes in a row, and returns how long each opening lasted. */
const openingsAfter = Effect.fnUntraced(function*(failedProbes: number) {
  const scope = yield* Scope.make()
  const breaker = Context.get(
    yield* Layer.buildWithScope(CircuitBreaker.layerMemory(), scope),
    CircuitBreaker.CircuitBreaker
  )
  const collector = yield* Effect.forkChild(Stream.runCollect(breaker.transitions))
  yield* Effect.yieldNow
  const fail = Effect.flatMap(breaker.admit("p:m"), (permit) => breaker.record(permit, { _tag: "Failure" }))
  yield* Effect.repeat(fail, { times: CircuitBreaker.defaults.failureThreshold - 1 })
  for (let probe = 0; probe < failedProbes; probe++) {
    const state = yield* breaker.state("p:m")
    if (state._tag === "Open") yield* TestClock.setTime(state.until)
    yield* fail
  }
  yield* Scope.close(scope, Exit.void)
  const transitions = yield* Fiber.join(collector)
  return transitions.filter((transition) => transition.to === "Open").map((transition) => transition.openForMillis)
})
