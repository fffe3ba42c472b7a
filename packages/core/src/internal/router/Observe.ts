/**
 * The router's event sites, in one place: each builds its `RouterEvent` and hands it to the hub.
 *
 * A call is observed only if someone listened when it started (`begin` registers it, keyed by the
 * call's own `attempts` array, so no signature in the router carries it); every later site looks the
 * call up and does nothing for a call not registered. A router built without `RouterEvents` has no
 * observer at all, and its sites are one `undefined` check each.
 *
 * Internal: not exported from the package.
 */
import type { Clock } from "effect"
import type { Usage } from "../../ChatResponse.ts"
import type { Cost } from "../../Pricing.ts"
import type { Attempt } from "../../ProviderError.ts"
import type { Operation, RouterEvent } from "../../RouterEvent.ts"
import type { Hub } from "../../RouterEvents.ts"

interface Call {
  readonly callId: string
  readonly operation: Operation
  readonly clock: Clock.Clock
  readonly started: number
  firstToken: boolean
}

export type SkipState = "Open" | "HalfOpen" | "RateLimited" | "Disabled" | "Unsupported" | "ModelNotServed"

export interface Finish {
  readonly outcome: "success" | "failure"
  readonly provider?: string | undefined
  readonly model?: string | undefined
  readonly reason?: string | undefined
  readonly finishReason?: string | undefined
  readonly usage?: Usage | undefined
}

export const makeObserver = (hub: Hub) => {
  const calls = new WeakMap<ReadonlyArray<Attempt>, Call>()
  // calls registered and not finished yet: while 0 (nobody listened when any running call
  // started) every site returns after one comparison, without a map look-up or a closure
  let live = 0
  const emitFor = (attempts: ReadonlyArray<Attempt>, build: (call: Call, at: number) => RouterEvent) => {
    const call = calls.get(attempts)
    if (call !== undefined) hub.emit(build(call, call.clock.currentTimeMillisUnsafe()))
  }
  const observes = (attempts: ReadonlyArray<Attempt>): boolean => live > 0 && calls.has(attempts)
  const charged = (
    attempts: ReadonlyArray<Attempt>,
    provider: string,
    model: string,
    outcome: "success" | "billed-failure",
    cost: Cost,
    usage: Usage | undefined
  ) =>
    emitFor(attempts, ({ callId, operation }, at) => ({
      type: "cost",
      callId,
      operation,
      at,
      provider,
      model,
      outcome,
      usd: cost.totalUsd,
      estimated: cost.estimated === true,
      ...(usage === undefined ? {} : { usage }),
      cost
    }))
  return {
    /** Whether `attempts`' call is observed: sites that would build something first ask this. */
    observes,

    begin: (
      attempts: ReadonlyArray<Attempt>,
      callId: string,
      operation: Operation,
      clock: Clock.Clock,
      started: number,
      model: string | undefined
    ): void => {
      if (!hub.active) return
      calls.set(attempts, { callId, operation, clock, started, firstToken: false })
      live++
      hub.emit({ type: "call-start", callId, operation, at: started, ...(model === undefined ? {} : { model }) })
    },

    attemptStart: (attempts: ReadonlyArray<Attempt>, provider: string, model: string): void =>
      void (observes(attempts) && emitFor(attempts, ({ callId, operation }, at) => ({
        type: "attempt-start",
        callId,
        operation,
        at,
        provider,
        model,
        attempt: attempts.length + 1
      }))),

    retry: (attempts: ReadonlyArray<Attempt>, provider: string, model: string, tryNumber: number, reason: string): void =>
      void (observes(attempts) && emitFor(attempts, ({ callId, operation }, at) => ({
        type: "retry",
        callId,
        operation,
        at,
        provider,
        model,
        try: tryNumber,
        reason
      }))),

    /** After the settled attempt was pushed onto `attempts`; a billed failure's `cost` and a budget's denial follow it. */
    attemptFinish: (attempts: ReadonlyArray<Attempt>, attempt: Attempt): void => {
      if (!observes(attempts)) return
      emitFor(attempts, ({ callId, operation }, at) => ({
        type: "attempt-finish",
        callId,
        operation,
        at,
        provider: attempt.provider,
        model: attempt.model ?? "",
        attempt: attempts.length,
        outcome: attempt.outcome === "success" ? "success" : "failure",
        ...(attempt.reason === undefined ? {} : { reason: attempt.reason }),
        tries: attempt.tries,
        latencyMillis: attempt.latencyMillis
      }))
      const model = attempt.model ?? ""
      if (attempt.cost !== undefined) charged(attempts, attempt.provider, model, "billed-failure", attempt.cost, undefined)
      const reason = attempt.error?._tag === "ProviderError" ? attempt.error.reason : undefined
      if (reason?._tag === "BudgetExceeded") {
        emitFor(attempts, ({ callId, operation }, at) => ({
          type: "budget",
          callId,
          operation,
          at,
          decision: "denied",
          provider: attempt.provider,
          model,
          budget: reason.budget,
          limitUsd: reason.limitUsd,
          spentUsd: reason.spentUsd,
          requestedUsd: reason.requestedUsd,
          ...(reason.resetsAt === undefined ? {} : { resetsAt: reason.resetsAt })
        }))
      }
    },

    /** A successful attempt's answer was priced: after its `attempt-finish`. */
    answerCost: (attempts: ReadonlyArray<Attempt>, provider: string, model: string, cost: Cost | undefined, usage: Usage | undefined): void => {
      if (cost !== undefined && observes(attempts)) charged(attempts, provider, model, "success", cost, usage)
    },

    /** After the skipped attempt was pushed onto `attempts` (a provider not serving the model has none: 0). */
    skip: (attempts: ReadonlyArray<Attempt>, provider: string, model: string, reason: SkipState): void =>
      void (observes(attempts) && emitFor(attempts, ({ callId, operation }, at) => ({
        type: "attempt-skip",
        callId,
        operation,
        at,
        provider,
        model,
        attempt: reason === "ModelNotServed" ? 0 : attempts.length,
        reason
      }))),

    failover: (attempts: ReadonlyArray<Attempt>, from: string, reason: string): void => {
      if (observes(attempts)) emitFor(attempts, ({ callId, operation }, at) => ({ type: "failover", callId, operation, at, from, reason }))
    },

    /** The first content part reached the consumer (once per call). */
    firstToken: (attempts: ReadonlyArray<Attempt>, provider: string, model: string): void => {
      const call = live > 0 ? calls.get(attempts) : undefined
      if (call === undefined || call.firstToken) return
      call.firstToken = true
      const at = call.clock.currentTimeMillisUnsafe()
      hub.emit({
        type: "first-token",
        callId: call.callId,
        operation: call.operation,
        at,
        provider,
        model,
        latencyMillis: at - call.started
      })
    },

    switched: (attempts: ReadonlyArray<Attempt>, how: "stream-restart" | "stream-resume", provider: string, reason: string): void => {
      if (observes(attempts)) emitFor(attempts, ({ callId, operation }, at) => ({ type: how, callId, operation, at, provider, reason }))
    },

    /** Callers build `finish` only when `observes(attempts)`. */
    finish: (attempts: ReadonlyArray<Attempt>, finish: Finish): void => {
      const call = live > 0 ? calls.get(attempts) : undefined
      if (call === undefined) return
      calls.delete(attempts)
      live--
      const at = call.clock.currentTimeMillisUnsafe()
      hub.emit({
        type: "call-finish",
        callId: call.callId,
        operation: call.operation,
        at,
        outcome: finish.outcome,
        ...(finish.provider === undefined ? {} : { provider: finish.provider }),
        ...(finish.model === undefined ? {} : { model: finish.model }),
        ...(finish.reason === undefined ? {} : { reason: finish.reason }),
        ...(finish.finishReason === undefined ? {} : { finishReason: finish.finishReason }),
        ...(finish.usage === undefined ? {} : { usage: finish.usage }),
        latencyMillis: at - call.started,
        attempts: attempts.length
      })
    }
  }
}

export type Observer = ReturnType<typeof makeObserver>
