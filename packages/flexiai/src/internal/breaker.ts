/**
 * The circuit breaker a config describes: one breaker when every provider shares the top-level
 * settings; otherwise one per distinct setting behind a routing breaker that sends each circuit
 * key (`provider:model`) to its provider's, so `states`, `reset` and `transitions` see all.
 *
 * Circuits are in memory, or in Redis when the config has a `redis` section (`@flexiai/redis`):
 * then every breaker uses one shared store (one connection, the top-level `probeLease`), which
 * builds at once whether Redis is up or not. `@flexiai/redis` (and the Redis client under it) is
 * loaded only then: it is most of what importing `flexiai` would otherwise take.
 */
import { FlexiConfig } from "@flexiai/config"
import * as CircuitBreaker from "@flexiai/core/CircuitBreaker"
import { Context, Effect, Layer, Schema, Scope, Stream } from "effect"
import * as RedisSetup from "./redis.ts"

// Every field, as the schema encodes it (durations in millis), so a new option separates breakers too.
const breakerId = (breaker: FlexiConfig.ResolvedConfig["breaker"]): string =>
  JSON.stringify(Schema.encodeSync(CircuitBreaker.ResolvedSchema)(breaker))

/**
 * One breaker when every provider uses the top-level settings; otherwise one per distinct
 * setting behind a breaker that routes each key to its provider's (keys are `provider:model`;
 * the longest matching provider prefix wins, so `a` and `a:b` as names cannot be confused).
 */
export const makeBreaker = (config: FlexiConfig.ResolvedConfig, scope: Scope.Scope) =>
  Effect.gen(function*() {
    const redis = config.redis
    const store = redis === undefined ? undefined : Context.get(
      yield* Layer.buildWithScope(
        (yield* RedisSetup.load).RedisBreakerStore.layerConnected({
          url: redis.url,
          prefix: redis.prefix,
          storeTimeout: redis.storeTimeout,
          probeLease: config.breaker.probeLease,
          username: redis.username,
          password: redis.password,
          tls: redis.tls
        }),
        scope
      ),
      CircuitBreaker.BreakerStore
    )
    const layerFor = (options: FlexiConfig.ResolvedConfig["breaker"]) =>
      store === undefined
        ? CircuitBreaker.layerMemory(options)
        : CircuitBreaker.layer(options).pipe(Layer.provide(Layer.succeed(CircuitBreaker.BreakerStore, store)))

    const byId = new Map<string, CircuitBreaker.CircuitBreaker["Service"]>()
    const get = (options: FlexiConfig.ResolvedConfig["breaker"]) =>
      Effect.gen(function*() {
        const id = breakerId(options)
        const existing = byId.get(id)
        if (existing !== undefined) return existing
        const context = yield* Layer.buildWithScope(layerFor(options), scope)
        const breaker = Context.get(context, CircuitBreaker.CircuitBreaker)
        byId.set(id, breaker)
        return breaker
      })
    const fallback = yield* get(config.breaker)
    const owners: Array<readonly [prefix: string, breaker: CircuitBreaker.CircuitBreaker["Service"]]> = []
    for (const provider of config.providers) owners.push([`${provider.name}:`, yield* get(provider.breaker)])
    if (byId.size === 1) return fallback

    owners.sort((a, b) => b[0].length - a[0].length)
    const route = (key: string) => owners.find(([prefix]) => key.startsWith(prefix))?.[1] ?? fallback
    const all = [...byId.values()]
    return CircuitBreaker.CircuitBreaker.of({
      admit: (key) => route(key).admit(key),
      record: (permit, outcome) => route(permit.key).record(permit, outcome),
      state: (key) => route(key).state(key),
      states: Effect.map(
        Effect.forEach(all, (breaker) => breaker.states),
        (maps) => new Map(maps.flatMap((map) => [...map]))
      ),
      reset: (key) => route(key).reset(key),
      forceOpen: (key, duration) => route(key).forceOpen(key, duration),
      // with a shared store every breaker also hears the other processes' transitions, for every
      // key: each passes on only its own keys', so none is seen twice
      transitions: Stream.mergeAll(
        all.map((breaker) =>
          store === undefined ? breaker.transitions : breaker.transitions.pipe(Stream.filter((transition) => route(transition.key) === breaker))
        ),
        { concurrency: "unbounded" }
      ),
      changesUnsafe: () => all.reduce((sum, breaker) => sum + breaker.changesUnsafe(), 0),
      shared: store?.shared
    })
  })

