import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Redacted } from "effect"
import { TestClock } from "effect/testing"
import * as TokenSource from "../src/TokenSource.ts"

/** A token endpoint that counts its calls and hands out `token-1`, `token-2`, ... valid for `lifetime` after a short wait. */
const endpoint = (lifetime: Duration.Duration = Duration.minutes(10)) => {
  let calls = 0
  const fetch = Effect.gen(function*() {
    calls++
    const n = calls
    yield* Effect.sleep(Duration.millis(50))
    const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
    return { value: Redacted.make(`token-${n}`), expiresAtMillis: now + Duration.toMillis(lifetime) }
  })
  return { fetch, calls: () => calls }
}

describe("TokenSource", () => {
  it.effect("100 simultaneous first calls share one renewal", () =>
    Effect.gen(function*() {
      const server = endpoint()
      const source = TokenSource.make(server.fetch)
      const fiber = yield* Effect.forkChild(Effect.all(Array.from({ length: 100 }, () => source.get), { concurrency: "unbounded" }))
      yield* TestClock.adjust(Duration.millis(50))
      const tokens = yield* Fiber.join(fiber)
      assert.strictEqual(server.calls(), 1)
      assert.deepStrictEqual([...new Set(tokens.map(Redacted.value))], ["token-1"])
      // cached afterwards
      assert.strictEqual(Redacted.value(yield* source.get), "token-1")
      assert.strictEqual(server.calls(), 1)
    }))

  it.effect("renews before the expiry, not after", () =>
    Effect.gen(function*() {
      const server = endpoint(Duration.minutes(10))
      const source = TokenSource.make(server.fetch, { renewBefore: Duration.minutes(1) })
      const first = yield* Effect.forkChild(source.get)
      yield* TestClock.adjust(Duration.millis(50))
      assert.strictEqual(Redacted.value(yield* Fiber.join(first)), "token-1")
      yield* TestClock.adjust(Duration.minutes(8))
      assert.strictEqual(Redacted.value(yield* source.get), "token-1")
      yield* TestClock.adjust(Duration.minutes(1))
      const renewed = yield* Effect.forkChild(source.get)
      yield* TestClock.adjust(Duration.millis(50))
      assert.strictEqual(Redacted.value(yield* Fiber.join(renewed)), "token-2")
      assert.strictEqual(server.calls(), 2)
    }))

  it.effect("refresh after a 401 renews once for all who hold the stale token", () =>
    Effect.gen(function*() {
      const server = endpoint()
      const source = TokenSource.make(server.fetch)
      const first = yield* Effect.forkChild(source.get)
      yield* TestClock.adjust(Duration.millis(50))
      const stale = yield* Fiber.join(first)
      const refreshes = yield* Effect.forkChild(
        Effect.all(Array.from({ length: 20 }, () => source.refresh(stale)), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust(Duration.millis(50))
      const tokens = yield* Fiber.join(refreshes)
      assert.deepStrictEqual([...new Set(tokens.map(Redacted.value))], ["token-2"])
      // a refresh with the old token after the renewal gets the new one, without renewing again
      assert.strictEqual(Redacted.value(yield* source.refresh(stale)), "token-2")
      assert.strictEqual(server.calls(), 2)
    }))

  it.effect("a failed renewal fails its waiters and the next call tries again", () =>
    Effect.gen(function*() {
      let calls = 0
      const source = TokenSource.make(Effect.suspend(() => {
        calls++
        return calls === 1 ? Effect.fail("endpoint down" as const) : Effect.succeed({ value: Redacted.make("ok") })
      }))
      const failures = yield* Effect.all(Array.from({ length: 3 }, () => Effect.flip(source.get)), { concurrency: "unbounded" })
      assert.deepStrictEqual(failures, ["endpoint down", "endpoint down", "endpoint down"])
      assert.strictEqual(Redacted.value(yield* source.get), "ok")
      assert.strictEqual(calls, 2)
    }))

  it.effect("an interrupted waiter does not cancel the renewal for the others", () =>
    Effect.gen(function*() {
      const server = endpoint()
      const source = TokenSource.make(server.fetch)
      const quitter = yield* Effect.forkChild(source.get)
      const stayer = yield* Effect.forkChild(source.get)
      yield* TestClock.adjust(Duration.millis(10))
      yield* Fiber.interrupt(quitter)
      yield* TestClock.adjust(Duration.millis(40))
      assert.strictEqual(Redacted.value(yield* Fiber.join(stayer)), "token-1")
      assert.strictEqual(server.calls(), 1)
    }))

  it.effect("recent lists the tokens handed out, newest first, the last `remember` of them", () =>
    Effect.gen(function*() {
      let calls = 0
      const source = TokenSource.make(Effect.sync(() => ({ value: Redacted.make(`token-${++calls}`) })), { remember: 3 })
      assert.deepStrictEqual(source.recent(), [])
      const seen: Array<Redacted.Redacted<string>> = [yield* source.get]
      for (let i = 0; i < 4; i++) seen.push(yield* source.refresh(seen.at(-1)!))
      assert.deepStrictEqual(source.recent().map(Redacted.value), ["token-5", "token-4", "token-3"])
      // the same array until the next renewal, so a transport can rebuild its mask only then
      assert.strictEqual(source.recent(), source.recent())
      const before = source.recent()
      yield* source.refresh(seen.at(-1)!)
      assert.notStrictEqual(source.recent(), before)
      assert.deepStrictEqual(source.recent().map(Redacted.value), ["token-6", "token-5", "token-4"])
    }))
})
