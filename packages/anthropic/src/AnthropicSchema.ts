/**
 * The Anthropic Messages wire shapes we send and read (`POST /v1/messages`, `GET /v1/models`):
 * only the fields FlexiAI uses. Strict on what we send (the request types), lenient on what we
 * read: a response field the API may drop or add is optional, and unknown fields are ignored.
 *
 * The stream events are checked by hand in `internal/decode.ts` (per event, on the hot path, as
 * the OpenAI provider does); the Schemas here stay the one statement of their shapes, and
 * `decode.test.ts` holds the hand checks to them.
 *
 * Reference: https://docs.anthropic.com/en/api/messages and
 * https://docs.anthropic.com/en/api/messages-streaming
 *
 * @since 0.2.0
 */
import { Schema } from "effect"

// ---------------------------------------------------------------------------
// request
// ---------------------------------------------------------------------------

/** `{ type: "ephemeral", ttl? }`: the prompt prefix up to the block that carries it is cached. @category models */
export interface CacheControl {
  readonly type: "ephemeral"
  readonly ttl?: "5m" | "1h"
}

/** @category models */
export interface TextBlockParam {
  readonly type: "text"
  readonly text: string
  readonly cache_control?: CacheControl
}

/** @category models */
export interface ImageBlockParam {
  readonly type: "image"
  readonly source:
    | { readonly type: "base64"; readonly media_type: string; readonly data: string }
    | { readonly type: "url"; readonly url: string }
  readonly cache_control?: CacheControl
}

/** A document: a PDF (base64 or URL) or plain text; `title` is shown to the model. @category models */
export interface DocumentBlockParam {
  readonly type: "document"
  readonly source:
    | { readonly type: "base64"; readonly media_type: string; readonly data: string }
    | { readonly type: "text"; readonly media_type: "text/plain"; readonly data: string }
    | { readonly type: "url"; readonly url: string }
  readonly title?: string
  readonly cache_control?: CacheControl
}

/** @category models */
export interface ToolUseBlockParam {
  readonly type: "tool_use"
  readonly id: string
  readonly name: string
  readonly input: unknown
  readonly cache_control?: CacheControl
}

/** @category models */
export interface ToolResultBlockParam {
  readonly type: "tool_result"
  readonly tool_use_id: string
  readonly content: string
  readonly cache_control?: CacheControl
}

/** A thinking block given back as it came (its signature unchanged). @category models */
export interface ThinkingBlockParam {
  readonly type: "thinking"
  readonly thinking: string
  readonly signature: string
}

/** @category models */
export interface RedactedThinkingBlockParam {
  readonly type: "redacted_thinking"
  readonly data: string
}

/** @category models */
export type ContentBlockParam =
  | TextBlockParam
  | ImageBlockParam
  | DocumentBlockParam
  | ToolUseBlockParam
  | ToolResultBlockParam
  | ThinkingBlockParam
  | RedactedThinkingBlockParam

/** Messages alternate user / assistant; the first is a user message. @category models */
export interface MessageParam {
  readonly role: "user" | "assistant"
  readonly content: ReadonlyArray<ContentBlockParam>
}

/** @category models */
export interface Tool {
  readonly name: string
  readonly description?: string
  readonly input_schema: Readonly<Record<string, unknown>>
  readonly cache_control?: CacheControl
}

/** @category models */
export type ToolChoice =
  | { readonly type: "auto" }
  | { readonly type: "any" }
  | { readonly type: "none" }
  | { readonly type: "tool"; readonly name: string }

/**
 * The body of `POST /v1/messages`. `[key: string]: unknown` admits `providerOptions` (`top_k`,
 * `thinking`, `metadata`, `service_tier`), merged in last as they are.
 *
 * @category models
 */
export interface CreateMessage {
  readonly model: string
  readonly max_tokens: number
  readonly messages: ReadonlyArray<MessageParam>
  readonly system?: ReadonlyArray<TextBlockParam>
  readonly temperature?: number
  readonly top_p?: number
  readonly top_k?: number
  readonly stop_sequences?: ReadonlyArray<string>
  readonly tools?: ReadonlyArray<Tool>
  readonly tool_choice?: ToolChoice
  readonly metadata?: { readonly user_id?: string }
  readonly stream?: boolean
  readonly [key: string]: unknown
}

// ---------------------------------------------------------------------------
// response
// ---------------------------------------------------------------------------

const optional = <S extends Schema.Top>(schema: S) => Schema.optionalKey(Schema.NullOr(schema))

/** A JSON number (finite: JSON has no NaN or Infinity). */
const JsonNumber = Schema.Number.check(Schema.isFinite())

/**
 * Token counts. `input_tokens` excludes the cached ones: the whole prompt is `input_tokens +
 * cache_read_input_tokens + cache_creation_input_tokens`.
 *
 * @category schemas
 */
export const Usage = Schema.Struct({
  input_tokens: optional(JsonNumber),
  output_tokens: optional(JsonNumber),
  cache_read_input_tokens: optional(JsonNumber),
  cache_creation_input_tokens: optional(JsonNumber)
})
export type Usage = typeof Usage.Type

/** A content block of an answer. Kinds we do not map (server tools' results) are kept lenient. @category schemas */
export const ContentBlock = Schema.Struct({
  type: Schema.String,
  text: Schema.optionalKey(Schema.String),
  id: Schema.optionalKey(Schema.String),
  name: Schema.optionalKey(Schema.String),
  input: Schema.optionalKey(Schema.Unknown),
  thinking: Schema.optionalKey(Schema.String),
  signature: Schema.optionalKey(Schema.String),
  data: Schema.optionalKey(Schema.String)
})
export type ContentBlock = typeof ContentBlock.Type

/** A complete answer (`type: "message"`). @category schemas */
export const Message = Schema.Struct({
  id: Schema.String,
  type: Schema.optionalKey(Schema.String),
  role: Schema.optionalKey(Schema.String),
  model: optional(Schema.String),
  content: Schema.Array(ContentBlock),
  stop_reason: optional(Schema.String),
  stop_sequence: optional(Schema.String),
  usage: optional(Usage)
})
export type Message = typeof Message.Type

/** Anthropic's error envelope: `{ type: "error", error: { type, message }, request_id? }`. @category schemas */
export const ErrorObject = Schema.Struct({
  type: optional(Schema.String),
  message: optional(Schema.String)
})
export type ErrorObject = typeof ErrorObject.Type

// ---------------------------------------------------------------------------
// stream events
// ---------------------------------------------------------------------------

/**
 * `content_block_delta.delta` (text, thinking, signature or tool input JSON, by `type`) and
 * `message_delta.delta` (no `type`: the stop reason).
 *
 * @category schemas
 */
export const Delta = Schema.Struct({
  type: Schema.optionalKey(Schema.String),
  text: Schema.optionalKey(Schema.String),
  thinking: Schema.optionalKey(Schema.String),
  signature: Schema.optionalKey(Schema.String),
  partial_json: Schema.optionalKey(Schema.String),
  stop_reason: optional(Schema.String),
  stop_sequence: optional(Schema.String)
})
export type Delta = typeof Delta.Type

/**
 * One stream event (the `data:` of an SSE event; its `type` repeats the event name):
 * `message_start` (`message`), `content_block_start` (`index`, `content_block`),
 * `content_block_delta` (`index`, `delta`), `content_block_stop` (`index`), `message_delta`
 * (`delta.stop_reason`, `usage`), `message_stop`, `ping`, `error` (`error`).
 *
 * @category schemas
 */
export const StreamEvent = Schema.Struct({
  type: Schema.String,
  index: Schema.optionalKey(JsonNumber),
  message: Schema.optionalKey(Schema.Struct({
    id: optional(Schema.String),
    model: optional(Schema.String),
    usage: optional(Usage)
  })),
  content_block: Schema.optionalKey(ContentBlock),
  delta: Schema.optionalKey(Delta),
  usage: optional(Usage),
  error: optional(ErrorObject)
})
export type StreamEvent = typeof StreamEvent.Type

/** `GET /v1/models`. @category schemas */
export const ModelList = Schema.Struct({
  data: Schema.Array(Schema.Struct({ id: Schema.String, display_name: optional(Schema.String) }))
})
export type ModelList = typeof ModelList.Type
