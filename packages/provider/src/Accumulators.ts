/**
 * What every provider's stream state machine accumulates the same way: tool calls arriving in
 * pieces by index, the `finish` part, and the `StreamInterrupted` a cut-off stream ends with.
 * Plain immutable values and functions, so a state machine stays a pure `step(state, event)`.
 *
 * What users get wrong: emitting a `tool-call` part per delta, or before the provider said the
 * turn is over. Deltas go out as `tool-call-delta` parts as they come; `complete` emits one
 * `tool-call` per call once, in index order, when the finish reason arrives. And a stream that
 * stops early must not look complete: `interrupted` carries the text, the reasoning and the
 * completed tool calls so far, never a half-received call. Reasoning is content the consumer saw:
 * a stream cut after reasoning alone is interrupted too, not a failed request.
 *
 * @since 0.2.0
 */
import type * as ChatResponse from "@flexiai/core/ChatResponse"
import { StreamInterrupted } from "@flexiai/core/ProviderError"
import type { Reasoning } from "@flexiai/core/Reasoning"
import type * as StreamPart from "@flexiai/core/StreamPart"

/** A tool call being received: `completed` once its `tool-call` part went out. @category models */
export interface OpenToolCall {
  readonly id: string
  readonly name: string
  readonly arguments: string
  readonly completed: boolean
}

/** Tool calls by the provider's index. @category models */
export type ToolCalls = ReadonlyMap<number, OpenToolCall>

/** No tool calls yet. @category constructors */
export const noToolCalls: ToolCalls = new Map()

/**
 * Adds one delta to the call at `index`: the first id wins, the name is taken once (providers
 * repeat it or send it in pieces before any arguments), the arguments are appended. Returns a new
 * map; `calls` is not changed.
 *
 * @category combinators
 */
export const addToolDelta = (
  calls: ToolCalls,
  index: number,
  id: string | undefined,
  name: string | undefined,
  argumentsDelta: string
): ToolCalls => {
  const previous = calls.get(index)
  const call: OpenToolCall = {
    id: previous?.id || id || "",
    name: (previous?.name ?? "") + (previous === undefined || previous.name === "" ? name ?? "" : ""),
    arguments: (previous?.arguments ?? "") + argumentsDelta,
    completed: false
  }
  const next = new Map(calls)
  next.set(index, call)
  return next
}

/**
 * Marks every open call completed and returns the `tool-call` parts for them, in index order
 * (calls completed before are not emitted again).
 *
 * @category combinators
 */
export const completeToolCalls = (calls: ToolCalls): readonly [ToolCalls, Array<StreamPart.StreamPart>] => {
  if (calls.size === 0) return [calls, []]
  const parts: Array<StreamPart.StreamPart> = []
  const next = new Map(calls)
  for (const [index, call] of [...next].sort(([a], [b]) => a - b)) {
    if (call.completed) continue
    next.set(index, { ...call, completed: true })
    parts.push({ type: "tool-call", index, toolCall: { id: call.id, name: call.name, arguments: call.arguments } })
  }
  return [next, parts]
}

/** The `finish` part. @category constructors */
export const finishPart = (
  reason: { readonly finishReason: ChatResponse.FinishReason; readonly rawFinishReason?: string | undefined },
  usage: ChatResponse.Usage | undefined,
  provider: string,
  model: string
): StreamPart.StreamPart => ({
  type: "finish",
  finishReason: reason.finishReason,
  ...(reason.rawFinishReason === undefined ? {} : { rawFinishReason: reason.rawFinishReason }),
  ...(usage === undefined ? {} : { usage }),
  provider,
  model
})

/**
 * Whether anything of the answer arrived, reasoning included (then a lost connection is an
 * interruption, not a failed request).
 *
 * @category utils
 */
export const hasContent = (text: string, calls: ToolCalls, reasoning: ReadonlyArray<Reasoning> = []): boolean =>
  text.length > 0 || calls.size > 0 || reasoning.length > 0

/**
 * The error of a stream cut off before its finish: the text, the completed tool calls and the
 * reasoning blocks so far (`Reasoning.append` joins a machine's reasoning deltas), and why.
 *
 * @category constructors
 */
export const interrupted = (
  text: string,
  calls: ToolCalls,
  cause: string,
  reasoning: ReadonlyArray<Reasoning> = []
): StreamInterrupted => {
  const completed = [...calls.values()].filter((call) => call.completed)
  const reasoned = reasoning.length === 0 ? "" : ` (and ${reasoning.reduce((sum, block) => sum + block.text.length, 0)} of reasoning)`
  return new StreamInterrupted({
    message: `stream interrupted after ${text.length} characters${reasoned}: ${cause}`,
    partialText: text,
    ...(completed.length === 0 ? {} : { partialToolCalls: completed.map(({ arguments: args, id, name }) => ({ id, name, arguments: args })) }),
    ...(reasoning.length === 0 ? {} : { partialReasoning: reasoning }),
    cause
  })
}
