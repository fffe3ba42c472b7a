/**
 * One circuit per key (provider + model): closed → open after N consecutive health failures →
 * half-open after the open duration, where exactly one probe is let through while other callers
 * are turned away (the router routes them past it) → the probe closes or reopens the circuit.
 *
 * The open duration is bounded on both sides, because it is what recovery costs: a probe goes
 * out only when a caller arrives after it ends, so a provider that comes back waits for the rest
 * of it. On the `n`-th consecutive opening (from 0) it is
 * `min(openDuration × backoffFactor^n, maxOpenDuration) × (1 − jitter × U)`, `U` uniform in
 * [0, 1): jitter only shortens, so `maxOpenDuration` is a true bound and consecutive probes are
 * never closer than `openDuration × (1 − jitter)`. With the defaults (20 s, doubling but capped
 * at 25 s, so 20 s then 25 s; jitter 0.2) an opening lasts 16–25 s: a recovered provider gets traffic again within
 * 25 s plus the failing probe's own time (its retries), however long it was down, and an open
 * circuit costs it at most one probe per 15 s (16 s between failed probes; the 15 s probe lease
 * while a probe hangs). The old rule (60 s, doubling up to 10 min) made recovery take about as
 * long as the outage. A Retry-After the tripping failure carried still wins, above the cap: the
 * provider said when it will answer.
 *
 * State lives behind `BreakerStore`, whose shape follows `effect/persistence/CircuitBreaker`'s
 * `CircuitBreakerStore` (admit with a generation fencing token, record an outcome), so a
 * Redis-backed store can adapt Effect's own `layerStoreRedis` rather than re-implement it.
 * `layerStoreMemory` keeps every circuit in one `Ref` and decides each transition with one atomic
 * `Ref.modify`. A store several processes share (`@flexiai/redis`) also gives `shared` (`Shared`):
 * the other processes' transitions, which `make` publishes with its own, and the Retry-After
 * cooldowns and provider enablement (`Router.disable`/`enable`) the router shares; the memory
 * store has none, so it costs nothing there.
 *
 * Why our own service and not Effect's `CircuitBreaker` directly: the router needs to skip an
 * open circuit with no call at all and no fiber or scope per call (the skip is on the hot path),
 * to list every circuit for status, and to force a circuit open or reset it by hand.
 *
 * **Gotchas**
 *
 * - Every permit must be recorded exactly once, `Ignored` included (an interrupted call, a request
 *   error). A probe that is never recorded keeps its circuit half-open, turning every caller
 *   away, until its lease ends (below), `reset` or `forceOpen`.
 * - A stale permit changes nothing, in any state: once the circuit has moved on (a trip, a probe
 *   admission, a close, `reset`, `forceOpen`) the results of calls admitted before are dropped.
 *   In Closed, calls admitted in the same closed period share one generation, so their results
 *   all count; a result from before a `reset` neither counts nor clears the failure count.
 * - `state` reports `Open` until an `admit` moves the circuit on: an `until` in the past means
 *   the next `admit` becomes the probe.
 * - A probe that hangs is lost after `probeLease` (15 s): the next caller probes instead. The
 *   lease is also the closest two probes can be while one hangs, so keep it at or above the
 *   shortest opening.
 *
 * @since 0.1.0
 */
import type { Scope } from "effect"
import { Clock, Context, Data, Duration, Effect, Exit, Layer, PubSub, Random, Ref, Schema, Stream, Struct } from "effect"
import type { Take } from "effect"
import * as OptionSchema from "./OptionSchema.ts"

/** @category models */
export type State =
  | { readonly _tag: "Closed"; readonly failures: number }
  | { readonly _tag: "Open"; readonly until: number; readonly openings: number }
  | { readonly _tag: "HalfOpen"; readonly openings: number }

/** A state change, as emitted on `transitions`. Times are `Clock` millis. @category models */
export interface Transition {
  readonly key: string
  readonly from: State["_tag"]
  readonly to: State["_tag"]
  readonly at: number
  /** For `to: "Open"`: how long the circuit stays open. */
  readonly openForMillis?: number | undefined
}

/** What `admit` grants. Pass `generation` back to `record` so a stale outcome cannot flip a newer state. @category models */
export interface Permit {
  readonly key: string
  readonly generation: number
  readonly probe: boolean
  /**
   * Consecutive openings of the circuit when this permit was granted (the store fills it in), so
   * `record` can size the next opening without reading the store again. Missing counts as 0.
   */
  readonly openings?: number | undefined
}

/** The outcome of one admitted call. @category models */
export type Outcome =
  | { readonly _tag: "Success" }
  | { readonly _tag: "Failure"; readonly retryAfter?: Duration.Duration | undefined }
  | { readonly _tag: "Ignored" }

const AtLeastOne = Schema.Number.check(Schema.isFinite(), Schema.isGreaterThanOrEqualTo(1))

/**
 * The breaker's options, every field filled in. Described once here; `OptionsSchema` (the config
 * file's `breaker`), `Options`, `Resolved` and `defaults` are derived from it.
 *
 * @category schemas
 */
export const ResolvedSchema = Schema.Struct({
  failureThreshold: OptionSchema.option(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
    "Consecutive health failures that open a closed circuit.",
    5
  ),
  // Short and bounded: a recovered provider waits out the rest of the opening (see the header).
  openDuration: OptionSchema.duration("Open duration after the first trip.", "20 seconds"),
  backoffFactor: OptionSchema.option(
    AtLeastOne,
    "Each further trip without a close in between multiplies the open duration by this, up to maxOpenDuration.",
    2
  ),
  maxOpenDuration: OptionSchema.duration(
    "Cap on the open duration, and so on how long a recovered provider waits for traffic (a Retry-After may still exceed it).",
    "25 seconds"
  ),
  jitter: OptionSchema.option(
    Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 })),
    "Relative jitter on the open duration, 0..1: it shortens each opening by up to this share (0.2 = up to 20% shorter).",
    0.2
  ),
  // A probe whose outcome is never recorded would otherwise keep the circuit half-open, turning
  // every caller away; one that hangs would hold back recovery for its whole attempt timeout.
  probeLease: OptionSchema.duration(
    "How long a half-open probe may stay out before it counts as lost and the next caller probes instead (in-memory store).",
    "15 seconds"
  )
})

/**
 * The options as a config file writes them: any field of `ResolvedSchema`, each optional.
 *
 * @category schemas
 */
export const OptionsSchema = ResolvedSchema.mapFields(Struct.map(Schema.optionalKey)).annotate({
  description: "Circuit breaker: opens after consecutive health failures, half-opens after the open duration."
})

/** Options with every field filled in. @category models */
export type Resolved = typeof ResolvedSchema.Type

/** Options as code passes them: every field optional, durations as any `Duration.Input`. @category models */
export type Options = OptionSchema.Input<Resolved>

/** Every field's default, read from `ResolvedSchema`'s annotations. @category constructors */
export const defaults: Resolved = OptionSchema.defaultsOf(ResolvedSchema)

/** Fills every missing field of `options` from `base` (default: `defaults`). @category constructors */
export const resolve = (options: Options | undefined, base: Resolved = defaults): Resolved =>
  OptionSchema.fill(options, base)

/**
 * The breaker service.
 *
 * - `admit(key)` never waits: it grants a `Permit` (closed; or half-open and no probe running,
 *   which makes this call the probe) or fails at once with the state that refused it.
 * - `record(permit, outcome)` feeds the outcome back; `Ignored` (a request error, an interruption)
 *   releases a probe without deciding anything.
 *
 * @category services
 */
export class CircuitBreaker extends Context.Service<CircuitBreaker, {
  readonly admit: (key: string) => Effect.Effect<Permit, Rejected>
  readonly record: (permit: Permit, outcome: Outcome) => Effect.Effect<void>
  readonly state: (key: string) => Effect.Effect<State>
  readonly states: Effect.Effect<ReadonlyMap<string, State>>
  readonly reset: (key: string) => Effect.Effect<void>
  readonly forceOpen: (key: string, duration?: Duration.Input) => Effect.Effect<void>
  readonly transitions: Stream.Stream<Transition>
  /**
   * A number that changes whenever this process changes any circuit (`reset`, `forceOpen`, any
   * recorded transition). Read synchronously on hot paths: the router remembers "open until T"
   * for a circuit and skips it without an admission while this number has not moved. Changes
   * made by other processes through a shared store do not move it; the remembered time is the
   * store's own answer, so nothing is skipped longer than the store said.
   */
  readonly changesUnsafe: () => number
  /**
   * Present when circuits live in a store several processes share (`@flexiai/redis`): whether
   * it answers now, the other processes' transitions (already merged into `transitions`) and the
   * shared Retry-After cooldowns, which the router reads and writes through it.
   */
  readonly shared?: Shared | undefined
}>()("@flexiai/core/CircuitBreaker") {}

/** A Retry-After cooldown: provider `name` is not called for `millis` from when it is heard of. @category models */
export interface Cooldown {
  readonly name: string
  readonly millis: number
}

/** Provider `name` was enabled or disabled by hand (`Router.enable`/`disable`), in any process. @category models */
export interface Enablement {
  readonly name: string
  readonly enabled: boolean
}

/**
 * What a store shared by several processes adds (`BreakerStore.shared`, passed on as
 * `CircuitBreaker.shared`). The in-memory store has none, so a per-process breaker costs nothing
 * for it: the router keeps its cooldowns and enablement on its own slots and only writes them
 * through here.
 *
 * @category models
 */
export interface Shared {
  /** False while the shared store is unreachable and circuits are per process (degraded). Synchronous. */
  readonly availableUnsafe: () => boolean
  /** Transitions other processes made, as they announce them (`at` is when this process heard). */
  readonly transitions: Stream.Stream<Transition>
  /** Tells every process that provider `name` asked not to be called for `millis`. Never waits on the store, never fails. */
  readonly shareCooldown: (name: string, millis: number) => Effect.Effect<void>
  /** Cooldowns learned by any process: those still running when subscribed, then each as it is shared or found again. */
  readonly cooldowns: Stream.Stream<Cooldown>
  /**
   * Tells every process, and those that start later, that provider `name` is enabled or disabled
   * (the store keeps a record). Never waits on the store, never fails; while the store is
   * unreachable the change stays in this process until it returns (the store says how it merges).
   */
  readonly shareEnabled: (name: string, enabled: boolean) => Effect.Effect<void>
  /**
   * Enablement as the shared record has it: every recorded provider when subscribed, then each
   * change another process makes, and the record again whenever the store reads it anew (on
   * reconnecting, and now and then to make up for a missed message). Apply each as it comes.
   */
  readonly enablement: Stream.Stream<Enablement>
}

// ---------------------------------------------------------------------------
// Store
// ---------------------------------------------------------------------------

/**
 * What `BreakerStore.admit` grants: a `Permit` (the service hands it to the caller as it is) plus
 * the Open → HalfOpen transition this admission made, if any, for the service to publish.
 *
 * @category models
 */
export interface Admission extends Permit {
  readonly openings: number
  readonly transition: Transition | undefined
}

/** What `BreakerStore.record` is told about one call. @category models */
export interface RecordOptions {
  readonly key: string
  readonly generation: number
  readonly outcome: Outcome["_tag"]
  /** Consecutive failures that open a closed circuit. */
  readonly failureThreshold: number
  /** How long the circuit stays open if this outcome opens it (computed by the service). */
  readonly openFor: Duration.Duration
}

/**
 * Where circuits live. The service computes open durations and publishes transitions; the store
 * only keeps state and decides each transition atomically, reading time itself.
 *
 * **Details**
 *
 * - `admit` grants an `Admission` or fails with `Rejected`. Every change of a circuit gives it a
 *   new generation; a Closed circuit grants the same generation until it changes.
 * - `record` applies an outcome if its generation is still current (otherwise nothing happens)
 *   and opens the circuit for `openFor` if it trips. It returns the transition it made.
 * - `reset` closes a known circuit (a new generation even if it was closed); an unknown key stays
 *   unknown. `forceOpen` opens a circuit for exactly `openFor`, counting as one more opening.
 *
 * **Gotchas**
 *
 * This follows Effect's `CircuitBreakerStore` so a Redis store can wrap `layerStoreRedis`: its
 * `admit` maps to ours (`consecutiveOpenings` is `openings`, `CircuitOpen`/`CircuitHalfOpen`
 * become `Rejected`), its `record` takes `consecutive(failureThreshold)` as the trip policy.
 * `states`, `reset` and `forceOpen` have no counterpart there and need their own small scripts.
 * Effect's store also keeps the opening count for a while after a close (so a provider that
 * flaps right after closing keeps backing off), where `layerStoreMemory` resets it on close; and
 * its `admit` needs a `Scope` to renew a probe's lease, which the adapter must hold itself (in
 * its layer's scope, until the probe is recorded) since ours takes none.
 *
 * @category services
 */
export class BreakerStore extends Context.Service<BreakerStore, {
  readonly admit: (key: string) => Effect.Effect<Admission, Rejected>
  readonly record: (options: RecordOptions) => Effect.Effect<Transition | undefined>
  readonly state: (key: string) => Effect.Effect<State>
  readonly states: Effect.Effect<ReadonlyMap<string, State>>
  readonly reset: (key: string) => Effect.Effect<Transition | undefined>
  readonly forceOpen: (key: string, openFor: Duration.Duration) => Effect.Effect<Transition>
  /**
   * Moves whenever this store instance changes a circuit (see `CircuitBreaker.changesUnsafe`); a
   * shared store also moves it when another process announces a transition.
   */
  readonly changesUnsafe: () => number
  /** A store shared by several processes: see `Shared`. */
  readonly shared?: Shared | undefined
}>()("@flexiai/core/CircuitBreaker/BreakerStore") {}

interface Entry {
  readonly state: State
  readonly generation: number
  /** HalfOpen only: the probe is out. */
  readonly probing: boolean
  /** HalfOpen with its probe out: when the probe's lease ends (Clock millis). */
  readonly probeUntil?: number | undefined
  /**
   * What `admit` answers while the entry stays as it is: the granted permit (Closed) or the
   * refusal (HalfOpen with its probe out). Built once per entry so the hot path allocates nothing.
   */
  readonly steady: Effect.Effect<Admission, Rejected> | undefined
}

const closedZero: State = { _tag: "Closed", failures: 0 }
const closedUnknown: Effect.Effect<State> = Effect.succeed(closedZero)

const closedEntry = (
  key: string,
  generation: number
): Entry & { readonly steady: Effect.Effect<Admission, Rejected> } => ({
  state: closedZero,
  generation,
  probing: false,
  steady: Effect.succeed({ key, generation, probe: false, openings: 0, transition: undefined })
})

const openEntry = (generation: number, until: number, openings: number): Entry => ({
  state: { _tag: "Open", until, openings },
  generation,
  probing: false,
  steady: undefined
})

const halfOpenEntry = (
  key: string,
  generation: number,
  openings: number,
  probing: boolean,
  probeUntil?: number
): Entry => ({
  state: { _tag: "HalfOpen", openings },
  generation,
  probing,
  probeUntil,
  steady: probing ? Effect.fail(new Rejected({ key, state: "HalfOpen", retryAfterMillis: undefined })) : undefined
})

/**
 * A refusal from an open circuit. The router skips open circuits on its hot path and never needs
 * a stack for this expected answer, while capturing one costs more than the whole decision, so
 * none is captured.
 */
const rejectedOpen = (key: string, retryAfterMillis: number): Rejected => {
  const stackTraceLimit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  const rejected = new Rejected({ key, state: "Open", retryAfterMillis })
  Error.stackTraceLimit = stackTraceLimit
  return rejected
}

const openingsOf = (state: State): number => state._tag === "Closed" ? 0 : state.openings

const durationMillis = (duration: Duration.Duration): number => Math.max(0, Math.ceil(Duration.toMillis(duration)))

/**
 * Builds an in-memory `BreakerStore`: every circuit in one `Ref<ReadonlyMap>`, each decision one
 * `Ref.modify`. A Closed circuit's admit and a healthy Success leave the map as it is, so the hot
 * path copies nothing; a change copies the map, which stays small (one key per provider model).
 *
 * @category constructors
 */
export const makeStoreMemoryWith = (
  options: Pick<Options, "probeLease"> = {}
): Effect.Effect<BreakerStore["Service"]> => {
  const probeLeaseMillis = durationMillis(resolve(options).probeLease)
  return Effect.map(
  Ref.make<ReadonlyMap<string, Entry>>(new Map()),
  (entries) => {
    // every change goes through `put`, so counting here counts them all
    let changes = 0
    const put = (map: ReadonlyMap<string, Entry>, key: string, entry: Entry): ReadonlyMap<string, Entry> => {
      changes++
      return new Map(map).set(key, entry)
    }

    const decideAdmit = (
      map: ReadonlyMap<string, Entry>,
      key: string,
      now: number
    ): [Effect.Effect<Admission, Rejected>, ReadonlyMap<string, Entry>] => {
      const entry = map.get(key)
      if (entry === undefined) {
        const created = closedEntry(key, 0)
        return [created.steady, put(map, key, created)]
      }
      // a probe out past its lease counts as lost: this caller probes instead (new generation,
      // so the lost probe's late outcome decides nothing)
      const leaseOver = entry.probing && entry.probeUntil !== undefined && now >= entry.probeUntil
      if (entry.steady !== undefined && !leaseOver) return [entry.steady, map]
      const state = entry.state
      if (state._tag === "Open" && now < state.until) {
        return [Effect.fail(rejectedOpen(key, state.until - now)), map]
      }
      // Open past its deadline, or HalfOpen with no probe out: this caller becomes the probe.
      const openings = openingsOf(state)
      const generation = entry.generation + 1
      const transition: Transition | undefined = state._tag === "Open"
        ? { key, from: "Open", to: "HalfOpen", at: now }
        : undefined
      return [
        Effect.succeed({ key, generation, probe: true, openings, transition }),
        put(map, key, halfOpenEntry(key, generation, openings, true, now + probeLeaseMillis))
      ]
    }

    const decideRecord = (
      map: ReadonlyMap<string, Entry>,
      options: RecordOptions,
      now: number
    ): [Transition | undefined, ReadonlyMap<string, Entry>] => {
      const { generation, key, outcome } = options
      const entry = map.get(key)
      if (entry === undefined || entry.generation !== generation) return [undefined, map]
      const state = entry.state
      const open = (from: State["_tag"]): [Transition, ReadonlyMap<string, Entry>] => {
        const openForMillis = durationMillis(options.openFor)
        return [
          { key, from, to: "Open", at: now, openForMillis },
          put(map, key, openEntry(generation + 1, now + openForMillis, openingsOf(state) + 1))
        ]
      }
      switch (state._tag) {
        case "Closed": {
          if (outcome === "Ignored" || (outcome === "Success" && state.failures === 0)) return [undefined, map]
          if (outcome === "Success") return [undefined, put(map, key, { ...entry, state: closedZero })]
          const failures = state.failures + 1
          if (failures >= options.failureThreshold) return open("Closed")
          return [undefined, put(map, key, { ...entry, state: { _tag: "Closed", failures } })]
        }
        case "HalfOpen": {
          // A matching generation in HalfOpen can only be the probe's: admitting it started one.
          switch (outcome) {
            case "Ignored":
              // A new generation too, so a duplicate record of this probe cannot decide later.
              return [undefined, put(map, key, halfOpenEntry(key, generation + 1, state.openings, false))]
            case "Failure":
              return open("HalfOpen")
            case "Success":
              return [
                { key, from: "HalfOpen", to: "Closed", at: now },
                put(map, key, closedEntry(key, generation + 1))
              ]
          }
        }
        case "Open":
          // An Open circuit grants no permits, so no permit holds its generation.
          return [undefined, map]
      }
    }

    return BreakerStore.of({
      changesUnsafe: () => changes,
      admit: (key) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.flatten(Ref.modify(entries, (map) => decideAdmit(map, key, now)))),
      record: (options) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Ref.modify(entries, (map) => decideRecord(map, options, now))),
      state: (key) =>
        Effect.flatMap(Ref.get(entries), (map) => {
          const entry = map.get(key)
          return entry === undefined ? closedUnknown : Effect.succeed(entry.state)
        }),
      states: Effect.map(Ref.get(entries), (map) => {
        const states = new Map<string, State>()
        for (const [key, entry] of map) states.set(key, entry.state)
        return states
      }),
      reset: (key) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Ref.modify(entries, (map): [Transition | undefined, ReadonlyMap<string, Entry>] => {
            const entry = map.get(key)
            if (entry === undefined) return [undefined, map]
            const from = entry.state._tag
            return [
              from === "Closed" ? undefined : { key, from, to: "Closed", at: now },
              put(map, key, closedEntry(key, entry.generation + 1))
            ]
          })),
      forceOpen: (key, openFor) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Ref.modify(entries, (map): [Transition, ReadonlyMap<string, Entry>] => {
            const entry = map.get(key)
            const openForMillis = durationMillis(openFor)
            const generation = entry === undefined ? 0 : entry.generation + 1
            const openings = entry === undefined ? 1 : openingsOf(entry.state) + 1
            return [
              { key, from: entry?.state._tag ?? "Closed", to: "Open", at: now, openForMillis },
              put(map, key, openEntry(generation, now + openForMillis, openings))
            ]
          }))
    })
  }
  )
}

/** `makeStoreMemoryWith` with the default probe lease (15 seconds). @category constructors */
export const makeStoreMemory: Effect.Effect<BreakerStore["Service"]> = makeStoreMemoryWith()

/**
 * The in-memory `BreakerStore`: circuits live in this process only.
 *
 * @category layers
 */
export const layerStoreMemory: Layer.Layer<BreakerStore> = Layer.effect(BreakerStore, makeStoreMemory)

/** The in-memory store with a chosen probe lease. @category layers */
export const layerStoreMemoryWith = (options: Pick<Options, "probeLease">): Layer.Layer<BreakerStore> =>
  Layer.effect(BreakerStore, makeStoreMemoryWith(options))

// ---------------------------------------------------------------------------
// Service
// ---------------------------------------------------------------------------

/** What the service computes with: the options in millis. */
interface Settings {
  readonly failureThreshold: number
  readonly openMillis: number
  readonly backoffFactor: number
  readonly maxOpenMillis: number
  readonly jitter: number
}

const ensure = (valid: boolean, message: string): void => {
  if (!valid) throw new RangeError(`CircuitBreaker options: ${message}`)
}

// Code may pass any values (the schema checks only what a config decodes), so the ranges are checked here.
const settingsOf = (options: Options): Settings => {
  const filled = resolve(options)
  const resolved: Settings = {
    failureThreshold: filled.failureThreshold,
    openMillis: Duration.toMillis(filled.openDuration),
    backoffFactor: filled.backoffFactor,
    maxOpenMillis: Duration.toMillis(filled.maxOpenDuration),
    jitter: filled.jitter
  }
  ensure(
    Number.isInteger(resolved.failureThreshold) && resolved.failureThreshold >= 1,
    "failureThreshold must be an integer >= 1"
  )
  ensure(Number.isFinite(resolved.openMillis) && resolved.openMillis >= 0, "openDuration must be finite and >= 0")
  ensure(Number.isFinite(resolved.backoffFactor) && resolved.backoffFactor >= 1, "backoffFactor must be >= 1")
  ensure(resolved.maxOpenMillis >= 0, "maxOpenDuration must be >= 0")
  ensure(resolved.jitter >= 0 && resolved.jitter <= 1, "jitter must be in [0, 1]")
  return resolved
}

/**
 * How long the circuit stays open on its `(openings + 1)`-th consecutive opening, given a uniform
 * `random` in [0, 1): base × factor^openings, capped, then shortened by up to `jitter` of itself,
 * then raised to any Retry-After (which the cap does not limit: the provider said when it will
 * answer again). Jitter after the cap and only downwards keeps the spread at the cap (circuits
 * tripped together do not probe in lockstep) without ever exceeding it.
 */
const openMillisFor = (
  resolved: Settings,
  openings: number,
  random: number,
  retryAfter: Duration.Duration | undefined
): number => {
  const capped = Math.min(resolved.openMillis * resolved.backoffFactor ** openings, resolved.maxOpenMillis)
  const jittered = capped * (1 - resolved.jitter * random)
  const floor = retryAfter === undefined ? 0 : Duration.toMillis(retryAfter)
  return Math.ceil(Math.max(jittered, floor))
}

/**
 * Creates the `CircuitBreaker` service over the `BreakerStore` in context. Transitions are
 * published on a sliding `PubSub` (1024 per subscriber), so publishing never waits on a slow
 * subscriber; one that falls that far behind loses the oldest. The stream ends when the scope
 * closes. A shared store's (`BreakerStore.shared`) transitions from other processes are
 * published on it too. Options out of range (a threshold below 1, a factor below 1, jitter outside 0..1) are a
 * defect when the service is built.
 *
 * **Example** (A circuit that trips after two failures)
 *
 * ```ts
 * const program = Effect.gen(function*() {
 *   const breaker = yield* CircuitBreaker.CircuitBreaker
 *   for (let attempt = 0; attempt < 2; attempt++) {
 *     const permit = yield* breaker.admit("openai:gpt-4o")
 *     yield* breaker.record(permit, { _tag: "Failure" })
 *   }
 *   return yield* breaker.state("openai:gpt-4o") // { _tag: "Open", until: 20000, openings: 1 }
 * }).pipe(Effect.provide(CircuitBreaker.layerMemory({ failureThreshold: 2, jitter: 0 })))
 * ```
 *
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<CircuitBreaker["Service"], never, BreakerStore | Scope.Scope> =>
  Effect.gen(function*() {
    const resolved = settingsOf(options)
    const store = yield* BreakerStore
    const pubsub = yield* PubSub.sliding<Take.Take<Transition>>(1024)
    yield* Effect.addFinalizer(() => PubSub.end(pubsub, Exit.void))

    const publish = (transition: Transition | undefined): Effect.Effect<void> =>
      transition === undefined ? Effect.void : Effect.asVoid(PubSub.publish(pubsub, [transition]))
    // other processes' transitions join this one's, so every subscriber sees every transition
    const shared = store.shared
    if (shared !== undefined) yield* Effect.forkScoped(Stream.runForEach(shared.transitions, publish))
    const publishAdmission = (admission: Admission): Effect.Effect<void> => publish(admission.transition)

    const openFor = (openings: number, retryAfter: Duration.Duration | undefined): Effect.Effect<Duration.Duration> =>
      resolved.jitter === 0
        ? Effect.succeed(Duration.millis(openMillisFor(resolved, openings, 0, retryAfter)))
        : Effect.map(Random.next, (random) => Duration.millis(openMillisFor(resolved, openings, random, retryAfter)))

    const recordWith = (permit: Permit, outcome: Outcome["_tag"], duration: Duration.Duration) =>
      Effect.flatMap(
        store.record({
          key: permit.key,
          generation: permit.generation,
          outcome,
          failureThreshold: resolved.failureThreshold,
          openFor: duration
        }),
        publish
      )

    return CircuitBreaker.of({
      admit: (key) => Effect.tap(store.admit(key), publishAdmission),
      record: (permit, outcome) =>
        outcome._tag === "Failure"
          ? Effect.flatMap(
            openFor(permit.openings ?? 0, outcome.retryAfter),
            (duration) => recordWith(permit, "Failure", duration)
          )
          : recordWith(permit, outcome._tag, Duration.zero),
      state: store.state,
      states: store.states,
      reset: (key) => Effect.flatMap(store.reset(key), publish),
      forceOpen: (key, duration) =>
        Effect.flatMap(
          store.forceOpen(
            key,
            duration === undefined ? Duration.millis(resolved.openMillis) : Duration.fromInputUnsafe(duration)
          ),
          publish
        ),
      transitions: Stream.fromPubSubTake(pubsub),
      changesUnsafe: store.changesUnsafe,
      shared
    })
  })

/**
 * Provides `CircuitBreaker` over the `BreakerStore` in context.
 *
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<CircuitBreaker, never, BreakerStore> =>
  Layer.effect(CircuitBreaker, make(options))

/**
 * Provides `CircuitBreaker` with its own in-memory store: circuits are per process.
 *
 * @category layers
 */
export const layerMemory = (options: Options = {}): Layer.Layer<CircuitBreaker> =>
  layer(options).pipe(Layer.provide(Layer.fresh(layerStoreMemoryWith({ probeLease: options.probeLease }))))

/** Why `admit` refused: the circuit is open until `retryAfterMillis` from now, or half-open with its probe out. @category errors */
export class Rejected extends Data.TaggedError("Rejected")<{
  readonly key: string
  readonly state: "Open" | "HalfOpen"
  readonly retryAfterMillis: number | undefined
}> {}
