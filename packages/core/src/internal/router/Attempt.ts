/**
 * One attempt on one provider, and failover across candidates: the checks before a call
 * (disabled, rate limited, open circuit, capabilities), breaker admission, retries inside the
 * circuit, the attempt's time limit and the call's deadline, and how each outcome is settled and
 * recorded. Chat and stream failover both run on it.
 *
 * Internal. Built once per router (`make`): everything here is a closure over the breaker and the
 * router's counters, so the hot path reads closure variables, as it did inside `Router.make`.
 */
import { Clock, Duration, Effect, LogLevel, type Ref, References, Result, Schedule } from "effect"
import * as Capabilities from "../../Capabilities.ts"
import type { ChatRequest } from "../../ChatRequest.ts"
import type * as CircuitBreaker from "../../CircuitBreaker.ts"
import {
  AllProvidersFailed,
  type Attempt,
  type ChatError,
  CircuitOpen,
  NotFound,
  ProviderError,
  reasonTag,
  Unsupported,
  withoutStackTrace
} from "../../ProviderError.ts"
import * as RetryPolicy from "../../RetryPolicy.ts"
import type * as RouterPolicy from "../../RouterPolicy.ts"
import * as TimeLimit from "../../TimeLimit.ts"
import { attemptLine, logAttempt } from "./CallLog.ts"
import type { Observer } from "./Observe.ts"
import {
  deadlineHit,
  failSkipped,
  failsOver,
  modelOf,
  recordLatency,
  requestFor,
  type Slot,
  skippedSentinel,
  type Tried
} from "./Slot.ts"

/**
 * Takes over a stream that opened (a chat call has none): called in the same step that produced
 * it, with no interruptible step between, so the stream and its permit always have an owner.
 */
export type OnOpened<A> = (slot: Slot, model: string, tried: Tried<A>) => void

/** The router-wide counters `Router.stats` reports; plain fields, updated on one JS thread. */
export interface Totals {
  requests: number
  attempts: number
  failovers: number
  failed: number
}

const success: CircuitBreaker.Outcome = { _tag: "Success" }

/**
 * The error for a request naming a model no candidate serves (model routing): `NotFound`, before
 * any request is sent, naming the models the candidates do serve.
 */
const unservedModel = (slots: ReadonlyArray<Slot>, request: ChatRequest): ProviderError => {
  const names = new Set<string>()
  for (const slot of slots) for (const name of slot.routes?.keys() ?? []) names.add(name)
  return new ProviderError({
    provider: "(router)",
    ...(request.model === undefined ? {} : { model: request.model }),
    reason: new NotFound({
      message: `no provider serves model "${request.model}" (served: ${[...names].sort().join(", ")}); ` +
        "name one of those, or map it in a provider's models",
      ...(request.model === undefined ? {} : { model: request.model })
    })
  })
}

// `observer` is there only when the router was built with `RouterEvents`; each site below is one
// `undefined` check without it (see `Observe.ts`).
export const makeAttempts = (
  breaker: CircuitBreaker.CircuitBreaker["Service"],
  totals: Totals,
  observer?: Observer | undefined
) => {

  /**
   * Records a skipped attempt and fails over. The `CircuitOpen` error is built only if someone
   * reads the attempt's `error` (a getter that builds it once): the router itself never looks at
   * it — a skip always fails over, and `AllProvidersFailed` is built from the attempts — and an
   * open circuit is skipped on every call, so its cost is the skip's.
   */
  const skip = (
    slot: Slot,
    model: string,
    attempts: Array<Attempt>,
    key: string,
    state: CircuitOpen["state"],
    retryAfterMillis: number | undefined
  ): Effect.Effect<never, CircuitOpen> => {
    const build = () =>
      new CircuitOpen({
        provider: slot.name,
        key,
        state,
        ...(retryAfterMillis === undefined ? {} : { retryAfter: Duration.millis(retryAfterMillis) })
      })
    slot.skipped++
    let error: CircuitOpen | undefined
    const skipped = {
      provider: slot.name,
      model,
      outcome: "skipped",
      reason: "CircuitOpen",
      tries: 0,
      latencyMillis: 0
    } as Attempt
    Object.defineProperty(skipped, "error", {
      enumerable: true,
      get: () => (error ??= withoutStackTrace(build))
    })
    attempts.push(skipped)
    const index = attempts.length
    if (observer !== undefined) observer.skip(attempts, slot.name, model, state)
    return Effect.withFiber((fiber) =>
      LogLevel.isGreaterThan(fiber.getRef(References.MinimumLogLevel), "Debug")
        ? failSkipped
        : Effect.andThen(attemptLine(skipped, index), failSkipped)
    )
  }

  /**
   * Records a candidate whose capabilities refuse the request as skipped (no call, no circuit
   * admission, nothing counted against its health) and fails over.
   */
  const refuse = (
    slot: Slot,
    model: string,
    attempts: Array<Attempt>,
    refusal: Capabilities.Refusal
  ): Effect.Effect<never, CircuitOpen> => {
    totals.attempts++
    slot.skipped++
    const skipped: Attempt = {
      provider: slot.name,
      model,
      outcome: "skipped",
      reason: "Unsupported",
      error: new ProviderError({
        provider: slot.name,
        model,
        reason: new Unsupported({ message: refusal.message, field: refusal.field })
      }),
      tries: 0,
      latencyMillis: 0
    }
    attempts.push(skipped)
    if (observer !== undefined) observer.skip(attempts, slot.name, model, "Unsupported")
    return Effect.andThen(logAttempt(skipped, attempts.length), failSkipped)
  }

  const settleFailure = (
    slot: Slot,
    model: string,
    permit: CircuitBreaker.Permit,
    error: ChatError,
    tries: number,
    started: number,
    attempts: Array<Attempt>
  ) =>
    Effect.clockWith((clock) => {
      const retryAfter = RetryPolicy.retryAfterOf(error)
      if (
        error._tag === "ProviderError" && error.reason._tag === "RateLimited" && retryAfter !== undefined &&
        Duration.isGreaterThan(retryAfter, slot.policy.maxRetryAfter)
      ) {
        // a long Retry-After: skip this provider until then
        const millis = Duration.toMillis(retryAfter)
        slot.rateLimitedUntil = Math.max(slot.rateLimitedUntil, clock.currentTimeMillisUnsafe() + millis)
        // a shared store tells the other processes (it never waits on the store)
        const shared = breaker.shared
        if (shared !== undefined) {
          return Effect.andThen(
            shared.shareCooldown(slot.name, millis),
            settleCounted(slot, model, permit, error, retryAfter, tries, started, attempts)
          )
        }
      }
      return settleCounted(slot, model, permit, error, retryAfter, tries, started, attempts)
    })

  const settleCounted = (
    slot: Slot,
    model: string,
    permit: CircuitBreaker.Permit,
    error: ChatError,
    retryAfter: Duration.Duration | undefined,
    tries: number,
    started: number,
    attempts: Array<Attempt>
  ) => {
    const counts = error._tag === "ProviderError" && error.reason.countsAgainstHealth
    return settleWith(
      slot,
      model,
      permit,
      counts ? { _tag: "Failure", retryAfter } : { _tag: "Ignored" },
      {
        outcome: "failure",
        reason: reasonTag(error),
        ...(error._tag === "AllProvidersFailed" ? {} : { error }),
        // a billed failed attempt (metering put its cost on the error)
        ...(error._tag === "ProviderError" && error.cost !== undefined ? { cost: error.cost } : {}),
        tries
      },
      started,
      attempts,
      error
    )
  }

  // Records one finished try: the circuit's outcome, the slot's counters and the attempt line.
  // `failure` is the error of a failed try (not of one the deadline cut short).
  const settleWith = (
    slot: Slot,
    model: string,
    permit: CircuitBreaker.Permit,
    outcome: CircuitBreaker.Outcome,
    attempt: Omit<Attempt, "provider" | "model" | "latencyMillis">,
    started: number,
    attempts: Array<Attempt>,
    failure?: ChatError
  ) =>
    Effect.clockWith((clock) => {
      const now = clock.currentTimeMillisUnsafe()
      if (outcome._tag === "Success") slot.successes++
      if (failure !== undefined) {
        slot.failures++
        slot.lastError = { reason: reasonTag(failure), message: failure.message, at: now }
      }
      if (outcome._tag === "Success" || failure !== undefined) recordLatency(slot, now - started)
      const settled: Attempt = { provider: slot.name, model, ...attempt, latencyMillis: now - started }
      attempts.push(settled)
      if (observer !== undefined) observer.attemptFinish(attempts, settled)
      return Effect.andThen(breaker.record(permit, outcome), logAttempt(settled, attempts.length))
    })

  // The hot path's settle (nearly every call ends here): the same record as `settleWith`, built in
  // one step, the log level read in it, the attempt line built only when Debug is on.
  const settleSuccess = <T>(
    slot: Slot,
    model: string,
    permit: CircuitBreaker.Permit,
    tries: number,
    started: number,
    attempts: Array<Attempt>,
    value: T
  ): Effect.Effect<T> =>
    Effect.withFiber((fiber) => {
      const now = fiber.getRef(Clock.Clock).currentTimeMillisUnsafe()
      slot.successes++
      recordLatency(slot, now - started)
      const settled: Attempt = { provider: slot.name, model, outcome: "success", tries, latencyMillis: now - started }
      attempts.push(settled)
      if (observer !== undefined) observer.attemptFinish(attempts, settled)
      const recorded = breaker.record(permit, success)
      return LogLevel.isGreaterThan(fiber.getRef(References.MinimumLogLevel), "Debug")
        ? Effect.as(recorded, value)
        : Effect.andThen(recorded, Effect.as(attemptLine(settled, attempts.length), value))
    })

  // The deadline cut this try short: not the provider's fault, so the circuit hears nothing
  const settleDeadline = (
    slot: Slot,
    model: string,
    permit: CircuitBreaker.Permit,
    tries: number,
    started: number,
    attempts: Array<Attempt>
  ) =>
    settleWith(
      slot,
      model,
      permit,
      { _tag: "Ignored" },
      { outcome: "failure", reason: "DeadlineExceeded", tries },
      started,
      attempts
    )

  /**
   * Runs `effect` within the attempt's own time limit or the call's deadline, whichever ends
   * first, with one timer (see `TimeLimit`: a timer per attempt is the router's main cost).
   */
  const within = <A>(
    effect: Effect.Effect<A, ChatError>,
    limit: Duration.Duration,
    deadlineAt: number,
    onLimit: () => ChatError
  ): Effect.Effect<A, ChatError> =>
    Effect.clockWith((clock) => {
      const remaining = deadlineAt - clock.currentTimeMillisUnsafe()
      if (remaining <= 0) return Effect.fail(deadlineHit)
      const byDeadline = remaining < Duration.toMillis(limit)
      return byDeadline
        ? TimeLimit.within(effect, Duration.millis(remaining), () => deadlineHit)
        : TimeLimit.within(effect, limit, onLimit)
    })

  /**
   * Runs `run` on `slot` with retries, inside the slot's circuit. On success the outcome is
   * recorded when `onOpened` is absent (a chat call); a stream hands its opened stream to
   * `onOpened` instead, and settles later, when it ends.
   *
   * From the admission to that hand-off the region is uninterruptible except for the call itself
   * (`restore`): an interrupt that lands between two steps there (the scheduler may yield at any
   * of them) is taken when the permit already has its owner — the interrupt handler while the call
   * runs, the settled outcome or the stream after it — so a probe is never left unrecorded.
   */
  const attempt = <A>(
    slot: Slot,
    model: string,
    run: (slot: Slot) => Effect.Effect<A, ChatError>,
    attempts: Array<Attempt>,
    onOpened: OnOpened<A> | undefined,
    deadlineAt: number,
    now: number
  ): Effect.Effect<Tried<A>, ChatError> => {
      // The checks before a call are plain code, not a generator: a skipped provider costs a few
      // microseconds on every call while its circuit is open.
      totals.attempts++
      if (!slot.enabled) return skip(slot, model, attempts, slot.name, "Disabled", undefined)
      if (slot.rateLimitedUntil > now) {
        return skip(slot, model, attempts, slot.name, "RateLimited", slot.rateLimitedUntil - now)
      }
      const key = `${slot.name}:${model}`
      const known = slot.knownOpen.get(key)
      if (known !== undefined) {
        if (now < known.until && breaker.changesUnsafe() === known.changes) {
          return skip(slot, model, attempts, key, "Open", known.until - now)
        }
        slot.knownOpen.delete(key)
      }
      slot.models.add(model)
      return Effect.uninterruptibleMask((restore) =>
        Effect.matchEffect(breaker.admit(key), {
          onFailure: (rejected) => {
            if (rejected.state === "Open" && rejected.retryAfterMillis !== undefined) {
              slot.knownOpen.set(key, { until: now + rejected.retryAfterMillis, changes: breaker.changesUnsafe() })
            }
            return skip(slot, model, attempts, key, rejected.state, rejected.retryAfterMillis)
          },
          onSuccess: (permit) => admitted(slot, model, run, attempts, onOpened, permit, now, deadlineAt, restore)
        })
      )
    }

  /**
   * `Effect.retry(once, schedule)` after `once` already failed with `first`: the first try runs
   * bare and the schedule is stepped only when it fails, so a call that succeeds at once (nearly
   * all) builds no schedule driver and provides no retry metadata. `first` is replayed as the
   * driver's first input; later tries run `once` again, exactly as under `Effect.retry`.
   */
  const retrying = <A>(
    slot: Slot,
    once: Effect.Effect<A, ChatError>,
    first: ChatError,
    deadlineAt: number
  ): Effect.Effect<A, ChatError> => {
    let replay = true
    const tried = Effect.suspend(() => {
      if (!replay) return once
      replay = false
      return Effect.fail(first)
    })
    // a retry whose backoff would end past the deadline is not made
    return Effect.retry(tried, slot.schedule.pipe(Schedule.while(({ duration, now: at }) => at + Duration.toMillis(duration) < deadlineAt)))
  }

  const admitted = <A>(
    slot: Slot,
    model: string,
    run: (slot: Slot) => Effect.Effect<A, ChatError>,
    attempts: Array<Attempt>,
    onOpened: OnOpened<A> | undefined,
    permit: CircuitBreaker.Permit,
    now: number,
    deadlineAt: number,
    restore: <X, EX>(effect: Effect.Effect<X, EX>) => Effect.Effect<X, EX>
  ): Effect.Effect<Tried<A>, ChatError> => {
    slot.requests++
    let tries = 0
    // an observed call also reports each retry with the reason of the try before it
    const observed = observer !== undefined && observer.observes(attempts)
    let lastReason = ""
    if (observed) observer.attemptStart(attempts, slot.name, model)
    const once = observed
      ? Effect.suspend(() => {
        tries++
        if (tries > 1) observer.retry(attempts, slot.name, model, tries, lastReason)
        return Effect.tapError(run(slot), (error) => Effect.sync(() => { lastReason = reasonTag(error) }))
      })
      : Effect.suspend(() => {
        tries++
        return run(slot)
      })
    // only the call (and its retries' waits) can be interrupted; the handler is in place before it starts
    return restore(
      slot.policy.retry.maxRetries > 0 ? Effect.catch(once, (first) => retrying(slot, once, first, deadlineAt)) : once
    ).pipe(
      Effect.onInterrupt(() =>
        Effect.gen(function*() {
          const at = yield* Clock.currentTimeMillis
          yield* breaker.record(permit, { _tag: "Ignored" })
          const interrupted: Attempt = {
            provider: slot.name,
            model,
            outcome: "failure",
            reason: "Interrupted",
            tries,
            latencyMillis: at - now
          }
          attempts.push(interrupted)
          if (observer !== undefined) observer.attemptFinish(attempts, interrupted)
        })
      ),
      Effect.matchEffect({
        onFailure: (error) =>
          error === deadlineHit
            ? Effect.andThen(settleDeadline(slot, model, permit, tries, now, attempts), Effect.fail(error))
            : Effect.andThen(settleFailure(slot, model, permit, error, tries, now, attempts), Effect.fail(error)),
        onSuccess: (value): Effect.Effect<Tried<A>> => {
          const tried = { value, permit, tries, started: now }
          if (onOpened === undefined) return settleSuccess(slot, model, permit, tries, now, attempts, tried)
          onOpened(slot, model, tried)
          return Effect.succeed(tried)
        }
      })
    )
  }

  /**
   * Tries the slots in order until one answers: a try that fails over moves on to the next slot,
   * the last one's to `AllProvidersFailed`. A failure that should not fail over leaves as a
   * `Result.fail` value, and the deadline passing as `AllProvidersFailed { deadlineExceeded }`.
   * (What `Effect.firstSuccessOf` over one effect per slot did, without building one per slot up
   * front nor a second catch per slot.)
   */
  const failover = <A>(
    slots: ReadonlyArray<Slot>,
    request: ChatRequest,
    run: (slot: Slot, request: ChatRequest) => Effect.Effect<A, ChatError>,
    attempts: Array<Attempt>,
    onOpened: OnOpened<A> | undefined,
    deadlineAt: number
  ): Effect.Effect<Result.Result<{ readonly slot: Slot; readonly tried: Tried<A> }, ChatError>, AllProvidersFailed> => {
    if (slots.length === 0) return Effect.fail(new AllProvidersFailed({ attempts: [...attempts] }))
    // model routing: whether some candidate serves the request's model (see `requestFor`)
    let served = false
    const allFailed = () =>
      served
        ? Effect.fail(new AllProvidersFailed({ attempts: [...attempts] }))
        : Effect.succeed(Result.fail(unservedModel(slots, request)))
    const runRequest = (slot: Slot) => run(slot, request)
    const deadlineExceeded = () =>
      Effect.succeed(Result.fail(new AllProvidersFailed({ attempts: [...attempts], deadlineExceeded: true })))
    // each candidate is a lazy effect: its attempt starts only if the ones before it failed over
    const from = (index: number): Effect.Effect<Result.Result<{ readonly slot: Slot; readonly tried: Tried<A> }, ChatError>, AllProvidersFailed> =>
      Effect.clockWith((clock) => {
        const now = clock.currentTimeMillisUnsafe()
        if (now >= deadlineAt) return deadlineExceeded()
        const slot = slots[index]!
        const next = index + 1 < slots.length ? () => from(index + 1) : allFailed
        const target = requestFor(slot, request)
        // a provider that does not serve the model is not a candidate: no attempt, no call
        if (target === undefined) {
          if (observer !== undefined) observer.skip(attempts, slot.name, request.model ?? "", "ModelNotServed")
          return next()
        }
        served = true
        const model = modelOf(slot, target)
        // one boolean for a provider that takes every request; the check itself only for the rest
        const refused = slot.limited ? Capabilities.refusal(slot.provider.capabilities, target) : undefined
        if (refused !== undefined) return Effect.catch(refuse(slot, model, attempts, refused), next)
        const runTarget = target === request ? runRequest : (candidate: Slot) => run(candidate, target)
        return Effect.matchEffect(attempt(slot, model, runTarget, attempts, onOpened, deadlineAt, now), {
          onSuccess: (tried) => Effect.succeed(Result.succeed({ slot, tried })),
          onFailure: (error) =>
            error === skippedSentinel
              ? next()
              : error === deadlineHit
              ? deadlineExceeded()
              : failsOver(error, slot.policy)
              ? (observer !== undefined && index + 1 < slots.length ? failoverFrom(slot, error, next) : next())
              : Effect.succeed(Result.fail(error))
        })
      })
    const failoverFrom = (slot: Slot, error: ChatError, next: () => ReturnType<typeof from>) => {
      observer!.failover(attempts, slot.name, reasonTag(error))
      return next()
    }
    return from(0)
  }

  const countOutcome = (attempts: ReadonlyArray<Attempt>, failed: boolean) => {
    for (let i = 0; i < attempts.length; i++) if (attempts[i]!.outcome !== "success") totals.failovers++
    if (failed) totals.failed++
  }
  return { countOutcome, failover, settleDeadline, settleFailure, settleSuccess, within }
}

export type Attempts = ReturnType<typeof makeAttempts>

/** What chat and stream failover are built from: one per router. */
export interface Deps {
  readonly breaker: CircuitBreaker.CircuitBreaker["Service"]
  readonly order: Ref.Ref<ReadonlyArray<Slot>>
  readonly routerPolicy: RouterPolicy.Resolved
  readonly totals: Totals
  readonly attempts: Attempts
  readonly observer: Observer | undefined
}
