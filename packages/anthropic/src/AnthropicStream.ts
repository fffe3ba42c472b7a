/**
 * The Messages stream: the event state machine (`initialState`, `step`, `end`) and the
 * `StreamDecoder.Machine` that plugs it into the kit's generic decoder over SSE
 * (https://docs.anthropic.com/en/api/messages-streaming).
 *
 * Events: `message_start` (model, input usage), `content_block_start` / `_delta` / `_stop` per
 * block (text, `thinking` with its `signature_delta`, `redacted_thinking`, `tool_use` with
 * `input_json_delta` fragments), `message_delta` (stop reason, final usage), `message_stop`,
 * `ping`, `error`. Unknown event and block types are ignored, as Anthropic's versioning policy
 * asks of clients.
 *
 * Stream integrity: the `finish` part goes out at `message_stop` and nowhere else. A stream that
 * ends before it, even after `message_delta`, fails with `StreamInterrupted` carrying the text,
 * reasoning and completed tool calls so far; an `error` event (`overloaded_error`, ...) becomes
 * its typed reason. A tool call is complete (`tool-call` part) at its block's stop.
 *
 * @since 0.2.0
 */
import { Clock, Effect, type Stream } from "effect"
import type * as ProviderError from "@flexiai/core/ProviderError"
import type { StreamInterrupted } from "@flexiai/core/ProviderError"
import * as Reasoning from "@flexiai/core/Reasoning"
import type * as StreamPart from "@flexiai/core/StreamPart"
import * as Accumulators from "@flexiai/provider/Accumulators"
import type * as Framing from "@flexiai/provider/Framing"
import * as Sse from "@flexiai/provider/Sse"
import * as StreamDecoder from "@flexiai/provider/StreamDecoder"
import { finishReason, mergeUsage, untrim, usage } from "./AnthropicCodec.ts"
import type * as AnthropicSchema from "./AnthropicSchema.ts"
import { parseEvent } from "./internal/decode.ts"
import * as Errors from "./internal/errors.ts"

// ---------------------------------------------------------------------------
// state machine
// ---------------------------------------------------------------------------

/** What a content block is, by its index: tool blocks carry their tool call's ordinal. @category models */
export type Block =
  | { readonly _tag: "Text" }
  | { readonly _tag: "Thinking" }
  | { readonly _tag: "Tool"; readonly ordinal: number }
  | { readonly _tag: "Other" }

/** Where a stream is. `done` once the `finish` part was emitted. @category models */
export interface StreamState {
  readonly model: string
  readonly blocks: ReadonlyMap<number, Block>
  readonly toolCalls: Accumulators.ToolCalls
  readonly toolCount: number
  readonly reasoning: ReadonlyArray<Reasoning.Reasoning>
  readonly usage: AnthropicSchema.Usage | undefined
  readonly stopReason: string | undefined
  /** Whitespace cut from a prefill and not yet taken off the answer's start (see `AnthropicCodec`). */
  readonly trim: string
  readonly done: boolean
}

/** @category constructors */
export const initialState = (model: string, prefillTrim = ""): StreamState => ({
  model,
  blocks: new Map(),
  toolCalls: Accumulators.noToolCalls,
  toolCount: 0,
  reasoning: [],
  usage: undefined,
  stopReason: undefined,
  trim: prefillTrim,
  done: false
})

/** The result of one step: parts to emit, or an error the provider sent in-band. @category models */
export type Step =
  | { readonly _tag: "Parts"; readonly state: StreamState; readonly parts: ReadonlyArray<StreamPart.StreamPart> }
  | { readonly _tag: "Error"; readonly state: StreamState; readonly error: AnthropicSchema.ErrorObject }

const parts = (state: StreamState, list: ReadonlyArray<StreamPart.StreamPart>): Step => ({ _tag: "Parts", state, parts: list })
const nothing = (state: StreamState): Step => ({ _tag: "Parts", state, parts: [] })

const withBlock = (state: StreamState, index: number, block: Block): StreamState => ({
  ...state,
  blocks: new Map(state.blocks).set(index, block)
})

/** A text piece, with what is left of a prefill's cut whitespace taken off its start. */
const textStep = (state: StreamState, text: string): Step => {
  if (text === "") return nothing(state)
  if (state.trim === "") return parts(state, [{ type: "text-delta", text }])
  const rest = untrim(text, state.trim)
  const trim = rest === "" ? state.trim.slice(text.length) : ""
  return parts({ ...state, trim }, rest === "" ? [] : [{ type: "text-delta", text: rest }])
}

const reasoningStep = (state: StreamState, delta: StreamPart.ReasoningDelta): Step =>
  parts({ ...state, reasoning: Reasoning.append(state.reasoning, delta) }, [delta])

const blockStart = (state: StreamState, index: number, block: AnthropicSchema.ContentBlock): Step => {
  switch (block.type) {
    case "text":
      return textStep(withBlock(state, index, { _tag: "Text" }), block.text ?? "")
    case "thinking": {
      const next = withBlock(state, index, { _tag: "Thinking" })
      const text = block.thinking ?? ""
      return text === "" ? nothing(next) : reasoningStep(next, { type: "reasoning-delta", text })
    }
    case "redacted_thinking":
      return reasoningStep(withBlock(state, index, { _tag: "Thinking" }), {
        type: "reasoning-delta",
        text: "",
        ...(block.data === undefined ? {} : { redactedData: block.data })
      })
    case "tool_use": {
      const ordinal = state.toolCount
      const id = block.id ?? ""
      const name = block.name ?? ""
      // `input` is `{}` at the start; the arguments come as input_json_delta fragments
      const next: StreamState = {
        ...withBlock(state, index, { _tag: "Tool", ordinal }),
        toolCount: ordinal + 1,
        toolCalls: Accumulators.addToolDelta(state.toolCalls, ordinal, id, name, "")
      }
      return parts(next, [{ type: "tool-call-delta", index: ordinal, id, name, argumentsDelta: "" }])
    }
    default:
      return nothing(withBlock(state, index, { _tag: "Other" }))
  }
}

const blockDelta = (state: StreamState, index: number, delta: AnthropicSchema.Delta): Step => {
  switch (delta.type) {
    case "text_delta":
      return textStep(state, delta.text ?? "")
    case "thinking_delta":
      return delta.thinking === undefined || delta.thinking === ""
        ? nothing(state)
        : reasoningStep(state, { type: "reasoning-delta", text: delta.thinking })
    case "signature_delta":
      return delta.signature === undefined
        ? nothing(state)
        : reasoningStep(state, { type: "reasoning-delta", text: "", signature: delta.signature })
    case "input_json_delta": {
      const block = state.blocks.get(index)
      const fragment = delta.partial_json ?? ""
      if (block?._tag !== "Tool" || fragment === "") return nothing(state)
      return parts(
        { ...state, toolCalls: Accumulators.addToolDelta(state.toolCalls, block.ordinal, undefined, undefined, fragment) },
        [{ type: "tool-call-delta", index: block.ordinal, argumentsDelta: fragment }]
      )
    }
    default:
      return nothing(state)
  }
}

const blockStop = (state: StreamState, index: number): Step => {
  const block = state.blocks.get(index)
  if (block?._tag !== "Tool") return nothing(state)
  const call = state.toolCalls.get(block.ordinal)
  if (call === undefined || call.completed) return nothing(state)
  // a tool without arguments streams no fragment at all (or an empty one): its input is {}
  const args = call.arguments.trim() === "" ? "{}" : call.arguments
  const toolCalls = new Map(state.toolCalls).set(block.ordinal, { ...call, arguments: args, completed: true })
  return parts({ ...state, toolCalls }, [{
    type: "tool-call",
    index: block.ordinal,
    toolCall: { id: call.id, name: call.name, arguments: args }
  }])
}

const finishPart = (state: StreamState, provider: string): StreamPart.StreamPart =>
  Accumulators.finishPart(finishReason(state.stopReason), usage(state.usage), provider, state.model)

/**
 * Feeds one decoded event.
 *
 * @category mapping
 */
export const step = (state: StreamState, event: AnthropicSchema.StreamEvent, provider: string): Step => {
  if (state.done) return nothing(state)
  switch (event.type) {
    case "content_block_delta": {
      const delta = event.delta
      // nearly every event of a stream: a text piece, the state left as it is
      if (delta !== undefined && delta.type === "text_delta" && state.trim === "") {
        const text = delta.text ?? ""
        return text === "" ? nothing(state) : parts(state, [{ type: "text-delta", text }])
      }
      return delta === undefined ? nothing(state) : blockDelta(state, event.index ?? 0, delta)
    }
    case "message_start": {
      const message = event.message
      const model = typeof message?.model === "string" && message.model !== "" ? message.model : state.model
      return nothing({ ...state, model, usage: mergeUsage(state.usage, message?.usage) })
    }
    case "content_block_start":
      return event.content_block === undefined ? nothing(state) : blockStart(state, event.index ?? 0, event.content_block)
    case "content_block_stop":
      return blockStop(state, event.index ?? 0)
    case "message_delta": {
      const reason = event.delta?.stop_reason
      return nothing({
        ...state,
        stopReason: typeof reason === "string" ? reason : state.stopReason,
        usage: mergeUsage(state.usage, event.usage)
      })
    }
    case "message_stop": {
      const next = { ...state, done: true }
      return parts(next, [finishPart(next, provider)])
    }
    case "error":
      return { _tag: "Error", state, error: event.error ?? {} }
    default:
      // ping, and event types added after this was written
      return nothing(state)
  }
}

/**
 * The body ended before `message_stop`: `StreamInterrupted` with `text()`, the text so far (the
 * stream decoder keeps it).
 *
 * @category mapping
 */
export const end = (state: StreamState, text: () => string): StreamDecoder.End =>
  state.done ? { _tag: "Parts", parts: [] } : {
    _tag: "Interrupted",
    reason: Accumulators.interrupted(text(), state.toolCalls, "the stream ended before message_stop", state.reasoning)
  }

// reasoning is delivered output too: a cut after reasoning alone is an interruption
const lost = (state: StreamState, cause: string, text: () => string): StreamInterrupted | undefined => {
  const received = text()
  return Accumulators.hasContent(received, state.toolCalls, state.reasoning)
    ? Accumulators.interrupted(received, state.toolCalls, cause, state.reasoning)
    : undefined
}

// ---------------------------------------------------------------------------
// decoder
// ---------------------------------------------------------------------------

/** What the stream decoder needs to know about the call. @category models */
export interface StreamContext {
  readonly provider: string
  readonly model: string
  readonly mask: (text: string) => string
  /** Whitespace `toWire` cut from a trailing prefill (`WireResult.prefillTrim`). */
  readonly prefillTrim?: string | undefined
  readonly onMalformedEvent?: "skip" | "fail" | undefined
  readonly requestId?: string | undefined
}

/**
 * The SSE events of one stream to parts: each event's data is one `step`; an `error` event is
 * mapped as an HTTP error body of its type would be.
 *
 * @category constructors
 */
export const machine = (
  context: Pick<StreamContext, "provider" | "model" | "mask" | "prefillTrim">
): StreamDecoder.Machine<Sse.Event, StreamState> => {
  const { mask, model, provider } = context
  return {
    initial: initialState(model, context.prefillTrim ?? ""),
    step: (state, event): StreamDecoder.Step<StreamState> => {
      const data = parseEvent(event.data)
      if (data === undefined) return { _tag: "Malformed", message: `undecodable stream event (${event.data.length} bytes)` }
      const result = step(state, data, provider)
      if (result._tag === "Parts") return result
      const error = result.error
      return {
        _tag: "Error",
        reason: Effect.map(Clock.currentTimeMillis, (nowMillis) =>
          Errors.reasonFromError({
            status: undefined,
            headers: {},
            error,
            fallbackMessage: "error event in the stream",
            nowMillis,
            mask,
            model
          }))
      }
    },
    end,
    lost
  }
}

/** SSE, as the standard frames it (Anthropic ends every event with its blank line). @category constants */
export const framing: Framing.Framing<Sse.Event> = Sse.framing(Sse.defaultMaxEventSize)

/**
 * An SSE body's bytes to parts (the kit's `StreamDecoder` with this machine).
 *
 * @category mapping
 */
export const bytesToParts = <R>(
  bytes: Stream.Stream<Uint8Array, ProviderError.ProviderError, R>,
  context: StreamContext
): Stream.Stream<StreamPart.StreamPart, ProviderError.ProviderError, R> =>
  StreamDecoder.decode(bytes, {
    provider: context.provider,
    model: context.model,
    get requestId() {
      return context.requestId
    },
    framing,
    machine: machine(context),
    onMalformedEvent: context.onMalformedEvent
  })
