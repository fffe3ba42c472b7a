/**
 * Hand-kept wire shapes of the OpenAI Chat Completions endpoints FlexiAI calls
 * (`POST /chat/completions`, `GET /models`), shared by the compatible family.
 *
 * Strict on what we send (plain TypeScript types, checked against the official OpenAPI spec in the
 * tests), lenient on what we read: every response field a compatible provider may drop or send as
 * `null` is optional, and fields we do not use are not declared (unknown ones pass through).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

// ---------------------------------------------------------------------------
// request (what we send)
// ---------------------------------------------------------------------------

/** @category models */
export type ContentPart =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "image_url"; readonly image_url: { readonly url: string; readonly detail?: "auto" | "low" | "high" } }
  | { readonly type: "file"; readonly file: { readonly file_data: string; readonly filename?: string } }

/** @category models */
export interface ToolCall {
  readonly id: string
  readonly type: "function"
  readonly function: { readonly name: string; readonly arguments: string }
}

/**
 * One entry of OpenRouter's `reasoning_details`, as sent back on an assistant message: the
 * entries a response carried, unchanged (https://openrouter.ai/docs/use-cases/reasoning-tokens).
 *
 * @category models
 */
export type ReasoningDetailParam =
  | {
    readonly type: "reasoning.text"
    readonly text: string
    readonly signature?: string
    readonly id?: string
    readonly format?: string
    readonly index: number
  }
  | { readonly type: "reasoning.summary"; readonly summary: string; readonly id?: string; readonly format?: string; readonly index: number }
  | { readonly type: "reasoning.encrypted"; readonly data: string; readonly id?: string; readonly format?: string; readonly index: number }

/** @category models */
export type Message =
  | { readonly role: "system" | "developer"; readonly content: string | ReadonlyArray<{ readonly type: "text"; readonly text: string }> }
  | { readonly role: "user"; readonly content: string | ReadonlyArray<ContentPart>; readonly name?: string }
  | {
    readonly role: "assistant"
    readonly content?: string | null
    readonly tool_calls?: ReadonlyArray<ToolCall>
    /** OpenRouter only (quirk `reasoningEcho`): the reasoning the response carried, given back. */
    readonly reasoning_details?: ReadonlyArray<ReasoningDetailParam>
  }
  | { readonly role: "tool"; readonly tool_call_id: string; readonly content: string }

/** @category models */
export interface Tool {
  readonly type: "function"
  readonly function: {
    readonly name: string
    readonly description?: string
    readonly parameters: Readonly<Record<string, unknown>>
    readonly strict?: boolean
  }
}

/** @category models */
export type ToolChoice = "auto" | "none" | "required" | { readonly type: "function"; readonly function: { readonly name: string } }

/** @category models */
export type ResponseFormat =
  | { readonly type: "text" }
  | { readonly type: "json_object" }
  | {
    readonly type: "json_schema"
    readonly json_schema: {
      readonly name: string
      readonly description?: string
      readonly schema: Readonly<Record<string, unknown>>
      readonly strict?: boolean
    }
  }

/**
 * The body of `POST /chat/completions`. `[key: string]: unknown` admits `providerOptions`
 * passed through as they are.
 *
 * @category models
 */
export interface CreateChatCompletion {
  readonly model: string
  readonly messages: ReadonlyArray<Message>
  readonly stream?: boolean
  readonly stream_options?: { readonly include_usage: boolean }
  readonly temperature?: number
  readonly top_p?: number
  readonly max_tokens?: number
  readonly max_completion_tokens?: number
  readonly stop?: ReadonlyArray<string>
  readonly seed?: number
  readonly user?: string
  readonly metadata?: Readonly<Record<string, string>>
  readonly tools?: ReadonlyArray<Tool>
  readonly tool_choice?: ToolChoice
  readonly response_format?: ResponseFormat
  readonly [key: string]: unknown
}

// ---------------------------------------------------------------------------
// responses (what we read)
// ---------------------------------------------------------------------------

const optional = <S extends Schema.Top>(schema: S) => Schema.optionalKey(Schema.NullOr(schema))

/** @category schemas */
export const Usage = Schema.Struct({
  prompt_tokens: optional(Schema.Number),
  completion_tokens: optional(Schema.Number),
  total_tokens: optional(Schema.Number),
  prompt_tokens_details: optional(Schema.Struct({ cached_tokens: optional(Schema.Number) })),
  completion_tokens_details: optional(Schema.Struct({ reasoning_tokens: optional(Schema.Number) }))
})
export type Usage = typeof Usage.Type

/** @category schemas */
export const ResponseToolCall = Schema.Struct({
  id: optional(Schema.String),
  type: optional(Schema.String),
  function: Schema.Struct({ name: optional(Schema.String), arguments: optional(Schema.String) })
})

/**
 * One entry of OpenRouter's `reasoning_details` (response message or stream delta): `type`
 * `reasoning.text` (`text`, `signature` on the entry that ends the block), `reasoning.summary`
 * (`summary`) or `reasoning.encrypted` (`data`), with the provider's `id`, the `format` its
 * signature or data is in, and its position (`index`). Other types (a server tool call) are ignored.
 *
 * @category schemas
 */
export const ReasoningDetail = Schema.Struct({
  type: Schema.String,
  text: optional(Schema.String),
  summary: optional(Schema.String),
  data: optional(Schema.String),
  signature: optional(Schema.String),
  id: optional(Schema.String),
  format: optional(Schema.String),
  index: optional(Schema.Number)
})
export type ReasoningDetail = typeof ReasoningDetail.Type

/** @category schemas */
export const ChatCompletion = Schema.Struct({
  id: optional(Schema.String),
  model: optional(Schema.String),
  choices: Schema.Array(Schema.Struct({
    index: optional(Schema.Number),
    message: Schema.Struct({
      content: optional(Schema.String),
      // reasoning text: OpenRouter's `reasoning`, DeepSeek's and vLLM's `reasoning_content`
      // https://openrouter.ai/docs/use-cases/reasoning-tokens, https://api-docs.deepseek.com/guides/reasoning_model
      reasoning: optional(Schema.String),
      reasoning_content: optional(Schema.String),
      // OpenRouter's structured reasoning (signatures, encrypted blocks); preferred over `reasoning`
      reasoning_details: optional(Schema.Array(ReasoningDetail)),
      refusal: optional(Schema.String),
      tool_calls: optional(Schema.Array(ResponseToolCall))
    }),
    finish_reason: optional(Schema.String)
  })),
  usage: optional(Usage)
})
export type ChatCompletion = typeof ChatCompletion.Type

/** The error object of an error body, or of an error event inside a 200 stream. @category schemas */
export const ErrorObject = Schema.Struct({
  message: optional(Schema.String),
  type: optional(Schema.String),
  param: optional(Schema.String),
  // OpenRouter sends a numeric code (the HTTP status), OpenAI a string
  code: optional(Schema.Union([Schema.String, Schema.Number])),
  metadata: optional(Schema.Unknown)
})
export type ErrorObject = typeof ErrorObject.Type

/** @category schemas */
export const ChatCompletionChunk = Schema.Struct({
  id: optional(Schema.String),
  model: optional(Schema.String),
  choices: optional(Schema.Array(Schema.Struct({
    index: optional(Schema.Number),
    delta: optional(Schema.Struct({
      content: optional(Schema.String),
      // as on `ChatCompletion`'s message: OpenRouter `reasoning`, DeepSeek/vLLM `reasoning_content`
      reasoning: optional(Schema.String),
      reasoning_content: optional(Schema.String),
      reasoning_details: optional(Schema.Array(ReasoningDetail)),
      tool_calls: optional(Schema.Array(Schema.Struct({
        index: optional(Schema.Number),
        id: optional(Schema.String),
        function: optional(Schema.Struct({ name: optional(Schema.String), arguments: optional(Schema.String) }))
      })))
    })),
    finish_reason: optional(Schema.String)
  }))),
  usage: optional(Usage),
  // Groq reports streamed usage only here: https://console.groq.com/docs/openai
  x_groq: optional(Schema.Struct({ usage: optional(Usage) })),
  error: optional(ErrorObject)
})
export type ChatCompletionChunk = typeof ChatCompletionChunk.Type

/** `GET /models`. @category schemas */
export const ModelList = Schema.Struct({
  data: Schema.Array(Schema.Struct({ id: Schema.String, owned_by: optional(Schema.String) }))
})
export type ModelList = typeof ModelList.Type
