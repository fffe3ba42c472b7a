/**
 * The Gemini wire types FlexiAI uses, for the Gemini API (`generativelanguage.googleapis.com`)
 * and Vertex AI, which share one body: `GenerateContentRequest` sent, `GenerateContentResponse`
 * read (whole, or one per SSE event of `streamGenerateContent?alt=sse`). Only the fields FlexiAI
 * sends or reads are declared (the reference is Google's OpenAPI export, test-data/specs/gemini).
 *
 * Strict on what we send (these types), lenient on what we read: every response field is
 * optional, and `internal/decode.ts` checks only the shape of what it uses, so a new field or a
 * dropped one never fails a call.
 *
 * @since 0.1.0
 */

// ---------------------------------------------------------------------------
// request
// ---------------------------------------------------------------------------

/** One part of a turn. Exactly one of the data fields is set. @category models */
export interface Part {
  readonly text?: string
  /** A reasoning (thinking) part: its `text` is a thought summary, not the answer. */
  readonly thought?: boolean
  /** Opaque proof of the model's reasoning, to be given back with the part it came on. */
  readonly thoughtSignature?: string
  readonly inlineData?: { readonly mimeType: string; readonly data: string }
  readonly fileData?: { readonly mimeType?: string; readonly fileUri: string }
  readonly functionCall?: FunctionCall
  readonly functionResponse?: {
    readonly id?: string
    readonly name: string
    readonly response: Readonly<Record<string, unknown>>
  }
}

/** @category models */
export interface FunctionCall {
  readonly id?: string
  readonly name: string
  readonly args?: Readonly<Record<string, unknown>>
}

/** A turn: `user` (the user and tool results) or `model`. @category models */
export interface Content {
  readonly role?: "user" | "model"
  readonly parts: ReadonlyArray<Part>
}

/**
 * Gemini's schema subset (an OpenAPI 3.0 Schema object with upper-case types), as
 * `JsonSchemaToGemini` produces it.
 *
 * @category models
 */
export interface GeminiSchema {
  readonly type?: "STRING" | "NUMBER" | "INTEGER" | "BOOLEAN" | "ARRAY" | "OBJECT" | "NULL"
  readonly format?: string
  readonly title?: string
  readonly description?: string
  readonly nullable?: boolean
  readonly enum?: ReadonlyArray<string>
  readonly items?: GeminiSchema
  readonly minItems?: string
  readonly maxItems?: string
  readonly properties?: Readonly<Record<string, GeminiSchema>>
  readonly propertyOrdering?: ReadonlyArray<string>
  readonly required?: ReadonlyArray<string>
  readonly minProperties?: string
  readonly maxProperties?: string
  readonly minLength?: string
  readonly maxLength?: string
  readonly pattern?: string
  readonly minimum?: number
  readonly maximum?: number
  readonly anyOf?: ReadonlyArray<GeminiSchema>
  readonly default?: unknown
  readonly example?: unknown
}

/** @category models */
export interface FunctionDeclaration {
  readonly name: string
  readonly description?: string
  readonly parameters?: GeminiSchema
  /** The JSON Schema as it is (`schemaField: "json"`). */
  readonly parametersJsonSchema?: Readonly<Record<string, unknown>>
}

/** @category models */
export interface GenerationConfig {
  readonly maxOutputTokens?: number
  readonly temperature?: number
  readonly topP?: number
  readonly topK?: number
  readonly seed?: number
  readonly stopSequences?: ReadonlyArray<string>
  readonly candidateCount?: number
  readonly responseMimeType?: string
  readonly responseSchema?: GeminiSchema
  readonly responseJsonSchema?: Readonly<Record<string, unknown>>
  readonly thinkingConfig?: { readonly includeThoughts?: boolean; readonly thinkingBudget?: number }
}

/** The body of `generateContent` and `streamGenerateContent` (the model is in the URL). @category models */
export interface GenerateContentRequest {
  readonly contents: ReadonlyArray<Content>
  readonly systemInstruction?: Content
  readonly tools?: ReadonlyArray<{ readonly functionDeclarations: ReadonlyArray<FunctionDeclaration> }>
  readonly toolConfig?: {
    readonly functionCallingConfig: {
      readonly mode: "AUTO" | "ANY" | "NONE"
      readonly allowedFunctionNames?: ReadonlyArray<string>
    }
  }
  readonly generationConfig?: GenerationConfig
  readonly [extra: string]: unknown
}

// ---------------------------------------------------------------------------
// response
// ---------------------------------------------------------------------------

/** A safety rating of a candidate or of the prompt, kept as the provider sent it. @category models */
export interface SafetyRating {
  readonly category?: string
  readonly probability?: string
  readonly blocked?: boolean
  readonly [extra: string]: unknown
}

/** @category models */
export interface Candidate {
  readonly content?: { readonly role?: string; readonly parts?: ReadonlyArray<Part> }
  readonly finishReason?: string
  readonly finishMessage?: string
  readonly safetyRatings?: ReadonlyArray<SafetyRating>
  readonly citationMetadata?: unknown
  readonly index?: number
}

/** @category models */
export interface UsageMetadata {
  readonly promptTokenCount?: number
  readonly candidatesTokenCount?: number
  readonly totalTokenCount?: number
  readonly thoughtsTokenCount?: number
  readonly cachedContentTokenCount?: number
  readonly toolUsePromptTokenCount?: number
}

/** Why Gemini refused the prompt itself (no candidates then). @category models */
export interface PromptFeedback {
  readonly blockReason?: string
  readonly blockReasonMessage?: string
  readonly safetyRatings?: ReadonlyArray<SafetyRating>
}

/** The body of a `generateContent` answer, and of each event of a stream. @category models */
export interface GenerateContentResponse {
  readonly candidates?: ReadonlyArray<Candidate>
  readonly promptFeedback?: PromptFeedback
  readonly usageMetadata?: UsageMetadata
  readonly modelVersion?: string
  readonly responseId?: string
  /** An error sent inside a 200 stream (google.rpc.Status). */
  readonly error?: RpcStatus
}

/** Google's error object (`google.rpc.Status`), in an error body's `error` field. @category models */
export interface RpcStatus {
  readonly code?: number
  readonly message?: string
  readonly status?: string
  readonly details?: ReadonlyArray<Readonly<Record<string, unknown>>>
}

/** One entry of `GET /v1beta/models`. @category models */
export interface ModelEntry {
  readonly name?: string
  readonly displayName?: string
  readonly supportedGenerationMethods?: ReadonlyArray<string>
}

/** @category models */
export interface ModelList {
  readonly models?: ReadonlyArray<ModelEntry>
  readonly nextPageToken?: string
}
