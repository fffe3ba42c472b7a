/**
 * The unified chat response and its parts: finish reason (unified and raw), token usage, and the
 * provider and model that actually answered, with the router's list of attempts.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { ToolCall } from "./ChatRequest.ts"
import { Reasoning } from "./Reasoning.ts"
import { Attempt } from "./ProviderError.ts"
import { Cost } from "./Pricing.ts"

/**
 * Why the model stopped. `other` covers any value a provider sends that has no unified meaning;
 * the provider's own value is kept beside it as `rawFinishReason`.
 *
 * @category schemas
 */
export const FinishReason = Schema.Literals(["stop", "length", "tool_calls", "content_filter", "other"])
export type FinishReason = typeof FinishReason.Type

/**
 * Token counts. `cachedTokens` (prompt tokens served from the provider's prompt cache),
 * `cacheWriteTokens` (prompt tokens written to it: Anthropic's and Bedrock's cache creation, billed
 * above the input price) and `reasoningTokens` (hidden thinking tokens, part of the completion)
 * appear where the provider reports them. `promptTokens` counts every input token, cached and
 * cache-written ones included, so it means the same for every provider.
 *
 * @category schemas
 */
export const Usage = Schema.Struct({
  promptTokens: Schema.Int,
  completionTokens: Schema.Int,
  totalTokens: Schema.Int,
  cachedTokens: Schema.optionalKey(Schema.Int),
  cacheWriteTokens: Schema.optionalKey(Schema.Int),
  reasoningTokens: Schema.optionalKey(Schema.Int)
})
export type Usage = typeof Usage.Type

/**
 * A complete answer.
 *
 * - `provider` / `model`: who actually answered (after failover, not necessarily the primary;
 *   `model` is the model the provider reports, which may be a dated version of the one asked for).
 * - `latencyMillis`: the whole call as the caller saw it, retries and failovers included.
 * - `attempts`: every try in order, the successful one last (empty when a provider is called directly).
 * - `cost`: what the answer cost in USD, from `usage` and the pricing table (absent when the
 *   provider reported no usage or the model has no price; see `Pricing`). Set by FlexiAI's metering.
 * - `reasoning`: the model's thinking blocks, where the provider returns them. Give them back in
 *   the assistant message of the next turn (`{ role: "assistant", content, reasoning }`): providers
 *   that sign their thinking (Anthropic, Bedrock) need the blocks and signatures unchanged.
 *
 * @category schemas
 */
export const ChatResponse = Schema.Struct({
  id: Schema.String,
  text: Schema.String,
  toolCalls: Schema.Array(ToolCall),
  reasoning: Schema.optionalKey(Schema.Array(Reasoning)),
  finishReason: FinishReason,
  rawFinishReason: Schema.optionalKey(Schema.String),
  usage: Schema.optionalKey(Usage),
  cost: Schema.optionalKey(Cost),
  /**
   * What the provider said about the answer beyond the unified fields, keyed by provider kind
   * (`{ gemini: { safetyRatings } }`): kept as it came, for callers that need it.
   */
  providerMetadata: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
  provider: Schema.String,
  model: Schema.String,
  latencyMillis: Schema.Number,
  attempts: Schema.Array(Attempt)
})
export type ChatResponse = typeof ChatResponse.Type
