/**
 * The response cache's store (`ResponseCache.Store`) in Redis: one string key per answer under
 * `prefix + "cache:"`, written with `SET … PX ttl` so Redis itself expires it, shared by every
 * process on that Redis and prefix. Plain GET/SET through Effect's `Redis` service (the connection
 * of `RedisConnection`): `PersistedCache` is lookup-driven, and a stream is kept only after it
 * was read to its end (see `ResponseCache`). A failing command is a miss for the cache, never a
 * failed call.
 *
 * @since 0.1.0
 */
import type * as ResponseCache from "@flexiai/core/ResponseCache"
import { Duration, Effect, type Scope } from "effect"
import * as Redis from "effect/persistence/Redis"
import * as RedisConnection from "./RedisConnection.ts"

/** @category models */
export interface Options {
  /** Key prefix. Default `"flexiai:"`. */
  readonly prefix?: string | undefined
}

/** A store over the `Redis` in context. @category constructors */
export const make = (options: Options = {}): Effect.Effect<ResponseCache.Store, never, Redis.Redis> =>
  Effect.map(Effect.service(Redis.Redis), (redis) => {
    const prefix = `${options.prefix ?? "flexiai:"}cache:`
    return {
      get: (key) => Effect.map(redis.send<string | null>("GET", prefix + key), (value) => value ?? undefined),
      set: (key, value, ttl) =>
        Effect.asVoid(redis.send("SET", prefix + key, value, "PX", String(Math.max(1, Math.ceil(Duration.toMillis(ttl))))))
    }
  })

/** A store on a connection of its own (`RedisConnection.make`) for the life of the scope. @category constructors */
export const makeConnected = (
  connection: RedisConnection.Options,
  options: Options = {}
): Effect.Effect<ResponseCache.Store, never, Scope.Scope> =>
  Effect.flatMap(RedisConnection.make(connection), (redis) => Effect.provideService(make(options), Redis.Redis, redis))
