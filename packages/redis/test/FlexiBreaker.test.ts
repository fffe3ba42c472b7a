// The breaker FlexiAI.layer builds from a config with `redis` (flexiai's internal makeBreaker):
// providers with breaker settings of their own get breakers of their own over one shared store,
// and each transition another process makes is seen once on the routing breaker, not once per breaker.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Stream } from "effect"
import { afterAll, beforeAll } from "vitest"
// relative, not "flexiai" / "@flexiai/config": flexiai depends on this package
import * as FlexiConfig from "../../config/src/FlexiConfig.ts"
import { makeBreaker } from "../../flexiai/src/internal/breaker.ts"
import * as Providers from "../../flexiai/src/Providers.ts"
import * as RedisServer from "@flexiai/testing/RedisServer"
import { untilShared } from "./helpers.ts"

let server: RedisServer.RedisServer
beforeAll(async () => {
  server = await RedisServer.start()
})
afterAll(async () => {
  await server?.stop()
})

const config = (prefix: string) =>
  FlexiConfig.fromObject({
    providers: [
      { kind: "ollama", name: "a", model: "m", breaker: { failureThreshold: 1 } },
      { kind: "ollama", name: "b", model: "m", breaker: { failureThreshold: 3 } },
      { kind: "ollama", name: "c", model: "m" }
    ],
    redis: { url: server.url, prefix }
  }, { providers: Providers.withExtra([]) })

describe("FlexiAI's breaker over Redis", () => {
  it.live("several breakers, one store: another process's transition is seen once, its state by every key's breaker", () =>
    Effect.gen(function*() {
      const resolved = yield* config(`flexi${process.pid}:`)
      const scope = yield* Effect.scope
      const one = yield* makeBreaker(resolved, scope)
      const two = yield* makeBreaker(resolved, scope)
      yield* untilShared(one)
      yield* untilShared(two)
      const seen = yield* two.transitions.pipe(Stream.take(2), Stream.runCollect, Effect.forkScoped)
      yield* Effect.sleep("100 millis")
      // a's own threshold (1) trips it at once; b's (3) does not
      yield* one.record(yield* one.admit("a:m"), { _tag: "Failure" })
      yield* one.record(yield* one.admit("b:m"), { _tag: "Failure" })
      yield* one.forceOpen("c:m")
      const transitions = yield* Fiber.join(seen)
      assert.deepStrictEqual(transitions.map((t) => `${t.key} ${t.from}->${t.to}`), ["a:m Closed->Open", "c:m Closed->Open"])
      assert.strictEqual((yield* two.state("a:m"))._tag, "Open")
      assert.deepStrictEqual(yield* two.state("b:m"), { _tag: "Closed", failures: 1 })
      assert.deepStrictEqual([...(yield* two.states).keys()].sort(), ["a:m", "b:m", "c:m"])
      assert.strictEqual((yield* Effect.flip(two.admit("c:m"))).state, "Open")
    }).pipe(Effect.scoped))
})
