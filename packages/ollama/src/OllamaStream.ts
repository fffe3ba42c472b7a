/**
 * The `/api/chat` stream: the NDJSON line state machine and the `StreamDecoder.Machine` that plugs
 * it into the kit's generic decoder over `Ndjson.framing()`. What is Ollama's own lives here: a
 * line per piece of `content` or `thinking`, tool calls whole in one line (arguments are not
 * streamed), the last line `done: true` with the done reason, the counts and the durations, and an
 * `{"error": "..."}` line when the model runner fails after the 200.
 *
 * Stream integrity: the stream ends with exactly one `finish` part, at the `done: true` line. A
 * body that ends without it fails with `StreamInterrupted` (the text, reasoning and tool calls so
 * far); an error line becomes its typed reason (`internal/errors.ts`).
 *
 * @since 0.1.0
 */
import { Clock, Effect } from "effect"
import type { StreamInterrupted } from "@flexiai/core/ProviderError"
import * as Reasoning from "@flexiai/core/Reasoning"
import type * as StreamPart from "@flexiai/core/StreamPart"
import * as Accumulators from "@flexiai/provider/Accumulators"
import type * as Framing from "@flexiai/provider/Framing"
import * as Ndjson from "@flexiai/provider/Ndjson"
import type * as StreamDecoder from "@flexiai/provider/StreamDecoder"
import { parseChunk } from "./internal/decode.ts"
import * as Errors from "./internal/errors.ts"
import { durationsMetadata, finishReason, toolCall, usage } from "./OllamaCodec.ts"
import type * as OllamaSchema from "./OllamaSchema.ts"

/** Where a stream is; `done` once the finish part went out. @category models */
export interface StreamState {
  readonly reasoning: ReadonlyArray<Reasoning.Reasoning>
  readonly toolCalls: Accumulators.ToolCalls
  readonly model: string
  readonly done: boolean
}

/** @category constructors */
export const initialState = (model: string): StreamState => ({
  reasoning: [],
  toolCalls: Accumulators.noToolCalls,
  model,
  done: false
})

/**
 * Feeds one decoded line: `thinking` as a reasoning delta, `content` as a text delta, each tool
 * call as one `tool-call-delta` (its whole arguments), and at `done: true` the `tool-call` parts
 * and the `finish` part.
 *
 * @category mapping
 */
export const step = (state: StreamState, chunk: OllamaSchema.ChatChunk, provider: string): {
  readonly state: StreamState
  readonly parts: ReadonlyArray<StreamPart.StreamPart>
} => {
  if (state.done) return { state, parts: [] }
  const message = chunk.message
  const content = message?.content
  // nearly every line: one piece of text and nothing else
  if (
    chunk.done !== true && content !== undefined && content !== "" && message?.thinking === undefined &&
    message?.tool_calls === undefined && (chunk.model === undefined || chunk.model === state.model)
  ) return { state, parts: [{ type: "text-delta", text: content }] }
  let next = state
  const parts: Array<StreamPart.StreamPart> = []
  if (chunk.model !== undefined && chunk.model !== "" && chunk.model !== next.model) next = { ...next, model: chunk.model }
  const thinking = message?.thinking
  if (thinking !== undefined && thinking !== "") {
    const part: StreamPart.ReasoningDelta = { type: "reasoning-delta", text: thinking }
    parts.push(part)
    next = { ...next, reasoning: Reasoning.append(next.reasoning, part) }
  }
  if (content !== undefined && content !== "") parts.push({ type: "text-delta", text: content })
  for (const wire of message?.tool_calls ?? []) {
    const index = next.toolCalls.size
    const call = toolCall(wire, index)
    next = { ...next, toolCalls: Accumulators.addToolDelta(next.toolCalls, index, call.id, call.name, call.arguments) }
    parts.push({ type: "tool-call-delta", index, id: call.id, name: call.name, argumentsDelta: call.arguments })
  }
  if (chunk.done === true) {
    const [toolCalls, toolParts] = Accumulators.completeToolCalls(next.toolCalls)
    parts.push(...toolParts)
    const finish = Accumulators.finishPart(finishReason(chunk.done_reason, toolCalls.size > 0), usage(chunk), provider, next.model)
    const durations = durationsMetadata(chunk)
    parts.push(durations === undefined || finish.type !== "finish" ? finish : { ...finish, providerMetadata: { ollama: durations } })
    next = { ...next, toolCalls, done: true }
  }
  return { state: next, parts }
}

// reasoning is delivered output too: a cut after reasoning alone is an interruption, not a failed request
const lost = (state: StreamState, cause: string, text: () => string): StreamInterrupted | undefined => {
  const received = text()
  return Accumulators.hasContent(received, state.toolCalls, state.reasoning)
    ? Accumulators.interrupted(received, state.toolCalls, cause, state.reasoning)
    : undefined
}

/**
 * The NDJSON lines of one stream to parts; an error line is mapped as an HTTP error body would be.
 *
 * @category constructors
 */
export const machine = (context: {
  readonly provider: string
  readonly model: string
  readonly mask: (text: string) => string
}): StreamDecoder.Machine<string, StreamState> => {
  const { mask, model, provider } = context
  return {
    initial: initialState(model),
    step: (state, line): StreamDecoder.Step<StreamState> => {
      const chunk = parseChunk(line)
      if (chunk === undefined) return { _tag: "Malformed", message: `undecodable NDJSON line (${line.length} bytes)` }
      if (chunk.error !== undefined) {
        const message = mask(chunk.error)
        return {
          _tag: "Error",
          reason: Effect.map(Clock.currentTimeMillis, (nowMillis) =>
            Errors.reasonFor({ status: undefined, message, headers: {}, nowMillis, model: state.model }))
        }
      }
      const result = step(state, chunk, provider)
      return { _tag: "Parts", state: result.state, parts: result.parts }
    },
    end: (state, text) =>
      state.done
        ? { _tag: "Parts", parts: [] }
        : {
          _tag: "Interrupted",
          reason: Accumulators.interrupted(text(), state.toolCalls, "the stream ended without its done: true line", state.reasoning)
        },
    lost
  }
}

/** NDJSON with the kit's line limit. @category constants */
export const framing: Framing.Framing<string> = Ndjson.framing()
