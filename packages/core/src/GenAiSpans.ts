/**
 * OpenTelemetry's GenAI semantic conventions on the router's spans, written with `effect/ai`'s
 * `Telemetry.addGenAIAnnotations` where its attributes reach (`gen_ai.provider.name`,
 * `gen_ai.operation.name`, `gen_ai.request.*`, `gen_ai.response.*`, `gen_ai.usage.input_tokens` /
 * `output_tokens`) and by name where they do not (`gen_ai.usage.cache_read.input_tokens`,
 * `gen_ai.usage.cache_creation.input_tokens`, `error.type`). `gen_ai.system` is deprecated and not
 * written.
 *
 * **Gotchas**: `gen_ai.provider.name` is the provider's name in the router (as configured, e.g.
 * `openai` or `azure-eu`), not the well-known value for its kind, since core knows no kinds.
 * Nothing here holds message content: only models, parameters, ids, counts and reason tags. Like
 * `Spans`, nothing is made when no tracer is installed.
 *
 * @since 0.1.0
 */
import { Effect, type Tracer } from "effect"
// the module, not the `effect/ai` barrel: the barrel loads every AI module (140 ms more at startup here)
import * as Telemetry from "effect/ai/Telemetry"
import type { ChatRequest } from "./ChatRequest.ts"
import type { Usage } from "./ChatResponse.ts"
import { tracingIn } from "./Spans.ts"


/** What an answer says about itself, for `gen_ai.response.*` and `gen_ai.usage.*`. @category models */
export interface Answer {
  readonly provider: string
  readonly model: string
  readonly id?: string | undefined
  readonly finishReason?: string | undefined
  readonly usage?: Usage | undefined
}

/** Writes `gen_ai.operation.name` and the request's `gen_ai.request.*` parameters. @category annotations */
export const annotateRequest = (span: Tracer.Span, request: ChatRequest): void =>
  Telemetry.addGenAIAnnotations(span, {
    // a stream is a chat operation too: the conventions name the operation, not the transport
    operation: { name: "chat" },
    request: {
      model: request.model,
      temperature: request.temperature,
      topP: request.topP,
      maxTokens: request.maxTokens,
      stopSequences: request.stop,
      seed: request.seed
    }
  })

/** Writes the provider, `gen_ai.response.*` and `gen_ai.usage.*` of an answer. @category annotations */
export const annotateAnswer = (span: Tracer.Span, answer: Answer): void => {
  Telemetry.addGenAIAnnotations(span, {
    provider: { name: answer.provider },
    response: {
      id: answer.id,
      model: answer.model,
      finishReasons: answer.finishReason === undefined ? undefined : [answer.finishReason]
    },
    usage: answer.usage === undefined ? undefined : {
      inputTokens: answer.usage.promptTokens,
      outputTokens: answer.usage.completionTokens
    }
  })
  const usage = answer.usage
  if (usage?.cachedTokens !== undefined) span.attribute("gen_ai.usage.cache_read.input_tokens", usage.cachedTokens)
  if (usage?.cacheWriteTokens !== undefined) span.attribute("gen_ai.usage.cache_creation.input_tokens", usage.cacheWriteTokens)
  if (usage?.reasoningTokens !== undefined) span.attribute("flexiai.usage.reasoning_tokens", usage.reasoningTokens)
}

/** Writes `error.type`: the failure's reason tag (`RateLimited`, `AllProvidersFailed`, ...). @category annotations */
export const annotateError = (span: Tracer.Span, reason: string): void => {
  span.attribute("error.type", reason)
}

/**
 * `effect` in a client span named `chat {model}` (the conventions' `{operation} {model}`): one
 * request to one provider, so a retried attempt has a span per try (each is a request of its own).
 * `answerOf` reads the answer's attributes from a success; `reasonOf` the error type from a failure.
 * Makes the span whatever the tracer: callers that hold their fiber check `Spans.tracingIn` first
 * (the router does, once per call); `withAttemptSpan` checks for itself.
 *
 * @category tracing
 */
export const inAttemptSpan = <A, E>(
  effect: Effect.Effect<A, E>,
  provider: string,
  request: ChatRequest,
  model: string,
  answerOf: (value: A) => Answer | undefined,
  reasonOf: (error: E) => string
): Effect.Effect<A, E> =>
  Effect.useSpan(
    `chat ${model}`,
    { kind: "client", attributes: { "gen_ai.provider.name": provider } },
    (span) => {
      annotateRequest(span, model === request.model ? request : { ...request, model })
      return Effect.withParentSpan(effect, span, { captureStackTrace: false }).pipe(
        Effect.tap((value) =>
          Effect.sync(() => {
            const answer = answerOf(value)
            if (answer !== undefined) annotateAnswer(span, answer)
          })
        ),
        Effect.tapError((error) => Effect.sync(() => annotateError(span, reasonOf(error))))
      )
    }
  )

/** `inAttemptSpan` when a tracer is installed, else `effect` as it is. @category tracing */
export const withAttemptSpan = <A, E>(
  effect: Effect.Effect<A, E>,
  provider: string,
  request: ChatRequest,
  model: string,
  answerOf: (value: A) => Answer | undefined,
  reasonOf: (error: E) => string
): Effect.Effect<A, E> =>
  Effect.withFiber((fiber) =>
    tracingIn(fiber) ? inAttemptSpan(effect, provider, request, model, answerOf, reasonOf) : effect
  )
