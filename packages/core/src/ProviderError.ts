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
import { Duration, Effect, Schema } from "effect"
import { dual } from "effect/Function"
import { Cost } from "./Pricing.ts"
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
 * A budget (`Budget`) would be overspent by this request: FlexiAI's metering found it before
 * dispatch, when reserving the request's estimated cost, and sent nothing. Carries the budget's
 * name, its limit, what is spent and reserved in its current window, what this request needed and
 * when the window ends.
 *
 * Not retried (the same provider would need the same money) and not a health failure. Whether it
 * fails over is the policy's `failoverOnBudgetExceeded` (default false: stop): with it on, the
 * router moves on to the next candidate, which may be a cheaper model or a provider outside the
 * budget's scope.
 *
 * @category errors
 */
export class BudgetExceeded extends Schema.TaggedError<BudgetExceeded>()("BudgetExceeded", {
  message,
  budget: Schema.String,
  limitUsd: Schema.Number,
  spentUsd: Schema.Number,
  requestedUsd: Schema.Number,
  /** Clock millis when the budget's window ends (absent for a `total` budget). */
  resetsAt: Schema.optional(Schema.Number)
}) {
  get isRetryable(): boolean { return false }
  get failsOver(): boolean { return false }
  get countsAgainstHealth(): boolean { return false }
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
  Unsupported,
  BudgetExceeded
])
export type ProviderErrorReason = typeof ProviderErrorReason.Type

/**
 * What a reason adds to its tag in a message: the Retry-After, the HTTP status, the timeout's phase.
 * One rule for `ProviderError.message` and the `AllProvidersFailed` summary.
 */
const reasonDetail = (reason: ProviderErrorReason): string | undefined =>
  (reason._tag === "RateLimited" || reason._tag === "Overloaded") && reason.retryAfter !== undefined
    ? `retry after ${Duration.format(reason.retryAfter)}`
    : reason._tag === "ServerError" || reason._tag === "UnexpectedStatus"
    ? `HTTP ${reason.status}`
    : reason._tag === "Timeout"
    ? reason.phase
    : undefined

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
  requestId: Schema.optional(Schema.String),
  /**
   * What the failed attempt was billed, where it was billed at all: a stream cut after tokens
   * arrived (estimated from what arrived: `cost.estimated`). Set by FlexiAI's metering.
   */
  cost: Schema.optional(Cost)
}) {
  override get message(): string {
    const where = this.model === undefined ? this.provider : `${this.provider} (${this.model})`
    const detail = reasonDetail(this.reason)
    return `${where}: ${this.reason._tag}${detail === undefined ? "" : ` (${detail})`}: ${this.reason.message}`
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
  latencyMillis: Schema.Number,
  /** What a failed attempt was billed (a stream cut after tokens): its error's `cost`. */
  cost: Schema.optional(Cost)
})
export type Attempt = typeof Attempt.Type

// A provider's message can be long (an HTML error page, a JSON dump) or span lines; the summary
// keeps one line per attempt and the first `summaryMessageLimit` characters of each message. The
// whole message stays on the attempt's `error`.
const summaryMessageLimit = 200

const oneLine = (text: string): string => {
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length > summaryMessageLimit ? `${flat.slice(0, summaryMessageLimit - 1)}…` : flat
}

// One attempt in the summary: its reason, what the reason adds (Retry-After, status, phase), the
// provider's message (masked by the provider that made it) and, for a broken stream, its cause.
const describeAttempt = (attempt: Attempt): string => {
  const who = `${attempt.provider}${attempt.model === undefined ? "" : `/${attempt.model}`}`
  const tag = attempt.reason ?? attempt.outcome
  const error = attempt.error
  const details: Array<string> = []
  if (error?._tag === "CircuitOpen") {
    details.push(error.retryAfter === undefined ? error.state : `${error.state}, retry in ${Duration.format(error.retryAfter)}`)
  } else if (error !== undefined) {
    const detail = reasonDetail(error.reason)
    if (detail !== undefined) details.push(detail)
    if (error.reason.message !== "") details.push(oneLine(error.reason.message))
    if (error.reason._tag === "StreamInterrupted" && error.reason.cause !== undefined) {
      details.push(`cause: ${oneLine(error.reason.cause)}`)
    }
  }
  return `${who}: ${tag}${details.length === 0 ? "" : ` (${details.join("; ")})`}`
}

// The last attempt that reached a provider and failed, else the last skip's error.
const decisiveOf = (attempts: ReadonlyArray<Attempt>): ProviderError | CircuitOpen | undefined => {
  let skipped: ProviderError | CircuitOpen | undefined
  for (let i = attempts.length - 1; i >= 0; i--) {
    const attempt = attempts[i]!
    if (attempt.outcome === "failure" && attempt.error !== undefined) return attempt.error
    if (attempt.outcome === "skipped" && skipped === undefined) skipped = attempt.error
  }
  return skipped
}

/**
 * Every candidate failed or was skipped. `attempts` lists them in order, each failed one with the
 * error it failed with; `deadlineExceeded` says the call's deadline ended it.
 *
 * **Details**
 *
 * - `message` names every attempt with its reason, what the reason adds and the provider's own
 *   (masked) message: `all providers failed (2 attempts): a/gpt-4o: RateLimited (retry after 1m;
 *   slow down); b/llama3: ServerError (HTTP 503; upstream unavailable)`. A skipped attempt says why
 *   (`CircuitOpen (Open, retry in 42s)`, `Unsupported (tools are not supported)`); each message is
 *   flattened to one line and cut at 200 characters (the whole one is on the attempt's `error`).
 * - `decisive` is the error that decided the call: the last attempt that reached a provider and
 *   failed; when every candidate was skipped, the last skip's (`CircuitOpen`, or a `ProviderError`
 *   with `Unsupported`). Every failure before it failed over to the next candidate, so this is the
 *   one the call ended on. An attempt the deadline cut short carries no
 *   error: with `deadlineExceeded`, `decisive` is the last provider error before it (or undefined).
 * - `cause` is `decisive` too, so `Cause.pretty`, `util.inspect` and error reporters show it.
 * - Catch by reason through a router with `ProviderError.catchReason`, which looks at a direct
 *   `ProviderError`'s reason and at an `AllProvidersFailed`'s decisive one.
 *
 * @category errors
 */
export class AllProvidersFailed extends Schema.TaggedError<AllProvidersFailed>()("AllProvidersFailed", {
  attempts: Schema.Array(Attempt),
  deadlineExceeded: Schema.optional(Schema.Boolean)
}) {
  override get message(): string {
    const list = this.attempts.map(describeAttempt).join("; ")
    const head = this.deadlineExceeded === true ? "deadline exceeded" : "all providers failed"
    return `${head} (${this.attempts.length} attempt${this.attempts.length === 1 ? "" : "s"}): ${list}`
  }

  /** The error that decided the call (see the class's **Details**). */
  get decisive(): ProviderError | CircuitOpen | undefined {
    return decisiveOf(this.attempts)
  }

  /** The decisive error, as the standard `Error.cause`. */
  override get cause(): unknown {
    return this.decisive
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

/**
 * The error that decided a call: the error itself, or an `AllProvidersFailed`'s `decisive` one.
 *
 * @category utils
 */
export const decisive = (error: ChatError): ProviderError | CircuitOpen | undefined =>
  error._tag === "AllProvidersFailed" ? error.decisive : error

/** A `ProviderErrorReason` by its tag. @category models */
export type ReasonOf<K extends ProviderErrorReason["_tag"]> = Extract<ProviderErrorReason, { readonly _tag: K }>

const matchReason = <K extends ProviderErrorReason["_tag"]>(
  error: unknown,
  tag: K
): { readonly reason: ReasonOf<K>; readonly error: ProviderError } | undefined => {
  // by tag, not `instanceof`: an error from a second copy of this module (two installs) matches too
  if (typeof error !== "object" || error === null || !("_tag" in error)) return undefined
  const found = error._tag === "AllProvidersFailed" ? decisiveOf((error as AllProvidersFailed).attempts) : error
  return found !== undefined && found._tag === "ProviderError" && (found as ProviderError).reason._tag === tag
    ? { reason: (found as ProviderError).reason as ReasonOf<K>, error: found as ProviderError }
    : undefined
}

/**
 * Catches a failure by its reason, through a router too: a `ProviderError` with that reason, or an
 * `AllProvidersFailed` whose decisive error (`AllProvidersFailed.decisive`) has it. Every other
 * failure goes on as it was.
 *
 * **Details**
 *
 * `Effect.catchReason("ProviderError", "RateLimited", f)` sees only a `ProviderError` itself, and a
 * router fails with `AllProvidersFailed` once it has tried every candidate: use this one when the
 * effect may run on a router (`FlexiAI.layer` always does). The handler gets the reason and the
 * `ProviderError` that holds it (provider, model, request id).
 *
 * **Example** (Waiting out a rate limit behind a router)
 *
 * ```ts
 * chat("hi").pipe(
 *   ProviderError.catchReason("RateLimited", (reason, error) =>
 *     Effect.succeed(`${error.provider} is rate limited: retry in ${reason.retryAfter ?? "a while"}`))
 * )
 * ```
 *
 * @category combinators
 */
export const catchReason: {
  <K extends ProviderErrorReason["_tag"], A2, E2, R2>(
    tag: K,
    f: (reason: ReasonOf<K>, error: ProviderError) => Effect.Effect<A2, E2, R2>
  ): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A | A2, E | E2, R | R2>
  <A, E, R, K extends ProviderErrorReason["_tag"], A2, E2, R2>(
    self: Effect.Effect<A, E, R>,
    tag: K,
    f: (reason: ReasonOf<K>, error: ProviderError) => Effect.Effect<A2, E2, R2>
  ): Effect.Effect<A | A2, E | E2, R | R2>
} = dual(3, <A, E, R, K extends ProviderErrorReason["_tag"], A2, E2, R2>(
  self: Effect.Effect<A, E, R>,
  tag: K,
  f: (reason: ReasonOf<K>, error: ProviderError) => Effect.Effect<A2, E2, R2>
): Effect.Effect<A | A2, E | E2, R | R2> =>
  Effect.catch(self, (error): Effect.Effect<A2, E | E2, R2> => {
    const matched = matchReason(error, tag)
    return matched === undefined ? Effect.fail(error) : f(matched.reason, matched.error)
  }))
