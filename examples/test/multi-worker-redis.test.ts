// examples/multi-worker with a real redis-server (started here on a random loopback port, never
// 6379): two workers share one circuit per provider and model. A circuit opened through worker 1 is
// open in worker 2's /health, and worker 2's next call skips the flaky provider without a request.
// Then Redis is killed: every call is still answered, /health says the circuits are per process
// ("degraded"), and once Redis is back they are shared again. (The memory-store twin, where worker
// 2 keeps its own closed circuit, is in multi-worker.test.ts.)
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { MockProviderServer } from "@flexiai/testing"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as RedisServer from "@flexiai/testing/RedisServer"
import { App, type Health, type Pinned, waitFor } from "./multiWorkerHarness.ts"

// without a redis-server binary the suite skips, loudly, except in CI where it must run
const hasRedis = existsSync(RedisServer.redisServerPath)
if (!hasRedis && process.env["CI"] === undefined) {
  console.warn(`multi-worker-redis.test.ts: SKIPPED, no redis-server at ${RedisServer.redisServerPath} (set REDIS_SERVER)`)
}

let redis: RedisServer.RedisServer
let flaky: MockProviderServer.Handle
let healthy: MockProviderServer.Handle
let dir = ""
let app: App
let one: Pinned
let two: Pinned

const chatRequests = () => flaky.calls().filter((call) => call.path.endsWith("/chat/completions")).length

const flakyOf = (health: Health) => {
  const found = health.providers.find((entry) => entry.name === "flaky")
  assert.isDefined(found)
  return found!
}

const circuitStore = (health: Health) => health["circuitStore"]

const chat = async (worker: Pinned, text: string) => {
  const reply = await worker.request("POST", "/chat", { messages: [{ role: "user", content: text }] })
  assert.strictEqual(reply.status, 200, reply.body)
  return JSON.parse(reply.body) as { provider: string; attempts: ReadonlyArray<{ provider: string; outcome: string; reason?: string }> }
}

describe.skipIf(!hasRedis && process.env["CI"] === undefined)("examples/multi-worker sharing circuits through a real Redis", () => {
  beforeAll(async () => {
    redis = await RedisServer.start()
    flaky = await MockProviderServer.start({ fallback: MockProviderServer.serverError(500) })
    healthy = await MockProviderServer.start({ fallback: MockProviderServer.echo({ prefix: "healthy: " }) })
    dir = mkdtempSync(join(tmpdir(), "flexiai-multi-worker-redis-"))
    const config = join(dir, "flexiai.config.json")
    writeFileSync(config, JSON.stringify({
      providers: [
        { kind: "openai-compatible", name: "flaky", model: "mock-model", baseUrl: `${flaky.url}/v1`, priority: 1 },
        { kind: "openai-compatible", name: "healthy", model: "mock-model", baseUrl: `${healthy.url}/v1`, priority: 2 }
      ],
      policy: { preset: "fast", retry: { maxRetries: 0 } },
      breaker: { failureThreshold: 3, openDuration: "30 seconds", jitter: 0 },
      logging: { level: "warn" }
    }))
    // Redis from the environment, as a deployment would set it; a prefix of its own per run
    app = new App({
      PORT: "0",
      WORKERS: "2",
      FLEXIAI_CONFIG_FILE: config,
      FLEXIAI_REDIS_URL: redis.url,
      FLEXIAI_REDIS_PREFIX: `multi-worker-test-${process.pid}:`
    })
    await app.ready()
    one = await app.pin(1)
    two = await app.pin(2)
  }, 30_000)

  afterAll(async () => {
    one?.close()
    two?.close()
    app?.kill()
    await redis?.kill()
    await Promise.all([flaky?.stop(), healthy?.stop()])
    if (dir !== "") rmSync(dir, { recursive: true, force: true })
  })

  it("says in /health that circuits are shared, once each worker's connection is up", async () => {
    // a worker is ready before Redis answers it (it must start without Redis): until then it says "degraded"
    for (const worker of [one, two]) {
      await waitFor(`worker ${worker.slot} to share circuits`, async () =>
        circuitStore(await worker.health()) === "shared" || undefined, 5000, app.tail)
    }
  })

  it("opens a circuit through worker 1 that worker 2 sees and honours without an upstream request", async () => {
    // worker 2 calls the flaky provider once, so its status lists that circuit
    assert.strictEqual((await chat(two, "first")).provider, "healthy")
    await waitFor("the flaky circuit to open through worker 1", async () => {
      if (flakyOf(await one.health()).circuit === "Open") return true
      assert.strictEqual((await chat(one, "trip it")).provider, "healthy")
      return undefined
    }, 10_000, app.tail)

    // worker 2 never saw the failures that opened it
    const seen = await waitFor("worker 2 to see the circuit open", async () => {
      const health = await two.health()
      return flakyOf(health).circuit === "Open" ? health : undefined
    }, 3000, app.tail)
    assert.strictEqual(seen.status, "degraded")
    assert.strictEqual(flakyOf(seen).failures, 1, "worker 2's own counters saw one failure only")

    const before = chatRequests()
    const answer = await chat(two, "skip it")
    assert.deepStrictEqual(answer.attempts.map((attempt) => `${attempt.provider}:${attempt.outcome}:${attempt.reason ?? ""}`), [
      "flaky:skipped:CircuitOpen",
      "healthy:success:"
    ])
    assert.strictEqual(chatRequests(), before, "no request reached the flaky provider")
  })

  it("answers every call while Redis is down, says so in /health, and shares again once it is back", async () => {
    await redis.kill()
    for (const worker of [one, two, one, two]) {
      const started = Date.now()
      assert.strictEqual((await chat(worker, "redis is gone")).provider, "healthy")
      assert.isBelow(Date.now() - started, 2000)
    }
    for (const worker of [one, two]) {
      await waitFor(`worker ${worker.slot} to report degraded circuits`, async () =>
        circuitStore(await worker.health()) === "degraded" || undefined, 5000, app.tail)
    }

    await redis.restart()
    for (const worker of [one, two]) {
      await waitFor(`worker ${worker.slot} to share circuits again`, async () => {
        const health = await worker.health()
        if (circuitStore(health) === "shared") return true
        await chat(worker, "anyone there")
        return undefined
      }, 15_000, app.tail)
    }
  })
})
