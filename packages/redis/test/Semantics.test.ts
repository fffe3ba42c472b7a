// The CircuitBreaker semantic suite (packages/core/test/BreakerSemantics.ts), which core runs on
// the memory store with a TestClock, here against the Redis store on a real redis-server: real
// time, in units of 100 ms.
import { it } from "@effect/vitest"
import * as CircuitBreaker from "@flexiai/core/CircuitBreaker"
import { Context, Duration, Effect, Layer, Schedule } from "effect"
import { afterAll, beforeAll } from "vitest"
import { breakerSemantics } from "../../core/test/BreakerSemantics.ts"
import { RedisBreakerStore } from "../src/index.ts"
import * as RedisServer from "@flexiai/testing/RedisServer"

let server: RedisServer.RedisServer
beforeAll(async () => {
  server = await RedisServer.start()
})
afterAll(async () => {
  await server?.stop()
})

let stores = 0

breakerSemantics({
  name: "Redis",
  store: ({ probeLease }) =>
    Layer.effect(
      CircuitBreaker.BreakerStore,
      Effect.gen(function*() {
        const context = yield* Layer.build(
          RedisBreakerStore.layerConnected({ url: server.url, prefix: `sem${process.pid}-${stores++}:`, probeLease })
        )
        const store = Context.get(context, CircuitBreaker.BreakerStore)
        // until Redis first answers the store is per process: wait for it
        yield* Effect.suspend(() => store.shared?.availableUnsafe() === true ? Effect.void : Effect.fail("connecting")).pipe(
          Effect.retry({ schedule: Schedule.spaced("10 millis"), times: 500 }),
          Effect.orDie
        )
        return store
      })
    ),
  advance: (millis) => Effect.sleep(Duration.millis(millis)),
  unit: 100,
  slack: 60,
  test: it.live,
  keepsOpeningsAfterClose: true
})
