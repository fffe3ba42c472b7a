/**
 * The status → reason table: one place that says what an HTTP status means for failover, with
 * safe defaults a provider extends (adds or overrides rows) instead of writing its own mapping.
 *
 * What users get wrong: treating any unknown 4xx as the caller's mistake. `InvalidRequest` stops
 * failover, so an unknown status (a 418, a proxy's odd code) must not become one: only the rows
 * that say so (400, 413, 422) do. Anything without a row is an `UnexpectedStatus`: it fails over at
 * once, without retries on the same provider (the status is deterministic; a `ServerError` is only
 * for the transient 5xx, 408 and 409). A 3xx is never followed (a redirect of an API call is a
 * misconfigured URL, and following it would send the key elsewhere): it is an `UnexpectedStatus`
 * naming the `Location` host.
 *
 * Also here: `Retry-After` parsing, and the mapping of an `HttpClientError` that carries no
 * status (connection failures keep their cause code: `ECONNREFUSED`, `ENOTFOUND`, a TLS code).
 *
 * @since 0.2.0
 */
import { Duration } from "effect"
import type * as ProviderError from "@flexiai/core/ProviderError"
import {
  Authentication,
  Connection,
  InvalidRequest,
  MalformedResponse,
  NotFound,
  Overloaded,
  PermissionDenied,
  QuotaExceeded,
  RateLimited,
  ServerError,
  Timeout,
  UnexpectedStatus
} from "@flexiai/core/ProviderError"
import type { HttpClientError } from "effect/http"
import type { Mask } from "./Mask.ts"

/** @category models */
export type Reason = ProviderError.ProviderErrorReason

/** What a row sees of a failed response. `message` is already masked. @category models */
export interface StatusInput {
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly message: string
  readonly nowMillis: number
  readonly model?: string | undefined
  /** The request field the provider blamed, when it named one. */
  readonly param?: string | undefined
  /** The provider's error code and type, for rows that look at them (`overloaded_error`). */
  readonly detail?: string | undefined
}

/** One row: the reason for a status. @category models */
export type Row = (input: StatusInput) => Reason

/** A table of rows by status. Statuses without a row get `fallback`. @category models */
export interface Table {
  readonly rows: ReadonlyMap<number, Row>
  readonly fallback: Row
}

/** Reads a header case-insensitively from a plain record (direct lookup first: Effect's headers are lower case). */
export const header = (headers: Readonly<Record<string, string | undefined>>, name: string): string | undefined => {
  const direct = headers[name]
  if (direct !== undefined) return direct
  const lower = name.toLowerCase()
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === lower) return value
  return undefined
}

/**
 * `retry-after-ms` (milliseconds, as OpenAI sends), else `retry-after` as seconds or an HTTP-date
 * (relative to `nowMillis`; a date in the past means "now").
 *
 * @category utils
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

const withRetryAfter = (input: StatusInput) => {
  const retryAfter = parseRetryAfter(input.headers, input.nowMillis)
  return retryAfter === undefined ? { message: input.message } : { message: input.message, retryAfter }
}

const invalid: Row = (input) =>
  new InvalidRequest({ message: input.message, ...(input.param === undefined ? {} : { param: input.param }) })

const serverError: Row = (input) => new ServerError({ message: input.message, status: input.status })

/** The host a redirect points to, or a word saying there was none. */
const locationHost = (headers: Readonly<Record<string, string | undefined>>): string => {
  const location = header(headers, "location")
  if (location === undefined || location.trim() === "") return "no Location"
  try {
    return new URL(location, "http://relative.invalid").host.replace(/^relative\.invalid$/, "the same host")
  } catch {
    return "an unreadable Location"
  }
}

/**
 * A redirect, not followed: an `UnexpectedStatus` (fails over at once, counts against the
 * provider's health, as a misconfigured URL keeps failing) naming where it pointed, never the
 * full URL (it may carry a signed query).
 *
 * @category rows
 */
export const redirect: Row = (input) =>
  new UnexpectedStatus({
    message: `HTTP ${input.status} redirect to ${locationHost(input.headers)} (redirects are not followed: check the provider's URL)`,
    status: input.status
  })

/**
 * Any status without a row: redirects as `redirect`, other 5xx a `ServerError` (retried, as any
 * 5xx), everything else an `UnexpectedStatus` that fails over at once. Never `InvalidRequest`,
 * which would stop the router while healthy backups wait.
 *
 * @category rows
 */
export const unknownStatus: Row = (input) =>
  input.status >= 300 && input.status < 400
    ? redirect(input)
    : input.status >= 500 && input.status < 600
    ? serverError(input)
    : new UnexpectedStatus({ message: input.message, status: input.status })

/**
 * The rows every provider starts from.
 *
 * @category tables
 */
export const defaults: Table = {
  rows: new Map<number, Row>([
    [400, invalid],
    [413, invalid],
    [422, invalid],
    [401, (input) => new Authentication({ message: input.message })],
    [402, (input) => new QuotaExceeded({ message: input.message })],
    [403, (input) => new PermissionDenied({ message: input.message })],
    [404, (input) => new NotFound({ message: input.message, ...(input.model === undefined ? {} : { model: input.model }) })],
    [408, serverError],
    [409, serverError],
    [429, (input) => new RateLimited(withRetryAfter(input))],
    [503, (input) => /overload/i.test(`${input.message} ${input.detail ?? ""}`) ? new Overloaded(withRetryAfter(input)) : serverError(input)],
    [529, (input) => new Overloaded(withRetryAfter(input))]
  ]),
  fallback: unknownStatus
}

/**
 * A table with `rows` added to (or replacing rows of) `table`.
 *
 * @category combinators
 */
export const extend = (table: Table, rows: Readonly<Record<number, Row>>): Table => {
  const merged = new Map(table.rows)
  for (const [status, row] of Object.entries(rows)) merged.set(Number(status), row)
  return { rows: merged, fallback: table.fallback }
}

/**
 * The reason for a failed response.
 *
 * @category utils
 */
export const reasonFor = (table: Table, input: StatusInput): Reason => (table.rows.get(input.status) ?? table.fallback)(input)

// undici's own time limits (a dispatcher's `connect.timeout`, `headersTimeout`, `bodyTimeout`)
// surface as transport errors; their codes say which phase ran out
/** @category constants */
export const undiciTimeoutPhases: Readonly<Record<string, "connect" | "first-byte" | "idle">> = {
  UND_ERR_CONNECT_TIMEOUT: "connect",
  UND_ERR_HEADERS_TIMEOUT: "first-byte",
  UND_ERR_BODY_TIMEOUT: "idle"
}

interface CauseDetail {
  readonly code: string | undefined
  readonly message: string | undefined
}

/**
 * The code and message of the innermost useful cause. undici's `fetch failed` and Effect's
 * `Transport error` say nothing; the cause under them says `connect ECONNREFUSED 127.0.0.1:9`.
 */
export const causeDetail = (cause: unknown): CauseDetail => {
  let code: string | undefined
  let message: string | undefined
  for (let current = cause, depth = 0; typeof current === "object" && current !== null && depth < 5; depth++) {
    const fields = current as { readonly code?: unknown; readonly message?: unknown; readonly cause?: unknown }
    if (code === undefined && typeof fields.code === "string") code = fields.code
    if (typeof fields.message === "string" && fields.message !== "" && fields.message !== "fetch failed") message = fields.message
    current = fields.cause
  }
  return { code, message }
}

const describeCause = (base: string, cause: unknown): string => {
  const { code, message } = causeDetail(cause)
  if (code === undefined && message === undefined) return base
  if (message === undefined) return `${base}: ${code}`
  return code === undefined || message.includes(code) ? `${base}: ${message}` : `${base}: ${code}: ${message}`
}

/**
 * The reason for an `HttpClientError` (one without a status: network, URL, body decoding).
 *
 * @category utils
 */
export const reasonFromHttpClientError = (error: HttpClientError.HttpClientError, mask: Mask): Reason => {
  const reason = error.reason
  switch (reason._tag) {
    case "TransportError": {
      const { code } = causeDetail(reason.cause)
      const phase = code === undefined ? undefined : undiciTimeoutPhases[code]
      if (phase !== undefined) return new Timeout({ message: mask(reason.message), phase })
      return new Connection({ message: mask(describeCause(reason.message, reason.cause)) })
    }
    case "InvalidUrlError":
      return new Connection({ message: mask(describeCause(reason.message, reason.cause)) })
    case "EncodeError":
      return new InvalidRequest({ message: mask(reason.message) })
    case "DecodeError":
    case "EmptyBodyError":
      return new MalformedResponse({ message: mask(reason.message) })
    case "StatusCodeError":
      // a client that filtered the status itself: the status alone decides, as for a row-less one
      return unknownStatus({
        status: reason.response.status,
        headers: reason.response.headers,
        message: mask(reason.message),
        nowMillis: 0
      })
  }
}
