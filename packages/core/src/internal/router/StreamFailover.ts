/**
 * Stream failover: a stream fails over freely until its first content part (reasoning included);
 * after that the stream policy decides (`fail`, `restart`, `continue`). Tracks what the consumer
 * has received, for `StreamInterrupted` and the `continue` prefill, and settles the provider's
 * attempt when the answer finishes, breaks, passes the call's deadline, or the consumer stops early.
 *
 * Ownership, so that an interrupt at any step leaks nothing: a provider's stream lives in a scope
 * forked from the caller's; its attempt's permit belongs to `Attempt` until the step that opened
 * the stream hands it to `current` (`take`), and from then to `settleOnce` or `settleOnClose`.
 *
 * Internal. Built from a channel transform and combinators, not `Stream.unwrap` or generators:
 * this is on the way to the first token and on every chunk.
 */
import { Cause, Channel, Clock, Duration, Effect, Exit, Pull, Ref, Result, Scope, Stream, type Tracer } from "effect"
import type * as Arr from "effect/Array"
import type { ChatRequest, ToolCall } from "../../ChatRequest.ts"
import {
  type Attempt,
  type ChatError,
  ProviderError,
  reasonTag,
  StreamInterrupted,
  Timeout
} from "../../ProviderError.ts"
import * as GenAiSpans from "../../GenAiSpans.ts"
import * as Reasoning from "../../Reasoning.ts"
import * as RouterPolicy from "../../RouterPolicy.ts"
import type { Finish, ReasoningDelta, StreamPart } from "../../StreamPart.ts"
import * as Spans from "../../Spans.ts"
import * as TimeLimit from "../../TimeLimit.ts"
import type { Deps, OnOpened } from "./Attempt.ts"
import { candidates, CurrentCallOptions, type Resolved } from "./CallOptions.ts"
import { nextCallId, PresetCallId } from "./CallLog.ts"
import { deadlineHit, modelOf, type Opened, pullOf, type Slot, type Tried, withPrefill } from "./Slot.ts"

/** The provider stream the consumer is reading now, and whether its attempt is settled. */
interface Current {
  readonly slot: Slot
  readonly model: string
  readonly opened: Opened
  readonly tried: Tried<Opened>
  settled: boolean
}

export const makeStream = (
  {
    attempts: { countOutcome, failover, settleDeadline, settleFailure, settleSuccess, within },
    breaker,
    observer,
    order,
    routerPolicy,
    totals
  }: Deps
) => {
  /**
   * Opens `slot`'s stream and pulls until the first content part (or a complete empty answer),
   * under the first-token timeout. Whatever fails here fails over like a chat call; the stream's
   * own scope is closed on failure, which cancels the request.
   *
   * The stream's scope is forked from the caller's (`callerScope`): if the caller goes away at
   * any step before the router has taken the stream over (an interrupt between two steps, which
   * no handler here sees), closing the caller's scope still closes the response.
   */
  const open = (
    slot: Slot,
    request: ChatRequest,
    deadlineAt: number,
    callerScope: Scope.Scope,
    options: Resolved | undefined
  ): Effect.Effect<Opened, ChatError> =>
    // combinators rather than generators: this is on the way to the first token
    Effect.suspend(() => {
      const streamScope = Scope.forkUnsafe(callerScope)
      const timeout = Duration.min(slot.policy.firstTokenTimeout, slot.policy.attemptTimeout)
      // the policy's malformed-event rule reaches the provider's stream decoder through its context
      const pulled = Effect.provideService(
        pullOf(slot.provider.stream(request), streamScope),
        RouterPolicy.OnMalformedEvent,
        slot.policy.onMalformedEvent
      )
      const opening = Effect.flatMap(
        // per-call options are this router's: a router among its providers does not see them
        options === undefined ? pulled : Effect.provideService(pulled, CurrentCallOptions, undefined),
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

  // the opening of a provider's stream (to its first content part) in its own GenAI span
  // (`GenAiSpans`), for a call traced at all; the call's span covers the whole stream
  const openInSpan = (
    slot: Slot,
    request: ChatRequest,
    deadlineAt: number,
    callerScope: Scope.Scope,
    options: Resolved | undefined
  ): Effect.Effect<Opened, ChatError> =>
    GenAiSpans.inAttemptSpan(
      open(slot, request, deadlineAt, callerScope, options),
      slot.name,
      request,
      modelOf(slot, request),
      () => undefined,
      reasonTag
    )

  // Built from a channel transform rather than `Stream.unwrap`, and set up with combinators rather
  // than a generator: this is on the way to the first token. (`unwrap` runs its setup under a
  // provided scope and puts an extra step in front of every pull.)
  const stream = (request: ChatRequest): Stream.Stream<StreamPart, ChatError> =>
    Stream.fromChannel(Channel.fromTransform((_, outerScope: Scope.Scope) =>
      Effect.flatMap(Ref.get(order), (slots) =>
        Effect.withFiber((fiber) => {
          const clock = fiber.getRef(Clock.Clock)
          // per-call options (`Router.withCallOptions`): one reference read, `undefined` unless set
          const options = fiber.getRef(CurrentCallOptions)
          // One span for the stream's life and the call's id on its log lines, applied only where
          // the router does something worth a log line or a child span (opening, switching,
          // settling): `Stream.withSpan` and a per-pull annotation held about 5 KiB per open stream.
          const callId = fiber.getRef(PresetCallId) ?? nextCallId()
          const started = clock.currentTimeMillisUnsafe()
          return Effect.flatMap(
            Spans.makeIn(outerScope, "Router.stream", { "flexiai.call_id": callId }),
            (span) => streamOn(request, outerScope, slots, clock, started, callId, span, options)
          )
        }))))

  const streamOn = (
    request: ChatRequest,
    outerScope: Scope.Scope,
    slots: ReadonlyArray<Slot>,
    clock: Clock.Clock,
    started: number,
    callId: string,
    span: Tracer.Span | undefined,
    options: Resolved | undefined
  ): Effect.Effect<Pull.Pull<Arr.NonEmptyReadonlyArray<StreamPart>, ChatError>> => {
    const deadline = options?.deadline ?? routerPolicy.deadline
    const deadlineAt = started + Duration.toMillis(deadline)
    const attempts: Array<Attempt> = []
    let remaining = options === undefined ? slots : candidates(slots, options)
    totals.requests++
    if (observer !== undefined) observer.begin(attempts, callId, "stream", clock, started, request.model)
    // whether this call's first token is still to be told (false for a call nobody observes)
    let awaitingFirstToken = observer !== undefined && observer.observes(attempts)
    if (span !== undefined) GenAiSpans.annotateRequest(span, request)
    // the finish part the consumer got, for the call's span and its `call-finish` event
    let finished: Finish | undefined
    const inCall = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> => {
      const annotated = Effect.annotateLogs(effect, "callId", callId)
      return span === undefined ? annotated : Effect.withParentSpan(annotated, span, { captureStackTrace: false })
    }

    let current: Current | undefined
    let queue: Array<StreamPart> = []
    let done = false
    // what the consumer has received of the current answer, for StreamInterrupted and `continue`
    // kept as its pieces, joined when read: a `+=` rope keeps one more object alive per delta for
    // the whole stream (see the kit's `Accumulators.Text`)
    let pieces: Array<string> = []
    const text = (): string => pieces.join("")
    const toolCalls: Array<ToolCall> = []
    let openToolCalls = 0
    // reasoning counts as delivered content (it cannot be unseen), but it is never prefilled:
    // a broken block has no signature and another provider could not take it back anyway. Its
    // deltas are kept as they came and joined into blocks only for a StreamInterrupted.
    let reasoningDelivered = false
    let reasoningDeltas: Array<ReasoningDelta> = []

    const track = (parts: ReadonlyArray<StreamPart>): Array<StreamPart> => {
      const out: Array<StreamPart> = []
      if (awaitingFirstToken && current !== undefined) {
        for (const part of parts) {
          if (part.type !== "finish" && part.type !== "restart" && part.type !== "resume") {
            observer!.firstToken(attempts, current.slot.name, current.model)
            awaitingFirstToken = false
            break
          }
        }
      }
      for (const part of parts) {
        switch (part.type) {
          case "text-delta":
            if (part.text !== "") pieces.push(part.text)
            break
          case "reasoning-delta":
            reasoningDelivered = true
            reasoningDeltas.push(part)
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
            finished = part
            if (span !== undefined) GenAiSpans.annotateAnswer(span, part)
            // the attempt is settled by now (its attempt-finish is out): its cost follows it
            if (observer !== undefined) observer.answerCost(attempts, part.provider, part.model, part.cost, part.usage)
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
    let failedReason: string | undefined
    const settleOnClose = Scope.addFinalizer(
      outerScope,
      Effect.suspend(() => {
        countOutcome(attempts, failed)
        if (observer !== undefined && observer.observes(attempts)) {
          observer.finish(
            attempts,
            finished === undefined
              // no finish and no error: the consumer stopped reading (or was interrupted) first
              ? { outcome: "failure", reason: failedReason ?? "Cancelled" }
              : { outcome: "success", ...finished }
          )
        }
        const active = current
        if (active === undefined) return Effect.void
        if (active.settled) return closeCurrent
        // the consumer stopped early: neither a success nor a failure of the provider
        return breaker.record(active.tried.permit, { _tag: "Ignored" }).pipe(Effect.andThen(closeCurrent))
      })
    )

    // The router takes an opened stream over in the step that produced it (see `OnOpened`): from
    // then on `settleOnClose` records its permit and closes it, whatever happens next.
    const take: OnOpened<Opened> = (slot, model, tried) => {
      remaining = remaining.slice(remaining.indexOf(slot) + 1)
      current = { slot, model, opened: tried.value, tried, settled: false }
    }

    // a provider's opening in its own span when the call has one (a tracer was installed)
    const openSlot = span === undefined
      ? (slot: Slot, sent: ChatRequest) => open(slot, sent, deadlineAt, outerScope, options)
      : (slot: Slot, sent: ChatRequest) => openInSpan(slot, sent, deadlineAt, outerScope, options)

    // the candidates are read when the effect runs: `remaining` shrinks as providers are used up
    const openNext = (target: ChatRequest, requirePrefill: boolean) =>
      inCall(Effect.suspend(() => {
        const usable = requirePrefill
          ? remaining.filter((slot) => slot.provider.capabilities.assistantPrefill)
          : remaining
        return Effect.flatMap(
          failover(usable, target, openSlot, attempts, take, deadlineAt),
          (outcome) => {
            if (Result.isFailure(outcome)) return Effect.fail(outcome.failure)
            const { slot, tried } = outcome.success
            const opened = { provider: slot.name, parts: tried.value.buffered }
            return tried.value.finished ? Effect.as(finishCurrent, opened) : Effect.succeed(opened)
          }
        )
      }))

    // Settles the current attempt once: the flag and the record in one uninterruptible step, so an
    // interrupt leaves the permit either recorded here or to `settleOnClose`, never to neither.
    const settleOnce = (active: Current, record: Effect.Effect<void>): Effect.Effect<void> =>
      Effect.uninterruptible(Effect.suspend(() => {
        if (active.settled) return Effect.void
        active.settled = true
        return inCall(record)
      }))

    // The answer is complete: record the success (so the finish part's attempts hold it) and
    // close the provider's stream. Providers read their body to its end before handing out the
    // finish part, so closing here returns the connection rather than aborting it.
    const finishCurrent = Effect.suspend(() => {
      const active = current
      if (active === undefined) return Effect.void
      return Effect.andThen(
        settleOnce(
          active,
          settleSuccess(active.slot, active.model, active.tried.permit, active.tried.tries, active.tried.started, attempts, undefined)
        ),
        closeCurrent
      )
    })

    // What the consumer has received of the current answer, and every attempt so far
    const interruptedOf = (active: Current, message: string, cause: string): ProviderError =>
      new ProviderError({
        provider: active.slot.name,
        model: active.model,
        reason: new StreamInterrupted({
          message,
          partialText: text(),
          ...(toolCalls.length === 0 ? {} : { partialToolCalls: [...toolCalls] }),
          ...(reasoningDeltas.length === 0 ? {} : { partialReasoning: Reasoning.fromDeltas(reasoningDeltas) }),
          cause,
          attempts: attempts.map(({ error: _error, ...summary }) => summary)
        })
      })

    // The call's deadline passed after content: the stream fails with what was delivered, whatever
    // the stream policy (no attempt starts past the deadline), and the attempt it cut short does
    // not count against the provider's circuit.
    const pastDeadline = (active: Current): Effect.Effect<never, ChatError> =>
      settleOnce(
        active,
        settleDeadline(active.slot, active.model, active.tried.permit, active.tried.tries, active.tried.started, attempts)
      ).pipe(
        Effect.andThen(closeCurrent),
        Effect.andThen(Effect.suspend(() =>
          Effect.fail(interruptedOf(
            active,
            `the call's deadline (${Duration.format(deadline)}) passed after content was delivered`,
            "DeadlineExceeded"
          ))
        ))
      )

    const midStream = (error: ChatError): Effect.Effect<Array<StreamPart>, ChatError> =>
      inCall(Effect.gen(function*() {
        const active = current!
        yield* settleOnce(
          active,
          settleFailure(active.slot, active.model, active.tried.permit, error, active.tried.tries, active.tried.started, attempts)
        )
        yield* closeCurrent
        // a provider's own StreamInterrupted (a cut body) is not wrapped twice: its cause is kept
        const inner = error._tag === "ProviderError" && error.reason._tag === "StreamInterrupted" ? error.reason : undefined
        const interrupted = interruptedOf(
          active,
          `stream broke after content was delivered: ${inner?.message ?? error.message}`,
          inner?.cause ?? reasonTag(error)
        )
        const policy = active.slot.policy.streamPolicy
        if (policy === "fail") return yield* Effect.fail(interrupted)
        // with only reasoning delivered there is no answer text to continue from: restart instead,
        // which tells the consumer to discard the reasoning it has seen
        if (policy === "continue" && openToolCalls === 0 && toolCalls.length === 0 && (pieces.length > 0 || !reasoningDelivered)) {
          const resumed = yield* Effect.result(openNext(withPrefill(request, text()), true))
          if (Result.isSuccess(resumed)) {
            const resume: StreamPart = { type: "resume", provider: resumed.success.provider, reason: reasonTag(error) }
            if (observer !== undefined) observer.switched(attempts, "stream-resume", resume.provider, resume.reason)
            return [resume, ...track(resumed.success.parts)]
          }
        }
        const restarted = yield* Effect.result(openNext(request, false))
        if (Result.isFailure(restarted)) return yield* Effect.fail(interrupted)
        pieces = []
        toolCalls.length = 0
        openToolCalls = 0
        reasoningDelivered = false
        reasoningDeltas = []
        const restart: StreamPart = { type: "restart", provider: restarted.success.provider, reason: reasonTag(error) }
        if (observer !== undefined) observer.switched(attempts, "stream-restart", restart.provider, restart.reason)
        return [restart, ...track(restarted.success.parts)]
      }))

    const nextParts: Effect.Effect<Array<StreamPart>, ChatError> = Effect.suspend(() => {
      const active = current
      if (active === undefined) {
        return openNext(request, false).pipe(Effect.map((opened) => track(opened.parts)))
      }
      // The deadline needs no timer of its own: it shortens the idle limit every read already has
      // (one clock read per read, none per part), and a read that starts past it is not made.
      const left = deadlineAt - clock.currentTimeMillisUnsafe()
      if (left <= 0) return pastDeadline(active)
      const idle = active.slot.policy.idleTimeout
      const read = left < Duration.toMillis(idle)
        ? TimeLimit.within(active.opened.pull, Duration.millis(left), () => deadlineHit)
        : TimeLimit.within(active.opened.pull, idle, () =>
          new ProviderError({
            provider: active.slot.name,
            model: active.model,
            reason: new Timeout({
              message: `no stream data for ${Duration.format(idle)}`,
              phase: "idle",
              afterMillis: Duration.toMillis(idle)
            })
          }))
      return read.pipe(
        Pull.matchEffect({
          onSuccess: (chunk) =>
            // settle first, so the finish part's attempts already hold this success
            chunk.some((part) => part.type === "finish")
              ? Effect.andThen(finishCurrent, Effect.sync(() => track(chunk)))
              : Effect.sync(() => track(chunk)),
          onFailure: (cause) => {
            const failure = Cause.findErrorOption(cause)
            if (failure._tag === "None") return Effect.failCause(cause)
            return failure.value === deadlineHit ? pastDeadline(active) : midStream(failure.value)
          },
          onDone: () =>
            midStream(
              new ProviderError({
                provider: active.slot.name,
                model: active.model,
                reason: new StreamInterrupted({ message: "stream ended without a finish", partialText: text() })
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
      }).pipe(Effect.tapError((error) =>
        Effect.sync(() => {
          failed = true
          if (Cause.isDone(error)) return
          failedReason = reasonTag(error)
          if (span !== undefined) GenAiSpans.annotateError(span, failedReason)
        })
      ))
    })
    return Effect.as(settleOnClose, pull)
  }
  return stream
}
