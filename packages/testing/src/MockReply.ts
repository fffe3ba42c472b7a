/**
 * The reply DSL of `MockProviderServer`: what a scripted reply is (an answer, an error status, a
 * connection fault, a fixture, raw frames) and the constructors tests build them with, plus the
 * `Script` that queues them. Independent of wire format: the request's encoder turns an answer into
 * OpenAI, Anthropic, Ollama or Bedrock bytes.
 *
 * What people get wrong: an answer's faults (`cutAfter`, `stallAfter`, ...) count *content*
 * chunks, not frames, so the same reply breaks at the same place in every wire format.
 *
 * @since 0.1.0
 */
import type { Frame } from "./MockEncoder.ts"

/** A tool call a scripted answer makes. @category models */
export interface ToolCallSpec {
  readonly id: string
  readonly name: string
  readonly arguments: string
}

/** Token usage a scripted answer reports; computed from the text when left out. @category models */
export interface UsageSpec {
  readonly promptTokens: number
  readonly completionTokens: number
  readonly cachedTokens?: number | undefined
  readonly reasoningTokens?: number | undefined
}

/**
 * How a streamed answer is delivered, and how it breaks.
 *
 * - `chunkDelayMillis`: pause before each content chunk; `firstTokenDelayMillis`: before the first.
 * - `cutAfterChunks`: destroy the socket after that many content chunks (no finish, no terminator).
 * - `stallAfterChunks`: after that many content chunks send nothing more, keep the socket open.
 * - `malformedAfterChunks`: insert an undecodable event (`data: {not json`) there, then go on.
 * - `omitDone`: send the finish (and usage) chunks but no `[DONE]`; then end the response, or
 *   with `"hold"` keep the socket open (a client must not wait for it).
 * - `errorAfterChunks` + `streamError`: send an in-band error event there and end the response.
 *
 * @category models
 */
export interface Delivery {
  readonly chunkDelayMillis?: number | undefined
  readonly firstTokenDelayMillis?: number | undefined
  readonly cutAfterChunks?: number | undefined
  readonly stallAfterChunks?: number | undefined
  readonly malformedAfterChunks?: number | undefined
  readonly omitDone?: boolean | "hold" | undefined
  readonly errorAfterChunks?: number | undefined
  readonly streamError?: ErrorSpec | undefined
  /** Delay before the response headers of a non-streamed (or streamed) answer. */
  readonly headersDelayMillis?: number | undefined
}

/** A provider error body (OpenAI shape `{ error: { message, type, param, code } }`). @category models */
export interface ErrorSpec {
  readonly message: string
  readonly type?: string | undefined
  readonly param?: string | null | undefined
  readonly code?: string | number | null | undefined
}

/**
 * One scripted reply. Build them with the constructors below (`text`, `echo`, `rateLimited`, ...).
 *
 * @category models
 */
export type Reply =
  | {
    readonly _tag: "Answer"
    /** Text pieces; each is one content chunk when streamed. `undefined` = echo the last user message. */
    readonly pieces: ReadonlyArray<string> | undefined
    readonly echoPrefix: string
    readonly toolCalls: ReadonlyArray<ToolCallSpec>
    /** Argument fragments per tool call when streamed (default: two halves). */
    readonly argumentChunks: number
    readonly finishReason: string
    readonly model: string | undefined
    readonly usage: UsageSpec | undefined
    readonly delivery: Delivery
    readonly headers: Readonly<Record<string, string>>
  }
  | {
    readonly _tag: "Error"
    readonly status: number
    readonly error: ErrorSpec
    readonly headers: Readonly<Record<string, string>>
    /** A raw body sent instead of the encoded error (for non-JSON error pages). */
    readonly rawBody: string | undefined
  }
  | { readonly _tag: "Reset" }
  | { readonly _tag: "Hang" }
  | {
    readonly _tag: "Fixture"
    readonly path: string
    /** Overrides the recorded status (a cassette's) or the default 200. */
    readonly status: number | undefined
    /** Which interaction of a `.yaml` cassette to replay. */
    readonly interaction: number
    readonly delivery: Delivery
  }
  | {
    readonly _tag: "Raw"
    readonly status: number
    readonly headers: Readonly<Record<string, string>>
    readonly frames: ReadonlyArray<Frame>
    readonly delivery: Delivery
  }

/** Options shared by the answer constructors. @category models */
export interface AnswerOptions extends Delivery {
  readonly model?: string | undefined
  readonly finishReason?: string | undefined
  readonly usage?: UsageSpec | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Explicit content chunks (overrides splitting the text into words). */
  readonly chunks?: ReadonlyArray<string> | undefined
}

/** Splits a text into word chunks (each keeps its surrounding spaces). @internal */
export const splitWords = (text: string): ReadonlyArray<string> => text.match(/\s*\S+\s*/g) ?? (text === "" ? [] : [text])

const answer = (
  pieces: ReadonlyArray<string> | undefined,
  toolCalls: ReadonlyArray<ToolCallSpec>,
  options: AnswerOptions & { readonly argumentChunks?: number | undefined }
): Reply => ({
  _tag: "Answer",
  pieces,
  echoPrefix: "echo: ",
  toolCalls,
  argumentChunks: options.argumentChunks ?? 2,
  finishReason: options.finishReason ?? (toolCalls.length > 0 ? "tool_calls" : "stop"),
  model: options.model,
  usage: options.usage,
  delivery: options,
  headers: options.headers ?? {}
})

/** A canned text answer: a JSON completion, or SSE chunks (one word per chunk) when the request streams. @category constructors */
export const text = (content: string, options: AnswerOptions = {}): Reply =>
  answer(options.chunks ?? splitWords(content), [], options)

/** Answers with the last user message's text, prefixed by `prefix` (default `"echo: "`). @category constructors */
export const echo = (options: AnswerOptions & { readonly prefix?: string | undefined } = {}): Reply => {
  const reply = answer(undefined, [], options)
  return reply._tag === "Answer" ? { ...reply, echoPrefix: options.prefix ?? "echo: " } : reply
}

/** An answer that calls tools (streamed: id and name first, then argument fragments, by index). @category constructors */
export const toolCalls = (
  calls: ReadonlyArray<ToolCallSpec>,
  options: AnswerOptions & { readonly text?: string | undefined; readonly argumentChunks?: number | undefined } = {}
): Reply => answer(options.text === undefined ? [] : splitWords(options.text), calls, options)

/** Any error status with an OpenAI-shaped body. @category constructors */
export const error = (
  status: number,
  error: ErrorSpec,
  options: { readonly headers?: Readonly<Record<string, string>> | undefined; readonly rawBody?: string | undefined } = {}
): Reply => ({ _tag: "Error", status, error, headers: options.headers ?? {}, rawBody: options.rawBody })

/**
 * 429 rate limit. `retryAfterSeconds` sets `retry-after: N`, `retryAfterDate` sets it as an HTTP-date,
 * `retryAfterMillis` sets OpenAI's `retry-after-ms`.
 *
 * @category constructors
 */
export const rateLimited = (options: {
  readonly retryAfterSeconds?: number | undefined
  readonly retryAfterDate?: Date | undefined
  readonly retryAfterMillis?: number | undefined
  readonly message?: string | undefined
} = {}): Reply =>
  error(429, {
    message: options.message ?? "Rate limit reached for requests. Please try again later.",
    type: "requests",
    param: null,
    code: "rate_limit_exceeded"
  }, {
    headers: {
      ...(options.retryAfterSeconds === undefined ? {} : { "retry-after": String(options.retryAfterSeconds) }),
      ...(options.retryAfterDate === undefined ? {} : { "retry-after": options.retryAfterDate.toUTCString() }),
      ...(options.retryAfterMillis === undefined ? {} : { "retry-after-ms": String(options.retryAfterMillis) })
    }
  })

/** 429 `insufficient_quota`: out of credit, waiting does not help. @category constructors */
export const quotaExceeded = (): Reply =>
  error(429, {
    message: "You exceeded your current quota, please check your plan and billing details.",
    type: "insufficient_quota",
    param: null,
    code: "insufficient_quota"
  })

/** A 5xx (500 by default). @category constructors */
export const serverError = (status = 500): Reply =>
  error(status, { message: "The server had an error while processing your request.", type: "server_error", code: null })

/** 503 (or 529) "overloaded". @category constructors */
export const overloaded = (status = 503): Reply =>
  error(status, { message: "The engine is currently overloaded, please try again later", type: "overloaded_error", code: null })

/** 400 `context_length_exceeded`. @category constructors */
export const contextLengthExceeded = (): Reply =>
  error(400, {
    message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 200000 tokens.",
    type: "invalid_request_error",
    param: "messages",
    code: "context_length_exceeded"
  })

/** 400 `content_policy_violation`. @category constructors */
export const contentFiltered = (code = "content_policy_violation"): Reply =>
  error(400, {
    message: "Your request was rejected as a result of our safety system.",
    type: "invalid_request_error",
    param: "prompt",
    code
  })

/** 400 invalid request naming a parameter. @category constructors */
export const invalidRequest = (param = "temperature", message = `Invalid value for '${param}'.`): Reply =>
  error(400, { message, type: "invalid_request_error", param, code: "invalid_value" })

/**
 * 401 whose message echoes part of the key the request sent, as OpenAI's does
 * (`Incorrect API key provided: sk-abcd****wxyz`): clients must mask it.
 *
 * @category constructors
 */
export const unauthorized = (): Reply =>
  error(401, { message: "Incorrect API key provided: {key}. You can find your API key at https://platform.openai.com/account/api-keys.", type: "invalid_request_error", param: null, code: "invalid_api_key" })

/** 403. @category constructors */
export const permissionDenied = (): Reply =>
  error(403, { message: "You are not allowed to sample from this model", type: "invalid_request_error", code: null })

/** 404 `model_not_found`. @category constructors */
export const modelNotFound = (model = "missing-model"): Reply =>
  error(404, {
    message: `The model \`${model}\` does not exist or you do not have access to it.`,
    type: "invalid_request_error",
    param: null,
    code: "model_not_found"
  })

/** Destroys the connection before any response header. @category constructors */
export const reset = (): Reply => ({ _tag: "Reset" })

/** Never answers: holds the socket open until the client gives up or the server stops. @category constructors */
export const hang = (): Reply => ({ _tag: "Hang" })

/** A streamed answer whose first chunk comes after `millis`. @category constructors */
export const slowFirstToken = (millis: number, content = "slow but sure", options: AnswerOptions = {}): Reply =>
  text(content, { ...options, firstTokenDelayMillis: millis })

/** A stream cut (socket destroyed) after `chunks` content chunks. @category constructors */
export const cutAfter = (chunks: number, content = "one two three four five six", options: AnswerOptions = {}): Reply =>
  text(content, { ...options, cutAfterChunks: chunks })

/** A stream that stalls (socket open, nothing sent) after `chunks` content chunks. @category constructors */
export const stallAfter = (chunks: number, content = "one two three four five six", options: AnswerOptions = {}): Reply =>
  text(content, { ...options, stallAfterChunks: chunks })

/** A stream with an undecodable event after `afterChunks` content chunks. @category constructors */
export const malformedEvent = (content = "one two three", afterChunks = 1, options: AnswerOptions = {}): Reply =>
  text(content, { ...options, malformedAfterChunks: afterChunks })

/** A stream with its finish (and usage) but no `[DONE]`. @category constructors */
export const withoutDone = (content = "no terminator here", options: AnswerOptions & { readonly hold?: boolean } = {}): Reply =>
  text(content, { ...options, omitDone: options.hold === true ? "hold" : true })

/** A 200 stream carrying an error event after `afterChunks` content chunks. @category constructors */
export const inBandError = (
  streamError: ErrorSpec,
  options: AnswerOptions & { readonly afterChunks?: number | undefined; readonly text?: string | undefined } = {}
): Reply => text(options.text ?? "partial answer", { ...options, errorAfterChunks: options.afterChunks ?? 0, streamError })

/**
 * Replays a recorded fixture (see `MockFixture` for the formats): `*.json` as a JSON body,
 * `*.chunks.txt` re-framed by the request's wire format, `*.sse`/`*.txt`/`*.bin` byte for byte,
 * OpenRouter's `*.jsonl` recordings with their delays, and one interaction of a `*.yaml` cassette
 * (`interaction`, default 0) with its status and content type.
 *
 * @category constructors
 */
export const fixture = (
  path: string,
  options: Delivery & { readonly status?: number | undefined; readonly interaction?: number | undefined } = {}
): Reply => ({
  _tag: "Fixture",
  path,
  status: options.status,
  interaction: options.interaction ?? 0,
  delivery: options
})

/** Raw frames with a status and headers, sent as they are (for shapes no constructor covers). @category constructors */
export const raw = (
  frames: Frame | ReadonlyArray<Frame>,
  options: Delivery & { readonly status?: number | undefined; readonly headers?: Readonly<Record<string, string>> | undefined } = {}
): Reply => ({
  _tag: "Raw",
  status: options.status ?? 200,
  headers: options.headers ?? { "content-type": "application/json" },
  frames: typeof frames === "string" || frames instanceof Uint8Array ? [frames] : frames,
  delivery: options
})

/**
 * What the server answers. A request takes the next reply of the first non-empty queue among:
 * its path (`byPath`, the URL path without query), its model (`byModel`, from the body's `model`
 * or an Azure deployment name), then `replies`; when all are empty, `fallback` (default `echo()`).
 *
 * @category models
 */
export interface Script {
  readonly byPath?: Readonly<Record<string, ReadonlyArray<Reply>>> | undefined
  readonly byModel?: Readonly<Record<string, ReadonlyArray<Reply>>> | undefined
  readonly replies?: ReadonlyArray<Reply> | undefined
  readonly fallback?: Reply | undefined
  /** Model ids listed by `GET /v1/models` (default: the `byModel` keys, or `["mock-model"]`). */
  readonly models?: ReadonlyArray<string> | undefined
}
