/**
 * Error mapping for the OpenAI family: one pure function from (status, headers, body text) to a
 * `ProviderError` reason, plus the helpers it needs (Retry-After parsing, secret masking).
 *
 * Masking matters because OpenAI's 401 message echoes part of the key it rejected
 * (`Incorrect API key provided: sk-proj-****wxyz`): every provider message goes through `mask`
 * before it lands in an error.
 */
import type * as HttpTransport from "@flexiai/provider/HttpTransport"
import * as Mask from "@flexiai/provider/Mask"
import * as StatusReasons from "@flexiai/provider/StatusReasons"
import type * as ProviderError from "@flexiai/core/ProviderError"
import { ContentFiltered, ContextLengthExceeded, QuotaExceeded } from "@flexiai/core/ProviderError"

type Reason = ProviderError.ProviderErrorReason

/** The parts of an error object we read (OpenAI, Azure, Foundry and OpenRouter shapes). */
export interface ErrorFields {
  readonly message?: string | null | undefined
  readonly type?: string | null | undefined
  readonly param?: string | null | undefined
  readonly code?: string | number | null | undefined
}

/** Masks every secret, every 8-character piece of one, and starred key echoes (see `@flexiai/provider/Mask`). */
export const makeMask = Mask.make

export const parseRetryAfter = StatusReasons.parseRetryAfter

/** The headers the family puts its request id in, in lower case, first match wins (for the transport). */
export const requestIdHeaders: ReadonlyArray<string> = ["x-request-id", "apim-request-id", "x-ms-request-id", "request-id"]

/**
 * The provider's request id, under the names the family uses. Takes header names in lower case,
 * as Effect's `Headers` hold them: direct lookups, no scan (a response without an id, as from
 * Ollama, would otherwise scan every header four times).
 */
export const requestIdOf = (headers: Readonly<Record<string, string | undefined>>): string | undefined =>
  headers["x-request-id"] ?? headers["apim-request-id"] ?? headers["x-ms-request-id"] ?? headers["request-id"]

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null

/** Finds the error object in an error body: `{ error: {...} }`, `{ error: "text" }` or the body itself. */
export const errorFieldsOf = (body: string): ErrorFields | undefined => {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return undefined
  }
  if (!isRecord(parsed)) return undefined
  const error = parsed.error
  if (typeof error === "string") return { message: error }
  const source = isRecord(error) ? error : parsed
  const text = (key: string) => (typeof source[key] === "string" ? source[key] as string : undefined)
  const code = source.code
  return {
    message: text("message"),
    type: text("type"),
    param: text("param"),
    code: typeof code === "string" || typeof code === "number" ? code : undefined
  }
}

/** The kit's defaults: OpenAI's extra rules (codes in the body) run before the table. */
const table = StatusReasons.defaults

const contentPolicyCodes = new Set(["content_policy_violation", "content_filter", "responsibleaipolicyviolation"])

/** Guesses a status for an error object that came without one (an error event in a 200 stream). */
const statusOf = (fields: ErrorFields): number => {
  if (typeof fields.code === "number" && fields.code >= 400 && fields.code < 600) return fields.code
  if (typeof fields.code === "string" && /^\d{3}$/.test(fields.code)) return Number(fields.code)
  const code = `${fields.code ?? ""} ${fields.type ?? ""}`.toLowerCase()
  if (/rate_limit|insufficient_quota|\brequests\b|\btokens\b/.test(code)) return 429
  if (/overloaded/.test(code)) return 529
  if (/invalid_api_key|authentication/.test(code)) return 401
  if (/permission/.test(code)) return 403
  if (/not_found/.test(code)) return 404
  if (/context_length|content_policy|content_filter|invalid_request/.test(code)) return 400
  return 500
}

/**
 * Maps an error to a reason. `status` is the HTTP status, or `undefined` for an error event in a
 * 200 stream (then it is guessed from the code/type). `mask` scrubs the provider's message.
 */
export const reasonFromError = (input: {
  readonly status: number | undefined
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly fields: ErrorFields | undefined
  readonly fallbackMessage: string
  readonly nowMillis: number
  readonly mask: (text: string) => string
  readonly model?: string | undefined
}): Reason => {
  const fields = input.fields ?? {}
  const status = input.status ?? statusOf(fields)
  const message = input.mask(fields.message ?? input.fallbackMessage)
  const code = typeof fields.code === "string" ? fields.code.toLowerCase() : ""
  const type = (fields.type ?? "").toLowerCase()
  if (code === "context_length_exceeded" || type === "context_length_exceeded") {
    return new ContextLengthExceeded({ message })
  }
  if (contentPolicyCodes.has(code) || contentPolicyCodes.has(type)) return new ContentFiltered({ message })
  if (status === 429 && (code === "insufficient_quota" || type === "insufficient_quota")) return new QuotaExceeded({ message })
  if (
    (status === 400 || status === 422 || status === 413) &&
    // OpenAI-compatible servers without the code still say so in words (vLLM, Ollama, llama.cpp)
    /maximum context length|context window|context length/i.test(message)
  ) return new ContextLengthExceeded({ message })
  return StatusReasons.reasonFor(table, {
    status,
    headers: input.headers,
    message,
    detail: `${type} ${code}`,
    nowMillis: input.nowMillis,
    model: input.model,
    // the field the provider blamed is its own text too: a key it echoes there is masked as well
    param: typeof fields.param === "string" ? input.mask(fields.param) : undefined
  })
}

/** The pure mapping of a non-2xx response. */
export const reasonFromResponse = (input: HttpTransport.ErrorResponse): Reason =>
  reasonFromError({
    status: input.status,
    headers: input.headers,
    fields: errorFieldsOf(input.body),
    fallbackMessage: input.body.trim() === "" ? `HTTP ${input.status}` : `HTTP ${input.status}: ${input.body.slice(0, 200)}`,
    nowMillis: input.nowMillis,
    mask: input.mask,
    model: input.model
  })

/** Maps an `HttpClientError` that carries no status (network, body decoding). */
export const reasonFromHttpClientError = StatusReasons.reasonFromHttpClientError
