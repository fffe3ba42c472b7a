/**
 * `@flexiai/redis`: FlexiAI's circuit breaker state and Retry-After cooldowns in Redis, shared by
 * every process, with a degraded mode that keeps per-process circuits while Redis is away.
 *
 * @since 0.1.0
 */

/** The `BreakerStore` in Redis, on Effect's `layerStoreRedis`, with degraded mode. @since 0.1.0 */
export * as RedisBreakerStore from "./RedisBreakerStore.ts"

/** Effect's `Redis` service over a node-redis client that connects in the background. @since 0.1.0 */
export * as RedisConnection from "./RedisConnection.ts"

/** The budget `Store` in Redis: atomic reservations across processes (a Lua script). @since 0.2.0 */
export * as RedisBudgetStore from "./RedisBudgetStore.ts"

/** The response cache in Redis. */
export * as RedisResponseCacheStore from "./RedisResponseCacheStore.ts"
