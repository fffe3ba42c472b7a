/**
 * A real HTTP server on 127.0.0.1 that speaks providers' wire formats, for wire-level tests and the
 * demo. Replies are scripted per model or per path; besides answers it injects the faults real
 * providers produce: error statuses with provider-shaped bodies, resets before headers, streams cut
 * or stalled mid-body, malformed events, missing terminators, error events inside a 200 stream.
 *
 * It is written on `node:http` rather than an HTTP framework on purpose: faults need byte-level
 * control (destroy the socket before headers, cut a chunked body without its terminator, hold a
 * socket open and send nothing) that a framework server hides behind its response abstraction.
 *
 * A wire format is one `Encoder` (routes + how to encode an answer, a stream, an error); the OpenAI
 * Chat Completions family is the first. Gotchas: a queue that runs dry falls back to `fallback`
 * (echo by default), so a test that expects N faults should script exactly N; the server is
 * stopped (every socket closed, hung ones too) when its scope closes.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import type { Scope } from "effect"
import * as Fs from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

// ---------------------------------------------------------------------------
// replies
// ---------------------------------------------------------------------------

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
  | { readonly _tag: "Fixture"; readonly path: string; readonly status: number; readonly delivery: Delivery }
  | {
    readonly _tag: "Raw"
    readonly status: number
    readonly headers: Readonly<Record<string, string>>
    readonly frames: ReadonlyArray<string>
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

const splitWords = (text: string): ReadonlyArray<string> => text.match(/\s*\S+\s*/g) ?? (text === "" ? [] : [text])

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
 * Replays a recorded fixture byte for byte: `*.json` as a JSON body, `*.chunks.txt` (one JSON payload a
 * line) framed as SSE `data:` events plus `data: [DONE]`, `*.sse` raw.
 *
 * @category constructors
 */
export const fixture = (path: string, options: Delivery & { readonly status?: number | undefined } = {}): Reply => ({
  _tag: "Fixture",
  path,
  status: options.status ?? 200,
  delivery: options
})

/** Raw frames with a status and headers, sent as they are (for shapes no constructor covers). @category constructors */
export const raw = (
  frames: string | ReadonlyArray<string>,
  options: Delivery & { readonly status?: number | undefined; readonly headers?: Readonly<Record<string, string>> | undefined } = {}
): Reply => ({
  _tag: "Raw",
  status: options.status ?? 200,
  headers: options.headers ?? { "content-type": "application/json" },
  frames: typeof frames === "string" ? [frames] : frames,
  delivery: options
})

// ---------------------------------------------------------------------------
// script
// ---------------------------------------------------------------------------

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

/** A request the server received. Auth headers are masked (`Bearer ****wxyz`). @category models */
export interface RecordedCall {
  readonly method: string
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  readonly headers: Readonly<Record<string, string>>
  /** The parsed JSON body, or `undefined` when there was none or it was not JSON. */
  readonly body: unknown
  readonly rawBody: string
  /** The encoder that handled it (`"openai"`) and the reply tag served. */
  readonly format: string | undefined
  readonly reply: Reply["_tag"] | "Models" | "NotFound"
  readonly receivedAt: number
  /**
   * When the client went away before the response was complete (a stream it dropped, a request
   * it gave up on); `undefined` while the response runs or once it ended normally. Set later than
   * the rest of the record, when the connection closes.
   */
  readonly clientClosedAt: number | undefined
}

// ---------------------------------------------------------------------------
// encoders
// ---------------------------------------------------------------------------

/** A request as an encoder sees it. @category models */
export interface IncomingRequest {
  readonly method: string
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  readonly body: unknown
}

/** The content of one answer, independent of wire format. @category models */
export interface Answer {
  readonly id: string
  readonly model: string
  readonly pieces: ReadonlyArray<string>
  readonly toolCalls: ReadonlyArray<ToolCallSpec>
  readonly argumentChunks: number
  readonly finishReason: string
  readonly usage: UsageSpec
  readonly created: number
}

/**
 * One wire format. Adding a provider to the mock is adding one of these.
 *
 * - `chat` recognises the format's chat route; `models` its model-list route.
 * - `frames` returns the stream as SSE (or other) frames: `content[i]` is the frame of content
 *   chunk i (faults count these), `head` comes before, `tail` after (finish, usage), `done` last.
 *
 * @category models
 */
export interface Encoder {
  readonly name: string
  readonly chat: (request: IncomingRequest) => boolean
  readonly models: (request: IncomingRequest) => boolean
  readonly modelOf: (request: IncomingRequest) => string | undefined
  readonly isStream: (request: IncomingRequest) => boolean
  readonly lastUserText: (request: IncomingRequest) => string
  readonly completion: (answer: Answer) => unknown
  readonly frames: (answer: Answer, request: IncomingRequest) => {
    readonly head: ReadonlyArray<string>
    readonly content: ReadonlyArray<string>
    readonly tail: ReadonlyArray<string>
    readonly done: string | undefined
  }
  readonly streamContentType: string
  readonly malformedFrame: string
  readonly errorBody: (status: number, error: ErrorSpec) => unknown
  readonly errorFrame: (error: ErrorSpec) => string
  readonly modelList: (models: ReadonlyArray<string>) => unknown
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null

const sse = (payload: unknown): string => `data: ${typeof payload === "string" ? payload : JSON.stringify(payload)}\n\n`

const openAiChatPath = /^(?:\/v1|\/api\/v1|\/openai\/deployments\/[^/]+|\/models|\/openai\/v1)?\/chat\/completions$/

/** OpenAI Chat Completions and its compatible family (Azure OpenAI, Foundry, OpenRouter, Ollama /v1). @category encoders */
export const openAiEncoder: Encoder = {
  name: "openai",
  chat: (request) => request.method === "POST" && openAiChatPath.test(request.path),
  models: (request) => request.method === "GET" && /^(?:\/v1|\/api\/v1|\/openai\/v1)?\/models$/.test(request.path),
  modelOf: (request) => {
    const deployment = /^\/openai\/deployments\/([^/]+)\//.exec(request.path)?.[1]
    if (deployment !== undefined) return decodeURIComponent(deployment)
    return isRecord(request.body) && typeof request.body.model === "string" ? request.body.model : undefined
  },
  isStream: (request) => isRecord(request.body) && request.body.stream === true,
  lastUserText: (request) => {
    const messages = isRecord(request.body) && Array.isArray(request.body.messages) ? request.body.messages : []
    const last = [...messages].reverse().find((message) => isRecord(message) && message.role === "user")
    if (!isRecord(last)) return ""
    if (typeof last.content === "string") return last.content
    return Array.isArray(last.content)
      ? last.content.map((part) => (isRecord(part) && typeof part.text === "string" ? part.text : "")).join("")
      : ""
  },
  completion: (answer) => ({
    id: answer.id,
    object: "chat.completion",
    created: answer.created,
    model: answer.model,
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: answer.pieces.length === 0 && answer.toolCalls.length > 0 ? null : answer.pieces.join(""),
        refusal: null,
        ...(answer.toolCalls.length === 0 ? {} : {
          tool_calls: answer.toolCalls.map((call) => ({
            id: call.id,
            type: "function",
            function: { name: call.name, arguments: call.arguments }
          }))
        })
      },
      logprobs: null,
      finish_reason: answer.finishReason
    }],
    usage: openAiUsage(answer.usage)
  }),
  frames: (answer, request) => {
    const chunk = (choices: ReadonlyArray<unknown>, extra: Record<string, unknown> = {}) => ({
      id: answer.id,
      object: "chat.completion.chunk",
      created: answer.created,
      model: answer.model,
      choices,
      ...extra
    })
    const delta = (value: Record<string, unknown>, finish: string | null = null) => [{ index: 0, delta: value, logprobs: null, finish_reason: finish }]
    const toolFrames = answer.toolCalls.flatMap((call, index) => {
      const size = Math.max(1, Math.ceil(call.arguments.length / Math.max(1, answer.argumentChunks)))
      const fragments: Array<string> = []
      for (let at = 0; at < call.arguments.length; at += size) fragments.push(call.arguments.slice(at, at + size))
      return [
        sse(chunk(delta({ tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] }))),
        ...fragments.map((fragment) => sse(chunk(delta({ tool_calls: [{ index, function: { arguments: fragment } }] }))))
      ]
    })
    const options = isRecord(request.body) && isRecord(request.body.stream_options) ? request.body.stream_options : {}
    return {
      head: [sse(chunk(delta({ role: "assistant", content: "" })))],
      content: [...answer.pieces.map((piece) => sse(chunk(delta({ content: piece })))), ...toolFrames],
      tail: [
        sse(chunk(delta({}, answer.finishReason))),
        ...(options.include_usage === true ? [sse(chunk([], { usage: openAiUsage(answer.usage) }))] : [])
      ],
      done: sse("[DONE]")
    }
  },
  streamContentType: "text/event-stream",
  malformedFrame: "data: {not json\n\n",
  errorBody: (_status, error) => ({
    error: { message: error.message, type: error.type ?? "invalid_request_error", param: error.param ?? null, code: error.code ?? null }
  }),
  errorFrame: (error) =>
    sse({ error: { message: error.message, type: error.type ?? "server_error", param: error.param ?? null, code: error.code ?? null } }),
  modelList: (models) => ({
    object: "list",
    data: models.map((id) => ({ id, object: "model", created: 1700000000, owned_by: "mock" }))
  })
}

const openAiUsage = (usage: UsageSpec) => ({
  prompt_tokens: usage.promptTokens,
  completion_tokens: usage.completionTokens,
  total_tokens: usage.promptTokens + usage.completionTokens,
  prompt_tokens_details: { cached_tokens: usage.cachedTokens ?? 0 },
  completion_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 }
})

/** The encoders the server tries in order. @category encoders */
export const encoders: ReadonlyArray<Encoder> = [openAiEncoder]

// ---------------------------------------------------------------------------
// server
// ---------------------------------------------------------------------------

/** The plain (Promise) handle. @category models */
export interface Handle {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string
  readonly calls: () => ReadonlyArray<RecordedCall>
  readonly clearCalls: () => void
  /** Replaces the script; queues start afresh. */
  readonly setScript: (script: Script) => void
  readonly stop: () => Promise<void>
}

const maskedHeaders = new Set(["authorization", "api-key", "x-api-key", "proxy-authorization"])

const mask = (value: string): string => {
  const space = value.indexOf(" ")
  const scheme = space > 0 && space < 10 ? value.slice(0, space + 1) : ""
  const secret = value.slice(scheme.length)
  return `${scheme}****${secret.length >= 12 ? secret.slice(-4) : ""}`
}

const delay = (millis: number | undefined): Promise<void> =>
  millis === undefined || millis <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, millis))

const estimateTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4))

let idCounter = 0

/** Starts a server for non-Effect code. @category constructors */
export const start = (initial: Script, options: { readonly port?: number | undefined } = {}): Promise<Handle> => {
  let script = initial
  let queues = new Map<string, Array<Reply>>()
  const calls: Array<RecordedCall> = []
  let stopped = false
  // responses the server itself cut (resets, cuts): their close is not the client's doing
  const closedByServer = new WeakSet<Http.ServerResponse>()

  const next = (key: string, replies: ReadonlyArray<Reply> | undefined): Reply | undefined => {
    if (replies === undefined) return undefined
    let queue = queues.get(key)
    if (queue === undefined) {
      queue = [...replies]
      queues.set(key, queue)
    }
    return queue.shift()
  }

  const pick = (path: string, model: string | undefined): Reply =>
    next(`path:${path}`, script.byPath?.[path]) ??
      (model === undefined ? undefined : next(`model:${model}`, script.byModel?.[model])) ??
      next("replies", script.replies) ??
      script.fallback ??
      echo()

  const server = Http.createServer((request, response) => {
    const pieces: Array<Buffer> = []
    request.on("data", (piece: Buffer) => pieces.push(piece))
    request.on("end", () => {
      const rawBody = Buffer.concat(pieces).toString("utf8")
      const url = new URL(request.url ?? "/", "http://127.0.0.1")
      let body: unknown = undefined
      try {
        body = rawBody.length === 0 ? undefined : JSON.parse(rawBody)
      } catch {
        body = undefined
      }
      const incoming: IncomingRequest = {
        method: request.method ?? "GET",
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body
      }
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(request.headers)) {
        const text = Array.isArray(value) ? value.join(", ") : value ?? ""
        headers[name] = maskedHeaders.has(name) ? mask(text) : text
      }
      const authorization = request.headers["authorization"] ?? request.headers["api-key"]
      const secret = typeof authorization === "string" ? authorization.replace(/^Bearer\s+/i, "") : ""
      const encoder = encoders.find((candidate) => candidate.chat(incoming) || candidate.models(incoming))
      const record = (reply: RecordedCall["reply"]) => {
        const call: { -readonly [K in keyof RecordedCall]: RecordedCall[K] } = {
          method: incoming.method,
          path: incoming.path,
          query: incoming.query,
          headers,
          body,
          rawBody,
          format: encoder?.name,
          reply,
          receivedAt: Date.now(),
          clientClosedAt: undefined
        }
        calls.push(call)
        // 'close' also follows a response that ended normally, and the server's own stop
        response.once("close", () => {
          if (!response.writableFinished && !stopped && !closedByServer.has(response)) call.clientClosedAt = Date.now()
        })
      }
      if (encoder === undefined) {
        record("NotFound")
        response.writeHead(404, { "content-type": "application/json" })
        response.end(JSON.stringify({ error: { message: `no route for ${incoming.method} ${incoming.path}`, type: "invalid_request_error", param: null, code: "unknown_url" } }))
        return
      }
      if (encoder.models(incoming) && script.byPath?.[incoming.path] === undefined) {
        record("Models")
        const models = script.models ?? Object.keys(script.byModel ?? {})
        response.writeHead(200, { "content-type": "application/json", "x-request-id": `req_mock_${++idCounter}` })
        response.end(JSON.stringify(encoder.modelList(models.length === 0 ? ["mock-model"] : models)))
        return
      }
      const reply = pick(incoming.path, encoder.modelOf(incoming))
      record(reply._tag)
      serve(encoder, incoming, reply, secret, request, response).catch(() => {
        if (!response.destroyed) {
          closedByServer.add(response)
          response.destroy()
        }
      })
    })
  })

  const isGone = (response: Http.ServerResponse) => stopped || response.destroyed || response.socket === null

  const write = async (response: Http.ServerResponse, frames: ReadonlyArray<string>, delayMillis: number | undefined) => {
    for (const frame of frames) {
      await delay(delayMillis)
      if (isGone(response)) return false
      response.write(frame)
    }
    return true
  }

  const serve = async (
    encoder: Encoder,
    incoming: IncomingRequest,
    reply: Reply,
    secret: string,
    request: Http.IncomingMessage,
    response: Http.ServerResponse
  ): Promise<void> => {
    const requestId = `req_mock_${++idCounter}`
    switch (reply._tag) {
      case "Reset": {
        closedByServer.add(response)
        request.socket.destroy()
        return
      }
      case "Hang":
        return
      case "Error": {
        const echoedKey = secret.length >= 12 ? `${secret.slice(0, 8)}${"*".repeat(secret.length - 12)}${secret.slice(-4)}` : "****"
        const error = { ...reply.error, message: reply.error.message.replace("{key}", echoedKey) }
        response.writeHead(reply.status, { "content-type": "application/json", "x-request-id": requestId, ...reply.headers })
        response.end(reply.rawBody ?? JSON.stringify(encoder.errorBody(reply.status, error)))
        return
      }
      case "Fixture": {
        const content = Fs.readFileSync(reply.path)
        await delay(reply.delivery.headersDelayMillis)
        if (reply.path.endsWith(".json")) {
          response.writeHead(reply.status, { "content-type": "application/json", "x-request-id": requestId })
          response.end(content)
          return
        }
        response.writeHead(reply.status, { "content-type": "text/event-stream", "cache-control": "no-cache", "x-request-id": requestId })
        response.flushHeaders()
        const frames = reply.path.endsWith(".chunks.txt")
          ? [
            ...content.toString("utf8").split("\n").filter((line) => line.trim().length > 0).map((line) => `data: ${line}\n\n`),
            "data: [DONE]\n\n"
          ]
          : [content.toString("utf8")]
        if (await write(response, frames, reply.delivery.chunkDelayMillis)) response.end()
        return
      }
      case "Raw": {
        await delay(reply.delivery.headersDelayMillis)
        response.writeHead(reply.status, { "x-request-id": requestId, ...reply.headers })
        response.flushHeaders()
        if (await write(response, reply.frames, reply.delivery.chunkDelayMillis)) response.end()
        return
      }
      case "Answer": {
        const delivery = reply.delivery
        const model = reply.model ?? encoder.modelOf(incoming) ?? "mock-model"
        const pieces = reply.pieces ?? splitWords(`${reply.echoPrefix}${encoder.lastUserText(incoming)}`)
        const result: Answer = {
          id: `chatcmpl-mock${++idCounter}`,
          model,
          pieces,
          toolCalls: reply.toolCalls,
          argumentChunks: reply.argumentChunks,
          finishReason: reply.finishReason,
          usage: reply.usage ?? {
            promptTokens: estimateTokens(JSON.stringify(incoming.body ?? "")),
            completionTokens: Math.max(1, pieces.length + reply.toolCalls.length)
          },
          created: Math.floor(Date.now() / 1000)
        }
        await delay(delivery.headersDelayMillis)
        if (isGone(response)) return
        if (!encoder.isStream(incoming)) {
          response.writeHead(200, { "content-type": "application/json", "x-request-id": requestId, ...reply.headers })
          response.end(JSON.stringify(encoder.completion(result)))
          return
        }
        response.writeHead(200, {
          "content-type": encoder.streamContentType,
          "cache-control": "no-cache",
          "x-request-id": requestId,
          ...reply.headers
        })
        response.flushHeaders()
        const frames = encoder.frames(result, incoming)
        if (!(await write(response, frames.head, undefined))) return
        for (let index = 0; index <= frames.content.length; index++) {
          if (delivery.cutAfterChunks === index) {
            await delay(delivery.chunkDelayMillis)
            // let the written chunks reach the client before the cut, so it sees the partial text
            await new Promise<void>((resolve) => response.write("", () => resolve()))
            await delay(20)
            closedByServer.add(response)
            response.socket?.destroy()
            return
          }
          if (delivery.stallAfterChunks === index) return
          if (delivery.malformedAfterChunks === index) response.write(encoder.malformedFrame)
          if (delivery.errorAfterChunks === index && delivery.streamError !== undefined) {
            response.end(encoder.errorFrame(delivery.streamError))
            return
          }
          const frame = frames.content[index]
          if (frame === undefined) break
          await delay(index === 0 ? delivery.firstTokenDelayMillis ?? delivery.chunkDelayMillis : delivery.chunkDelayMillis)
          if (isGone(response)) return
          response.write(frame)
        }
        if (!(await write(response, frames.tail, undefined))) return
        if (delivery.omitDone === "hold") return
        if (delivery.omitDone !== true && frames.done !== undefined) response.write(frames.done)
        response.end()
        return
      }
    }
  }

  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      const address = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${address.port}`,
        calls: () => [...calls],
        clearCalls: () => {
          calls.length = 0
        },
        setScript: (replacement) => {
          script = replacement
          queues = new Map()
        },
        stop: () =>
          new Promise<void>((resolveStop) => {
            stopped = true
            server.close(() => resolveStop())
            server.closeAllConnections()
          })
      })
    })
  })
}

// ---------------------------------------------------------------------------
// Effect API
// ---------------------------------------------------------------------------

/**
 * The running server as a service: `url`, the recorded `calls`, and `setScript` to change the
 * replies at run time.
 *
 * @category services
 */
export class MockProviderServer extends Context.Service<MockProviderServer, {
  readonly url: string
  readonly calls: Effect.Effect<ReadonlyArray<RecordedCall>>
  readonly clearCalls: Effect.Effect<void>
  readonly setScript: (script: Script) => Effect.Effect<void>
}>()("@flexiai/testing/MockProviderServer") {}

/** Starts a server for the life of the current scope. @category constructors */
export const make = (script: Script): Effect.Effect<MockProviderServer["Service"], never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => start(script)),
    (handle) => Effect.promise(() => handle.stop())
  ).pipe(Effect.map((handle) =>
    MockProviderServer.of({
      url: handle.url,
      calls: Effect.sync(() => handle.calls()),
      clearCalls: Effect.sync(() => handle.clearCalls()),
      setScript: (replacement) => Effect.sync(() => handle.setScript(replacement))
    })
  ))

/** A layer providing a running `MockProviderServer`. @category layers */
export const layer = (script: Script): Layer.Layer<MockProviderServer> => Layer.effect(MockProviderServer, make(script))
