/**
 * The `streamGenerateContent?alt=sse` stream: each SSE event is a whole `GenerateContentResponse`
 * holding the next parts of candidate 0; the event that carries `finishReason` (with the usage)
 * ends the answer. Gemini has no end marker of its own, so a body that ends before a finish reason
 * is `StreamInterrupted` (with the text, reasoning and tool calls so far), never a quiet end.
 *
 * Gemini sends a function call whole, in one part: it goes out as one `tool-call-delta` (its
 * arguments as JSON text) when it arrives and as a `tool-call` at the finish. An error object in
 * the stream, a blocked prompt (`promptFeedback.blockReason`) and MALFORMED_FUNCTION_CALL fail
 * the stream with their reasons (before any content, the router still fails over).
 *
 * Usage: Gemini repeats the usage (cumulative) on every event and always on the finish event; an
 * event that is plain text only is passed on without reading it (the hot path), so the usage of
 * the finish is that event's own, or the last one read before it.
 *
 * @since 0.1.0
 */
import { Clock, Effect } from "effect"
import type * as ChatResponse from "@flexiai/core/ChatResponse"
import type { StreamInterrupted } from "@flexiai/core/ProviderError"
import * as Reasoning from "@flexiai/core/Reasoning"
import type * as StreamPart from "@flexiai/core/StreamPart"
import * as Accumulators from "@flexiai/provider/Accumulators"
import type * as Framing from "@flexiai/provider/Framing"
import * as Sse from "@flexiai/provider/Sse"
import type * as StreamDecoder from "@flexiai/provider/StreamDecoder"
import * as GoogleCodec from "./GoogleCodec.ts"
import type * as GoogleSchema from "./GoogleSchema.ts"
import { parseResponse } from "./internal/decode.ts"
import * as Errors from "./internal/errors.ts"

/** Where a stream is; `done` once the finish part went out. @category models */
export interface StreamState {
  readonly reasoning: ReadonlyArray<Reasoning.Reasoning>
  readonly toolCalls: Accumulators.ToolCalls
  readonly usage: ChatResponse.Usage | undefined
  readonly model: string
  readonly responseId: string | undefined
  readonly done: boolean
}

/** @category constructors */
export const initialState = (model: string): StreamState => ({
  reasoning: [],
  toolCalls: Accumulators.noToolCalls,
  usage: undefined,
  model,
  responseId: undefined,
  done: false
})

/** What the machine needs to know about the call. @category models */
export interface StreamContext {
  readonly provider: string
  readonly model: string
  readonly mask: (text: string) => string
}

const plainTextOf = (response: GoogleSchema.GenerateContentResponse): string | undefined => {
  // nearly every event: one candidate with one plain text part, nothing else to act on
  const candidates = response.candidates
  if (candidates === undefined || candidates.length !== 1 || response.promptFeedback !== undefined) return undefined
  const candidate = candidates[0]!
  if (candidate.finishReason !== undefined) return undefined
  const parts = candidate.content?.parts
  if (parts === undefined || parts.length !== 1) return undefined
  const part = parts[0]!
  return typeof part.text === "string" && part.thought === undefined && part.thoughtSignature === undefined &&
      part.functionCall === undefined
    ? part.text
    : undefined
}

/**
 * Feeds one event. `Error` for an in-stream error, a blocked prompt or a malformed function call.
 *
 * @category mapping
 */
export const step = (
  state: StreamState,
  response: GoogleSchema.GenerateContentResponse,
  context: StreamContext
): StreamDecoder.Step<StreamState> => {
  if (state.done) return { _tag: "Parts", state, parts: [] }
  if (response.error !== undefined && response.error !== null) {
    const status = response.error
    return {
      _tag: "Error",
      reason: Effect.map(Clock.currentTimeMillis, (nowMillis) =>
        Errors.reasonFromStatus({
          httpStatus: undefined,
          headers: {},
          status,
          fallbackMessage: "error event in the stream",
          nowMillis,
          mask: context.mask,
          model: context.model
        }))
    }
  }
  const blocked = GoogleCodec.promptBlocked(response)
  if (blocked !== undefined) return { _tag: "Error", reason: Effect.succeed(blocked) }
  const plain = plainTextOf(response)
  if (plain !== undefined) {
    const model = typeof response.modelVersion === "string" && response.modelVersion !== "" ? response.modelVersion : state.model
    const same = model === state.model && (state.responseId !== undefined || response.responseId === undefined)
    return {
      _tag: "Parts",
      state: same ? state : { ...state, model, responseId: state.responseId ?? response.responseId },
      parts: plain === "" ? [] : [{ type: "text-delta", text: plain }]
    }
  }
  let next: StreamState = state
  if (typeof response.modelVersion === "string" && response.modelVersion !== "" && response.modelVersion !== next.model) {
    next = { ...next, model: response.modelVersion }
  }
  if (next.responseId === undefined && typeof response.responseId === "string") next = { ...next, responseId: response.responseId }
  const used = GoogleCodec.usage(response.usageMetadata)
  if (used !== undefined) next = { ...next, usage: used }
  const candidate = response.candidates?.[0]
  const parts: Array<StreamPart.StreamPart> = []
  if (candidate === undefined) return { _tag: "Parts", state: next, parts }
  for (const part of candidate.content?.parts ?? []) {
    let callId: string | undefined
    if (part.thought !== true && typeof part.text === "string" && part.text !== "") parts.push({ type: "text-delta", text: part.text })
    const call = part.functionCall
    if (call !== undefined && call !== null && typeof call.name === "string") {
      const index = next.toolCalls.size
      callId = GoogleCodec.toolCallId(call, next.responseId, index)
      const argumentsDelta = JSON.stringify(call.args ?? {})
      next = { ...next, toolCalls: Accumulators.addToolDelta(next.toolCalls, index, callId, call.name, argumentsDelta) }
      parts.push({ type: "tool-call-delta", index, id: callId, name: call.name, argumentsDelta })
    }
    const reasoning = GoogleCodec.reasoningOf(part, callId)
    if (reasoning !== undefined) {
      parts.push(reasoning)
      next = { ...next, reasoning: Reasoning.append(next.reasoning, reasoning) }
    }
  }
  if (candidate.finishReason !== undefined && candidate.finishReason !== null) {
    const malformed = GoogleCodec.finishError(candidate)
    if (malformed !== undefined) return { _tag: "Error", reason: Effect.succeed(malformed) }
    const [toolCalls, toolParts] = Accumulators.completeToolCalls(next.toolCalls)
    parts.push(...toolParts)
    const finish: StreamPart.Finish = Accumulators.finishPart(
      GoogleCodec.finishReason(candidate.finishReason, toolCalls.size > 0),
      next.usage,
      context.provider,
      next.model
    ) as StreamPart.Finish
    const metadata = GoogleCodec.metadataOf(response, candidate)
    parts.push(metadata === undefined ? finish : { ...finish, providerMetadata: { [GoogleCodec.reasoningFormat]: metadata } })
    next = { ...next, toolCalls, done: true }
  }
  return { _tag: "Parts", state: next, parts }
}

/** @category mapping */
export const end = (state: StreamState, text: () => string): StreamDecoder.End =>
  state.done
    ? { _tag: "Parts", parts: [] }
    : {
      _tag: "Interrupted",
      reason: Accumulators.interrupted(text(), state.toolCalls, "the stream ended without a finishReason", state.reasoning)
    }

const lost = (state: StreamState, cause: string, text: () => string): StreamInterrupted | undefined => {
  const received = text()
  return Accumulators.hasContent(received, state.toolCalls, state.reasoning)
    ? Accumulators.interrupted(received, state.toolCalls, cause, state.reasoning)
    : undefined
}

/**
 * SSE as Gemini sends it (`data: {...}\r\n\r\n`); an event cut off without its blank line is
 * dropped, so a body that breaks mid-event ends as interrupted rather than malformed.
 *
 * @category constants
 */
export const framing: Framing.Framing<Sse.Event> = Sse.framing()

/** The machine for the kit's `StreamDecoder`. @category constructors */
export const machine = (context: StreamContext): StreamDecoder.Machine<Sse.Event, StreamState> => ({
  initial: initialState(context.model),
  step: (state, event) => {
    const response = parseResponse(event.data)
    return response === undefined
      ? { _tag: "Malformed", message: `undecodable stream event (${event.data.length} bytes)` }
      : step(state, response, context)
  },
  end,
  lost
})
