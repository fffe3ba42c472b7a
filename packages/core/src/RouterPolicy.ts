/**
 * The router's policy: retries, Retry-After handling, timeouts, the overall deadline, the stream
 * policy, what an undecodable stream event does, and which reasons stop instead of failing over. Described once, as `ResolvedSchema` (every
 * field, each with its description and default); the rest is derived from it: `PolicySchema`, the
 * optional config-file form `@flexiai/config` reads (and its JSON Schema and `FLEXIAI_POLICY_*`
 * variables), `Policy`, what code passes (durations as any `Duration.Input`), `Resolved`, the
 * filled-in form, and `defaults`. A new field added to `ResolvedSchema` is a config field, a JSON
 * Schema property and an environment variable with no other change; the router reads it from
 * `Resolved`.
 *
 * @since 0.1.0
 */
import { Context, Schema, Struct } from "effect"
import * as OptionSchema from "./OptionSchema.ts"

const { duration, option } = OptionSchema

/**
 * What happens when a stream breaks after content was delivered:
 * - `fail` (default): the stream fails with `StreamInterrupted` carrying the partial output.
 * - `restart`: a `restart` part tells the consumer to discard what it got, then a complete answer
 *   streams from the next provider.
 * - `continue`: a `resume` part, then the next provider that supports assistant prefill continues
 *   the same answer (falls back to `restart` when none does, or a tool call was open).
 *
 * @category schemas
 */
export const StreamPolicy = Schema.Literals(["fail", "restart", "continue"])

/** @category models */
export type StreamPolicy = typeof StreamPolicy.Type

/**
 * What a stream event that does not decode (a corrupted or truncated data event) does:
 * - `fail` (default): the attempt is broken (`MalformedResponse`). Before the first content it
 *   fails over like any failed request; after it the stream policy decides. A dropped event could
 *   have been any part of the answer ("Transfer NOT one million dollars" arriving without its
 *   "NOT"), so a stream that lost one never ends as if complete.
 * - `skip`: the event is dropped with a warning and the stream goes on. Opt-in, for a provider
 *   known to interleave events FlexiAI cannot read with the answer's own.
 *
 * @category schemas
 */
export const MalformedEventPolicy = Schema.Literals(["fail", "skip"])

/** @category models */
export type MalformedEventPolicy = typeof MalformedEventPolicy.Type

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const AtLeastOne = Schema.Number.check(Schema.isFinite(), Schema.isGreaterThanOrEqualTo(1))

/**
 * Retries on the same provider, every field filled in: exponential backoff with jitter, capped
 * attempts, only for retryable reasons, never shorter than a `RateLimited.retryAfter`.
 *
 * @category schemas
 */
export const ResolvedRetrySchema = Schema.Struct({
  maxRetries: option(NonNegativeInt, "Retries after the first try (0 disables retrying).", 2),
  initialDelay: duration("First backoff delay.", "200 millis"),
  factor: option(AtLeastOne, "Backoff multiplier.", 2),
  maxDelay: duration("Cap on one backoff delay.", "10 seconds"),
  jitter: option(Schema.Boolean, "Jitter the delays (×0.8–1.2).", true)
})

/**
 * The router's policy, every field filled in.
 *
 * @category schemas
 */
export const ResolvedSchema = Schema.Struct({
  retry: ResolvedRetrySchema,
  maxRetryAfter: duration(
    "A 429 whose Retry-After is at most this is waited out on the same provider; a longer one fails over at once and the provider is skipped until then.",
    "5 seconds"
  ),
  attemptTimeout: duration(
    "Time limit for one try of one provider (for a stream: until its first content part).",
    "60 seconds"
  ),
  deadline: duration(
    "Time limit for the whole call, every failover included, a stream to its last part; interrupts in-flight work (a stream past it fails with the partial output).",
    "120 seconds"
  ),
  firstTokenTimeout: duration("Streams: time from the request to the first content part.", "30 seconds"),
  idleTimeout: duration("Streams: longest silence between two parts.", "30 seconds"),
  streamPolicy: option(
    StreamPolicy,
    "What a stream that breaks after content does: fail with the partial output, restart on the next provider, or continue the same answer there (needs assistant prefill).",
    "fail"
  ),
  onMalformedEvent: option(
    MalformedEventPolicy,
    "Streams: an event that does not decode fails the attempt (MalformedResponse: before content it fails over, after it the stream policy decides), or, opt-in, is skipped with a warning (the answer may then miss content).",
    "fail"
  ),
  failoverOnInvalidRequest: option(
    Schema.Boolean,
    "Fail over on InvalidRequest (a provider-specific 400) instead of stopping.",
    false
  ),
  failoverOnContentFiltered: option(Schema.Boolean, "Fail over on ContentFiltered instead of stopping.", false),
  failoverOnBudgetExceeded: option(
    Schema.Boolean,
    "Fail over on BudgetExceeded (a budget this provider's request would overspend) to the next provider, e.g. a cheaper model, instead of stopping.",
    false
  )
})

/**
 * Retry options as a config file writes them: any field of `ResolvedRetrySchema`, each optional.
 *
 * @category schemas
 */
export const RetrySchema = ResolvedRetrySchema.mapFields(Struct.map(Schema.optionalKey)).annotate({
  description: "Retries on the same provider: exponential backoff with jitter, only for retryable reasons."
})

/**
 * The policy as a config file writes it: any field of `ResolvedSchema`, each optional (`retry`
 * field by field). Decoded, it is a `Policy`.
 *
 * @category schemas
 */
export const PolicySchema = ResolvedSchema.mapFields((fields) => ({
  ...Struct.map(fields, Schema.optionalKey),
  retry: Schema.optionalKey(RetrySchema)
}))

/** A policy with every field filled in. @category models */
export type Resolved = typeof ResolvedSchema.Type

/** Retry options as code passes them: every field optional, delays as any `Duration.Input`. @category models */
export type RetryOptions = OptionSchema.Input<Resolved["retry"]>

/** A policy as code passes it: every field optional, durations as any `Duration.Input`. @category models */
export type Policy = OptionSchema.Input<Resolved>

/** Every field's default, read from `ResolvedSchema`'s annotations. @category constructors */
export const defaults: Resolved = OptionSchema.defaultsOf(ResolvedSchema)

/**
 * The malformed-event rule a provider's stream decoder follows (`onMalformedEvent`). The router
 * provides each provider's resolved value to the streams it opens; a provider used on its own
 * follows the default (`fail`) unless its own options say otherwise.
 *
 * @category references
 */
export const OnMalformedEvent = Context.Reference<MalformedEventPolicy>("@flexiai/core/RouterPolicy/OnMalformedEvent", {
  defaultValue: () => defaults.onMalformedEvent
})

/** Fills every missing field of `policy` from `base` (default: `defaults`). @category constructors */
export const resolve = (policy: Policy | undefined, base: Resolved = defaults): Resolved => OptionSchema.fill(policy, base)
