/**
 * Failover across providers. The router is itself a `ChatProvider`: it tries providers by
 * priority, retries each with a `Schedule`, guards each (provider, model) with a circuit, skips
 * what is open, rate limited or disabled without a call, and records every attempt.
 *
 * **Chat.** Failover is `Effect.firstSuccessOf` over the candidates. A reason no provider can fix
 * (`InvalidRequest`, `ContentFiltered`, unless the policy says otherwise) leaves as a value so
 * `firstSuccessOf` stops at once and the caller gets the provider's own reason. When every
 * candidate fails, `AllProvidersFailed` lists each attempt. One deadline bounds the whole call
 * and interrupts whatever is in flight.
 *
 * **Streams.** A stream fails over freely until its first content part: an error, a cut or a
 * stall before any text moves on to the next provider, and the consumer never sees it. After
 * that the stream policy decides (`fail`, `restart`, `continue`; see `RouterPolicy`). The first
 * part is awaited under the first-token timeout, later parts under the idle timeout.
 *
 * Reasoning (`reasoning-delta`) is content here: it is the first token for the timeout, and once
 * the caller has seen it the stream policy decides. `restart` tells the caller to discard it with
 * the rest; `continue` prefills only the answer text (reasoning is never sent back as a prefill),
 * and when no text came yet it restarts instead, since there is nothing to continue from.
 *
 * Retries sit inside the breaker, so a circuit sees one outcome per attempt, not per try.
 *
 * @since 0.1.0
 */
import {
  Channel,
  Cause,
  Clock,
  Context,
  Data,
  Duration,
  Effect,
  Exit,
  Layer,
  LogLevel,
  Pull,
  Ref,
  References,
  Result,
  Schedule,
  Scope,
  Stream,
  type Tracer
} from "effect"
import { identity } from "effect/Function"
import type * as Arr from "effect/Array"
import * as Capabilities from "./Capabilities.ts"
import * as ChatProvider from "./ChatProvider.ts"
import type { ChatRequest, ToolCall } from "./ChatRequest.ts"
import type { ChatResponse } from "./ChatResponse.ts"
import * as CircuitBreaker from "./CircuitBreaker.ts"
import {
  AllProvidersFailed,
  type Attempt,
  type ChatError,
  CircuitOpen,
  ProviderError,
  reasonTag,
  StreamInterrupted,
  Timeout,
  Unsupported,
  withoutStackTrace
} from "./ProviderError.ts"
import * as RetryPolicy from "./RetryPolicy.ts"
import * as RouterPolicy from "./RouterPolicy.ts"
import type { StreamPart } from "./StreamPart.ts"
import * as Spans from "./Spans.ts"
import * as TimeLimit from "./TimeLimit.ts"
import { attemptLine, logAttempt, nextCallId, traced } from "./internal/router/CallLog.ts"
import {
  deadlineHit,
  failSkipped,
  failsOver,
  modelOf,
  type Opened,
  percentile,
  pullOf,
  recordLatency,
  type Slot,
  skippedSentinel,
  sortSlots,
  type Tried,
  withPrefill
} from "./internal/router/Slot.ts"

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

/**
 * One provider in the router: its layer, its priority (lower first; equal priorities keep the
 * declared order), whether it starts enabled, and policy fields that override the router's for
 * this provider only (retries, timeouts, stream policy).
 *
 * @category models
 */
export interface ProviderEntry<E = never, R = never> {
  readonly layer: Layer.Layer<ChatProvider.ChatProvider, E, R>
  readonly priority?: number | undefined
  readonly enabled?: boolean | undefined
  readonly policy?: RouterPolicy.Policy | undefined
}

/** @category models */
export interface Options<E = never, R = never> {
  readonly providers: ReadonlyArray<ProviderEntry<E, R> | Layer.Layer<ChatProvider.ChatProvider, E, R>>
  readonly policy?: RouterPolicy.Policy | undefined
}

// ---------------------------------------------------------------------------
// control service
// ---------------------------------------------------------------------------

/** A provider's health and counters, as `Router.status` reports them. No secrets. @category models */
export interface ProviderStatus {
  readonly name: string
  readonly position: number
  readonly priority: number
  readonly enabled: boolean
  readonly defaultModel: string
  /** Circuits of this provider, one per model used, keyed `provider:model`. */
  readonly circuits: ReadonlyArray<{ readonly key: string; readonly state: CircuitBreaker.State["_tag"] }>
  /** Clock millis until which a long Retry-After keeps the provider skipped. */
  readonly rateLimitedUntil: number | undefined
  readonly requests: number
  readonly successes: number
  readonly failures: number
  readonly skipped: number
  readonly successRate: number | undefined
  readonly latencyP50Millis: number | undefined
  readonly latencyP95Millis: number | undefined
  readonly lastError: { readonly reason: string; readonly message: string; readonly at: number } | undefined
}

/** Router-wide counters. @category models */
export interface Stats {
  readonly requests: number
  readonly attempts: number
  readonly failovers: number
  readonly failed: number
}

/** A provider name the router does not know. @category errors */
export class UnknownProvider extends Data.TaggedError("UnknownProvider")<{
  readonly name: string
  readonly known: ReadonlyArray<string>
}> {
  override get message(): string {
    return `unknown provider "${this.name}" (known: ${this.known.join(", ")})`
  }
}

/**
 * Runtime control of a router: order, enablement, status. Provided next to `ChatProvider` by
 * `Router.layer`.
 *
 * @category services
 */
export class Router extends Context.Service<Router, {
  /** Provider names in the order they are tried. */
  readonly order: Effect.Effect<ReadonlyArray<string>>
  /** Moves `name` to the front. */
  readonly setPrimary: (name: string) => Effect.Effect<void, UnknownProvider>
  /** Sets the order; names left out keep their relative order after the ones given. */
  readonly reorder: (names: ReadonlyArray<string>) => Effect.Effect<void, UnknownProvider>
  readonly disable: (name: string) => Effect.Effect<void, UnknownProvider>
  readonly enable: (name: string) => Effect.Effect<void, UnknownProvider>
  readonly status: Effect.Effect<ReadonlyArray<ProviderStatus>>
  readonly stats: Effect.Effect<Stats>
}>()("@flexiai/core/Router") {}

// ---------------------------------------------------------------------------
// internals
// ---------------------------------------------------------------------------

const isEntry = <E, R>(
  item: ProviderEntry<E, R> | Layer.Layer<ChatProvider.ChatProvider, E, R>
): item is ProviderEntry<E, R> => !Layer.isLayer(item)

// ---------------------------------------------------------------------------
// constructor
// ---------------------------------------------------------------------------

/**
 * Builds every provider layer in the current scope and returns the router's `ChatProvider` and
 * its `Router` control service.
 *
 * @category constructors
 */
export const make = Effect.fnUntraced(function*<E, R>(options: Options<E, R>) {
  const breaker = yield* CircuitBreaker.CircuitBreaker
  const scope = yield* Scope.Scope
  const routerPolicy = RouterPolicy.resolve(options.policy)

  const built: Array<Slot> = []
  for (const [index, item] of options.providers.entries()) {
    const entry: ProviderEntry<E, R> = isEntry(item) ? item : { layer: item }
    const context = yield* Layer.buildWithScope(entry.layer, scope)
    const provider = Context.get(context, ChatProvider.ChatProvider)
    if (built.some((slot) => slot.name === provider.name)) {
      return yield* Effect.die(new Error(`Router: two providers are named "${provider.name}" (entry ${index})`))
    }
    const policy = RouterPolicy.resolve(entry.policy, routerPolicy)
    built.push({
      name: provider.name,
      provider,
      priority: entry.priority ?? 0,
      policy,
      schedule: RetryPolicy.make(policy),
      models: new Set(),
      knownOpen: new Map(),
      limited: Capabilities.isLimited(provider.capabilities),
      enabled: entry.enabled ?? true,
      rateLimitedUntil: 0,
      requests: 0,
      successes: 0,
      failures: 0,
      skipped: 0,
      latencies: [],
      latencyCursor: 0,
      lastError: undefined
    })
  }
  const order = yield* Ref.make<ReadonlyArray<Slot>>(sortSlots(built))
  const totals = { requests: 0, attempts: 0, failovers: 0, failed: 0 }

  // -------------------------------------------------------------------------
  // one attempt on one provider: skip checks, breaker admission, retries, outcome
  // -------------------------------------------------------------------------

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
        const until = clock.currentTimeMillisUnsafe() + Duration.toMillis(retryAfter)
        slot.rateLimitedUntil = Math.max(slot.rateLimitedUntil, until)
      }
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
          tries
        },
        started,
        attempts,
        error
      )
    })

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
      return Effect.andThen(breaker.record(permit, outcome), logAttempt(settled, attempts.length))
    })

  const settleSuccess = (
    slot: Slot,
    model: string,
    permit: CircuitBreaker.Permit,
    tries: number,
    started: number,
    attempts: Array<Attempt>
  ) => settleWith(slot, model, permit, { _tag: "Success" }, { outcome: "success", tries }, started, attempts)

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
   * recorded only when `settle` is true (a stream settles later, when it ends).
   */
  const attempt = <A>(
    slot: Slot,
    model: string,
    run: Effect.Effect<A, ChatError>,
    attempts: Array<Attempt>,
    settle: boolean,
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
      return Effect.matchEffect(breaker.admit(key), {
        onFailure: (rejected) => {
          if (rejected.state === "Open" && rejected.retryAfterMillis !== undefined) {
            slot.knownOpen.set(key, { until: now + rejected.retryAfterMillis, changes: breaker.changesUnsafe() })
          }
          return skip(slot, model, attempts, key, rejected.state, rejected.retryAfterMillis)
        },
        onSuccess: (permit) => admitted(slot, model, run, attempts, settle, permit, now, deadlineAt)
      })
    }

  const admitted = <A>(
    slot: Slot,
    model: string,
    run: Effect.Effect<A, ChatError>,
    attempts: Array<Attempt>,
    settle: boolean,
    permit: CircuitBreaker.Permit,
    now: number,
    deadlineAt: number
  ): Effect.Effect<Tried<A>, ChatError> => {
    slot.requests++
    let tries = 0
    const once = Effect.suspend(() => {
      tries++
      return run
    })
    return once.pipe(
      // a retry whose backoff would end past the deadline is not made
      slot.policy.retry.maxRetries > 0
        ? Effect.retry(slot.schedule.pipe(Schedule.while(({ duration, now: at }) => at + Duration.toMillis(duration) < deadlineAt)))
        : identity,
      Effect.onInterrupt(() =>
        Effect.gen(function*() {
          const at = yield* Clock.currentTimeMillis
          yield* breaker.record(permit, { _tag: "Ignored" })
          attempts.push({
            provider: slot.name,
            model,
            outcome: "failure",
            reason: "Interrupted",
            tries,
            latencyMillis: at - now
          })
        })
      ),
      Effect.matchEffect({
        onFailure: (error) =>
          error === deadlineHit
            ? Effect.andThen(settleDeadline(slot, model, permit, tries, now, attempts), Effect.fail(error))
            : Effect.andThen(settleFailure(slot, model, permit, error, tries, now, attempts), Effect.fail(error)),
        onSuccess: (value): Effect.Effect<Tried<A>> => {
          const tried = { value, permit, tries, started: now }
          return settle ? Effect.as(settleSuccess(slot, model, permit, tries, now, attempts), tried) : Effect.succeed(tried)
        }
      })
    )
  }

  /**
   * `firstSuccessOf` over the slots. A failure that should not fail over leaves as a
   * `Result.fail` value, which `firstSuccessOf` counts as a success and so stops at.
   */
  const failover = <A>(
    slots: ReadonlyArray<Slot>,
    request: ChatRequest,
    run: (slot: Slot) => Effect.Effect<A, ChatError>,
    attempts: Array<Attempt>,
    settle: boolean,
    deadlineAt: number
  ): Effect.Effect<Result.Result<{ readonly slot: Slot; readonly tried: Tried<A> }, ChatError>, AllProvidersFailed> => {
    const deadlineExceeded = () =>
      Effect.succeed(Result.fail(new AllProvidersFailed({ attempts: [...attempts], deadlineExceeded: true })))
    return slots.length === 0
      ? Effect.fail(new AllProvidersFailed({ attempts: [...attempts] }))
      // each candidate is a lazy effect: its attempt starts only if the ones before it failed over
      : Effect.firstSuccessOf(slots.map((slot) =>
        Effect.clockWith((clock) => {
          const now = clock.currentTimeMillisUnsafe()
          if (now >= deadlineAt) return deadlineExceeded()
          // one boolean for a provider that takes every request; the check itself only for the rest
          const refused = slot.limited ? Capabilities.refusal(slot.provider.capabilities, request) : undefined
          return refused !== undefined
            ? refuse(slot, modelOf(slot, request), attempts, refused)
            : attempt(slot, modelOf(slot, request), Effect.suspend(() => run(slot)), attempts, settle, deadlineAt, now).pipe(
              Effect.matchEffect({
                onSuccess: (tried) => Effect.succeed(Result.succeed({ slot, tried })),
                onFailure: (error) =>
                  error === skippedSentinel
                    ? Effect.fail(error)
                    : error === deadlineHit
                    ? deadlineExceeded()
                    : failsOver(error, slot.policy)
                    ? Effect.fail(error)
                    : Effect.succeed(Result.fail(error))
              })
            )
        })
      )).pipe(
        Effect.catch(() => Effect.fail(new AllProvidersFailed({ attempts: [...attempts] })))
      )
  }

  const countOutcome = (attempts: ReadonlyArray<Attempt>, failed: boolean) => {
    totals.failovers += attempts.filter((attempt) => attempt.outcome !== "success").length
    if (failed) totals.failed++
  }

  // -------------------------------------------------------------------------
  // chat
  // -------------------------------------------------------------------------

  // Combinators rather than a generator: this runs on every call, and each step counts there.
  const chat = (request: ChatRequest): Effect.Effect<ChatResponse, ChatError> =>
    Effect.clockWith((clock) => {
      const started = clock.currentTimeMillisUnsafe()
      const attempts: Array<Attempt> = []
      totals.requests++
      const deadlineAt = started + Duration.toMillis(routerPolicy.deadline)
      return Effect.flatMap(Ref.get(order), (slots) =>
        failover(
          slots,
          request,
          (slot) =>
            within(slot.provider.chat(request), slot.policy.attemptTimeout, deadlineAt, () =>
              new ProviderError({
                provider: slot.name,
                model: modelOf(slot, request),
                reason: new Timeout({
                  message: `no answer within ${Duration.format(slot.policy.attemptTimeout)}`,
                  phase: "total",
                  afterMillis: Duration.toMillis(slot.policy.attemptTimeout)
                })
              })),
          attempts,
          true,
          deadlineAt
        ).pipe(
          Effect.matchEffect({
            onFailure: (error) => {
              countOutcome(attempts, true)
              return Effect.fail(error)
            },
            onSuccess: (outcome): Effect.Effect<ChatResponse, ChatError> => {
              countOutcome(attempts, Result.isFailure(outcome))
              if (Result.isFailure(outcome)) return Effect.fail(outcome.failure)
              const latencyMillis = clock.currentTimeMillisUnsafe() - started
              return Effect.succeed({ ...outcome.success.tried.value, attempts, latencyMillis })
            }
          })
        ))
    }).pipe(traced("Router.chat", request))

  // -------------------------------------------------------------------------
  // stream
  // -------------------------------------------------------------------------

  /**
   * Opens `slot`'s stream and pulls until the first content part (or a complete empty answer),
   * under the first-token timeout. Whatever fails here fails over like a chat call; the stream's
   * own scope is closed on failure, which cancels the request.
   */
  const open = (slot: Slot, request: ChatRequest, deadlineAt: number): Effect.Effect<Opened, ChatError> =>
    // combinators rather than generators: this is on the way to the first token
    Effect.flatMap(Scope.make(), (streamScope) => {
      const timeout = Duration.min(slot.policy.firstTokenTimeout, slot.policy.attemptTimeout)
      const opening = Effect.flatMap(
        pullOf(slot.provider.stream(request), streamScope),
        (pull): Effect.Effect<Opened, ChatError> => {
          const buffered: Array<StreamPart> = []
          const untilContent: Effect.Effect<Opened, ChatError> = Effect.flatMap(
            Pull.catchDone(pull, () => Effect.succeed(undefined)),
            (chunk) => {
              if (chunk === undefined) {
                return Effect.fail(
                  new ProviderError({
                    provider: slot.name,
                    model: modelOf(slot, request),
                    reason: new StreamInterrupted({
                      message: "stream ended before any content or finish",
                      partialText: ""
                    })
                  })
                )
              }
              buffered.push(...chunk)
              const finished = chunk.some((part) => part.type === "finish")
              return finished || chunk.some((part) => part.type !== "finish")
                ? Effect.succeed({ pull, scope: streamScope, buffered, finished })
                : untilContent
            }
          )
          return untilContent
        }
      )
      return within(opening, timeout, deadlineAt, () =>
        new ProviderError({
          provider: slot.name,
          model: modelOf(slot, request),
          reason: new Timeout({
            message: `no content within ${Duration.format(timeout)}`,
            phase: "first-token",
            afterMillis: Duration.toMillis(timeout)
          })
        })).pipe(Effect.onError(() => Scope.close(streamScope, Exit.void)))
    })

  // Built from a channel transform rather than `Stream.unwrap`, and set up with combinators rather
  // than a generator: this is on the way to the first token. (`unwrap` runs its setup under a
  // provided scope and puts an extra step in front of every pull.)
  const stream = (request: ChatRequest): Stream.Stream<StreamPart, ChatError> =>
    Stream.fromChannel(Channel.fromTransform((_, outerScope: Scope.Scope) =>
      Effect.flatMap(Ref.get(order), (slots) =>
        Effect.clockWith((clock) => {
          // One span for the stream's life and the call's id on its log lines, applied only where
          // the router does something worth a log line or a child span (opening, switching,
          // settling): `Stream.withSpan` and a per-pull annotation held about 5 KiB per open stream.
          const callId = nextCallId()
          const started = clock.currentTimeMillisUnsafe()
          return Effect.flatMap(
            Spans.makeIn(outerScope, "Router.stream", { "flexiai.call_id": callId }),
            (span) => streamOn(request, outerScope, slots, started, callId, span)
          )
        }))))

  const streamOn = (
    request: ChatRequest,
    outerScope: Scope.Scope,
    slots: ReadonlyArray<Slot>,
    started: number,
    callId: string,
    span: Tracer.Span | undefined
  ): Effect.Effect<Pull.Pull<Arr.NonEmptyReadonlyArray<StreamPart>, ChatError>> => {
    const deadlineAt = started + Duration.toMillis(routerPolicy.deadline)
    const attempts: Array<Attempt> = []
    let remaining = slots
    totals.requests++
    const inCall = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> => {
      const annotated = Effect.annotateLogs(effect, "callId", callId)
      return span === undefined ? annotated : Effect.withParentSpan(annotated, span, { captureStackTrace: false })
    }

    let current: { slot: Slot; model: string; opened: Opened; tried: Tried<Opened>; settled: boolean } | undefined
    let queue: Array<StreamPart> = []
    let done = false
    // what the consumer has received of the current answer, for StreamInterrupted and `continue`
    let text = ""
    const toolCalls: Array<ToolCall> = []
    let openToolCalls = 0
    // reasoning counts as delivered content (it cannot be unseen), but it is never prefilled:
    // a broken block has no signature and another provider could not take it back anyway
    let reasoningDelivered = false

    const track = (parts: ReadonlyArray<StreamPart>): Array<StreamPart> => {
      const out: Array<StreamPart> = []
      for (const part of parts) {
        switch (part.type) {
          case "text-delta":
            text += part.text
            break
          case "reasoning-delta":
            reasoningDelivered = true
            break
          case "tool-call-delta":
            if (part.id !== undefined) openToolCalls++
            break
          case "tool-call":
            toolCalls.push(part.toolCall)
            openToolCalls = Math.max(0, openToolCalls - 1)
            break
          case "finish":
            done = true
            out.push({ ...part, attempts: [...attempts] })
            continue
        }
        out.push(part)
      }
      return out
    }

    const closeCurrent = Effect.suspend(() => {
      const active = current
      current = undefined
      return active === undefined ? Effect.void : Scope.close(active.opened.scope, Exit.void)
    })

    let failed = false
    const settleOnClose = Scope.addFinalizer(
      outerScope,
      Effect.suspend(() => {
        countOutcome(attempts, failed)
        const active = current
        if (active === undefined) return Effect.void
        if (active.settled) return closeCurrent
        // the consumer stopped early: neither a success nor a failure of the provider
        return breaker.record(active.tried.permit, { _tag: "Ignored" }).pipe(Effect.andThen(closeCurrent))
      })
    )

    // the candidates are read when the effect runs: `remaining` shrinks as providers are used up
    const openNext = (target: ChatRequest, requirePrefill: boolean) =>
      inCall(Effect.suspend(() => {
        const candidates = requirePrefill
          ? remaining.filter((slot) => slot.provider.capabilities.assistantPrefill)
          : remaining
        return Effect.flatMap(
          failover(candidates, target, (slot) => open(slot, target, deadlineAt), attempts, false, deadlineAt),
          (outcome) => {
            if (Result.isFailure(outcome)) return Effect.fail(outcome.failure)
            const { slot, tried } = outcome.success
            remaining = remaining.slice(remaining.indexOf(slot) + 1)
            current = { slot, model: modelOf(slot, target), opened: tried.value, tried, settled: false }
            const opened = { provider: slot.name, parts: tried.value.buffered }
            return tried.value.finished ? Effect.as(finishCurrent, opened) : Effect.succeed(opened)
          }
        )
      }))

    // The answer is complete: record the success (so the finish part's attempts hold it) and
    // close the provider's stream. Providers read their body to its end before handing out the
    // finish part, so closing here returns the connection rather than aborting it.
    const finishCurrent = Effect.suspend(() => {
      const active = current
      if (active === undefined || active.settled) return Effect.void
      active.settled = true
      return inCall(
        settleSuccess(active.slot, active.model, active.tried.permit, active.tried.tries, active.tried.started, attempts)
      ).pipe(Effect.andThen(closeCurrent))
    })

    const midStream = (error: ChatError): Effect.Effect<Array<StreamPart>, ChatError> =>
      inCall(Effect.gen(function*() {
        const active = current!
        yield* settleFailure(
          active.slot,
          active.model,
          active.tried.permit,
          error,
          active.tried.tries,
          active.tried.started,
          attempts
        )
        yield* closeCurrent
        // a provider's own StreamInterrupted (a cut body) is not wrapped twice: its cause is kept
        const inner = error._tag === "ProviderError" && error.reason._tag === "StreamInterrupted" ? error.reason : undefined
        const interrupted = new ProviderError({
          provider: active.slot.name,
          model: active.model,
          reason: new StreamInterrupted({
            message: `stream broke after content was delivered: ${inner?.message ?? error.message}`,
            partialText: text,
            ...(toolCalls.length === 0 ? {} : { partialToolCalls: [...toolCalls] }),
            cause: inner?.cause ?? reasonTag(error),
            attempts: attempts.map(({ error: _error, ...summary }) => summary)
          })
        })
        const policy = active.slot.policy.streamPolicy
        if (policy === "fail") return yield* Effect.fail(interrupted)
        // with only reasoning delivered there is no answer text to continue from: restart instead,
        // which tells the consumer to discard the reasoning it has seen
        if (policy === "continue" && openToolCalls === 0 && toolCalls.length === 0 && (text !== "" || !reasoningDelivered)) {
          const resumed = yield* Effect.result(openNext(withPrefill(request, text), true))
          if (Result.isSuccess(resumed)) {
            const resume: StreamPart = { type: "resume", provider: resumed.success.provider, reason: reasonTag(error) }
            return [resume, ...track(resumed.success.parts)]
          }
        }
        const restarted = yield* Effect.result(openNext(request, false))
        if (Result.isFailure(restarted)) return yield* Effect.fail(interrupted)
        text = ""
        toolCalls.length = 0
        openToolCalls = 0
        reasoningDelivered = false
        const restart: StreamPart = { type: "restart", provider: restarted.success.provider, reason: reasonTag(error) }
        return [restart, ...track(restarted.success.parts)]
      }))

    const nextParts: Effect.Effect<Array<StreamPart>, ChatError> = Effect.suspend(() => {
      const active = current
      if (active === undefined) {
        return openNext(request, false).pipe(Effect.map((opened) => track(opened.parts)))
      }
      const idle = active.slot.policy.idleTimeout
      return active.opened.pull.pipe(
        (pull) =>
          TimeLimit.within(pull, idle, () =>
            new ProviderError({
              provider: active.slot.name,
              model: active.model,
              reason: new Timeout({
                message: `no stream data for ${Duration.format(idle)}`,
                phase: "idle",
                afterMillis: Duration.toMillis(idle)
              })
            })),
        Pull.matchEffect({
          onSuccess: (chunk) =>
            // settle first, so the finish part's attempts already hold this success
            chunk.some((part) => part.type === "finish")
              ? Effect.andThen(finishCurrent, Effect.sync(() => track(chunk)))
              : Effect.sync(() => track(chunk)),
          onFailure: (cause) => {
            const failure = Cause.findErrorOption(cause)
            return failure._tag === "Some" ? midStream(failure.value) : Effect.failCause(cause)
          },
          onDone: () =>
            midStream(
              new ProviderError({
                provider: active.slot.name,
                model: active.model,
                reason: new StreamInterrupted({ message: "stream ended without a finish", partialText: text })
              })
            )
        })
      )
    })

    const pull: Pull.Pull<Arr.NonEmptyReadonlyArray<StreamPart>, ChatError> = Effect.suspend(() => {
      if (queue.length > 0) {
        const out = queue as unknown as Arr.NonEmptyReadonlyArray<StreamPart>
        queue = []
        return Effect.succeed(out)
      }
      if (done) return Cause.done()
      return Effect.flatMap(nextParts, (parts) => {
        queue = parts
        return pull
      }).pipe(Effect.tapError(() => Effect.sync(() => { failed = true })))
    })
    return Effect.as(settleOnClose, pull)
  }

  // -------------------------------------------------------------------------
  // control
  // -------------------------------------------------------------------------

  const find = (name: string) =>
    Effect.flatMap(Ref.get(order), (slots) => {
      const slot = slots.find((candidate) => candidate.name === name)
      return slot === undefined
        ? Effect.fail(new UnknownProvider({ name, known: slots.map((candidate) => candidate.name) }))
        : Effect.succeed(slot)
    })

  const reorder = (names: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      for (const name of names) yield* find(name)
      yield* Ref.update(order, (slots) => [
        ...names.map((name) => slots.find((slot) => slot.name === name)!),
        ...slots.filter((slot) => !names.includes(slot.name))
      ])
    })

  const status = Effect.gen(function*() {
    const slots = yield* Ref.get(order)
    const now = yield* Clock.currentTimeMillis
    const result: Array<ProviderStatus> = []
    for (const [position, slot] of slots.entries()) {
      const circuits: Array<{ key: string; state: CircuitBreaker.State["_tag"] }> = []
      for (const model of slot.models) {
        const key = `${slot.name}:${model}`
        circuits.push({ key, state: (yield* breaker.state(key))._tag })
      }
      const settled = slot.successes + slot.failures
      result.push({
        name: slot.name,
        position,
        priority: slot.priority,
        enabled: slot.enabled,
        defaultModel: slot.provider.defaultModel,
        circuits,
        rateLimitedUntil: slot.rateLimitedUntil > now ? slot.rateLimitedUntil : undefined,
        requests: slot.requests,
        successes: slot.successes,
        failures: slot.failures,
        skipped: slot.skipped,
        successRate: settled === 0 ? undefined : slot.successes / settled,
        latencyP50Millis: percentile(slot.latencies, 0.5),
        latencyP95Millis: percentile(slot.latencies, 0.95),
        lastError: slot.lastError === undefined ? undefined : { ...slot.lastError }
      })
    }
    return result
  })

  const control = Router.of({
    order: Effect.map(Ref.get(order), (slots) => slots.map((slot) => slot.name)),
    setPrimary: (name) => reorder([name]),
    reorder,
    disable: (name) => Effect.map(find(name), (slot) => { slot.enabled = false }),
    enable: (name) => Effect.map(find(name), (slot) => { slot.enabled = true }),
    status,
    stats: Effect.sync(() => ({ ...totals }))
  })

  const first = sortSlots(built)[0]
  const provider = ChatProvider.ChatProvider.of({
    name: "router",
    defaultModel: first?.provider.defaultModel ?? "",
    capabilities: {
      streaming: built.some((slot) => slot.provider.capabilities.streaming),
      tools: built.some((slot) => slot.provider.capabilities.tools),
      images: built.some((slot) => slot.provider.capabilities.images),
      jsonSchema: built.some((slot) => slot.provider.capabilities.jsonSchema),
      assistantPrefill: built.some((slot) => slot.provider.capabilities.assistantPrefill)
    },
    chat,
    stream
  })
  return { provider, control }
})

// ---------------------------------------------------------------------------
// layers
// ---------------------------------------------------------------------------

/**
 * The router as a layer: provides `ChatProvider` (the failover router) and `Router` (control
 * and status). Needs a `CircuitBreaker`; `CircuitBreaker.layerMemory()` keeps circuits in
 * this process.
 *
 * **Example**
 *
 * ```ts
 * const AppLayer = Router.layer({
 *   providers: [OpenAiLayer, { layer: AnthropicLayer, priority: 1 }],
 *   policy: { streamPolicy: "restart", deadline: "30 seconds" }
 * }).pipe(Layer.provide(CircuitBreaker.layerMemory()))
 * ```
 *
 * @category layers
 */
export const layer = <E = never, R = never>(
  options: Options<E, R>
): Layer.Layer<ChatProvider.ChatProvider | Router, E, Exclude<R, Scope.Scope> | CircuitBreaker.CircuitBreaker> =>
  Layer.effectContext(
    Effect.map(make(options), ({ control, provider }) =>
      Context.make(ChatProvider.ChatProvider, provider).pipe(Context.add(Router, control)))
  )
