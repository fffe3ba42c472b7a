// Degraded mode in one process, against a redis-server that hangs (SIGSTOP: connections stay up,
// nothing answers) and comes back: no call waits longer than the store timeout, the outage is
// logged once, circuits keep tripping in memory, and what they learned is in Redis afterwards.
import { assert, describe, it } from "@effect/vitest"
import * as CircuitBreaker from "@flexiai/core/CircuitBreaker"
import { Context, Effect, Layer, Logger, Schedule, Stream } from "effect"
import { afterAll, beforeAll } from "vitest"
import { RedisBreakerStore } from "../src/index.ts"
import * as RedisServer from "@flexiai/testing/RedisServer"

let server: RedisServer.RedisServer
beforeAll(async () => {
  server = await RedisServer.start()
})
afterAll(async () => {
  server?.resume()
  await server?.stop()
})

const until = (predicate: () => boolean, what: string) =>
  Effect.suspend(() => predicate() ? Effect.void : Effect.fail(what)).pipe(
    Effect.retry({ schedule: Schedule.spaced("10 millis"), times: 1000 }),
    Effect.orDie
  )

const timed = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const started = performance.now()
    const value = yield* effect
    return { value, millis: performance.now() - started }
  })

describe("degraded mode", () => {
  it.live("a hung Redis costs one call the store timeout at most; memory answers meanwhile; state converges when it returns", () => {
    const lines: Array<string> = []
    const capture = Logger.make(({ message }) => {
      lines.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
    })
    return Effect.gen(function*() {
      const scope = yield* Effect.scope
      const prefix = `degraded${process.pid}:`
      const context = yield* Layer.buildWithScope(
        CircuitBreaker.layer({ failureThreshold: 2, openDuration: "30 seconds", jitter: 0 }).pipe(
          Layer.provide(RedisBreakerStore.layerConnected({
            url: server.url,
            prefix,
            storeTimeout: "100 millis",
            recheckInterval: "100 millis"
          }))
        ),
        scope
      )
      const breaker = Context.get(context, CircuitBreaker.CircuitBreaker)
      const shared = breaker.shared!
      yield* until(shared.availableUnsafe, "connected")
      yield* breaker.record(yield* breaker.admit("warm:m"), { _tag: "Success" })

      server.pause()
      const calls: Array<number> = []
      for (let i = 0; i < 20; i++) {
        const admitted = yield* timed(breaker.admit("p:m"))
        const recorded = yield* timed(breaker.record(admitted.value, { _tag: "Success" }))
        calls.push(admitted.millis, recorded.millis)
      }
      // the first call waits out the timeout (100 ms, plus scheduling); every later one is memory's
      assert.isBelow(Math.max(...calls), 100 + 50, `slowest: ${Math.max(...calls)} ms`)
      assert.isBelow(Math.max(...calls.slice(2)), 20, `after the first: ${Math.max(...calls.slice(2))} ms`)
      assert.isFalse(shared.availableUnsafe())
      assert.strictEqual(lines.filter((line) => line.includes("Redis unavailable, circuits are per-process until it returns")).length, 1)

      // local circuits still trip
      for (let i = 0; i < 2; i++) yield* breaker.record(yield* breaker.admit("p:m"), { _tag: "Failure" })
      assert.strictEqual((yield* breaker.state("p:m"))._tag, "Open")
      yield* shared.shareCooldown("openai", 60_000)

      server.resume()
      yield* until(shared.availableUnsafe, "shared again")
      assert.isTrue(lines.some((line) => line.includes("Redis available again")))
      // what this process learned meanwhile is in Redis now (state read from Redis, not memory)
      const state = yield* breaker.state("p:m")
      assert.strictEqual(state._tag, "Open")
      assert.isTrue((yield* breaker.states).has("warm:m"), "Redis's circuits are listed again")
      const other = yield* Layer.buildWithScope(RedisBreakerStore.layerConnected({ url: server.url, prefix }), scope)
      const otherStore = Context.get(other, CircuitBreaker.BreakerStore)
      yield* until(() => otherStore.shared!.availableUnsafe(), "second store connected")
      assert.strictEqual((yield* otherStore.state("p:m"))._tag, "Open")
      // and so is the cooldown it heard of while Redis hung
      const [cooldown] = yield* otherStore.shared!.cooldowns.pipe(Stream.take(1), Stream.runCollect)
      assert.strictEqual(cooldown?.name, "openai")
    }).pipe(Effect.scoped, Effect.provide(Logger.layer([capture])))
  })

  it.live("builds at once with no Redis at all, answers from memory, and shuts down cleanly", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(() => RedisServer.freePort())
      const started = performance.now()
      yield* Effect.scoped(Effect.gen(function*() {
        const context = yield* Layer.build(
          CircuitBreaker.layer({ failureThreshold: 1 }).pipe(
            Layer.provide(RedisBreakerStore.layerConnected({ url: `redis://127.0.0.1:${port}` }))
          )
        )
        const breaker = Context.get(context, CircuitBreaker.CircuitBreaker)
        assert.isBelow(performance.now() - started, 100, "the layer does not wait for Redis")
        yield* breaker.record(yield* breaker.admit("p:m"), { _tag: "Failure" })
        assert.strictEqual((yield* breaker.state("p:m"))._tag, "Open")
        yield* Effect.sleep("300 millis")
        assert.isFalse(breaker.shared!.availableUnsafe())
      }))
      assert.isBelow(performance.now() - started, 1000)
    }))
})
