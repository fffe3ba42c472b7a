/**
 * Bedrock's errors to `ProviderError` reasons: one pure function over the exception's name (the
 * `x-amzn-errortype` header, else the body's `__type`, else its `code`), its status and message.
 * The same table serves HTTP error responses and the exception frames of a ConverseStream body,
 * whose `:exception-type` is the same name in lower camel case (`throttlingException`).
 *
 * Bedrock's error names: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_Errors
 * What is easy to get wrong: `x-amzn-errortype` may carry a suffix
 * (`ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/`), `__type` a
 * namespace (`com.amazon.coral.validate#ValidationException`); and an input that does not fit the
 * model is a `ValidationException` whose message says so, not a type of its own.
 */
import type * as ProviderError from "@flexiai/core/ProviderError"
import {
  Authentication,
  ContextLengthExceeded,
  InvalidRequest,
  NotFound,
  Overloaded,
  PermissionDenied,
  QuotaExceeded,
  RateLimited,
  ServerError,
  Timeout
} from "@flexiai/core/ProviderError"
import type * as HttpTransport from "@flexiai/provider/HttpTransport"
import * as StatusReasons from "@flexiai/provider/StatusReasons"

type Reason = ProviderError.ProviderErrorReason

/** The headers Bedrock puts its request id in (lower case), for the transport. */
// (`x-request-id` last: what proxies in front of Bedrock, and the mock server, send)
export const requestIdHeaders: ReadonlyArray<string> = ["x-amzn-requestid", "x-amz-request-id", "x-request-id"]

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null

/** `ValidationException:http://…` and `com.amazon…#ValidationException` to `ValidationException`. */
export const exceptionName = (raw: string | undefined): string | undefined => {
  if (raw === undefined) return undefined
  const name = raw.split(":")[0]!.split("#").at(-1)!.trim()
  if (name === "") return undefined
  // stream frames name it in lower camel case
  return name.charAt(0).toUpperCase() + name.slice(1)
}

/** The name and message of an error body (`{"message": …}`, `{"Message": …}`, `__type`, `code`). */
export const errorBodyOf = (body: string): { readonly type?: string | undefined; readonly message?: string | undefined } => {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return {}
  }
  if (!isRecord(parsed)) return {}
  const text = (key: string) => (typeof parsed[key] === "string" ? parsed[key] as string : undefined)
  return { type: text("__type") ?? text("code"), message: text("message") ?? text("Message") }
}

// The model's context window is exceeded: Bedrock says so in a ValidationException's message, in
// the model's words ("Input is too long for requested model", "prompt is too long", "too many
// input tokens", "exceeds the maximum context length").
const tooLong = /input is too long|prompt is too long|too many (input )?tokens|context (length|window)|maximum (context|input)/i

/** What one exception means. `status` is the HTTP status (a stream's exception frame has none: 200). */
export interface ExceptionInput {
  readonly type: string | undefined
  readonly status: number
  readonly message: string
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly nowMillis: number
  readonly model?: string | undefined
}

/** The reason of a Bedrock exception; names without a row fall back to the status table. */
export const reasonOfException = (input: ExceptionInput): Reason => {
  const { message } = input
  const retryAfter = StatusReasons.parseRetryAfter(input.headers, input.nowMillis)
  const withRetry = retryAfter === undefined ? { message } : { message, retryAfter }
  switch (input.type) {
    case "ThrottlingException":
      return new RateLimited(withRetry)
    case "ServiceUnavailableException":
    case "ModelNotReadyException":
      return new Overloaded(withRetry)
    case "ModelTimeoutException":
      return new Timeout({ message, phase: "total" })
    case "ValidationException":
      return tooLong.test(message) ? new ContextLengthExceeded({ message }) : new InvalidRequest({ message })
    case "AccessDeniedException":
      return new PermissionDenied({ message })
    case "UnrecognizedClientException":
    case "ExpiredTokenException":
    case "InvalidSignatureException":
    case "IncompleteSignatureException":
    case "MissingAuthenticationTokenException":
    case "InvalidClientTokenId":
    case "SignatureDoesNotMatch":
      return new Authentication({ message })
    case "ResourceNotFoundException":
      return new NotFound({ message, ...(input.model === undefined ? {} : { model: input.model }) })
    case "ServiceQuotaExceededException":
      return new QuotaExceeded({ message })
    case "InternalServerException":
    case "ModelErrorException":
    case "ModelStreamErrorException":
      return new ServerError({ message, status: input.status >= 400 ? input.status : 500 })
    default:
      // an exception frame of an unknown name inside a 200 stream is the server's failure
      return input.status < 400
        ? new ServerError({ message, status: 500 })
        : StatusReasons.reasonFor(StatusReasons.defaults, {
          status: input.status,
          headers: input.headers,
          message,
          nowMillis: input.nowMillis,
          model: input.model,
          detail: input.type
        })
  }
}

/** The transport's mapping of a non-2xx response (`HttpTransport.Options.reasonFromResponse`). */
export const reasonFromResponse = (response: HttpTransport.ErrorResponse): Reason => {
  const body = errorBodyOf(response.body)
  const type = exceptionName(StatusReasons.header(response.headers, "x-amzn-errortype") ?? body.type)
  const fallback = response.body.trim() === "" ? `HTTP ${response.status}` : `HTTP ${response.status}: ${response.body.slice(0, 200)}`
  const text = body.message ?? fallback
  return reasonOfException({
    type,
    status: response.status,
    message: response.mask(type === undefined ? text : `${type}: ${text}`),
    headers: response.headers,
    nowMillis: response.nowMillis,
    model: response.model
  })
}
