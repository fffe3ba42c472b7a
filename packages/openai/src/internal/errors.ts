/**
 * Error mapping for the OpenAI family: one pure function from (status, headers, body text) to a
 * `ProviderError` reason, plus the helpers it needs (Retry-After parsing, secret masking).
 *
 * Masking matters because OpenAI's 401 message echoes part of the key it rejected
 * (`Incorrect API key provided: sk-proj-****wxyz`): every provider message goes through `mask`
 * before it lands in an error.
 */
import { Duration, Redacted } from "effect"
import type * as ProviderError from "@flexiai/core/ProviderError"
import {
  Authentication,
  Connection,
  ContentFiltered,
  ContextLengthExceeded,
  InvalidRequest,
  MalformedResponse,
  NotFound,
  Overloaded,
  PermissionDenied,
  QuotaExceeded,
  RateLimited,
  ServerError,
  Timeout
} from "@flexiai/core/ProviderError"
import type { HttpClientError } from "effect/http"

type Reason = ProviderError.ProviderErrorReason

/** The parts of an error object we read (OpenAI, Azure, Foundry and OpenRouter shapes). */
export interface ErrorFields {
  readonly message?: string | null | undefined
  readonly type?: string | null | undefined
  readonly param?: string | null | undefined
  readonly code?: string | number | null | undefined
}

const REDACTED = "[REDACTED]"

/**
 * Masks every secret, every 8-character piece of one, and anything that looks like a partly
 * starred key (`sk-abcd****wxyz`), so a provider message cannot leak a key.
 */
export const makeMask = (secrets: ReadonlyArray<Redacted.Redacted<string> | string>) => {
  const values = secrets.map((secret) => (typeof secret === "string" ? secret : Redacted.value(secret))).filter((value) =>
    value.length >= 8
  )
  const fragments = new Set<string>()
  for (const value of values) {
    for (let start = 0; start + 8 <= value.length; start++) fragments.add(value.slice(start, start + 8))
  }
  return (text: string): string => {
    let masked = text
    for (const value of values) masked = masked.split(value).join(REDACTED)
    for (const fragment of fragments) masked = masked.split(fragment).join(REDACTED)
    return masked.replace(/[A-Za-z0-9_\-.]*\*{4,}[A-Za-z0-9_\-.]*/g, REDACTED)
  }
}

/** Reads a header case-insensitively from a plain record. */
const header = (headers: Readonly<Record<string, string | undefined>>, name: string): string | undefined => {
  const direct = headers[name]
  if (direct !== undefined) return direct
  const lower = name.toLowerCase()
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === lower) return value
  return undefined
}

/**
 * `retry-after-ms` (OpenAI, milliseconds), else `retry-after` as seconds or an HTTP-date
 * (relative to `nowMillis`; a date in the past means "now").
 */
export const parseRetryAfter = (
  headers: Readonly<Record<string, string | undefined>>,
  nowMillis: number
): Duration.Duration | undefined => {
  const millis = header(headers, "retry-after-ms")?.trim()
  if (millis !== undefined && /^\d+(\.\d+)?$/.test(millis)) return Duration.millis(Number(millis))
  const value = header(headers, "retry-after")?.trim()
  if (value === undefined || value === "") return undefined
  if (/^\d+(\.\d+)?$/.test(value)) return Duration.millis(Number(value) * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Duration.millis(Math.max(0, date - nowMillis))
}

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
  if (status === 429) {
    if (code === "insufficient_quota" || type === "insufficient_quota") return new QuotaExceeded({ message })
    const retryAfter = parseRetryAfter(input.headers, input.nowMillis)
    return new RateLimited({ message, ...(retryAfter === undefined ? {} : { retryAfter }) })
  }
  if (status === 400 || status === 422 || status === 413) {
    // OpenAI-compatible servers without the code still say so in words (vLLM, Ollama, llama.cpp)
    if (/maximum context length|context window|context length/i.test(message)) return new ContextLengthExceeded({ message })
    return new InvalidRequest({ message, ...(typeof fields.param === "string" ? { param: fields.param } : {}) })
  }
  if (status === 401) return new Authentication({ message })
  if (status === 403) return new PermissionDenied({ message })
  if (status === 404) return new NotFound({ message, ...(input.model === undefined ? {} : { model: input.model }) })
  if (status === 529 || (status === 503 && /overload/i.test(`${message} ${type} ${code}`))) {
    const retryAfter = parseRetryAfter(input.headers, input.nowMillis)
    return new Overloaded({ message, ...(retryAfter === undefined ? {} : { retryAfter }) })
  }
  if (status >= 500 || status === 408 || status === 409) return new ServerError({ message, status })
  return new InvalidRequest({ message, ...(typeof fields.param === "string" ? { param: fields.param } : {}) })
}

/** The pure mapping of a non-2xx response. */
export const reasonFromResponse = (input: {
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: string
  readonly nowMillis: number
  readonly mask: (text: string) => string
  readonly model?: string | undefined
}): Reason =>
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
// undici's own time limits (a dispatcher's `connect.timeout`, `headersTimeout`, `bodyTimeout`)
// surface as transport errors; their codes say which phase ran out
const undiciTimeoutPhases: Readonly<Record<string, "connect" | "first-byte" | "idle">> = {
  UND_ERR_CONNECT_TIMEOUT: "connect",
  UND_ERR_HEADERS_TIMEOUT: "first-byte",
  UND_ERR_BODY_TIMEOUT: "idle"
}

const causeCode = (cause: unknown): string | undefined => {
  for (let current = cause, depth = 0; typeof current === "object" && current !== null && depth < 4; depth++) {
    const code = (current as { readonly code?: unknown }).code
    if (typeof code === "string") return code
    current = (current as { readonly cause?: unknown }).cause
  }
  return undefined
}

export const reasonFromHttpClientError = (error: HttpClientError.HttpClientError, mask: (text: string) => string): Reason => {
  const reason = error.reason
  switch (reason._tag) {
    case "TransportError": {
      const code = causeCode(reason.cause)
      const phase = code === undefined ? undefined : undiciTimeoutPhases[code]
      if (phase !== undefined) return new Timeout({ message: mask(reason.message), phase })
      return new Connection({ message: mask(reason.message) })
    }
    case "InvalidUrlError":
      return new Connection({ message: mask(reason.message) })
    case "EncodeError":
      return new InvalidRequest({ message: mask(reason.message) })
    case "DecodeError":
    case "EmptyBodyError":
      return new MalformedResponse({ message: mask(reason.message) })
    case "StatusCodeError":
      return new ServerError({ message: mask(reason.message), status: reason.response.status })
  }
}
