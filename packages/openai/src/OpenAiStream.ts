/**
 * The Chat Completions stream: the chunk state machine (`initialState`, `step`, `end`) and the
 * `StreamDecoder.Machine` that plugs it into the kit's generic decoder over SSE. What is
 * OpenAI's own lives here: `[DONE]`, decoding a chunk (`parseChunk`), the in-band error object
 * (mapped as an HTTP error body would be), and when the finish part is due.
 *
 * Stream integrity: a stream ends with exactly one `finish` part, emitted as soon as the provider
 * has sent its finish reason (and its usage chunk, when asked for) — without waiting for `[DONE]`
 * or the socket. A stream that ends without a finish reason fails with `StreamInterrupted`
 * (carrying the text, reasoning and tool calls so far; reasoning alone counts, as the consumer saw
 * it); it never ends as if complete. An error event inside a
 * 200 stream becomes the matching typed error.
 *
 * @since 0.2.0
 */
import { Clock, Effect, type Stream } from "effect"
import type * as ChatResponse from "@flexiai/core/ChatResponse"
import type * as ProviderError from "@flexiai/core/ProviderError"
import type { StreamInterrupted } from "@flexiai/core/ProviderError"
import * as Reasoning from "@flexiai/core/Reasoning"
import type * as StreamPart from "@flexiai/core/StreamPart"
import * as Accumulators from "@flexiai/provider/Accumulators"
import type * as Framing from "@flexiai/provider/Framing"
import * as Sse from "@flexiai/provider/Sse"
import * as StreamDecoder from "@flexiai/provider/StreamDecoder"
import { parseChunk } from "./internal/decode.ts"
import * as Errors from "./internal/errors.ts"
import { finishReason, reasoningDelta, usage } from "./OpenAiCodec.ts"
import type * as OpenAiSchema from "./OpenAiSchema.ts"

// ---------------------------------------------------------------------------
// state machine
// ---------------------------------------------------------------------------

/**
 * Where a stream is. `done` once the `finish` part was emitted; after that, chunks are ignored.
 *
 * @category models
 */
export interface StreamState {
  /** The reasoning shown so far, as blocks: what a cut stream's `StreamInterrupted` carries. */
  readonly reasoning: ReadonlyArray<Reasoning.Reasoning>
  readonly toolCalls: Accumulators.ToolCalls
  readonly rawFinishReason: string | undefined
  readonly usage: ChatResponse.Usage | undefined
  readonly model: string
  readonly expectUsage: boolean
  readonly done: boolean
}

/** @category constructors */
export const initialState = (model: string, options: { readonly expectUsage: boolean }): StreamState => ({
  reasoning: [],
  toolCalls: Accumulators.noToolCalls,
  rawFinishReason: undefined,
  usage: undefined,
  model,
  expectUsage: options.expectUsage,
  done: false
})

/** The result of one step: parts to emit, or an error object the provider sent in-band. @category models */
export type Step =
  | { readonly _tag: "Parts"; readonly state: StreamState; readonly parts: ReadonlyArray<StreamPart.StreamPart> }
  | { readonly _tag: "Error"; readonly state: StreamState; readonly error: OpenAiSchema.ErrorObject }

const finishPart = (state: StreamState, provider: string): StreamPart.StreamPart =>
  Accumulators.finishPart(finishReason(state.rawFinishReason), state.usage, provider, state.model)

const absent = (value: unknown): boolean => value === undefined || value === null

/**
 * The text of a chunk that carries nothing else `step` acts on (one first choice whose delta is
 * non-empty content alone, no finish reason, usage or new model, and no finish reason seen yet);
 * `undefined` for any other chunk.
 */
const plainText = (state: StreamState, chunk: OpenAiSchema.ChatCompletionChunk): string | undefined => {
  const choices = chunk.choices
  if (choices === undefined || choices === null || choices.length !== 1 || state.rawFinishReason !== undefined) return undefined
  if (!absent(chunk.usage) || !absent(chunk.x_groq)) return undefined
  if (typeof chunk.model === "string" && chunk.model !== "" && chunk.model !== state.model) return undefined
  const choice = choices[0]!
  if ((choice.index ?? 0) !== 0 || !(absent(choice.finish_reason) || choice.finish_reason === "")) return undefined
  const delta = choice.delta
  if (delta === undefined || delta === null) return undefined
  const content = delta.content
  if (typeof content !== "string" || content === "") return undefined
  if (!absent(delta.reasoning) || !absent(delta.reasoning_content) || !absent(delta.tool_calls)) return undefined
  const details = delta.reasoning_details
  return details === undefined || details === null || details.length === 0 ? content : undefined
}

/**
 * Feeds one decoded chunk. Emits `text-delta` and `tool-call-delta` parts as they come, one
 * `tool-call` per call once the finish reason arrives, and the `finish` part once both the finish
 * reason and (when expected) the usage are in.
 *
 * @category mapping
 */
export const step = (state: StreamState, chunk: OpenAiSchema.ChatCompletionChunk, provider: string): Step => {
  if (state.done) return { _tag: "Parts", state, parts: [] }
  if (chunk.error !== undefined && chunk.error !== null) return { _tag: "Error", state, error: chunk.error }
  const text = plainText(state, chunk)
  // nearly every event of a stream: the same result as below, with the state as it is (the
  // decoder keeps the text) and an array of one part (not an empty one grown by a push)
  if (text !== undefined) return { _tag: "Parts", state, parts: [{ type: "text-delta", text }] }
  let next: StreamState = state
  const parts: Array<StreamPart.StreamPart> = []
  // every chunk repeats the model: copy the state only when it changes (this runs once per event)
  if (typeof chunk.model === "string" && chunk.model !== "" && chunk.model !== next.model) next = { ...next, model: chunk.model }
  for (const choice of chunk.choices ?? []) {
    if ((choice.index ?? 0) !== 0) continue
    const delta = choice.delta
    // reasoning comes before the answer text it leads to (OpenRouter, DeepSeek). OpenRouter sends
    // it twice, as `reasoning` text and as `reasoning_details` entries (with the signatures): the
    // entries win when there are any
    const details = delta?.reasoning_details
    if (details !== undefined && details !== null && details.length > 0) {
      for (const detail of details) {
        const part = reasoningDelta(detail)
        if (part !== undefined) {
          parts.push(part)
          next = { ...next, reasoning: Reasoning.append(next.reasoning, part) }
        }
      }
    } else {
      const reasoning = delta?.reasoning ?? delta?.reasoning_content
      if (typeof reasoning === "string" && reasoning !== "") {
        const part: StreamPart.ReasoningDelta = { type: "reasoning-delta", text: reasoning }
        parts.push(part)
        next = { ...next, reasoning: Reasoning.append(next.reasoning, part) }
      }
    }
    if (typeof delta?.content === "string" && delta.content !== "") {
      parts.push({ type: "text-delta", text: delta.content })
    }
    const toolDeltas = delta?.tool_calls
    if (toolDeltas !== undefined && toolDeltas !== null) {
      for (const [position, toolDelta] of toolDeltas.entries()) {
        const index = toolDelta.index ?? position
        const id = typeof toolDelta.id === "string" && toolDelta.id !== "" ? toolDelta.id : undefined
        const name = typeof toolDelta.function?.name === "string" && toolDelta.function.name !== "" ? toolDelta.function.name : undefined
        const argumentsDelta = toolDelta.function?.arguments ?? ""
        next = { ...next, toolCalls: Accumulators.addToolDelta(next.toolCalls, index, id, name, argumentsDelta) }
        if (id !== undefined || name !== undefined || argumentsDelta !== "") {
          parts.push({
            type: "tool-call-delta",
            index,
            ...(id === undefined ? {} : { id }),
            ...(name === undefined ? {} : { name }),
            argumentsDelta
          })
        }
      }
    }
    if (typeof choice.finish_reason === "string" && choice.finish_reason !== "") {
      const [toolCalls, toolParts] = Accumulators.completeToolCalls(next.toolCalls)
      next = { ...next, rawFinishReason: choice.finish_reason, toolCalls }
      parts.push(...toolParts)
    }
  }
  const chunkUsage = usage(chunk.usage ?? chunk.x_groq?.usage)
  if (chunkUsage !== undefined) next = { ...next, usage: chunkUsage }
  if (next.rawFinishReason !== undefined && (next.usage !== undefined || !next.expectUsage)) {
    parts.push(finishPart(next, provider))
    next = { ...next, done: true }
  }
  return { _tag: "Parts", state: next, parts }
}

/**
 * The stream ended (`[DONE]` or end of body). Completes with the finish part when the provider
 * sent its finish reason, otherwise reports the stream as interrupted with `text()`, the text
 * received so far (the stream decoder keeps it).
 *
 * @category mapping
 */
export const end = (state: StreamState, provider: string, text: () => string): StreamDecoder.End => {
  if (state.done) return { _tag: "Parts", parts: [] }
  if (state.rawFinishReason !== undefined) return { _tag: "Parts", parts: [finishPart(state, provider)] }
  return {
    _tag: "Interrupted",
    reason: Accumulators.interrupted(text(), state.toolCalls, "the stream ended without a finish reason", state.reasoning)
  }
}

// ---------------------------------------------------------------------------
// decoder
// ---------------------------------------------------------------------------

/** What the stream decoder needs to know about the call. @category models */
export interface StreamContext {
  readonly provider: string
  readonly model: string
  readonly expectUsage: boolean
  /** Default: `RouterPolicy.OnMalformedEvent` as the stream runs (see `StreamDecoder.Options`). */
  readonly onMalformedEvent?: "skip" | "fail" | undefined
  readonly requestId?: string | undefined
  readonly mask: (text: string) => string
}

const done: StreamDecoder.Step<never> = { _tag: "Done" }

/**
 * The SSE events of one stream to parts: `[DONE]` ends it, each other event is one chunk for
 * `step`, an error object in the stream is mapped as an HTTP error body would be.
 *
 * @category constructors
 */
export const machine = (
  context: Pick<StreamContext, "provider" | "model" | "expectUsage" | "mask">
): StreamDecoder.Machine<Sse.Event, StreamState> => {
  // Closures per stream are few, and hold these rather than `context`: each is retained for as
  // long as the stream is open (heap per open stream).
  const { mask, model, provider } = context
  return {
    initial: initialState(model, { expectUsage: context.expectUsage }),
    step: (state, event): StreamDecoder.Step<StreamState> => {
      const data = event.data
      // a chunk starts with "{": only other data can be the end marker (padded or not), so the
      // trim that finds a padded one is not paid on every event
      if (data.charCodeAt(0) !== 0x7b && (data === "[DONE]" || data.trim() === "[DONE]")) return done
      const chunk = parseChunk(data)
      if (chunk === undefined) return { _tag: "Malformed", message: `undecodable stream event (${data.length} bytes)` }
      const result = step(state, chunk, provider)
      if (result._tag === "Parts") return result
      const fields = result.error
      return {
        _tag: "Error",
        reason: Effect.map(Clock.currentTimeMillis, (nowMillis) =>
          Errors.reasonFromError({
            status: undefined,
            headers: {},
            fields,
            fallbackMessage: "error event in the stream",
            nowMillis,
            mask,
            model
          }))
      }
    },
    end: (state, text) => end(state, provider, text),
    lost
  }
}

// reasoning is delivered output too: a cut after reasoning alone is an interruption, not a failed request
const lost = (state: StreamState, cause: string, text: () => string): StreamInterrupted | undefined => {
  const received = text()
  return Accumulators.hasContent(received, state.toolCalls, state.reasoning)
    ? Accumulators.interrupted(received, state.toolCalls, cause, state.reasoning)
    : undefined
}

/**
 * SSE, where a last event without its blank line is still an event (servers that end mid-frame).
 *
 * @category constants
 */
export const framing: Framing.Framing<Sse.Event> = Sse.framing(Sse.defaultMaxEventSize, { lastEvent: "keep" })

const decoderOptions = (context: StreamContext): StreamDecoder.Options<Sse.Event, StreamState> => ({
  provider: context.provider,
  model: context.model,
  get requestId() {
    return context.requestId
  },
  framing,
  machine: machine(context),
  onMalformedEvent: context.onMalformedEvent
})

/**
 * An SSE body's bytes to parts (the kit's `StreamDecoder` with this machine). Stops at `[DONE]`
 * or at the finish part (the body's scope then closes the connection, so a provider that never
 * sends `[DONE]` costs nothing); `retry:` fields are ignored.
 *
 * @category mapping
 */
export const bytesToParts = <R>(
  bytes: Stream.Stream<Uint8Array, ProviderError.ProviderError, R>,
  context: StreamContext
): Stream.Stream<StreamPart.StreamPart, ProviderError.ProviderError, R> => StreamDecoder.decode(bytes, decoderOptions(context))
