/**
 * The response cache as a config describes it (`cache`): `undefined` when `cache.enabled` is false,
 * so nothing is added around the router. The store is memory (bounded LRU) or, with
 * `store: redis`, the `redis` section's Redis (shared by every process on its prefix).
 *
 * The identity of a request without a model is the provider chain as configured (names, kinds,
 * models, model routes): a config change gives new keys. A runtime reorder (`setPrimary`) does not.
 */
import type { FlexiConfig } from "@flexiai/config"
import * as ResponseCache from "@flexiai/core/ResponseCache"
import type * as RouterEvents from "@flexiai/core/RouterEvents"
import { Effect, Scope } from "effect"
import { createHash } from "node:crypto"
import * as RedisSetup from "./redis.ts"

// Node's hash is synchronous: Web Crypto's promise cost ~100 µs per key (see `ResponseCache.Sha256`)
const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex")

export const make = (
  config: FlexiConfig.ResolvedConfig,
  hub: RouterEvents.Hub,
  scope: Scope.Scope
): Effect.Effect<ResponseCache.Options | undefined> =>
  Effect.gen(function*() {
    const cache = config.cache
    if (!cache.enabled) return undefined
    const redis = config.redis
    let store: ResponseCache.Store
    if (cache.store === "redis" && redis !== undefined) {
      store = yield* (yield* RedisSetup.load).RedisResponseCacheStore.makeConnected(
        RedisSetup.connectionOptions(redis),
        { prefix: redis.prefix }
      ).pipe(Scope.provide(scope))
    } else {
      // (config refuses store: redis without a redis section)
      store = ResponseCache.makeMemoryStore(cache.maxEntries)
    }
    const identity = ResponseCache.canonicalJson(
      config.providers.map((provider) => ({ name: provider.name, kind: provider.kind, model: provider.model, models: provider.models }))
    )
    return {
      store,
      ttl: cache.ttl,
      tagKey: config.pricing.tagKey,
      identity,
      sha256,
      emit: (event) => {
        if (hub.active) hub.emit(event)
      }
    }
  })
