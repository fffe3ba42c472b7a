/**
 * What a provider can do and which request parameters it accepts, as one Schema: providers declare
 * it, config can override it per provider, and the router checks a request against it before
 * dispatch (a candidate that cannot serve the request is skipped with an attempt saying why,
 * instead of taking a 400 that would stop the whole call).
 *
 * The flags answer "can it do X at all"; the limits answer "which values does it take". A limit
 * left out means "no known limit beyond the request schema's own" (temperature 0–2, four stop
 * sequences): declare the tighter ones a provider has (Anthropic and Foundry take temperature
 * 0–1).
 *
 * @since 0.2.0
 */
import { Schema } from "effect"

/** An inclusive numeric range. @category schemas */
export const Range = Schema.Struct({
  min: Schema.Number,
  max: Schema.Number
})
export type Range = typeof Range.Type

/** @category schemas */
export const Capabilities = Schema.Struct({
  /** Streams parts as they are generated. */
  streaming: Schema.Boolean,
  /** Takes tool definitions and returns tool calls. */
  tools: Schema.Boolean,
  /** Takes image content parts. */
  images: Schema.Boolean,
  /** Takes `responseFormat: json_schema`. */
  jsonSchema: Schema.Boolean,
  /**
   * Continues a trailing assistant message (the `continue` stream policy needs it). Chat
   * Completions has none; Anthropic Messages has it.
   */
  assistantPrefill: Schema.Boolean,
  /** Can return reasoning (thinking) content as its own parts. */
  reasoning: Schema.optionalKey(Schema.Boolean),
  /** Accepted `temperature` values. */
  temperature: Schema.optionalKey(Range),
  /** Accepted `topP` values. */
  topP: Schema.optionalKey(Range),
  /** The most `stop` sequences one request may carry. */
  maxStopSequences: Schema.optionalKey(Schema.Int),
  /** The model's context window in tokens (prompt plus answer). */
  contextWindow: Schema.optionalKey(Schema.Int),
  /** The most tokens the model answers with (`maxTokens` above it is refused). */
  maxOutputTokens: Schema.optionalKey(Schema.Int)
})
export type Capabilities = typeof Capabilities.Type

/** Every capability, no limits: what a scripted test provider claims by default. @category constructors */
export const all: Capabilities = {
  streaming: true,
  tools: true,
  images: true,
  jsonSchema: true,
  assistantPrefill: true,
  reasoning: true
}

/**
 * Overrides merged over a base (config over a kind's defaults); `undefined` fields are left as
 * they were.
 *
 * @category constructors
 */
export const merge = (base: Capabilities, overrides: Partial<Capabilities> | undefined): Capabilities => {
  if (overrides === undefined) return base
  const merged: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) merged[key] = value
  return merged as Capabilities
}
