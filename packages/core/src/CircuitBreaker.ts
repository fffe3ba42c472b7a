/**
 * One circuit per key (provider + model): closed → open after N consecutive health failures →
 * half-open after the open duration, where exactly one probe is let through while other callers
 * are turned away (the router routes them past it) → the probe closes or reopens the circuit.
 *
 * The open duration grows on repeated trips (×2 per trip, jittered, capped) and is never shorter
 * than a Retry-After the tripping failure carried. State lives behind `BreakerStore`, whose shape
 * follows `effect/persistence/CircuitBreaker`'s `CircuitBreakerStore` (admit with a generation
 * fencing token, record an outcome), so a Redis-backed store can adapt Effect's own
 * `layerStoreRedis` rather than re-implement it. `layerStoreMemory` keeps every circuit in one
 * `Ref` and decides each transition with one atomic `Ref.modify`.
 *
 * Why our own service and not Effect's `CircuitBreaker` directly: the router needs to skip an
 * open circuit with no call at all and no fiber or scope per call (the skip is on the hot path),
 * to list every circuit for status, and to force a circuit open or reset it by hand.
 *
 * @since 0.1.0
 */
import type { Duration, Effect, Stream } from "effect"
import { Context, Data } from "effect"

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
}

/** The outcome of one admitted call. @category models */
export type Outcome =
  | { readonly _tag: "Success" }
  | { readonly _tag: "Failure"; readonly retryAfter?: Duration.Duration | undefined }
  | { readonly _tag: "Ignored" }

/** @category models */
export interface Options {
  /** Consecutive health failures that open a closed circuit. Default 5. */
  readonly failureThreshold?: number | undefined
  /** Open duration after the first trip. Default 60 seconds. */
  readonly openDuration?: Duration.Input | undefined
  /** Each further trip without a close in between multiplies the open duration by this. Default 2. */
  readonly backoffFactor?: number | undefined
  /** Cap on the open duration (a Retry-After may still exceed it). Default 10 minutes. */
  readonly maxOpenDuration?: Duration.Input | undefined
  /** Relative jitter on the open duration, 0..1 (0.2 = ±20%). Default 0.2. */
  readonly jitter?: number | undefined
}

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
}>()("@flexiai/core/CircuitBreaker") {}

/** Why `admit` refused: the circuit is open until `retryAfterMillis` from now, or half-open with its probe out. @category errors */
export class Rejected extends Data.TaggedError("Rejected")<{
  readonly key: string
  readonly state: "Open" | "HalfOpen"
  readonly retryAfterMillis: number | undefined
}> {}
