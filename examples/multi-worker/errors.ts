/**
 * FlexiAI's typed errors as HTTP answers: one status and one JSON body per failure, the same shape
 * for `/chat`'s error responses and `/stream`'s `error` events.
 *
 * The status comes from the error that decided the call (`ProviderError.decisive`: the last
 * provider that was reached and failed, else why every provider was skipped), because that is
 * what a caller can act on: 400/404/422 when the request itself is at fault (no retry helps), 429
 * when every provider is rate limiting us, 503 when every circuit is open, 504 when the deadline
 * ran out, 502 for an upstream that failed. An upstream 401/403 is a 502 here, never a 401: it is
 * this service's key that was refused, not the caller's credentials.
 *
 * What the body leaves out, on purpose: provider error messages (they can quote upstream pages
 * and request details; FlexiAI logs them, masked, on the server) except for the caller's own
 * mistakes, where the message says what to fix; headers, keys and URLs never appear. `attempts`
 * names providers, reasons, tries and latencies only.
 */
import { Duration } from "effect"
import { ProviderError } from "flexiai"

type ChatError = ProviderError.ChatError

/** One try of one provider, as the caller may see it. */
export interface AttemptView {
  readonly provider: string
  readonly model?: string | undefined
  readonly outcome: "success" | "failure" | "skipped"
  readonly reason?: string | undefined
  readonly tries: number
  readonly latencyMillis: number
}

/** The JSON body of an error response, and the data of an SSE `error` event. */
export interface ErrorBody {
  readonly error: {
    /** The error's tag: `AllProvidersFailed`, `ProviderError`, `CircuitOpen`, or this app's own (`InvalidJson`, `ShuttingDown`, …). */
    readonly type: string
    /** The reason that decided it (`ServerError`, `RateLimited`, `CircuitOpen`, `InvalidRequest`, …). */
    readonly reason: string
    readonly message: string
    /** Whether the same request may succeed later (a rate limit, an outage), as opposed to a request that must change. */
    readonly retryable: boolean
    readonly retryAfterSeconds?: number | undefined
    readonly attempts?: ReadonlyArray<AttemptView> | undefined
    /** Text a broken stream had delivered before it broke (only in an SSE `error` event). */
    readonly partialText?: string | undefined
  }
}

export interface HttpError {
  readonly status: number
  readonly body: ErrorBody
  /** Seconds for a `retry-after` header, when known. */
  readonly retryAfterSeconds?: number | undefined
}

// the caller's own mistake: the message says what to fix, and no provider or retry can help
const callerFault: Readonly<Record<string, number>> = {
  InvalidRequest: 400,
  ContextLengthExceeded: 400,
  Unsupported: 422,
  ContentFiltered: 422,
  NotFound: 404
}

const upstreamStatus = (reason: string): number => {
  switch (reason) {
    case "RateLimited":
      return 429
    case "CircuitOpen":
      return 503
    case "Timeout":
      return 504
    default:
      // ServerError, Overloaded, UnexpectedStatus, Connection, MalformedResponse, StreamInterrupted,
      // Authentication, PermissionDenied, QuotaExceeded: the upstream failed us
      return 502
  }
}

const genericMessage: Readonly<Record<number, string>> = {
  429: "every provider is rate limiting this service; retry later",
  502: "no provider could answer",
  503: "every provider is unavailable (circuits open); retry later",
  504: "no provider answered in time"
}

/** An attempt as the HTTP bodies show it (latency rounded, no error object). */
export const attemptViews = (attempts: ReadonlyArray<ProviderError.Attempt>): ReadonlyArray<AttemptView> =>
  attempts.map((attempt) => ({
    provider: attempt.provider,
    ...(attempt.model === undefined ? {} : { model: attempt.model }),
    outcome: attempt.outcome,
    ...(attempt.reason === undefined ? {} : { reason: attempt.reason }),
    tries: attempt.tries,
    latencyMillis: Math.round(attempt.latencyMillis)
  }))

const attemptsOf = (error: ChatError): ReadonlyArray<AttemptView> | undefined =>
  error._tag === "AllProvidersFailed" ? attemptViews(error.attempts) : undefined

const retryAfterOf = (decisive: ReturnType<typeof ProviderError.decisive>): number | undefined => {
  const after = decisive === undefined
    ? undefined
    : decisive._tag === "CircuitOpen"
    ? decisive.retryAfter
    : decisive.reason._tag === "RateLimited" || decisive.reason._tag === "Overloaded"
    ? decisive.reason.retryAfter
    : undefined
  return after === undefined ? undefined : Math.max(1, Math.ceil(Duration.toMillis(after) / 1000))
}

/** The HTTP status and body for a FlexiAI call's failure. */
export const fromChatError = (error: ChatError): HttpError => {
  const decisive = ProviderError.decisive(error)
  const deadline = error._tag === "AllProvidersFailed" && error.deadlineExceeded === true
  const reason = deadline ? "DeadlineExceeded" : decisive === undefined ? error._tag : ProviderError.reasonTag(decisive)
  const fault = decisive?._tag === "ProviderError" ? callerFault[decisive.reason._tag] : undefined
  const status = deadline ? 504 : fault ?? upstreamStatus(reason)
  const retryAfterSeconds = fault === undefined ? retryAfterOf(decisive) : undefined
  const partial = decisive?._tag === "ProviderError" && decisive.reason._tag === "StreamInterrupted"
    ? decisive.reason.partialText
    : undefined
  return {
    status,
    retryAfterSeconds,
    body: {
      error: {
        type: error._tag,
        reason,
        message: fault !== undefined && decisive !== undefined
          ? decisive.message
          : partial !== undefined
          ? "the answer broke off after it had started; the text so far is in partialText"
          : genericMessage[status] ?? "the call failed",
        retryable: fault === undefined,
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
        ...(error._tag === "AllProvidersFailed" ? { attempts: attemptsOf(error) } : {}),
        ...(partial === undefined ? {} : { partialText: partial })
      }
    }
  }
}

/** An error of this app's own (a body that is not JSON, a worker shutting down). */
export const appError = (status: number, type: string, message: string, retryable: boolean): HttpError => ({
  status,
  body: { error: { type, reason: type, message, retryable } }
})
