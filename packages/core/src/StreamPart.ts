/**
 * The parts a chat stream emits. Content parts (`reasoning-delta`, `text-delta`, `tool-call-delta`,
 * `tool-call`) carry the answer; `finish` ends every complete stream; `restart` and `resume` are control parts
 * the router emits when it switches provider after content was delivered (see `Router`).
 *
 * A stream that ends without a `finish` part was cut: providers and the router turn that into a
 * `StreamInterrupted` error, so a consumer never mistakes a truncated answer for a complete one.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { ToolCall } from "./ChatRequest.ts"
import { FinishReason, Usage } from "./ChatResponse.ts"
import { Attempt } from "./ProviderError.ts"
import { Cost } from "./Pricing.ts"
import { Reasoning } from "./Reasoning.ts"

/** A piece of the answer's text. @category schemas */
export const TextDelta = Schema.Struct({
  type: Schema.Literal("text-delta"),
  text: Schema.String
})

/**
 * A piece of the model's reasoning (thinking), delivered before or between the answer's parts.
 *
 * Blocks are delimited by their last delta: the delta that carries `signature` ends the block it
 * belongs to (providers send the signature after the block's text), and a delta with
 * `redactedData` is a whole redacted block by itself; the next `reasoning-delta` starts a new
 * block (`Reasoning.append` is the rule). Joined this way they give `ChatResponse.reasoning`.
 * `summary`, `id` and `format` are the block's own (see `Reasoning`), on the deltas that carry them.
 *
 * For the router a reasoning delta is content: the caller has seen it, so a failure after it is
 * handled by the stream policy like one after text (see `Router`).
 *
 * @category schemas
 */
export const ReasoningDelta = Schema.Struct({
  type: Schema.Literal("reasoning-delta"),
  // a delta carries a piece of one block: the block's own fields, one statement of them
  ...Reasoning.fields
})

/**
 * A piece of a tool call being streamed. `index` tells parallel calls apart; `id` and `name`
 * arrive on the first delta of a call, `argumentsDelta` is the next piece of its JSON text.
 *
 * @category schemas
 */
export const ToolCallDelta = Schema.Struct({
  type: Schema.Literal("tool-call-delta"),
  index: Schema.Int,
  id: Schema.optionalKey(Schema.String),
  name: Schema.optionalKey(Schema.String),
  argumentsDelta: Schema.String
})

/** A tool call whose arguments are complete. Emitted once per call, after its deltas. @category schemas */
export const ToolCallComplete = Schema.Struct({
  type: Schema.Literal("tool-call"),
  index: Schema.Int,
  toolCall: ToolCall
})

/**
 * The end of a complete answer. `provider`/`model` say who answered; the router adds `attempts`;
 * `cost` is what the answer cost (see `ChatResponse.cost`).
 *
 * @category schemas
 */
export const Finish = Schema.Struct({
  type: Schema.Literal("finish"),
  finishReason: FinishReason,
  rawFinishReason: Schema.optionalKey(Schema.String),
  usage: Schema.optionalKey(Usage),
  cost: Schema.optionalKey(Cost),
  /** As `ChatResponse.providerMetadata`: the provider's own facts about the answer, keyed by kind. */
  providerMetadata: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
  provider: Schema.String,
  model: Schema.String,
  attempts: Schema.optionalKey(Schema.Array(Attempt))
})

/**
 * Control part (stream policy `restart`): discard everything received so far; a complete answer
 * from `provider` follows.
 *
 * @category schemas
 */
export const Restart = Schema.Struct({
  type: Schema.Literal("restart"),
  provider: Schema.String,
  /** The reason tag of the failure that caused the switch. */
  reason: Schema.String
})

/**
 * Control part (stream policy `continue`): keep what was received; `provider` continues the same
 * answer from where it broke off.
 *
 * @category schemas
 */
export const Resume = Schema.Struct({
  type: Schema.Literal("resume"),
  provider: Schema.String,
  reason: Schema.String
})

/** @category schemas */
export const StreamPart = Schema.Union([TextDelta, ReasoningDelta, ToolCallDelta, ToolCallComplete, Finish, Restart, Resume])
export type StreamPart = typeof StreamPart.Type
export type TextDelta = typeof TextDelta.Type
export type ReasoningDelta = typeof ReasoningDelta.Type
export type ToolCallDelta = typeof ToolCallDelta.Type
export type ToolCallComplete = typeof ToolCallComplete.Type
export type Finish = typeof Finish.Type
export type Restart = typeof Restart.Type
export type Resume = typeof Resume.Type

/** True for the parts that carry answer content (the point after which a stream can no longer fail over freely). @category utils */
export const isContent = (part: StreamPart): boolean =>
  part.type === "text-delta" || part.type === "reasoning-delta" || part.type === "tool-call-delta" ||
  part.type === "tool-call"
