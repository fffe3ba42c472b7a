/**
 * Call identity, attempt log lines and the call span: one correlation id per call on every log
 * line and span attribute of that call, and one line per attempt built only when its level is
 * enabled (a skip's line would otherwise cost more than the skip).
 *
 * Internal: not exported from the package.
 */
import { Context, Effect, LogLevel, References } from "effect"
import type { ChatRequest } from "../../ChatRequest.ts"
import type { Attempt } from "../../ProviderError.ts"
import * as GenAiSpans from "../../GenAiSpans.ts"
import * as Spans from "../../Spans.ts"
// One correlation id per call, on every log line and the span of that call. A process prefix and
// a counter: unique enough to grep for, and far cheaper than a UUID on the hot path.
export const idPrefix = Math.floor(Math.random() * 36 ** 6).toString(36).padStart(6, "0")
let idCounter = 0
export const nextCallId = (): string => `flx-${idPrefix}-${(idCounter++).toString(36)}`

/**
 * An id drawn by a wrapper of the router that published events for the call before the router
 * saw it (the response cache's `cache-miss`): the router's call takes it instead of drawing its
 * own, so every event of the call shares one `callId`. Read once per call; `undefined` unless set.
 */
export const PresetCallId = Context.Reference<string | undefined>("@flexiai/core/Router/PresetCallId", {
  defaultValue: () => undefined
})

// Each line is built only when its level is enabled: a skip or a success is logged at Debug,
// and building the line (message, annotations) would otherwise cost more than the skip itself.
export const logAttempt = (attempt: Attempt, index: number): Effect.Effect<void> =>
  Effect.withFiber((fiber) => {
    const level = attempt.outcome === "failure" ? "Warn" : "Debug"
    return LogLevel.isGreaterThan(fiber.getRef(References.MinimumLogLevel), level)
      ? Effect.void
      : attemptLine(attempt, index)
  })

export const attemptLine = (attempt: Attempt, index: number): Effect.Effect<void> => {
  const annotations = {
    provider: attempt.provider,
    model: attempt.model ?? "",
    attempt: index,
    outcome: attempt.outcome,
    tries: attempt.tries,
    latencyMillis: attempt.latencyMillis,
    ...(attempt.reason === undefined ? {} : { reason: attempt.reason })
  }
  const line = attempt.outcome === "success"
    ? Effect.logDebug("attempt succeeded")
    : attempt.outcome === "skipped"
    ? Effect.logDebug(`attempt skipped: ${attempt.error?.message ?? attempt.reason}`)
    : Effect.logWarning(`attempt failed: ${attempt.error?.message ?? attempt.reason}`)
  return Effect.annotateLogs(line, annotations)
}

/**
 * Annotates every log line of one call with its correlation id and runs it in a span (with the
 * GenAI attributes of its request, and of its answer or error: `GenAiSpans`) when a tracer is
 * installed. The id is drawn each time the effect runs, not when it is built: the same effect run
 * twice (`Effect.retry`, `Effect.repeat`) is two calls; `body` gets it, and whether a tracer is
 * installed (read once here, for the spans `body` may open).
 */
export const traced = <A, E>(
  name: string,
  request: ChatRequest,
  body: (callId: string, tracing: boolean) => Effect.Effect<A, E>,
  answerOf: (value: A) => GenAiSpans.Answer,
  reasonOf: (error: E) => string
): Effect.Effect<A, E> =>
  Effect.withFiber((fiber) => {
    const callId = fiber.getRef(PresetCallId) ?? nextCallId()
    const tracing = Spans.tracingIn(fiber)
    const effect = Effect.annotateLogs(body(callId, tracing), "callId", callId)
    if (!tracing) return effect
    return Effect.useSpan(name, {
      attributes: { "flexiai.call_id": callId, "flexiai.model": request.model ?? "default" }
    }, (span) => {
      GenAiSpans.annotateRequest(span, request)
      return Effect.withParentSpan(effect, span, { captureStackTrace: false }).pipe(
        Effect.tap((value) => Effect.sync(() => GenAiSpans.annotateAnswer(span, answerOf(value)))),
        Effect.tapError((error) => Effect.sync(() => GenAiSpans.annotateError(span, reasonOf(error))))
      )
    })
  })
