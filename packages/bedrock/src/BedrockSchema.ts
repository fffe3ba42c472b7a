/**
 * The few Converse shapes FlexiAI sends and reads: strict (plain types) on what we send, lenient
 * Schemas on what we read (a field Bedrock may drop is optional; fields we do not use are not
 * declared). Reference: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 *
 * Gotchas: content blocks are unions by key (`{ text }`, `{ toolUse }`, `{ cachePoint }`), not by
 * a `type` field; image and document bytes are base64 in JSON; a tool's `input` is a JSON value,
 * not a string; `usage.inputTokens` leaves out the cached tokens (`cacheReadInputTokens`,
 * `cacheWriteInputTokens`), which are counted beside it.
 *
 * @since 0.2.0
 */
import { Schema } from "effect"

// ---------------------------------------------------------------------------
// what we send
// ---------------------------------------------------------------------------

/** @category models */
export interface CachePoint {
  readonly cachePoint: { readonly type: "default" }
}

/** @category models */
export type ContentBlock =
  | { readonly text: string }
  | { readonly image: { readonly format: string; readonly source: { readonly bytes: string } } }
  | { readonly document: { readonly format: string; readonly name: string; readonly source: { readonly bytes: string } } }
  | { readonly toolUse: { readonly toolUseId: string; readonly name: string; readonly input: unknown } }
  | {
    readonly toolResult: {
      readonly toolUseId: string
      readonly content: ReadonlyArray<{ readonly text: string } | { readonly json: unknown }>
      readonly status?: "success" | "error"
    }
  }
  | {
    readonly reasoningContent:
      | { readonly reasoningText: { readonly text: string; readonly signature?: string } }
      | { readonly redactedContent: string }
  }
  | CachePoint

/** @category models */
export interface Message {
  readonly role: "user" | "assistant"
  readonly content: ReadonlyArray<ContentBlock>
}

/** @category models */
export type Tool =
  | { readonly toolSpec: { readonly name: string; readonly description?: string; readonly inputSchema: { readonly json: unknown } } }
  | CachePoint

/** The body of `POST /model/{modelId}/converse` (and `converse-stream`, the same). @category models */
export interface ConverseRequest {
  readonly messages: ReadonlyArray<Message>
  readonly system?: ReadonlyArray<{ readonly text: string } | CachePoint>
  readonly inferenceConfig?: {
    readonly maxTokens?: number
    readonly temperature?: number
    readonly topP?: number
    readonly stopSequences?: ReadonlyArray<string>
  }
  readonly toolConfig?: {
    readonly tools: ReadonlyArray<Tool>
    readonly toolChoice?: { readonly auto: {} } | { readonly any: {} } | { readonly tool: { readonly name: string } }
  }
  readonly additionalModelRequestFields?: Readonly<Record<string, unknown>>
  readonly requestMetadata?: Readonly<Record<string, string>>
}

// ---------------------------------------------------------------------------
// what we read
// ---------------------------------------------------------------------------

const optional = Schema.optionalKey
const OptionalInt = optional(Schema.NullOr(Schema.Number))

/** Token counts; the cache fields appear only when prompt caching was used. @category schemas */
export const TokenUsage = Schema.Struct({
  inputTokens: OptionalInt,
  outputTokens: OptionalInt,
  totalTokens: OptionalInt,
  cacheReadInputTokens: OptionalInt,
  cacheWriteInputTokens: OptionalInt
})
export type TokenUsage = typeof TokenUsage.Type

/** @category schemas */
export const Metrics = Schema.Struct({ latencyMs: OptionalInt })
export type Metrics = typeof Metrics.Type

/** A content block of the answer (the keys we read). @category schemas */
export const OutputBlock = Schema.Struct({
  text: optional(Schema.String),
  toolUse: optional(Schema.Struct({ toolUseId: Schema.String, name: Schema.String, input: optional(Schema.Unknown) })),
  reasoningContent: optional(Schema.Struct({
    reasoningText: optional(Schema.Struct({ text: optional(Schema.String), signature: optional(Schema.NullOr(Schema.String)) })),
    redactedContent: optional(Schema.String)
  }))
})
export type OutputBlock = typeof OutputBlock.Type

/** The answer of `converse`. @category schemas */
export const ConverseResponse = Schema.Struct({
  output: optional(Schema.Struct({
    message: optional(Schema.Struct({ role: optional(Schema.String), content: optional(Schema.Array(OutputBlock)) }))
  })),
  stopReason: optional(Schema.String),
  usage: optional(TokenUsage),
  metrics: optional(Metrics)
})
export type ConverseResponse = typeof ConverseResponse.Type

/** `contentBlockStart`: only tool uses announce themselves. @category schemas */
export const ContentBlockStart = Schema.Struct({
  contentBlockIndex: Schema.Number,
  start: optional(Schema.Struct({ toolUse: optional(Schema.Struct({ toolUseId: Schema.String, name: Schema.String })) }))
})

/** `contentBlockDelta`: text, a piece of a tool's input JSON, or reasoning. @category schemas */
export const ContentBlockDelta = Schema.Struct({
  contentBlockIndex: Schema.Number,
  delta: Schema.Struct({
    text: optional(Schema.String),
    toolUse: optional(Schema.Struct({ input: Schema.String })),
    reasoningContent: optional(Schema.Struct({
      text: optional(Schema.String),
      signature: optional(Schema.String),
      redactedContent: optional(Schema.String)
    }))
  })
})

/** `contentBlockStop`. @category schemas */
export const ContentBlockStop = Schema.Struct({ contentBlockIndex: Schema.Number })

/** `messageStop`. @category schemas */
export const MessageStop = Schema.Struct({ stopReason: Schema.String })

/** `metadata`: the stream's last event. @category schemas */
export const StreamMetadata = Schema.Struct({ usage: optional(TokenUsage), metrics: optional(Metrics) })

/** An exception frame's payload. @category schemas */
export const ExceptionPayload = Schema.Struct({ message: optional(Schema.String), Message: optional(Schema.String) })
