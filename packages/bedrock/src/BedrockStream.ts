/**
 * The ConverseStream state machine on the kit's `StreamDecoder`: AWS event-stream frames (framed
 * and CRC-checked by `EventStreamFrames`, i.e. `@smithy/eventstream-codec`) to `StreamPart`s.
 *
 * A frame's `:message-type` says what it is: `event` (its `:event-type` names the payload:
 * `messageStart`, `contentBlockStart`, `contentBlockDelta`, `contentBlockStop`, `messageStop`,
 * `metadata`), `exception` (`:exception-type`, e.g. `throttlingException`, with a JSON message)
 * or `error` (`:error-code` / `:error-message` headers). Exceptions map through the same table
 * as HTTP errors (`internal/errors.ts`).
 *
 * What is easy to get wrong: the answer is complete at `messageStop`, but its usage comes after,
 * in `metadata`, the last frame: the finish part goes out there. A body that ends after
 * `messageStop` without `metadata` still finishes (without usage); one that ends before it is a
 * `StreamInterrupted`. Tool calls are announced by `contentBlockStart` (id and name) and their
 * input arrives as JSON text pieces; they are completed at `messageStop`.
 *
 * @since 0.2.0
 */
import { Effect, Schema } from "effect"
import type * as ProviderError from "@flexiai/core/ProviderError"
import * as ReasoningBlocks from "@flexiai/core/Reasoning"
import type { Reasoning } from "@flexiai/core/Reasoning"
import type * as StreamPart from "@flexiai/core/StreamPart"
import * as Accumulators from "@flexiai/provider/Accumulators"
import * as EventStreamFrames from "@flexiai/provider/EventStreamFrames"
import type * as Mask from "@flexiai/provider/Mask"
import type * as StreamDecoder from "@flexiai/provider/StreamDecoder"
import { finishReason, usage } from "./BedrockCodec.ts"
import * as Wire from "./BedrockSchema.ts"
import { exceptionName, reasonOfException } from "./internal/errors.ts"

/** @category models */
export interface StreamState {
  /** Tool calls by content block index. */
  readonly calls: Accumulators.ToolCalls
  /** The reasoning so far (for a stream cut after it). */
  readonly reasoning: ReadonlyArray<Reasoning>
  /** Set by `messageStop`. */
  readonly stopReason: string | undefined
}

/** @category constructors */
export const initialState: StreamState = { calls: Accumulators.noToolCalls, reasoning: [], stopReason: undefined }

/** What a machine needs of its call. @category models */
export interface StreamContext {
  readonly provider: string
  readonly model: string
  readonly mask: Mask.Mask
}

/** The framing of a ConverseStream body. @category constants */
export const framing = EventStreamFrames.framing()

const utf8 = new TextDecoder()

/** The payload's JSON, or `undefined` when it is not JSON. */
const jsonOf = (payload: Uint8Array): unknown => {
  try {
    return JSON.parse(utf8.decode(payload))
  } catch {
    return undefined
  }
}

const decodeWith = <S extends Schema.Top>(schema: S) => {
  const decode = Schema.decodeUnknownOption(schema as unknown as Schema.Codec<S["Type"], unknown>)
  return (json: unknown): S["Type"] | undefined => {
    if (json === undefined) return undefined
    const decoded = decode(json)
    return decoded._tag === "Some" ? decoded.value : undefined
  }
}

const parseWith = <S extends Schema.Top>(schema: S) => {
  const decode = decodeWith(schema)
  return (payload: Uint8Array): S["Type"] | undefined => decode(jsonOf(payload))
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * The text of a plain text delta (`{ contentBlockIndex, delta: { text } }`), checked by hand as
 * `Wire.ContentBlockDelta` would accept it, or `undefined` for any other shape (which then goes
 * through the Schema). Nearly every frame of a stream is one: the Schema's decode per frame was
 * most of the kit's cost per chunk over the raw reader (`pnpm bench:formats`).
 */
const plainText = (json: unknown): string | undefined => {
  if (!isObject(json) || typeof json.contentBlockIndex !== "number") return undefined
  const delta = json.delta
  if (!isObject(delta) || typeof delta.text !== "string" || delta.toolUse !== undefined || delta.reasoningContent !== undefined) return undefined
  return delta.text
}

const parseStart = parseWith(Wire.ContentBlockStart)
const decodeDelta = decodeWith(Wire.ContentBlockDelta)
const parseStop = parseWith(Wire.MessageStop)
const parseMetadata = parseWith(Wire.StreamMetadata)
const parseException = parseWith(Wire.ExceptionPayload)

const stringHeader = (frame: EventStreamFrames.Frame, name: string): string | undefined => {
  const value = frame.headers[name]
  return typeof value === "string" ? value : undefined
}

type Step = StreamDecoder.Step<StreamState>

const parts = (state: StreamState, out: ReadonlyArray<StreamPart.StreamPart>): Step => ({ _tag: "Parts", state, parts: out })
const malformed = (eventType: string): Step => ({ _tag: "Malformed", message: `an undecodable ConverseStream ${eventType} event` })

/** The exception of an `exception` or `error` frame, as a reason. */
const exceptionStep = (frame: EventStreamFrames.Frame, context: StreamContext, messageType: string): Step => {
  const type = messageType === "exception" ? stringHeader(frame, ":exception-type") : stringHeader(frame, ":error-code")
  const payload = messageType === "exception" ? parseException(frame.payload) : undefined
  const message = payload?.message ?? payload?.Message ?? stringHeader(frame, ":error-message") ?? "no message"
  const name = exceptionName(type)
  const reason: Effect.Effect<ProviderError.ProviderErrorReason> = Effect.map(Effect.clockWith((clock) => clock.currentTimeMillis), (nowMillis) =>
    reasonOfException({
      type: name,
      status: 200,
      message: context.mask(`${name ?? "exception"} in the stream: ${message}`),
      headers: {},
      nowMillis,
      model: context.model
    }))
  return { _tag: "Error", reason }
}

/** One frame. @category constructors */
export const step = (state: StreamState, frame: EventStreamFrames.Frame, context: StreamContext): Step => {
  const messageType = stringHeader(frame, ":message-type") ?? "event"
  if (messageType !== "event") return exceptionStep(frame, context, messageType)
  const eventType = stringHeader(frame, ":event-type") ?? ""
  switch (eventType) {
    case "contentBlockDelta": {
      const json = jsonOf(frame.payload)
      const text = plainText(json)
      if (text !== undefined) return parts(state, [{ type: "text-delta", text }])
      const event = decodeDelta(json)
      if (event === undefined) return malformed(eventType)
      const delta = event.delta
      const index = event.contentBlockIndex
      if (delta.text !== undefined) return parts(state, [{ type: "text-delta", text: delta.text }])
      if (delta.toolUse !== undefined) {
        const calls = Accumulators.addToolDelta(state.calls, index, undefined, undefined, delta.toolUse.input)
        return parts({ ...state, calls }, [{ type: "tool-call-delta", index, argumentsDelta: delta.toolUse.input }])
      }
      const thought = delta.reasoningContent
      if (thought !== undefined) {
        const part: StreamPart.ReasoningDelta = thought.redactedContent !== undefined
          ? { type: "reasoning-delta", text: "", redactedData: thought.redactedContent }
          : thought.signature !== undefined
          ? { type: "reasoning-delta", text: thought.text ?? "", signature: thought.signature }
          : { type: "reasoning-delta", text: thought.text ?? "" }
        return parts({ ...state, reasoning: ReasoningBlocks.append(state.reasoning, part) }, [part])
      }
      return parts(state, [])
    }
    case "contentBlockStart": {
      const event = parseStart(frame.payload)
      if (event === undefined) return malformed(eventType)
      const toolUse = event.start?.toolUse
      if (toolUse === undefined) return parts(state, [])
      const index = event.contentBlockIndex
      const calls = Accumulators.addToolDelta(state.calls, index, toolUse.toolUseId, toolUse.name, "")
      return parts({ ...state, calls }, [{ type: "tool-call-delta", index, id: toolUse.toolUseId, name: toolUse.name, argumentsDelta: "" }])
    }
    case "messageStop": {
      const event = parseStop(frame.payload)
      if (event === undefined) return malformed(eventType)
      // a tool without parameters streams no input at all: its arguments are the empty object
      let calls = state.calls
      for (const [index, call] of calls) if (!call.completed && call.arguments === "") calls = Accumulators.addToolDelta(calls, index, undefined, undefined, "{}")
      const [completed, toolParts] = Accumulators.completeToolCalls(calls)
      return parts({ ...state, calls: completed, stopReason: event.stopReason }, toolParts)
    }
    case "metadata": {
      const event = parseMetadata(frame.payload)
      if (event === undefined) return malformed(eventType)
      if (state.stopReason === undefined) return { _tag: "Malformed", message: "a ConverseStream metadata event before messageStop" }
      const done = finish(state.stopReason, event.usage, context)
      // Bedrock's own timing (model time, without the network), kept as it came
      return parts(state, [event.metrics === undefined || done.type !== "finish" ? done : { ...done, providerMetadata: { bedrock: { metrics: event.metrics } } }])
    }
    default:
      // messageStart, contentBlockStop, and events added later carry nothing we need
      return parts(state, [])
  }
}

const finish = (stopReason: string, tokens: Wire.TokenUsage | undefined, context: StreamContext): StreamPart.StreamPart =>
  Accumulators.finishPart({ finishReason: finishReason(stopReason), rawFinishReason: stopReason }, usage(tokens), context.provider, context.model)

/** The body ended: complete after `messageStop` (no usage then), cut off before it. @category constructors */
export const end = (state: StreamState, text: () => string, context: StreamContext): StreamDecoder.End =>
  state.stopReason !== undefined
    ? { _tag: "Parts", parts: [finish(state.stopReason, undefined, context)] }
    : { _tag: "Interrupted", reason: Accumulators.interrupted(text(), state.calls, "the stream ended before messageStop", state.reasoning) }

/** The machine for one stream. @category constructors */
export const machine = (context: StreamContext): StreamDecoder.Machine<EventStreamFrames.Frame, StreamState> => ({
  initial: initialState,
  step: (state, frame) => step(state, frame, context),
  end: (state, text) => end(state, text, context),
  lost: (state, cause, text) =>
    Accumulators.hasContent(text(), state.calls, state.reasoning)
      ? Accumulators.interrupted(text(), state.calls, cause, state.reasoning)
      : undefined
})
