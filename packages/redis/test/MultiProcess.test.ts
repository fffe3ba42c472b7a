// Two OS processes (fixtures/worker.ts, each FlexiAI.layer with `redis` configured) share one
// circuit per provider and model through a real redis-server: `flaky` (priority 1) and `healthy`
// (priority 2) are MockProviderServers in this process, which count every upstream request.
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { afterAll, afterEach, assert, beforeAll, describe, it } from "vitest"
import * as RedisServer from "@flexiai/testing/RedisServer"
import * as Workers from "./workers.ts"

let redis: RedisServer.RedisServer
const servers: Array<MockProviderServer.Handle> = []
beforeAll(async () => {
  redis = await RedisServer.start()
})
afterAll(async () => {
  await redis?.stop()
})
afterEach(async () => {
  await Workers.killAll()
  await Promise.all(servers.splice(0).map((server) => server.stop()))
})

let prefixes = 0
const apiKey = "sk-test-0123456789abcdef0123"

const providers = async (flakyScript: MockProviderServer.Script = { fallback: MockProviderServer.serverError(503) }) => {
  const flaky = await MockProviderServer.start(flakyScript)
  const healthy = await MockProviderServer.start({ fallback: MockProviderServer.text("healthy answer") })
  servers.push(flaky, healthy)
  const upstream = () => flaky.calls().filter((call) => call.path === "/v1/chat/completions").length
  return { flaky, healthy, upstream }
}

const configFor = (
  flaky: MockProviderServer.Handle,
  healthy: MockProviderServer.Handle,
  options: {
    readonly breaker?: Record<string, unknown>
    readonly probeLease?: string
    readonly attemptTimeout?: string
  } = {}
) => ({
  providers: [
    {
      kind: "openai-compatible",
      name: "flaky",
      model: "mock-model",
      baseUrl: `${flaky.url}/v1`,
      apiKey,
      priority: 1,
      breaker: { failureThreshold: 2, openDuration: "10 seconds", jitter: 0, ...options.breaker }
    },
    { kind: "openai-compatible", name: "healthy", model: "mock-model", baseUrl: `${healthy.url}/v1`, apiKey, priority: 2 }
  ],
  policy: { retry: { maxRetries: 0 }, attemptTimeout: options.attemptTimeout ?? "20 seconds" },
  breaker: { probeLease: options.probeLease ?? "15 seconds" },
  logging: { level: "none" },
  redis: { url: redis.url, prefix: `mp${process.pid}-${prefixes++}:` }
})

/** Two workers on one config, both connected to Redis. */
const twoWorkers = async (config: unknown) => {
  const [a, b] = await Promise.all([Workers.start(config), Workers.start(config)])
  await Promise.all([a.until("shared"), b.until("shared")])
  return { a, b }
}

const flakyRow = async (worker: Workers.Worker) => (await worker.status()).find((row) => row.name === "flaky")!

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

describe("two processes, one circuit", () => {
  it("A trips it; B's next call makes no upstream request", async () => {
    const { flaky, healthy, upstream } = await providers()
    const { a, b } = await twoWorkers(configFor(flaky, healthy))
    for (let i = 0; i < 2; i++) assert.strictEqual((await a.chat("hi")).provider, "healthy")
    assert.strictEqual(upstream(), 2)
    // B has not called flaky yet, and its status (what /health shows) reports the circuit A opened
    assert.deepStrictEqual(await flakyRow(b), { name: "flaky", circuit: "Open", circuitStore: "shared", enabled: true })
    const answered = await b.chat("hi")
    assert.strictEqual(answered.provider, "healthy")
    assert.deepStrictEqual(answered.attempts[0], ["flaky", "skipped", "CircuitOpen"])
    assert.strictEqual(upstream(), 2)
    assert.deepStrictEqual(await flakyRow(b), { name: "flaky", circuit: "Open", circuitStore: "shared", enabled: true })

    // a manual reset in B closes it for A too
    await b.reset()
    assert.strictEqual((await flakyRow(a)).circuit, "Closed")
    await a.chat("hi")
    assert.strictEqual(upstream(), 3)
  })

  it("a burst from both opens it exactly once", async () => {
    const { flaky, healthy, upstream } = await providers()
    const config = configFor(flaky, healthy)
    const { a, b } = await twoWorkers(config)
    const burst = (worker: Workers.Worker) => Promise.all(Array.from({ length: 20 }, () => worker.chat("burst")))
    const results = (await Promise.all([burst(a), burst(b)])).flat()
    assert.isTrue(results.every((result) => result.provider === "healthy"))
    assert.isAtLeast(upstream(), 2)
    // one opening: a second trip would have counted a second consecutive opening
    const circuit = await redisHash(config.redis.prefix)
    assert.strictEqual(circuit["state"], "Open")
    assert.strictEqual(circuit["openings"], "1")
  })

  it("exactly one probe per open period across both", async () => {
    const { flaky, healthy, upstream } = await providers()
    const { a, b } = await twoWorkers(configFor(flaky, healthy, { breaker: { openDuration: "400 millis" }, attemptTimeout: "300 millis" }))
    for (let i = 0; i < 2; i++) await a.chat("trip")
    assert.strictEqual(upstream(), 2)
    const burst = (worker: Workers.Worker) => Promise.all(Array.from({ length: 15 }, () => worker.chat("probe?")))
    // first period: the probe hangs until its attempt times out (a failure: reopens for 2 × 400 ms);
    // everyone else is turned away meanwhile
    flaky.setScript({ replies: [MockProviderServer.hang()], fallback: MockProviderServer.serverError(503) })
    await sleep(450)
    const first = (await Promise.all([burst(a), burst(b)])).flat()
    assert.strictEqual(upstream(), 3, "one probe in the first open period")
    assert.isTrue(first.every((result) => result.provider === "healthy"))
    // second period: a slow successful probe closes it; still one upstream call during the burst
    flaky.setScript({ replies: [MockProviderServer.text("recovered", { headersDelayMillis: 150 })] })
    await sleep(850)
    const second = (await Promise.all([burst(a), burst(b)])).flat()
    assert.strictEqual(upstream(), 4, "one probe in the second open period")
    assert.strictEqual(second.filter((result) => result.provider === "flaky").length, 1)
    assert.strictEqual((await flakyRow(b)).circuit, "Closed")
  })

  it("a Retry-After cooldown learned by A is honoured by B", async () => {
    const { flaky, healthy, upstream } = await providers({ replies: [MockProviderServer.rateLimited({ retryAfterSeconds: 30 })] })
    const { a, b } = await twoWorkers(configFor(flaky, healthy))
    const first = await a.chat("hi")
    assert.strictEqual(first.provider, "healthy")
    assert.strictEqual(upstream(), 1)
    const deadline = Date.now() + 5000
    while ((await flakyRow(b)).rateLimitedUntil === undefined && Date.now() < deadline) await sleep(10)
    const answered = await b.chat("hi")
    assert.strictEqual(answered.provider, "healthy")
    // skipped without a call (the router reports a cooldown skip as CircuitOpen, as in one process)
    assert.deepStrictEqual(answered.attempts[0], ["flaky", "skipped", "CircuitOpen"])
    assert.isAbove((await flakyRow(b)).rateLimitedUntil ?? 0, Date.now() + 25_000)
    assert.strictEqual(upstream(), 1)
    // a 429 is a cooldown, not an outage: the circuit stays closed
    assert.strictEqual((await flakyRow(b)).circuit, "Closed")
  })
})

/** The circuit hash of `flaky:mock-model` under `prefix`, as Effect's store keeps it. */
const redisHash = async (prefix: string): Promise<Record<string, string>> => {
  const { createClient } = await import("redis")
  const client = createClient({ url: redis.url })
  await client.connect()
  try {
    return await client.hGetAll(`${prefix}circuit:flaky:mock-model`)
  } finally {
    client.destroy()
  }
}

describe("probe holder and outages", () => {
  it("a probe holder killed with SIGKILL is taken over after its lease", async () => {
    const { flaky, healthy, upstream } = await providers()
    const { a, b } = await twoWorkers(configFor(flaky, healthy, { breaker: { openDuration: "300 millis" }, probeLease: "800 millis" }))
    for (let i = 0; i < 2; i++) await a.chat("trip")
    flaky.setScript({ replies: [MockProviderServer.hang()], fallback: MockProviderServer.text("recovered") })
    await sleep(350)
    a.chat("the probe").catch(() => {}) // hangs until A dies
    while (upstream() < 3) await sleep(5)
    await a.kill("SIGKILL")
    const killed = Date.now()
    // the dead holder's lease still stands: B is turned away from flaky
    const refused = await b.chat("meanwhile")
    assert.strictEqual(refused.provider, "healthy")
    assert.deepStrictEqual(refused.attempts[0], ["flaky", "skipped", "CircuitOpen"])
    assert.strictEqual(upstream(), 3)
    let takenOver: Workers.ChatResult | undefined
    while (Date.now() - killed < 5000) {
      const result = await b.chat("again")
      if (result.provider === "flaky") {
        takenOver = result
        break
      }
      await sleep(25)
    }
    const after = Date.now() - killed
    assert.isDefined(takenOver, "B never took the probe over")
    // the lease (800 ms, renewed every third of it while A lived) ran out, no sooner
    assert.isAtLeast(after, 400)
    assert.isAtMost(after, 1800)
    assert.strictEqual((await flakyRow(b)).circuit, "Closed")
  })

  it("Redis killed mid-run and restarted: every call answered within the store timeout, local circuits trip, state converges", async () => {
    const { flaky, healthy, upstream } = await providers({ fallback: MockProviderServer.text("flaky is fine") })
    const { a, b } = await twoWorkers(configFor(flaky, healthy))
    const baseline = Math.max(...(await Promise.all([a.chat("warm"), b.chat("warm")])).map((result) => result.millis))

    await redis.kill()
    const during: Array<Workers.ChatResult> = []
    for (let i = 0; i < 10; i++) during.push(await a.chat("down"), await b.chat("down"))
    assert.isTrue(during.every((result) => result.provider === "flaky"))
    const slowest = Math.max(...during.map((result) => result.millis))
    assert.isBelow(slowest, baseline + 150 + 100, `slowest call during the outage: ${slowest} ms`)
    await Promise.all([a.until("degraded"), b.until("degraded")])

    // local circuits still trip: A opens flaky for itself; B, which has not called it, has it closed
    flaky.setScript({ fallback: MockProviderServer.serverError(503) })
    for (let i = 0; i < 2; i++) assert.strictEqual((await a.chat("trip")).provider, "healthy")
    assert.strictEqual((await flakyRow(a)).circuit, "Open")
    assert.strictEqual((await flakyRow(b)).circuit, "Closed")
    const tripped = upstream()
    assert.strictEqual((await a.chat("skip")).provider, "healthy")
    assert.strictEqual(upstream(), tripped)

    // Redis returns (empty): both share again, and A's open circuit is now B's too
    await redis.restart()
    await Promise.all([a.until("shared"), b.until("shared")])
    assert.deepStrictEqual(await flakyRow(b), { name: "flaky", circuit: "Open", circuitStore: "shared", enabled: true })
    const afterwards = await b.chat("converged")
    assert.strictEqual(afterwards.provider, "healthy")
    assert.strictEqual(upstream(), tripped)
  })

  it("starts while Redis is down, answers from per-process circuits, and connects when it comes up", async () => {
    const { flaky, healthy, upstream } = await providers()
    const port = await RedisServer.freePort()
    const config = { ...configFor(flaky, healthy), redis: { url: `redis://127.0.0.1:${port}`, prefix: `startup${process.pid}:` } }
    const a = await Workers.start(config)
    await a.until("degraded")
    for (let i = 0; i < 2; i++) assert.strictEqual((await a.chat("hi")).provider, "healthy")
    assert.strictEqual((await flakyRow(a)).circuit, "Open")
    const late = await RedisServer.start(port)
    try {
      const b = await Workers.start(config)
      await Promise.all([a.until("shared"), b.until("shared")])
      // what A learned alone is shared once Redis is there: B's first call skips flaky
      assert.strictEqual((await b.chat("hi")).provider, "healthy")
      assert.strictEqual(upstream(), 2)
      assert.strictEqual((await flakyRow(b)).circuit, "Open")
    } finally {
      await Workers.killAll()
      await late.stop()
    }
  })
})
