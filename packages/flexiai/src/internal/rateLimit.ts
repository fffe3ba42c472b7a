/**
 * Per-provider rate limits as a config describes them (`providers[].rateLimit`): requests and
 * tokens per minute on `effect/persistence`'s `RateLimiter` (its memory store, or its Redis store
 * with a `redis` section, so every process on that Redis and prefix shares one count), and a
 * concurrency cap on an Effect `Semaphore`. A provider without `rateLimit` is handed to the router
 * unwrapped: nothing is added per call.
 *
 * Decisions:
 * - Checked before the request is sent. A request over a limit waits while the limit frees within
 *   `maxWait` (default 0), else fails with `RateLimited` *without being sent*: the router's own
 *   Retry-After mechanism (`Slot.rateLimitedUntil`, skip reason `RateLimited`) then fails over and
 *   skips the provider until the limit frees. The `retryAfter` reported is at least the policy's
 *   `maxRetryAfter` plus 1 ms, because a shorter one would have the router *retry* the same
 *   provider after waiting, which is a wait the caller did not ask for.
 * - Tokens per minute: a request reserves its input estimate (the tokenizer where the model has
 *   one, else chars/4) plus its `maxTokens` (or `outputReserve`, default 1024). `RateLimiter` has
 *   no refund, so settling only ever adds: when the real usage is above the reservation the
 *   difference is consumed (`onExceeded: "delay"`, which always records). A reservation above the
 *   real usage stays counted until its window ends: the count errs high, never low, so the
 *   provider is never sent more than its limit.
 * - Fixed windows (one minute) rather than token buckets: they are what providers count in, and
 *   a rejected consume records nothing (`onExceeded: "fail"` with a limit), so a failover costs no
 *   share of the window.
 *
 * - The provider's own headers (`@flexiai/provider/RateLimitHeaders`, `providerHeaders`, on by
 *   default): the wrapper sets the transport's `Listener` reference around its provider's calls,
 *   so only a rate-limited provider's transport reads headers; every other provider pays one
 *   reference lookup per request. "No requests left until T" (or fewer tokens left than the next
 *   reservation) makes the next request wait or fail over until T, like our own limits.
 *
 * Gotcha: a request that passed the requests limit and then fails the tokens limit has used one
 * request of its window (no refund); again the count errs high.
 */
import type { FlexiConfig } from "@flexiai/config"
import type * as ChatProvider from "@flexiai/core/ChatProvider"
import type { ChatRequest } from "@flexiai/core/ChatRequest"
import type { Usage } from "@flexiai/core/ChatResponse"
import { ProviderError, RateLimited } from "@flexiai/core/ProviderError"
import * as RateLimitHeaders from "@flexiai/provider/RateLimitHeaders"
import { type Clock, Duration, Effect, Layer, Option, Schedule, Scope, Semaphore, Stream } from "effect"
import * as Redis from "effect/persistence/Redis"
import * as RateLimiter from "effect/persistence/RateLimiter"
import * as Tokenizers from "../Tokenizers.ts"
import * as RedisSetup from "./redis.ts"

/** Output tokens reserved against `tokensPerMinute` for a request without `maxTokens`. */
export const defaultOutputReserve = 1024

const window = Duration.minutes(1)

/** How long a client with `redis` waits at start for the limiter's connection. */
const connectWait = Duration.seconds(2)

/** Which limit decided. */
export type Limit = "requests" | "tokens" | "concurrency"

/** One decision: the request waited `waitMillis` for `limit`, or failed over without being sent. */
export interface Decision {
  readonly provider: string
  readonly decision: "wait" | "failover"
  readonly limit: Limit
  readonly waitMillis: number
}

export interface Built {
  /** The provider with its entry's limits, or the provider itself when its entry has none. */
  readonly wrap: (
    entry: FlexiConfig.ResolvedProvider,
    provider: ChatProvider.ChatProvider["Service"]
  ) => ChatProvider.ChatProvider["Service"]
}

export const make = (
  config: FlexiConfig.ResolvedConfig,
  scope: Scope.Scope,
  onDecision: (decision: Decision) => Effect.Effect<void>
): Effect.Effect<Built | undefined> =>
  Effect.gen(function*() {
    const limited = config.providers.filter((entry) => entry.rateLimit !== undefined)
    if (limited.length === 0) return undefined
    const redis = config.redis
    const store = redis === undefined
      ? yield* Layer.build(RateLimiter.layerStoreMemory).pipe(Scope.provide(scope))
      : yield* Effect.gen(function*() {
        const { RedisConnection } = yield* RedisSetup.load
        const connection = yield* RedisConnection.make(RedisSetup.connectionOptions(redis)).pipe(Scope.provide(scope))
        // The connection comes up in the background, and a limiter that cannot reach its store
        // lets requests through (below): wait for it once here, so a burst right after start is
        // counted. Bounded: with Redis away the client starts after `connectWait` regardless.
        yield* connection.send("PING").pipe(
          Effect.retry(Schedule.spaced("20 millis")),
          Effect.timeoutOption(connectWait),
          Effect.ignore
        )
        return yield* Layer.build(Layer.provide(
          RateLimiter.layerStoreRedis({ prefix: `${redis.prefix}ratelimit:` }),
          Layer.succeed(Redis.Redis, connection)
        )).pipe(Scope.provide(scope))
      })
    const limiter = yield* RateLimiter.make.pipe(Effect.provideContext(store))
    const floor = Duration.toMillis(config.policy.maxRetryAfter) + 1
    return {
      wrap: (entry, provider) =>
        entry.rateLimit === undefined ? provider : wrap(provider, entry.rateLimit, limiter, floor, onDecision)
    }
  })

type Options = NonNullable<FlexiConfig.ResolvedProvider["rateLimit"]>

const wrap = (
  provider: ChatProvider.ChatProvider["Service"],
  options: Options,
  limiter: RateLimiter.RateLimiter,
  floorMillis: number,
  onDecision: (decision: Decision) => Effect.Effect<void>
): ChatProvider.ChatProvider["Service"] => {
  const name = provider.name
  const maxWaitMillis = options.maxWait === undefined ? 0 : Duration.toMillis(options.maxWait)
  const semaphore = options.concurrency === undefined ? undefined : Semaphore.makeUnsafe(options.concurrency)
  const outputReserve = options.outputReserve ?? defaultOutputReserve
  const requestsKey = `${name}:requests`
  const tokensKey = `${name}:tokens`

  // What the provider's own headers last said (see `RateLimitHeaders`): no requests left until
  // `requestsBlockedUntil`; `tokensLeft` tokens until `tokensResetAt`. Plain fields: written and
  // read on one JS thread, a moment's values are all the check needs.
  let requestsBlockedUntil = 0
  let tokensLeft = Infinity
  let tokensResetAt = 0
  const listenerAt = (clock: Clock.Clock): RateLimitHeaders.Listener => (headers) => {
    const now = clock.currentTimeMillisUnsafe()
    const reported = RateLimitHeaders.read(headers, now)
    if (reported === undefined) return
    const { requests, tokens } = reported
    if (requests !== undefined && requests.remaining <= 0 && requests.resetAtMillis !== undefined) {
      requestsBlockedUntil = Math.max(requestsBlockedUntil, requests.resetAtMillis)
    }
    if (tokens !== undefined && tokens.resetAtMillis !== undefined && tokens.resetAtMillis > now) {
      tokensLeft = tokens.remaining
      tokensResetAt = tokens.resetAtMillis
    }
  }
  // The provider's calls run with the listener set, so its transport hands us their headers.
  const listening = options.providerHeaders !== false
  const heard = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    listening ? Effect.clockWith((clock) => Effect.provideService(effect, RateLimitHeaders.Listener, listenerAt(clock))) : effect

  // Waits (within the deadline) or refuses while the provider's headers said it has nothing left.
  const providerSaid = (tokens: number, deadline: number): Effect.Effect<void, ProviderError> =>
    Effect.clockWith((clock) => {
      const now = clock.currentTimeMillisUnsafe()
      const requestsUntil = requestsBlockedUntil > now ? requestsBlockedUntil : 0
      const tokensUntil = tokensResetAt > now && tokens > tokensLeft ? tokensResetAt : 0
      if (requestsUntil === 0 && tokensUntil === 0) return Effect.void
      const limit: Limit = requestsUntil >= tokensUntil ? "requests" : "tokens"
      const until = Math.max(requestsUntil, tokensUntil)
      if (until > deadline) return refuse(limit, until - now)
      return onDecision({ provider: name, decision: "wait", limit, waitMillis: until - now }).pipe(
        Effect.andThen(Effect.sleep(Duration.millis(until - now))),
        Effect.andThen(providerSaid(tokens, deadline))
      )
    })

  const refuse = (limit: Limit, waitMillis: number) =>
    Effect.andThen(
      onDecision({ provider: name, decision: "failover", limit, waitMillis }),
      Effect.fail(
        new ProviderError({
          provider: name,
          reason: new RateLimited({
            message: `FlexiAI's ${limit} limit for ${name} is reached; not sent`,
            retryAfter: Duration.millis(Math.max(Math.ceil(waitMillis), floorMillis))
          })
        })
      )
    )

  // Consumes `tokens` against one limit, waiting while the window frees within what is left of
  // `maxWait`. A store failure (Redis away) lets the request through: a limiter that cannot be
  // asked must not stop every call (the provider's own 429 still protects it).
  const consume = (
    limit: Limit,
    key: string,
    perMinute: number,
    tokens: number,
    deadline: number
  ): Effect.Effect<void, ProviderError> =>
    Effect.catch(
      Effect.asVoid(limiter.consume({ algorithm: "fixed-window", onExceeded: "fail", window, limit: perMinute, key, tokens })),
      (error): Effect.Effect<void, ProviderError> => {
        if (error.reason._tag !== "RateLimitExceeded") return Effect.void
        const waitMillis = Duration.toMillis(error.reason.retryAfter)
        return Effect.clockWith((clock) => {
          const now = clock.currentTimeMillisUnsafe()
          // more tokens than a whole window holds never fit: fail over at once
          if (tokens > perMinute || now + waitMillis > deadline) return refuse(limit, waitMillis)
          return onDecision({ provider: name, decision: "wait", limit, waitMillis }).pipe(
            Effect.andThen(Effect.sleep(Duration.millis(waitMillis))),
            Effect.andThen(consume(limit, key, perMinute, tokens, deadline))
          )
        })
      }
    )

  const reserveTokens = (request: ChatRequest): number => {
    const model = request.model ?? provider.defaultModel
    return Tokenizers.estimator.prompt(request, model).tokens + (request.maxTokens ?? outputReserve)
  }

  // Reserves what the request needs; succeeds with the tokens reserved (0 without a tokens limit).
  const reserve = (request: ChatRequest, deadline: number): Effect.Effect<number, ProviderError> => {
    const perMinute = options.tokensPerMinute
    const tokens = perMinute === undefined && tokensResetAt === 0 ? 0 : reserveTokens(request)
    const said = providerSaid(tokens, deadline)
    const requests = options.requestsPerMinute === undefined
      ? said
      : Effect.andThen(said, consume("requests", requestsKey, options.requestsPerMinute, 1, deadline))
    if (perMinute === undefined) return Effect.as(requests, 0)
    return Effect.as(Effect.andThen(requests, consume("tokens", tokensKey, perMinute, tokens, deadline)), tokens)
  }

  // Adds what the real usage took beyond the reservation (no refund below it: see the header).
  const settle = (reserved: number, usage: Usage | undefined): Effect.Effect<void> => {
    const perMinute = options.tokensPerMinute
    if (perMinute === undefined || usage === undefined || usage.totalTokens <= reserved) return Effect.void
    return Effect.ignore(limiter.consume({
      algorithm: "fixed-window",
      onExceeded: "delay",
      window,
      limit: perMinute,
      key: tokensKey,
      tokens: usage.totalTokens - reserved
    }))
  }

  // The permit (when capped), then the reservation; `use` runs with both and the permit is given
  // back when it ends.
  const admitted = <A, E>(
    request: ChatRequest,
    use: (reserved: number) => Effect.Effect<A, E>
  ): Effect.Effect<A, E | ProviderError> =>
    Effect.clockWith((clock) => {
      const started = clock.currentTimeMillisUnsafe()
      const deadline = started + maxWaitMillis
      const run = Effect.flatMap(reserve(request, deadline), use)
      if (semaphore === undefined) return run
      const take: Effect.Effect<boolean> = maxWaitMillis === 0
        ? semaphore.takeIfAvailable(1)
        : Effect.map(Effect.timeoutOption(semaphore.take(1), Duration.millis(maxWaitMillis)), Option.isSome)
      return Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(restore(take), (got): Effect.Effect<A, E | ProviderError> => {
          if (!got) return refuse("concurrency", maxWaitMillis)
          return Effect.ensuring(restore(run), semaphore.release(1))
        })
      )
    })

  return {
    ...provider,
    chat: (request) =>
      admitted(request, (reserved) =>
        Effect.tap(heard(provider.chat(request)), (response) => settle(reserved, response.usage))),
    stream: (request) =>
      Stream.unwrap(
        Effect.map(
          // the permit is held for the stream's life: taken here, given back when the stream ends
          Effect.gen(function*() {
            if (semaphore !== undefined) {
              const got = maxWaitMillis === 0
                ? yield* semaphore.takeIfAvailable(1)
                : Option.isSome(yield* Effect.timeoutOption(semaphore.take(1), Duration.millis(maxWaitMillis)))
              if (!got) return yield* refuse("concurrency", maxWaitMillis)
              yield* Effect.addFinalizer(() => semaphore.release(1))
            }
            const started = yield* Effect.clockWith((clock) => Effect.succeed(clock.currentTimeMillisUnsafe()))
            return yield* reserve(request, started + maxWaitMillis)
          }),
          (reserved) =>
            (listening
              ? Stream.unwrap(Effect.clockWith((clock) =>
                Effect.succeed(Stream.provideService(provider.stream(request), RateLimitHeaders.Listener, listenerAt(clock)))
              ))
              : provider.stream(request)).pipe(
              Stream.tap((part): Effect.Effect<void> => part.type === "finish" ? settle(reserved, part.usage) : Effect.void)
            )
        )
      )
  }
}
