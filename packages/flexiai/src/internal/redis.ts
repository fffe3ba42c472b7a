/**
 * The `redis` section as the stores that open a connection of their own need it (budgets, the
 * response cache, rate limits), and `@flexiai/redis` loaded only when a config has that section
 * (a client without Redis never imports it).
 */
import type { FlexiConfig } from "@flexiai/config"
import type { RedisConnection } from "@flexiai/redis"
import { Duration, Effect } from "effect"

/** `@flexiai/redis`, imported on first use. */
export const load = Effect.promise(() => import("@flexiai/redis"))

/** Connection options from the section: its url and credentials, `storeTimeout` as the command timeout. */
export const connectionOptions = (redis: FlexiConfig.ResolvedRedis): RedisConnection.Options => ({
  url: redis.url,
  username: redis.username,
  password: redis.password,
  tls: redis.tls,
  commandTimeoutMillis: Math.ceil(Duration.toMillis(redis.storeTimeout))
})
