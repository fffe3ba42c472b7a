/**
 * Stream failover: a stream fails over freely until its first content part (reasoning included);
 * after that the stream policy decides (`fail`, `restart`, `continue`). Tracks what the consumer
 * has received, for `StreamInterrupted` and the `continue` prefill, and settles the provider's
 * attempt when the answer finishes, breaks, or the consumer stops early.
 *
 * Internal. Built from a channel transform and combinators, not `Stream.unwrap` or generators:
 * this is on the way to the first token and on every chunk.
 */
import { Cause, Channel, Duration, Effect, Exit, Pull, Ref, Result, Scope, Stream, type Tracer } from "effect"
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
import * as Reasoning from "../../Reasoning.ts"
import type { ReasoningDelta, StreamPart } from "../../StreamPart.ts"
import * as Spans from "../../Spans.ts"
import * as TimeLimit from "../../TimeLimit.ts"
import type { Deps } from "./Attempt.ts"
import { nextCallId } from "./CallLog.ts"
import { modelOf, type Opened, pullOf, type Slot, type Tried, withPrefill } from "./Slot.ts"

export const makeStream = (
  { attempts: { countOutcome, failover, settleFailure, settleSuccess, within }, breaker, order, routerPolicy, totals }:
    Deps
) => {
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
    // a broken block has no signature and another provider could not take it back anyway. Its
    // deltas are kept as they came and joined into blocks only for a StreamInterrupted.
    let reasoningDelivered = false
    let reasoningDeltas: Array<ReasoningDelta> = []

    const track = (parts: ReadonlyArray<StreamPart>): Array<StreamPart> => {
      const out: Array<StreamPart> = []
      for (const part of parts) {
        switch (part.type) {
          case "text-delta":
            text += part.text
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
        settleSuccess(active.slot, active.model, active.tried.permit, active.tried.tries, active.tried.started, attempts, undefined)
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
            ...(reasoningDeltas.length === 0 ? {} : { partialReasoning: Reasoning.fromDeltas(reasoningDeltas) }),
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
        reasoningDeltas = []
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
  return stream
}
