// Two breakers in one test process, each with its own connection and store (as two processes
// would have), over one real redis-server: state, transitions, reset and cooldowns are shared.
import { assert, describe, it } from "@effect/vitest"
import * as CircuitBreaker from "@flexiai/core/CircuitBreaker"
import { Context, Duration, Effect, Fiber, Layer, Stream } from "effect"
import { afterAll, beforeAll } from "vitest"
import { RedisBreakerStore } from "../src/index.ts"
import { untilShared } from "./helpers.ts"
import * as RedisServer from "@flexiai/testing/RedisServer"

let server: RedisServer.RedisServer
beforeAll(async () => {
  server = await RedisServer.start()
})
afterAll(async () => {
  await server?.stop()
})

let prefixes = 0
const freshPrefix = () => `test${process.pid}-${prefixes++}:`

const breakerWith = (prefix: string, options: CircuitBreaker.Options = {}) =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const context = yield* Layer.buildWithScope(
      CircuitBreaker.layer({ jitter: 0, ...options }).pipe(
        Layer.provide(RedisBreakerStore.layerConnected({ url: server.url, prefix, probeLease: options.probeLease }))
      ),
      scope
    )
    const breaker = Context.get(context, CircuitBreaker.CircuitBreaker)
    yield* untilShared(breaker)
    return breaker
  })


describe("RedisBreakerStore shared by two breakers", () => {
  it.live("A trips the circuit; B is refused without a call, sees the transition, and a reset by B closes it for A", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix()
      const a = yield* breakerWith(prefix, { failureThreshold: 2, openDuration: "10 seconds" })
      const b = yield* breakerWith(prefix, { failureThreshold: 2, openDuration: "10 seconds" })
      const seenByB = yield* b.transitions.pipe(Stream.take(2), Stream.runCollect, Effect.forkScoped)
      yield* Effect.sleep("100 millis") // subscriptions up
      for (let i = 0; i < 2; i++) {
        const permit = yield* a.admit("p:m")
        yield* a.record(permit, { _tag: "Failure" })
      }
      const refused = yield* Effect.flip(b.admit("p:m"))
      assert.strictEqual(refused.state, "Open")
      assert.isAbove(refused.retryAfterMillis ?? 0, 9000)
      assert.strictEqual((yield* b.state("p:m"))._tag, "Open")
      assert.isTrue(b.shared?.availableUnsafe())
      yield* b.reset("p:m")
      assert.strictEqual((yield* a.state("p:m"))._tag, "Closed")
      const seen = yield* Fiber.join(seenByB)
      assert.deepStrictEqual(seen.map((t) => `${t.from}->${t.to}`), ["Closed->Open", "Open->Closed"])
      const states = yield* a.states
      assert.deepStrictEqual([...states.keys()], ["p:m"])
    }).pipe(Effect.scoped))

  it.live("another prefix is another set of circuits", () =>
    Effect.gen(function*() {
      const a = yield* breakerWith(freshPrefix(), { failureThreshold: 1 })
      const b = yield* breakerWith(freshPrefix(), { failureThreshold: 1 })
      yield* a.record(yield* a.admit("p:m"), { _tag: "Failure" })
      assert.strictEqual((yield* a.state("p:m"))._tag, "Open")
      assert.strictEqual((yield* b.state("p:m"))._tag, "Closed")
      assert.isFalse((yield* b.admit("p:m")).probe)
    }).pipe(Effect.scoped))

  it.live("a cooldown shared by A reaches B", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix()
      const a = yield* breakerWith(prefix)
      const b = yield* breakerWith(prefix)
      const heard = yield* b.shared!.cooldowns.pipe(Stream.take(1), Stream.runCollect, Effect.forkScoped)
      yield* Effect.sleep("100 millis")
      yield* a.shared!.shareCooldown("openai", 30_000)
      const [cooldown] = yield* Fiber.join(heard).pipe(Effect.timeout(Duration.seconds(2)))
      assert.strictEqual(cooldown?.name, "openai")
      assert.isAbove(cooldown?.millis ?? 0, 29_000)
      // a process that starts later reads it from Redis
      const c = yield* breakerWith(prefix)
      const [current] = yield* c.shared!.cooldowns.pipe(Stream.take(1), Stream.runCollect)
      assert.strictEqual(current?.name, "openai")
    }).pipe(Effect.scoped))
})
