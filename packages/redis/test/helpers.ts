// Shared by the in-process tests.
import type * as CircuitBreaker from "@flexiai/core/CircuitBreaker"
import { Effect, Schedule } from "effect"

/** Waits (at most 5 s) until the breaker's or store's Redis store has reached Redis. */
export const untilShared = (breaker: { readonly shared?: CircuitBreaker.Shared | undefined }) =>
  Effect.suspend(() => breaker.shared?.availableUnsafe() === true ? Effect.void : Effect.fail("not yet")).pipe(
    Effect.retry({ schedule: Schedule.spaced("10 millis"), times: 500 }),
    Effect.orDie
  )
