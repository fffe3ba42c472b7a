/**
 * Error mapping for Anthropic Messages: one pure function from (status, headers, error object) to
 * a `ProviderError` reason, for HTTP errors and for the `error` event inside a 200 stream (which
 * has no status: it is taken from the error's `type`).
 *
 * Anthropic's envelope is `{ type: "error", error: { type, message }, request_id }`; its types
 * (https://docs.anthropic.com/en/api/errors): `invalid_request_error` 400,
 * `authentication_error` 401, `billing_error` 402, `permission_error` 403, `not_found_error` 404,
 * `request_too_large` 413, `rate_limit_error` 429, `api_error` 500, `timeout_error` 504,
 * `overloaded_error` 529. A prompt over the context window is a 400 whose message says so
 * (`prompt is too long: 211000 tokens > 200000 maximum`): `ContextLengthExceeded`.
 */
import type * as HttpTransport from "@flexiai/provider/HttpTransport"
import type * as ProviderError from "@flexiai/core/ProviderError"
import { ContextLengthExceeded } from "@flexiai/core/ProviderError"
import * as StatusReasons from "@flexiai/provider/StatusReasons"
import type * as AnthropicSchema from "../AnthropicSchema.ts"

type Reason = ProviderError.ProviderErrorReason

/** Anthropic's request id header (`request-id`), before the generic ones. */
export const requestIdHeaders: ReadonlyArray<string> = ["request-id", "x-request-id"]

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null

/** The error object of an error body: the envelope's `error`, else the body itself. */
export const errorObjectOf = (body: string): AnthropicSchema.ErrorObject | undefined => {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return undefined
  }
  if (!isRecord(parsed)) return undefined
  const source = isRecord(parsed.error) ? parsed.error : parsed
  return {
    ...(typeof source.type === "string" ? { type: source.type } : {}),
    ...(typeof source.message === "string" ? { message: source.message } : {})
  }
}

const statusOfType: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529
}

const table = StatusReasons.defaults

const contextTooLong = /prompt is too long|exceed(?:s|ed)? (?:the )?context (?:window|limit)|context window|maximum context length/i

/**
 * Maps an error to a reason. `status` is the HTTP status, or `undefined` for an `error` event in a
 * 200 stream (its `type` then decides; an unknown type is a 500). `mask` scrubs the message.
 */
export const reasonFromError = (input: {
  readonly status: number | undefined
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly error: AnthropicSchema.ErrorObject | undefined
  readonly fallbackMessage: string
  readonly nowMillis: number
  readonly mask: (text: string) => string
  readonly model?: string | undefined
}): Reason => {
  const type = input.error?.type ?? ""
  const status = input.status ?? statusOfType[type] ?? 500
  const message = input.mask(input.error?.message ?? input.fallbackMessage)
  if ((status === 400 || status === 413) && contextTooLong.test(message)) return new ContextLengthExceeded({ message })
  // an overloaded_error is Overloaded whatever status carried it (Anthropic answers 529)
  const effective = type === "overloaded_error" ? 529 : status
  return StatusReasons.reasonFor(table, {
    status: effective,
    headers: input.headers,
    message,
    detail: type,
    nowMillis: input.nowMillis,
    model: input.model
  })
}

/** The pure mapping of a non-2xx response (the transport's `reasonFromResponse`). */
export const reasonFromResponse = (input: HttpTransport.ErrorResponse): Reason =>
  reasonFromError({
    status: input.status,
    headers: input.headers,
    error: errorObjectOf(input.body),
    fallbackMessage: input.body.trim() === "" ? `HTTP ${input.status}` : `HTTP ${input.status}: ${input.body.slice(0, 200)}`,
    nowMillis: input.nowMillis,
    mask: input.mask,
    model: input.model
  })
