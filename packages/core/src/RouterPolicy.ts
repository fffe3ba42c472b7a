/**
 * The router's policy as plain data: retries, Retry-After handling, timeouts, the overall
 * deadline, the stream policy and which reasons stop instead of failing over. Every field is
 * optional and has a documented default (`defaults`), so a config file, a preset and code can all
 * produce one and `resolve` fills in the rest.
 *
 * @since 0.1.0
 */
import { Duration } from "effect"

/**
 * Retries on the same provider: exponential backoff with jitter, capped attempts, only for
 * retryable reasons, never shorter than a `RateLimited.retryAfter`.
 *
 * @category models
 */
export interface RetryOptions {
  /** Retries after the first try (0 disables retrying). Default 2. */
  readonly maxRetries?: number | undefined
  /** First backoff delay. Default 200 ms. */
  readonly initialDelay?: Duration.Input | undefined
  /** Backoff multiplier. Default 2. */
  readonly factor?: number | undefined
  /** Cap on one backoff delay. Default 10 seconds. */
  readonly maxDelay?: Duration.Input | undefined
  /** Jitter the delays (×0.8–1.2). Default true. */
  readonly jitter?: boolean | undefined
}

/**
 * What happens when a stream breaks after content was delivered:
 * - `fail` (default): the stream fails with `StreamInterrupted` carrying the partial output.
 * - `restart`: a `restart` part tells the consumer to discard what it got, then a complete answer
 *   streams from the next provider.
 * - `continue`: a `resume` part, then the next provider that supports assistant prefill continues
 *   the same answer (falls back to `restart` when none does, or a tool call was open).
 *
 * @category models
 */
export type StreamPolicy = "fail" | "restart" | "continue"

/** @category models */
export interface Policy {
  readonly retry?: RetryOptions | undefined
  /** A 429 whose Retry-After is at most this is waited out on the same provider; a longer one fails over at once and the provider is skipped until then. Default 5 seconds. */
  readonly maxRetryAfter?: Duration.Input | undefined
  /** Time limit for one try of one provider (for a stream: until its first content part). Default 60 seconds. */
  readonly attemptTimeout?: Duration.Input | undefined
  /** Time limit for the whole call, every failover included; interrupts in-flight work. Default 120 seconds. */
  readonly deadline?: Duration.Input | undefined
  /** Streams: time from the request to the first content part. Default 30 seconds. */
  readonly firstTokenTimeout?: Duration.Input | undefined
  /** Streams: longest silence between two parts. Default 30 seconds. */
  readonly idleTimeout?: Duration.Input | undefined
  /** Default `fail`. */
  readonly streamPolicy?: StreamPolicy | undefined
  /** Fail over on `InvalidRequest` (a provider-specific 400) instead of stopping. Default false. */
  readonly failoverOnInvalidRequest?: boolean | undefined
  /** Fail over on `ContentFiltered` instead of stopping. Default false. */
  readonly failoverOnContentFiltered?: boolean | undefined
}

/** A policy with every field filled in. @category models */
export interface Resolved {
  readonly retry: {
    readonly maxRetries: number
    readonly initialDelay: Duration.Duration
    readonly factor: number
    readonly maxDelay: Duration.Duration
    readonly jitter: boolean
  }
  readonly maxRetryAfter: Duration.Duration
  readonly attemptTimeout: Duration.Duration
  readonly deadline: Duration.Duration
  readonly firstTokenTimeout: Duration.Duration
  readonly idleTimeout: Duration.Duration
  readonly streamPolicy: StreamPolicy
  readonly failoverOnInvalidRequest: boolean
  readonly failoverOnContentFiltered: boolean
}

/** @category constructors */
export const defaults: Resolved = {
  retry: {
    maxRetries: 2,
    initialDelay: Duration.millis(200),
    factor: 2,
    maxDelay: Duration.seconds(10),
    jitter: true
  },
  maxRetryAfter: Duration.seconds(5),
  attemptTimeout: Duration.seconds(60),
  deadline: Duration.seconds(120),
  firstTokenTimeout: Duration.seconds(30),
  idleTimeout: Duration.seconds(30),
  streamPolicy: "fail",
  failoverOnInvalidRequest: false,
  failoverOnContentFiltered: false
}

const duration = (input: Duration.Input | undefined, fallback: Duration.Duration): Duration.Duration =>
  input === undefined ? fallback : Duration.fromInputUnsafe(input)

/** Fills every missing field of `policy` from `base` (default: `defaults`). @category constructors */
export const resolve = (policy: Policy | undefined, base: Resolved = defaults): Resolved => ({
  retry: {
    maxRetries: policy?.retry?.maxRetries ?? base.retry.maxRetries,
    initialDelay: duration(policy?.retry?.initialDelay, base.retry.initialDelay),
    factor: policy?.retry?.factor ?? base.retry.factor,
    maxDelay: duration(policy?.retry?.maxDelay, base.retry.maxDelay),
    jitter: policy?.retry?.jitter ?? base.retry.jitter
  },
  maxRetryAfter: duration(policy?.maxRetryAfter, base.maxRetryAfter),
  attemptTimeout: duration(policy?.attemptTimeout, base.attemptTimeout),
  deadline: duration(policy?.deadline, base.deadline),
  firstTokenTimeout: duration(policy?.firstTokenTimeout, base.firstTokenTimeout),
  idleTimeout: duration(policy?.idleTimeout, base.idleTimeout),
  streamPolicy: policy?.streamPolicy ?? base.streamPolicy,
  failoverOnInvalidRequest: policy?.failoverOnInvalidRequest ?? base.failoverOnInvalidRequest,
  failoverOnContentFiltered: policy?.failoverOnContentFiltered ?? base.failoverOnContentFiltered
})
