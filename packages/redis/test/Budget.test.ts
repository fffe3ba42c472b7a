// The Redis budget store: in one process (atomic reserve/settle, windows, expiry, a per-tag
// budget), and across two OS processes sharing one budget (fixtures/budgetWorker.ts): together
// they can never reserve past the limit, and every settled reservation is counted.
import { assert, describe, it } from "@effect/vitest"
import * as Budget from "@flexiai/core/Budget"
import * as RedisServer from "@flexiai/testing/RedisServer"
import { type ChildProcess, fork } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Effect, Schedule } from "effect"
import * as Redis from "effect/persistence/Redis"
import { afterAll, beforeAll } from "vitest"
import { RedisBudgetStore, RedisConnection } from "../src/index.ts"

let server: RedisServer.RedisServer
beforeAll(async () => {
  server = await RedisServer.start()
})
afterAll(async () => {
  await server?.stop()
})

let prefixes = 0
const freshPrefix = () => `budget${process.pid}-${prefixes++}:`

const connected = Effect.gen(function*() {
  const redis = yield* RedisConnection.make({ url: server.url })
  yield* redis.send("PING").pipe(Effect.retry({ schedule: Schedule.spaced("20 millis"), times: 250 }), Effect.orDie)
  return redis
})

const storeOn = (redis: Redis.Redis["Service"], prefix: string) =>
  RedisBudgetStore.make({ prefix, storeTimeout: "2 seconds" }).pipe(Effect.provideService(Redis.Redis, redis))

describe("RedisBudgetStore", () => {
  it.live("reserves all or nothing, settles to the real cost, and expires a window after its end", () =>
    Effect.gen(function*() {
      const redis = yield* connected
      const prefix = freshPrefix()
      const store = yield* storeOn(redis, prefix)
      const lines = [
        { key: "a", limitNanos: 1000, expiresAt: Date.now() + 60_000 },
        { key: "b", limitNanos: 500, expiresAt: undefined }
      ]
      assert.isUndefined(yield* store.reserve(lines, 400))
      const refused = yield* store.reserve(lines, 200)
      assert.deepStrictEqual(refused, { index: 1, spentNanos: 400 })
      // nothing was taken from "a" by the refused reservation
      assert.deepStrictEqual(yield* store.spent(["a", "b"]), [400, 400])
      yield* store.adjust(["a", "b"], -300)
      assert.deepStrictEqual(yield* store.spent(["a", "b"]), [100, 100])
      yield* store.adjust(["a"], -1000)
      assert.deepStrictEqual(yield* store.spent(["a"]), [0])
      const ttl = yield* redis.send<number>("PTTL", `${prefix}budget:a`)
      assert.isAbove(ttl, 50_000)
      assert.strictEqual(yield* redis.send<number>("PTTL", `${prefix}budget:b`), -1)
    }).pipe(Effect.scoped))

  it.live("two stores (as two processes would have) share one per-tag budget", () =>
    Effect.gen(function*() {
      const prefix = freshPrefix()
      const rules: ReadonlyArray<Budget.Rule> = [{ name: "tenant", limitUsd: 1, period: "month", tag: "*" }]
      const one = Budget.make(rules, yield* storeOn(yield* connected, prefix))
      const two = Budget.make(rules, yield* storeOn(yield* connected, prefix))
      const subject = { provider: "p", model: "m", tag: "acme" }
      assert.isFalse(Budget.isDenial(yield* one.reserve(subject, 0.7)))
      assert.isTrue(Budget.isDenial(yield* two.reserve(subject, 0.7)))
      assert.isFalse(Budget.isDenial(yield* two.reserve({ ...subject, tag: "other" }, 0.7)))
      const standings = yield* two.standings
      assert.deepStrictEqual(standings.map((row) => [row.tag, row.spentUsd]), [["acme", 0.7], ["other", 0.7]])
    }).pipe(Effect.scoped))

  it.live("falls back to a per-process store while Redis is away (and refuses with whenUnavailable: deny)", () =>
    Effect.gen(function*() {
      const redis = yield* RedisConnection.make({ url: "redis://127.0.0.1:1" })
      const local = yield* RedisBudgetStore.make({ storeTimeout: "50 millis" }).pipe(Effect.provideService(Redis.Redis, redis))
      const line = { key: "x", limitNanos: 100, expiresAt: undefined }
      assert.isUndefined(yield* local.reserve([line], 60))
      assert.deepStrictEqual(yield* local.reserve([line], 60), { index: 0, spentNanos: 60 })
      const deny = yield* RedisBudgetStore.make({ storeTimeout: "50 millis", whenUnavailable: "deny" }).pipe(
        Effect.provideService(Redis.Redis, redis)
      )
      assert.isDefined(yield* deny.reserve([line], 1))
    }).pipe(Effect.scoped))
})

// ---------------------------------------------------------------------------
// two OS processes
// ---------------------------------------------------------------------------

const worker = fileURLToPath(new URL("./fixtures/budgetWorker.ts", import.meta.url))

interface Started {
  readonly child: ChildProcess
  readonly ready: Promise<void>
  readonly result: Promise<{ readonly granted: number; readonly refused: number }>
}

const start = (env: Record<string, string>): Started => {
  const child = fork(worker, [], { env: { ...process.env, ...env }, stdio: ["ignore", "inherit", "inherit", "ipc"] })
  let onReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => {
    onReady = resolve
  })
  const result = new Promise<{ granted: number; refused: number }>((resolve, reject) => {
    child.on("message", (message: { ready?: boolean; granted?: number; refused?: number }) => {
      if (message.ready === true) onReady()
      else resolve(message as { granted: number; refused: number })
    })
    child.on("exit", (code) => code === 0 ? undefined : reject(new Error(`budget worker exited with ${code}`)))
  })
  return { child, ready, result }
}

describe("two processes, one Redis budget", () => {
  it("cannot overspend under concurrency: exactly limit / cost reservations are granted between them", async () => {
    const prefix = freshPrefix()
    // 0.001 USD each, a 0.05 USD budget: 50 fit; each process asks 60 times at once
    const env = { REDIS_URL: server.url, PREFIX: prefix, COUNT: "60", COST_USD: "0.001", LIMIT_USD: "0.05" }
    const workers = [start(env), start(env)]
    try {
      await Promise.all(workers.map((started) => started.ready))
      for (const started of workers) started.child.send("go")
      const results = await Promise.all(workers.map((started) => started.result))
      const granted = results.reduce((sum, result) => sum + result.granted, 0)
      assert.strictEqual(granted, 50)
      assert.strictEqual(results.reduce((sum, result) => sum + result.refused, 0), 70)
      assert.isTrue(results.every((result) => result.granted > 0), `both processes were granted some: ${JSON.stringify(results)}`)
      const spent = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
        const store = yield* storeOn(yield* connected, prefix)
        const window = Budget.windowOf("day", Date.now())
        return yield* store.spent([`shared:${window.start}`])
      })))
      assert.deepStrictEqual(spent, [50_000_000])
    } finally {
      for (const started of workers) started.child.kill("SIGKILL")
    }
  }, 30_000)
})
