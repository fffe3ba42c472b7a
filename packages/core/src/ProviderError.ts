/**
 * Typed, classified errors. Every provider maps its wire failures to one `ProviderError` whose
 * `reason` says what happened; the router adds `CircuitOpen` and `AllProvidersFailed`.
 *
 * Each reason answers three questions the router asks instead of looking at status codes:
 * `isRetryable` (try the same provider again after a backoff), `failsOver` (another provider may
 * succeed) and `countsAgainstHealth` (a circuit breaker failure). Users catch by reason:
 * `Effect.catchReason("ProviderError", "RateLimited", (reason) => ...)`.
 *
 * Errors are Schemas, so the gateway can encode them as they are. They never hold a key or a
 * prompt: providers put the provider's own message and request id here, with secrets masked.
 *
 * @since 0.1.0
 */
import { Duration, Schema } from "effect"
import { Reasoning } from "./Reasoning.ts"

const message = Schema.String

/**
 * The three questions the router asks of a reason.
 *
 * @category models
 */
export interface Classification {
  readonly isRetryable: boolean
  readonly failsOver: boolean
  readonly countsAgainstHealth: boolean
}

/** The key was rejected (HTTP 401). Another provider may hold a valid one. @category errors */
export class Authentication extends Schema.TaggedError<Authentication>()("Authentication", { message }) {
  get isRetryable(): boolean { return false }
  get failsOver(): boolean { return true }
  get countsAgainstHealth(): boolean { return true }
}

/** The key is valid but not allowed this model or region (HTTP 403). @category errors */
export class PermissionDenied extends Schema.TaggedError<PermissionDenied>()("PermissionDenied", { message }) {
  get isRetryable(): boolean { return false }
  get failsOver(): boolean { return true }
  get countsAgainstHealth(): boolean { return true }
}

/**
 * Too many requests (HTTP 429). `retryAfter` is the provider's own `retry-after(-ms)` when it
 * sent one. The router waits a short one out on the same provider and fails over at once on a
 * long one, skipping the provider until then. Not a health failure: the provider is fine, we
 * are just over our share.
 *
 * @category errors
 */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  message,
  retryAfter: Schema.optional(Schema.Duration)
}) {
  get isRetryable(): boolean { return true }
  get failsOver(): boolean { return true }
  get countsAgainstHealth(): boolean { return false }
}

/**
 * The account is out of credit or quota (OpenAI's 429 `insufficient_quota`). Unlike
 * `RateLimited`, waiting does not help.
 *
 * @category errors
 */
export class QuotaExceeded extends Schema.TaggedError<QuotaExceeded>()("QuotaExceeded", { message }) {
  get isRetryable(): boolean { return false }
  get failsOver(): boolean { return true }
  get countsAgainstHealth(): boolean { return true }
}

/** The provider says it is overloaded (Anthropic 529, `overloaded_error`, some 503s). @category errors */
export class Overloaded extends Schema.TaggedError<Overloaded>()("Overloaded", {
  message,
  retryAfter: Schema.optional(Schema.Duration)
}) {
  get isRetryable(): boolean { return true }
  get failsOver(): boolean { return true }
  get countsAgainstHealth(): boolean { return true }
}

/** A 5xx from the provider (and 408, 409): transient, so retried on the same provider first. @category errors */
export class ServerError extends Schema.TaggedError<ServerError>()("ServerError", {
  message,
  status: Schema.Int
}) {
  get isRetryable(): boolean { return true }
  get failsOver(): boolean { return true }
  get countsAgainstHealth(): boolean { return true }
}

/**
 * A status the provider should not have answered with: one without a row of its own in the
 * provider's status table (a 418, a proxy's odd code), or a redirect (3xx, never followed: a
 * redirected API call is a misconfigured URL, and following it would send the key elsewhere).
 *
 * Unlike a `ServerError` it is not retried on the same provider: such a status is deterministic,
 * so a retry wastes its backoff on the same answer. It fails over at once and counts against the
 * provider's health (a misconfigured endpoint keeps failing).
 *
 * @category errors
 */
export class UnexpectedStatus extends Schema.TaggedError<UnexpectedStatus>()("UnexpectedStatus", {
  message,
  status: Schema.Int
}) {
  get isRetryable(): boolean { return false }
  get failsOver(): boolean { return true }
  get countsAgainstHealth(): boolean { return true }
}

/**
 * Where a call ran out of time: establishing the connection, waiting for response headers,
 * waiting for the first content of a stream, between two stream chunks, or the attempt as a whole.
 *
 * @category models
 */
export const TimeoutPhase = Schema.Literals(["connect", "first-byte", "first-token", "idle", "total"])
export type TimeoutPhase = typeof TimeoutPhase.Type

/**
 * The provider was too slow. Not retried on the same provider (a silent provider is likely to
 * stay silent); the router fails over instead.
 *
 * @category errors
 */
export class Timeout extends Schema.TaggedError<Timeout>()("Timeout", {
  message,
  phase: TimeoutPhase,
  afterMillis: Schema.optional(Schema.Number)
}) {
  get isRetryable(): boolean { return false }
  get failsOver(): boolean { return true }
  get countsAgainstHealth(): boolean { return true }
}

/** The connection failed or was reset before a response arrived. @category errors */
export class Connection extends Schema.TaggedError<Connection>()("Connection", { message }) {
  get isRetryable(): boolean { return true }
  get failsOver(): boolean { return true }
  get countsAgainstHealth(): boolean { return true }
}

/**
 * The request itself is wrong (HTTP 400/422, or rejected by the `ChatRequest` schema before any
 * call). No provider can fix it, so by default the router stops here.
 *
 * @category errors
 */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  message,
  param: Schema.optional(Schema.String)
}) {
  get isRetryable(): boolean { return false }
  get failsOver(): boolean { return false }
  get countsAgainstHealth(): boolean { return false }
}

/** The prompt does not fit the model's context window. A provider with a larger one may take it. @category errors */
export class ContextLengthExceeded extends Schema.TaggedError<ContextLengthExceeded>()("ContextLengthExceeded", {
  message
}) {
  get isRetryable(): boolean { return false }
  get failsOver(): boolean { return true }
  get countsAgainstHealth(): boolean { return false }
}

/** The provider's content policy refused the prompt or the answer. Stops by default. @category errors */
export class ContentFiltered extends Schema.TaggedError<ContentFiltered>()("ContentFiltered", { message }) {
  get isRetryable(): boolean { return false }
  get failsOver(): boolean { return false }
  get countsAgainstHealth(): boolean { return false }
}

/** The model (or deployment) does not exist on this provider. Another provider may have it. @category errors */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  message,
  model: Schema.optional(Schema.String)
}) {
  get isRetryable(): boolean { return false }
  get failsOver(): boolean { return true }
  get countsAgainstHealth(): boolean { return false }
}

/**
 * The request asks for something this provider does not take (per its capabilities: a temperature
 * outside its range, more stop sequences than it allows, tools, images or json_schema it lacks,
 * `maxTokens` over its output limit). The router finds this before dispatch and skips the
 * provider without a call; another provider may serve the request.
 *
 * @category errors
 */
export class Unsupported extends Schema.TaggedError<Unsupported>()("Unsupported", {
  message,
  /** The request field that the provider cannot take (`temperature`, `tools`, `images`, ...). */
  field: Schema.String
}) {
  get isRetryable(): boolean { return false }
  get failsOver(): boolean { return true }
  get countsAgainstHealth(): boolean { return false }
}

/** The provider answered with something we could not decode (bad JSON, an unknown shape). @category errors */
export class MalformedResponse extends Schema.TaggedError<MalformedResponse>()("MalformedResponse", { message }) {
  get isRetryable(): boolean { return true }
  get failsOver(): boolean { return true }
  get countsAgainstHealth(): boolean { return true }
}

/**
 * One try of one provider without its error object: what a `StreamInterrupted` can carry (an
 * error inside an error's own reason would make the schema recursive). See `Attempt`.
 *
 * @category models
 */
export const AttemptSummary = Schema.Struct({
  provider: Schema.String,
  model: Schema.optional(Schema.String),
  outcome: Schema.Literals(["success", "failure", "skipped"]),
  reason: Schema.optional(Schema.String),
  tries: Schema.Int,
  latencyMillis: Schema.Number
})
export type AttemptSummary = typeof AttemptSummary.Type

/**
 * A stream broke after content had been delivered. Carries what had arrived, so nothing is lost:
 * the text, the tool calls completed so far, the reasoning shown so far (`partialReasoning`, as
 * blocks; the last one may be cut short, unsigned), and the reason the stream broke (`cause`).
 * Reasoning alone counts as delivered: a stream cut after only reasoning is interrupted too. Through
 * the router it also lists every attempt of the call (`attempts`), the broken one last.
 * A stream never ends as if complete when it was cut: it ends with this error.
 *
 * @category errors
 */
export class StreamInterrupted extends Schema.TaggedError<StreamInterrupted>()("StreamInterrupted", {
  message,
  partialText: Schema.String,
  partialToolCalls: Schema.optional(Schema.Array(Schema.Struct({
    id: Schema.String,
    name: Schema.String,
    arguments: Schema.String
  }))),
  partialReasoning: Schema.optional(Schema.Array(Reasoning)),
  cause: Schema.optional(Schema.String),
  attempts: Schema.optional(Schema.Array(AttemptSummary))
}) {
  get isRetryable(): boolean { return false }
  get failsOver(): boolean { return true }
  get countsAgainstHealth(): boolean { return true }
}

/** @category errors */
export const ProviderErrorReason = Schema.Union([
  Authentication,
  PermissionDenied,
  RateLimited,
  QuotaExceeded,
  Overloaded,
  ServerError,
  UnexpectedStatus,
  Timeout,
  Connection,
  InvalidRequest,
  ContextLengthExceeded,
  ContentFiltered,
  NotFound,
  MalformedResponse,
  StreamInterrupted,
  Unsupported
])
export type ProviderErrorReason = typeof ProviderErrorReason.Type

/**
 * A provider call failed. `provider` is the provider's name (`"flexiai"` when the request was
 * rejected before any call), `model` the model asked for, `reason` what happened.
 *
 * @category errors
 */
export class ProviderError extends Schema.TaggedError<ProviderError>()("ProviderError", {
  provider: Schema.String,
  model: Schema.optional(Schema.String),
  reason: ProviderErrorReason,
  requestId: Schema.optional(Schema.String)
}) {
  override get message(): string {
    const where = this.model === undefined ? this.provider : `${this.provider} (${this.model})`
    const extra = this.reason._tag === "RateLimited" && this.reason.retryAfter !== undefined
      ? ` (retry after ${Duration.format(this.reason.retryAfter)})`
      : this.reason._tag === "ServerError" || this.reason._tag === "UnexpectedStatus"
      ? ` (HTTP ${this.reason.status})`
      : this.reason._tag === "Timeout"
      ? ` (${this.reason.phase})`
      : ""
    return `${where}: ${this.reason._tag}${extra}: ${this.reason.message}`
  }
  get isRetryable(): boolean { return this.reason.isRetryable }
  get failsOver(): boolean { return this.reason.failsOver }
  get countsAgainstHealth(): boolean { return this.reason.countsAgainstHealth }
}

/**
 * The provider's circuit is open (or half-open with its one probe already running), so it was
 * skipped without a call. `retryAfter` says when it will next be tried.
 *
 * @category errors
 */
export class CircuitOpen extends Schema.TaggedError<CircuitOpen>()("CircuitOpen", {
  provider: Schema.String,
  key: Schema.String,
  state: Schema.Literals(["Open", "HalfOpen", "RateLimited", "Disabled"]),
  retryAfter: Schema.optional(Schema.Duration)
}) {
  override get message(): string {
    const wait = this.retryAfter === undefined ? "" : `, retry in ${Duration.format(this.retryAfter)}`
    return `${this.provider}: skipped (${this.state}${wait})`
  }
  get isRetryable(): boolean { return false }
  get failsOver(): boolean { return true }
  get countsAgainstHealth(): boolean { return false }
}

/**
 * One try of one provider, as recorded by the router. `outcome` is `success`, `failure` (with
 * the error) or `skipped` (circuit open, rate limited, disabled: no request was sent).
 *
 * @category models
 */
export const Attempt = Schema.Struct({
  provider: Schema.String,
  model: Schema.optional(Schema.String),
  outcome: Schema.Literals(["success", "failure", "skipped"]),
  /** The reason's tag (`RateLimited`, `CircuitOpen`, ...) when the attempt did not succeed. */
  reason: Schema.optional(Schema.String),
  error: Schema.optional(Schema.Union([ProviderError, CircuitOpen])),
  /** Tries on this provider, the first included (retries + 1). */
  tries: Schema.Int,
  latencyMillis: Schema.Number
})
export type Attempt = typeof Attempt.Type

/**
 * Every candidate failed or was skipped. `attempts` lists them in order; `lastError` is the one
 * the last attempt failed with (also in `attempts`).
 *
 * @category errors
 */
export class AllProvidersFailed extends Schema.TaggedError<AllProvidersFailed>()("AllProvidersFailed", {
  attempts: Schema.Array(Attempt),
  deadlineExceeded: Schema.optional(Schema.Boolean)
}) {
  override get message(): string {
    const list = this.attempts.map((attempt) => {
      const who = `${attempt.provider}${attempt.model === undefined ? "" : `/${attempt.model}`}`
      // a capability skip says why: the reason tag alone does not tell which field was refused
      const why = attempt.reason === "Unsupported" && attempt.error?._tag === "ProviderError"
        ? `Unsupported (${attempt.error.reason.message})`
        : attempt.reason ?? attempt.outcome
      return `${who}: ${why}`
    }).join("; ")
    const head = this.deadlineExceeded === true ? "deadline exceeded" : "all providers failed"
    return `${head} (${this.attempts.length} attempt${this.attempts.length === 1 ? "" : "s"}): ${list}`
  }
}

/** What a `ChatProvider` call can fail with. @category errors */
export type ChatError = ProviderError | CircuitOpen | AllProvidersFailed

/** Builds a `ProviderError`. @category constructors */
export const make = (
  provider: string,
  reason: ProviderErrorReason,
  extra?: { readonly model?: string | undefined; readonly requestId?: string | undefined }
): ProviderError =>
  new ProviderError({
    provider,
    reason,
    ...(extra?.model === undefined ? {} : { model: extra.model }),
    ...(extra?.requestId === undefined ? {} : { requestId: extra.requestId })
  })

/**
 * Builds an error without capturing a stack trace.
 *
 * For expected outcomes on hot paths (a skipped open circuit, a rejected admission): capturing
 * the stack is most of the cost of constructing a Schema error (about 8 µs of 9 here), and a
 * stack says nothing about why a circuit was open.
 *
 * @category constructors
 */
export const withoutStackTrace = <A>(build: () => A): A => {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return build()
  } finally {
    Error.stackTraceLimit = limit
  }
}

/** The reason's classification, for any error a provider call can produce. @category utils */
export const classify = (error: ChatError): Classification =>
  error._tag === "AllProvidersFailed"
    ? { isRetryable: false, failsOver: true, countsAgainstHealth: false }
    : error

/** The tag users match on: the reason's tag for a `ProviderError`, the error's own otherwise. @category utils */
export const reasonTag = (error: ChatError): string => error._tag === "ProviderError" ? error.reason._tag : error._tag
