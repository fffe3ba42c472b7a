/**
 * Error mapping for Gemini and Vertex AI: Google's error body is a `google.rpc.Status`
 * (`{ error: { code, message, status, details } }`), and its `status` and `details` say more than
 * the HTTP status:
 *
 * - 429 `RESOURCE_EXHAUSTED`: `RateLimited`, its delay from the `google.rpc.RetryInfo` detail
 *   (`retryDelay: "34.4s"`) when there is no `Retry-After` header; a per-day quota
 *   (`QuotaFailure` whose quota id says `PerDay`) is `QuotaExceeded`, as waiting seconds does not help.
 * - 400 `INVALID_ARGUMENT`: `InvalidRequest`, but `ContextLengthExceeded` for its token-limit form
 *   ("The input token count (…) exceeds the maximum number of tokens allowed"), and
 *   `Authentication` for `API_KEY_INVALID` (Gemini answers a bad key with a 400, not a 401).
 * - 401 `UNAUTHENTICATED`, 403 `PERMISSION_DENIED`, 404 `NOT_FOUND`, 500 `INTERNAL`, 503
 *   `UNAVAILABLE` ("The model is overloaded" → `Overloaded`), 504 `DEADLINE_EXCEEDED`: the kit's table.
 *
 * The same mapping reads an error object sent inside a 200 stream (its `code` is the status).
 */
import type * as HttpTransport from "@flexiai/provider/HttpTransport"
import { Duration } from "effect"
import { Authentication, ContextLengthExceeded, QuotaExceeded, RateLimited } from "@flexiai/core/ProviderError"
import type * as ProviderError from "@flexiai/core/ProviderError"
import * as StatusReasons from "@flexiai/provider/StatusReasons"
import type * as GoogleSchema from "../GoogleSchema.ts"

type Reason = ProviderError.ProviderErrorReason

/** Google's request id headers (the Gemini API sends none of the usual ones; its proxy may). */
export const requestIdHeaders: ReadonlyArray<string> = ["x-request-id", "x-goog-request-id", "request-id"]

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value)

/** The `google.rpc.Status` of an error body (`{ error: {...} }`, a list of one, or the object itself). */
export const statusOf = (body: string): GoogleSchema.RpcStatus | undefined => {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return undefined
  }
  // the streaming endpoint without alt=sse answers errors as a JSON array of one
  if (Array.isArray(parsed)) parsed = parsed[0]
  if (!isRecord(parsed)) return undefined
  const error = isRecord(parsed.error) ? parsed.error : parsed
  return {
    ...(typeof error.code === "number" ? { code: error.code } : {}),
    ...(typeof error.message === "string" ? { message: error.message } : {}),
    ...(typeof error.status === "string" ? { status: error.status } : {}),
    ...(Array.isArray(error.details) ? { details: error.details.filter(isRecord) } : {})
  }
}

/** A protobuf Duration in JSON (`"34.4s"`, `"2s"`), or `undefined`. */
export const protoDuration = (value: unknown): Duration.Duration | undefined => {
  if (typeof value !== "string") return undefined
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim())
  return match === null ? undefined : Duration.millis(Math.round(Number(match[1]) * 1000))
}

const detailsOf = (status: GoogleSchema.RpcStatus, type: string) =>
  (status.details ?? []).filter((detail) => typeof detail["@type"] === "string" && (detail["@type"] as string).endsWith(type))

/** The `RetryInfo` delay of a status, if any. */
export const retryDelayOf = (status: GoogleSchema.RpcStatus): Duration.Duration | undefined => {
  for (const detail of detailsOf(status, "google.rpc.RetryInfo")) {
    const delay = protoDuration(detail.retryDelay)
    if (delay !== undefined) return delay
  }
  return undefined
}

const errorInfoReasons = (status: GoogleSchema.RpcStatus): ReadonlyArray<string> =>
  detailsOf(status, "google.rpc.ErrorInfo").map((detail) => typeof detail.reason === "string" ? detail.reason : "")

const perDayQuota = (status: GoogleSchema.RpcStatus): boolean =>
  detailsOf(status, "google.rpc.QuotaFailure").some((detail) =>
    Array.isArray(detail.violations) &&
    detail.violations.some((violation) => isRecord(violation) && typeof violation.quotaId === "string" && /PerDay/i.test(violation.quotaId))
  )

const tokenLimit = /token count.*exceeds|exceeds the maximum number of tokens|too many tokens|context (?:window|length)|input is too long/i

/**
 * The reason for an error: `httpStatus` is the response's status, or `undefined` for an error
 * object inside a 200 stream (then its `code` is used). `mask` scrubs the provider's message.
 */
export const reasonFromStatus = (input: {
  readonly httpStatus: number | undefined
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly status: GoogleSchema.RpcStatus | undefined
  readonly fallbackMessage: string
  readonly nowMillis: number
  readonly mask: (text: string) => string
  readonly model?: string | undefined
}): Reason => {
  const status = input.status ?? {}
  const httpStatus = input.httpStatus ?? status.code ?? 500
  const code = status.status ?? ""
  const message = input.mask(status.message ?? input.fallbackMessage)
  if (errorInfoReasons(status).some((reason) => reason === "API_KEY_INVALID" || reason === "ACCESS_TOKEN_EXPIRED")) {
    return new Authentication({ message })
  }
  if (httpStatus === 400 && tokenLimit.test(message)) return new ContextLengthExceeded({ message })
  if (httpStatus === 429 || code === "RESOURCE_EXHAUSTED") {
    if (perDayQuota(status)) return new QuotaExceeded({ message })
    const retryAfter = StatusReasons.parseRetryAfter(input.headers, input.nowMillis) ?? retryDelayOf(status)
    return new RateLimited(retryAfter === undefined ? { message } : { message, retryAfter })
  }
  return StatusReasons.reasonFor(StatusReasons.defaults, {
    status: httpStatus,
    headers: input.headers,
    message,
    detail: code,
    nowMillis: input.nowMillis,
    model: input.model
  })
}

/** The mapping of a non-2xx response (the transport's `reasonFromResponse`). */
export const reasonFromResponse = (input: HttpTransport.ErrorResponse): Reason =>
  reasonFromStatus({
    httpStatus: input.status,
    headers: input.headers,
    status: statusOf(input.body),
    fallbackMessage: input.body.trim() === "" ? `HTTP ${input.status}` : `HTTP ${input.status}: ${input.body.slice(0, 200)}`,
    nowMillis: input.nowMillis,
    mask: input.mask,
    model: input.model
  })
