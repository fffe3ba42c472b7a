/**
 * Hand-kept wire shapes of the Ollama native endpoints FlexiAI calls: `POST /api/chat` (one JSON
 * object, or NDJSON lines of the same shape when streamed), `GET /api/tags` and `POST /api/show`
 * (https://github.com/ollama/ollama/blob/main/docs/api.md).
 *
 * Strict on what we send (plain TypeScript types, checked against Ollama's OpenAPI document in the
 * tests), lenient on what we read: every response field Ollama may leave out is optional, and
 * fields we do not use are not declared (unknown ones pass through).
 *
 * What users get wrong: a tool call's `arguments` is a JSON *object* on this API, both ways (Chat
 * Completions sends a string); and the durations are nanoseconds.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

// ---------------------------------------------------------------------------
// request (what we send)
// ---------------------------------------------------------------------------

/** A tool call as Ollama carries it: arguments as an object. @category models */
export interface ToolCall {
  readonly function: { readonly name: string; readonly arguments: Readonly<Record<string, unknown>> }
}

/** @category models */
export interface Message {
  readonly role: "system" | "user" | "assistant" | "tool"
  readonly content: string
  /** Base64 image bytes, no `data:` prefix. */
  readonly images?: ReadonlyArray<string>
  readonly tool_calls?: ReadonlyArray<ToolCall>
  /** An assistant turn's thinking, given back. */
  readonly thinking?: string
  /** On a `tool` message: the tool whose result it is (Ollama has no call ids on the way in). */
  readonly tool_name?: string
}

/** @category models */
export interface Tool {
  readonly type: "function"
  readonly function: {
    readonly name: string
    readonly description?: string
    readonly parameters: Readonly<Record<string, unknown>>
  }
}

/** Runtime options (`ModelOptions`): the ones FlexiAI maps, others pass through `providerOptions`. @category models */
export interface ModelOptions {
  readonly num_predict?: number
  readonly temperature?: number
  readonly top_p?: number
  readonly top_k?: number
  readonly stop?: ReadonlyArray<string>
  readonly num_ctx?: number
  readonly seed?: number
  readonly [key: string]: unknown
}

/** `think`: on/off, or a level for the models that take one (gpt-oss). @category models */
export type Think = boolean | "low" | "medium" | "high"

/** The body of `POST /api/chat`. @category models */
export interface ChatRequest {
  readonly model: string
  readonly messages: ReadonlyArray<Message>
  readonly stream: boolean
  readonly tools?: ReadonlyArray<Tool>
  /** `"json"`, or a JSON Schema the answer must follow. */
  readonly format?: "json" | Readonly<Record<string, unknown>>
  readonly options?: ModelOptions
  readonly think?: Think
  /** How long the model stays loaded after the call: a duration (`"5m"`) or seconds; `0` unloads it. */
  readonly keep_alive?: string | number
  readonly [key: string]: unknown
}

// ---------------------------------------------------------------------------
// response (what we read)
// ---------------------------------------------------------------------------

const optional = Schema.optionalKey

/** @category schemas */
export const WireToolCall = Schema.Struct({
  id: optional(Schema.String),
  function: Schema.Struct({
    index: optional(Schema.Number),
    name: Schema.String,
    arguments: optional(Schema.Record(Schema.String, Schema.Unknown))
  })
})
export type WireToolCall = typeof WireToolCall.Type

/** @category schemas */
export const ResponseMessage = Schema.Struct({
  role: optional(Schema.String),
  content: optional(Schema.String),
  thinking: optional(Schema.String),
  tool_calls: optional(Schema.Array(WireToolCall))
})

/**
 * One answer (`stream: false`) or one NDJSON line of a stream: the same shape. The last line has
 * `done: true`, the `done_reason`, the counts and the durations; a line with `error` is an error
 * Ollama sent after the 200.
 *
 * @category schemas
 */
export const ChatChunk = Schema.Struct({
  model: optional(Schema.String),
  created_at: optional(Schema.String),
  message: optional(ResponseMessage),
  done: optional(Schema.Boolean),
  done_reason: optional(Schema.String),
  total_duration: optional(Schema.Number),
  load_duration: optional(Schema.Number),
  prompt_eval_count: optional(Schema.Number),
  prompt_eval_duration: optional(Schema.Number),
  eval_count: optional(Schema.Number),
  eval_duration: optional(Schema.Number),
  error: optional(Schema.String)
})
export type ChatChunk = typeof ChatChunk.Type

/** One entry of `GET /api/tags`. @category schemas */
export const ModelSummary = Schema.Struct({
  name: Schema.String,
  model: optional(Schema.String),
  modified_at: optional(Schema.String),
  size: optional(Schema.Number),
  digest: optional(Schema.String),
  details: optional(Schema.Struct({
    format: optional(Schema.String),
    family: optional(Schema.String),
    parameter_size: optional(Schema.String),
    quantization_level: optional(Schema.String)
  }))
})

/** @category schemas */
export const ModelList = Schema.Struct({ models: Schema.Array(ModelSummary) })
export type ModelList = typeof ModelList.Type

/** `POST /api/show`'s answer, the parts FlexiAI reads. @category schemas */
export const ShowResponse = Schema.Struct({
  capabilities: optional(Schema.Array(Schema.String)),
  model_info: optional(Schema.Record(Schema.String, Schema.Unknown)),
  details: optional(Schema.Struct({
    family: optional(Schema.String),
    parameter_size: optional(Schema.String),
    quantization_level: optional(Schema.String)
  })),
  modified_at: optional(Schema.String)
})
export type ShowResponse = typeof ShowResponse.Type
