// `disable`/`enable` across OS processes (fixtures/worker.ts, each FlexiAI.layer) through a real
// redis-server, and in one process at the store level: the change reaches every process and
// those started later, stays per process with the memory store and while Redis is away, and
// Redis's record wins when it returns. `first` (priority 1) and `second` (priority 2) are
// MockProviderServers in this process, which count every upstream request.
import { assert, describe, it } from "@effect/vitest"
import * as CircuitBreaker from "@flexiai/core/CircuitBreaker"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import * as RedisServer from "@flexiai/testing/RedisServer"
import { Context, Effect, Layer, Option, Schedule, Stream } from "effect"
import { afterAll, afterEach, beforeAll } from "vitest"
import { RedisBreakerStore } from "../src/index.ts"
import * as Workers from "./workers.ts"

let redis: RedisServer.RedisServer
const servers: Array<MockProviderServer.Handle> = []
beforeAll(async () => {
  redis = await RedisServer.start()
})
afterAll(async () => {
  redis?.resume()
  await redis?.stop()
})
afterEach(async () => {
  await Workers.killAll()
  await Promise.all(servers.splice(0).map((server) => server.stop()))
})

let prefixes = 0
const apiKey = "sk-test-0123456789abcdef0123"

const providers = async () => {
  const first = await MockProviderServer.start({ fallback: MockProviderServer.text("first answer") })
  const second = await MockProviderServer.start({ fallback: MockProviderServer.text("second answer") })
  servers.push(first, second)
  const upstream = () => first.calls().filter((call) => call.path === "/v1/chat/completions").length
  return { first, second, upstream }
}

const configFor = (first: MockProviderServer.Handle, second: MockProviderServer.Handle, shared: boolean) => ({
  providers: [
    { kind: "openai-compatible", name: "first", model: "mock-model", baseUrl: `${first.url}/v1`, apiKey, priority: 1 },
    { kind: "openai-compatible", name: "second", model: "mock-model", baseUrl: `${second.url}/v1`, apiKey, priority: 2 }
  ],
  policy: { retry: { maxRetries: 0 } },
  logging: { level: "none" },
  ...(shared ? { redis: { url: redis.url, prefix: `en${process.pid}-${prefixes++}:` } } : {})
})

const firstRow = async (worker: Workers.Worker) => (await worker.status()).find((row) => row.name === "first")!

describe("disable and enable across processes", () => {
  it("A disables a provider: B's next call makes no request to it and B's status says so; B enables it: A calls it again", async () => {
    const { first, second, upstream } = await providers()
    const config = configFor(first, second, true)
    const [a, b] = await Promise.all([Workers.start(config), Workers.start(config)])
    await Promise.all([a.until("shared"), b.until("shared")])
    assert.strictEqual((await b.chat("hi")).provider, "first")
    assert.strictEqual(upstream(), 1)

    await a.disable("first")
    assert.isFalse((await firstRow(a)).enabled, "at once in the process that disabled it")
    await b.untilEnabled("first", false)
    const skipped = await b.chat("hi")
    assert.strictEqual(skipped.provider, "second")
    assert.deepStrictEqual(skipped.attempts[0], ["first", "skipped", "CircuitOpen"])
    assert.strictEqual(upstream(), 1)
    assert.strictEqual((await a.chat("hi")).provider, "second")
    assert.strictEqual(upstream(), 1)

    await b.enable("first")
    await a.untilEnabled("first", true)
    assert.strictEqual((await a.chat("hi")).provider, "first")
    assert.strictEqual(upstream(), 2)
  })

  it("a process started after the disable sees it disabled", async () => {
    const { first, second, upstream } = await providers()
    const config = configFor(first, second, true)
    const a = await Workers.start(config)
    await a.until("shared")
    await a.disable("first")
    // the write is in the background: it is in Redis once another process can read it back
    const c = await Workers.start(config)
    await c.until("shared")
    await c.untilEnabled("first", false)
    assert.strictEqual((await c.chat("hi")).provider, "second")
    assert.strictEqual(upstream(), 0)
  })

  it("with the memory store nothing is shared", async () => {
    const { first, second, upstream } = await providers()
    const config = configFor(first, second, false)
    const [a, b] = await Promise.all([Workers.start(config), Workers.start(config)])
    await a.disable("first")
    assert.strictEqual((await a.chat("hi")).provider, "second")
    assert.strictEqual((await b.chat("hi")).provider, "first")
    assert.deepStrictEqual(await firstRow(b), { name: "first", circuit: "Closed", circuitStore: "local", enabled: true })
    assert.strictEqual(upstream(), 1)
  })

  it("while Redis is down a disable stays in its process; when Redis returns (empty) it reaches the others", async () => {
    const { first, second, upstream } = await providers()
    const config = configFor(first, second, true)
    const [a, b] = await Promise.all([Workers.start(config), Workers.start(config)])
    await Promise.all([a.until("shared"), b.until("shared")])
    await redis.kill()
    try {
      // a call finds Redis gone
      await Promise.all([a.chat("down"), b.chat("down")])
      await Promise.all([a.until("degraded"), b.until("degraded")])
      const before = upstream()
      await a.disable("first")
      assert.strictEqual((await a.chat("hi")).provider, "second")
      assert.strictEqual((await b.chat("hi")).provider, "first")
      assert.isTrue((await firstRow(b)).enabled)
      assert.strictEqual(upstream(), before + 1)
    } finally {
      await redis.restart()
    }
    await Promise.all([a.until("shared"), b.until("shared")])
    // B reads the record when it reconnects, hears A's hand-back, or (had it reconnected first and
    // missed the message) reads it again within its 5 s resync
    await b.untilEnabled("first", false, 10_000)
    const before = upstream()
    assert.strictEqual((await b.chat("hi")).provider, "second")
    assert.strictEqual(upstream(), before)
  })
})

// ---------------------------------------------------------------------------
// one process, two stores: the record's merge rules
// ---------------------------------------------------------------------------

const until = (predicate: () => boolean, what: string) =>
  Effect.suspend(() => predicate() ? Effect.void : Effect.fail(what)).pipe(
    Effect.retry({ schedule: Schedule.spaced("10 millis"), times: 500 }),
    Effect.orDie
  )

/** The first enablement of `name` the stream gives that says `enabled` (at most 3 s). */
const next = (shared: CircuitBreaker.Shared, name: string, enabled: boolean) =>
  shared.enablement.pipe(
    Stream.filter((change) => change.name === name && change.enabled === enabled),
    Stream.runHead,
    Effect.timeoutOption("3 seconds"),
    Effect.map((found) => Option.isSome(found) && Option.isSome(found.value))
  )

/** What the stream gives at once when subscribed: the record this store holds. */
const current = (shared: CircuitBreaker.Shared) =>
  shared.enablement.pipe(
    Stream.interruptWhen(Effect.sleep("50 millis")),
    Stream.runCollect,
    Effect.map((changes) => new Map(changes.map((change) => [change.name, change.enabled])))
  )

describe("the enablement record (one process, two stores)", () => {
  it.live("Redis's record wins when it returns; a change to a provider it has no record of is handed to it", () =>
    Effect.gen(function*() {
      const scope = yield* Effect.scope
      const prefix = `record${process.pid}:`
      const storeOf = (options: RedisBreakerStore.Options) =>
        Effect.map(
          Layer.buildWithScope(RedisBreakerStore.layerConnected({ url: redis.url, prefix, storeTimeout: "100 millis", recheckInterval: "100 millis", ...options }), scope),
          (context) => Context.get(context, CircuitBreaker.BreakerStore)
        )
      const one = yield* storeOf({})
      const other = yield* storeOf({ resyncInterval: "100 millis" })
      yield* until(() => one.shared!.availableUnsafe() && other.shared!.availableUnsafe(), "connected")

      yield* one.shared!.shareEnabled("p", false)
      assert.isTrue(yield* next(other.shared!, "p", false), "the other store hears the disable")

      redis.pause()
      // a call finds Redis hung: the store is degraded from then on
      yield* one.state("x:m")
      assert.isFalse(one.shared!.availableUnsafe())
      yield* one.shared!.shareEnabled("p", true) // Redis has a record of p: it wins
      yield* one.shared!.shareEnabled("q", false) // Redis has none of q: handed to it
      redis.resume()
      yield* until(() => one.shared!.availableUnsafe(), "shared again")
      assert.deepStrictEqual(yield* current(one.shared!), new Map([["p", false], ["q", false]]))
      assert.isTrue(yield* next(other.shared!, "q", false), "the other store has the handed-back change")
      assert.deepStrictEqual(yield* current(other.shared!), new Map([["p", false], ["q", false]]))

      // a change whose message a process missed is read again within its resync interval
      const { createClient } = yield* Effect.promise(() => import("redis"))
      const client = createClient({ url: redis.url })
      yield* Effect.promise(() => client.connect())
      yield* Effect.promise(() => client.hSet(`${prefix}enablement`, "r", `${Date.now() * 1000}:0`))
      client.destroy()
      assert.isTrue(yield* next(other.shared!, "r", false), "read again by the resync")
    }).pipe(Effect.scoped))
})
