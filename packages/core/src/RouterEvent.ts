/**
 * What the router does, as data: one event per call start and finish, attempt start and finish,
 * retry, skip, failover, first token, stream restart and resume, and circuit transition. Users
 * read them from `RouterEvents` (a `PubSub`); metrics and other observers are built on them.
 *
 * **Order** (within one call; `callId` ties a call's events together):
 * `call-start`, then per candidate either `attempt-skip` or `attempt-start` → (`retry` →)*
 * `attempt-finish`; after a failed `attempt-finish` that moves on, `failover`; on a stream,
 * `first-token` once, when the first content part reaches the consumer; after content, a broken
 * attempt's `attempt-finish` is followed by the next candidate's `attempt-start`, then
 * `stream-restart` or `stream-resume` once its stream has opened (its `attempt-finish` comes when
 * its stream ends); last, `call-finish`. An attempt the metering priced is followed by its `cost`
 * right after its `attempt-finish` (a success's, or a billed failure's: a stream cut after tokens);
 * an attempt refused by a budget ends with `attempt-finish` (reason `BudgetExceeded`), then its
 * `budget`, then the `failover` if the policy moves on. `circuit-transition` carries no `callId`: it comes
 * from the breaker's own stream on a fiber of its own, so it arrives after the attempt outcome
 * that caused it but not necessarily before that call's later events. With the response cache
 * (`ResponseCache`): a hit is one `cache-hit` and nothing else; a miss is `cache-miss`, then the
 * call's events above, then `cache-store` when the answer was kept (their `callId` is the cache's).
 *
 * **Gotchas**: events hold names, models, counts, reasons and times, never message content,
 * headers or keys. An attempt's `model` is the model the provider is sent (after model routing).
 * The union is open to additions (cache and rate-limit decisions belong here
 * when those features land): match on `type` with a default branch.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { Usage } from "./ChatResponse.ts"
import { Cost } from "./Pricing.ts"

/** `chat` (one answer) or `stream`. @category schemas */
export const Operation = Schema.Literals(["chat", "stream"])
export type Operation = typeof Operation.Type

const call = {
  callId: Schema.String,
  operation: Operation,
  /** `Clock` millis. */
  at: Schema.Number
}

/** The router took a call. `model` is the request's model, `undefined` for each provider's default. @category schemas */
export const CallStart = Schema.Struct({
  type: Schema.Literal("call-start"),
  ...call,
  model: Schema.optional(Schema.String)
})

/** A call ended: who answered, how long it took as the caller saw it, and its usage. @category schemas */
export const CallFinish = Schema.Struct({
  type: Schema.Literal("call-finish"),
  ...call,
  outcome: Schema.Literals(["success", "failure"]),
  /**
   * The provider and model that answered (success), or the reason tag of the failure
   * (`Cancelled`: a stream its consumer stopped reading before its finish).
   */
  provider: Schema.optional(Schema.String),
  model: Schema.optional(Schema.String),
  reason: Schema.optional(Schema.String),
  finishReason: Schema.optional(Schema.String),
  usage: Schema.optional(Usage),
  latencyMillis: Schema.Number,
  attempts: Schema.Int
})

/** A request is about to be sent to a provider (after its circuit admitted it). @category schemas */
export const AttemptStart = Schema.Struct({
  type: Schema.Literal("attempt-start"),
  ...call,
  provider: Schema.String,
  model: Schema.String,
  /** 1-based position of this attempt in the call (skips count). */
  attempt: Schema.Int
})

/** An attempt ended: `success`, or `failure` with its reason tag. A stream's attempt ends with its stream. @category schemas */
export const AttemptFinish = Schema.Struct({
  type: Schema.Literal("attempt-finish"),
  ...call,
  provider: Schema.String,
  model: Schema.String,
  attempt: Schema.Int,
  outcome: Schema.Literals(["success", "failure"]),
  reason: Schema.optional(Schema.String),
  tries: Schema.Int,
  latencyMillis: Schema.Number
})

/** A try on the same provider failed with a retryable reason and is tried again. @category schemas */
export const Retry = Schema.Struct({
  type: Schema.Literal("retry"),
  ...call,
  provider: Schema.String,
  model: Schema.String,
  /** The try about to start (2 for the first retry). */
  try: Schema.Int,
  /** The reason tag of the try that failed. */
  reason: Schema.String
})

/**
 * A candidate was passed over without a request: `Open` / `HalfOpen` circuit, `RateLimited` (a
 * long Retry-After), `Disabled`, `Unsupported` (its capabilities refuse the request), or
 * `ModelNotServed` (model routing: it does not serve the model the request names; not an attempt,
 * so its `attempt` is 0 and `model` is the model asked for).
 *
 * @category schemas
 */
export const AttemptSkip = Schema.Struct({
  type: Schema.Literal("attempt-skip"),
  ...call,
  provider: Schema.String,
  model: Schema.String,
  attempt: Schema.Int,
  reason: Schema.Literals(["Open", "HalfOpen", "RateLimited", "Disabled", "Unsupported", "ModelNotServed"])
})

/** A failed attempt moves the call on to the next candidate. @category schemas */
export const Failover = Schema.Struct({
  type: Schema.Literal("failover"),
  ...call,
  from: Schema.String,
  reason: Schema.String
})

/** The first content part of a stream reached the consumer. @category schemas */
export const FirstToken = Schema.Struct({
  type: Schema.Literal("first-token"),
  ...call,
  provider: Schema.String,
  model: Schema.String,
  /** Since the call started. */
  latencyMillis: Schema.Number
})

/** A stream broke after content and starts over on `provider` (`restart` policy). @category schemas */
export const StreamRestart = Schema.Struct({
  type: Schema.Literal("stream-restart"),
  ...call,
  provider: Schema.String,
  reason: Schema.String
})

/** A stream broke after content and continues on `provider` from the text delivered (`continue` policy). @category schemas */
export const StreamResume = Schema.Struct({
  type: Schema.Literal("stream-resume"),
  ...call,
  provider: Schema.String,
  reason: Schema.String
})

/** A circuit changed state (`key` is `provider:model`). @category schemas */
export const CircuitTransition = Schema.Struct({
  type: Schema.Literal("circuit-transition"),
  key: Schema.String,
  from: Schema.Literals(["Closed", "Open", "HalfOpen"]),
  to: Schema.Literals(["Closed", "Open", "HalfOpen"]),
  at: Schema.Number,
  openForMillis: Schema.optional(Schema.Number)
})

const cacheFields = {
  ...call,
  /** The request's model (`undefined`: the chain's defaults). */
  model: Schema.optional(Schema.String)
}

/**
 * The response cache (`ResponseCache`) answered: no provider was called, so this is the call's only
 * event. @category schemas
 */
export const CacheHit = Schema.Struct({ type: Schema.Literal("cache-hit"), ...cacheFields })

/**
 * The response cache had no answer: the router's events for the call follow, under the same
 * `callId` (the router's call takes the cache's id). @category schemas
 */
export const CacheMiss = Schema.Struct({ type: Schema.Literal("cache-miss"), ...cacheFields })

/** A missed call's answer was kept (a stream: once read to its finish), after the router's `call-finish`. @category schemas */
export const CacheStore = Schema.Struct({ type: Schema.Literal("cache-store"), ...cacheFields })

/**
 * A provider's configured rate limit (`providers[].rateLimit`) decided about a request before it
 * was sent: `wait` (it waits `waitMillis` for the limit to free, within `maxWait`) or `failover`
 * (not sent; the router moves on and skips the provider for `waitMillis`). `limit` is which one:
 * `requests`, `tokens` or `concurrency`. Published by FlexiAI's limiter inside the attempt (a
 * `failover` comes before that attempt's `attempt-finish`), with the call's `callId` (absent only
 * for a limited provider called outside the router).
 *
 * @category schemas
 */
export const RateLimitDecision = Schema.Struct({
  type: Schema.Literal("rate-limit"),
  callId: Schema.optional(Schema.String),
  provider: Schema.String,
  decision: Schema.Literals(["wait", "failover"]),
  limit: Schema.Literals(["requests", "tokens", "concurrency"]),
  waitMillis: Schema.Number,
  at: Schema.Number
})

/**
 * What one metered attempt cost (`Metering`, in `FlexiAI.layer` when `pricing` is on): the
 * public part of its ledger `Charge`. `outcome` is `billed-failure` for an attempt that failed
 * after the provider billed it (a stream cut after tokens; its cost `estimated`). Only attempts
 * with a price: an unpriced model's call has no `cost` event. No request tag (it is the
 * caller's metadata).
 *
 * @category schemas
 */
export const CostCharged = Schema.Struct({
  type: Schema.Literal("cost"),
  ...call,
  provider: Schema.String,
  model: Schema.String,
  outcome: Schema.Literals(["success", "billed-failure"]),
  usd: Schema.Number,
  estimated: Schema.Boolean,
  usage: Schema.optional(Usage),
  cost: Cost
})

/** A budget refused an attempt's reservation: nothing was sent to `provider`. @category schemas */
export const BudgetDenied = Schema.Struct({
  type: Schema.Literal("budget"),
  ...call,
  decision: Schema.Literal("denied"),
  provider: Schema.String,
  model: Schema.String,
  budget: Schema.String,
  limitUsd: Schema.Number,
  /** Spent or reserved in the budget's window when the request asked. */
  spentUsd: Schema.Number,
  /** What the request would have reserved. */
  requestedUsd: Schema.Number,
  /** Clock millis when the window ends (absent for a `total` budget). */
  resetsAt: Schema.optional(Schema.Number)
})

/** Every event the router publishes. @category schemas */
export const RouterEvent = Schema.Union([
  CallStart,
  CallFinish,
  AttemptStart,
  AttemptFinish,
  Retry,
  AttemptSkip,
  Failover,
  FirstToken,
  StreamRestart,
  StreamResume,
  CircuitTransition,
  CacheHit,
  CacheMiss,
  CacheStore,
  RateLimitDecision,
  CostCharged,
  BudgetDenied
])
export type RouterEvent = typeof RouterEvent.Type
export type CallStart = typeof CallStart.Type
export type CallFinish = typeof CallFinish.Type
export type AttemptStart = typeof AttemptStart.Type
export type AttemptFinish = typeof AttemptFinish.Type
export type Retry = typeof Retry.Type
export type AttemptSkip = typeof AttemptSkip.Type
export type Failover = typeof Failover.Type
export type FirstToken = typeof FirstToken.Type
export type StreamRestart = typeof StreamRestart.Type
export type StreamResume = typeof StreamResume.Type
export type CircuitTransition = typeof CircuitTransition.Type
export type CacheHit = typeof CacheHit.Type
export type CacheMiss = typeof CacheMiss.Type
export type CacheStore = typeof CacheStore.Type
export type RateLimitDecision = typeof RateLimitDecision.Type
export type CostCharged = typeof CostCharged.Type
export type BudgetDenied = typeof BudgetDenied.Type

/** Every event `type`. @category models */
export type Type = RouterEvent["type"]
