// `examples/multi-worker` as users run it: a real primary process with two workers, against two
// MockProviderServers on 127.0.0.1 (the flaky one answers every call with HTTP 500, the healthy one
// echoes). Chat and stream are answered through the healthy provider, errors come back typed and
// without the key, a killed worker is replaced in its slot, each worker keeps its own circuits, and
// SIGTERM drains an in-flight stream (and cuts one that outlives the grace period with an error event).
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { MockProviderServer } from "@flexiai/testing"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { alive, App, lastEvent, parseSse, type Pinned, seenBodies, waitFor } from "./multiWorkerHarness.ts"

const apiKey = "sk-canary-multi-worker-5f1c2a9e7b"
const graceMillis = 2500

let flaky: MockProviderServer.Handle
let healthy: MockProviderServer.Handle
let dir = ""
let app: App
let one: Pinned
let two: Pinned

const chatRequests = (server: MockProviderServer.Handle) =>
  server.calls().filter((call) => call.path.endsWith("/chat/completions")).length

const provider = (health: { readonly providers: ReadonlyArray<{ readonly name: string }> }, name: string) => {
  const found = health.providers.find((entry) => entry.name === name)
  assert.isDefined(found, `provider ${name} in /health`)
  return found as NonNullable<typeof found> & { readonly circuit: string; readonly requests: number }
}

// echoes, except for the model "broken", which it answers with 503s
const healthyScript: MockProviderServer.Script = {
  byModel: { broken: Array.from({ length: 10 }, () => MockProviderServer.serverError(503)) },
  fallback: MockProviderServer.echo({ prefix: "healthy: " })
}

const ask = (text: string, extra: Record<string, unknown> = {}) => ({ messages: [{ role: "user", content: text }], ...extra })

beforeAll(async () => {
  flaky = await MockProviderServer.start({ fallback: MockProviderServer.serverError(500) })
  healthy = await MockProviderServer.start(healthyScript)
  dir = mkdtempSync(join(tmpdir(), "flexiai-multi-worker-test-"))
  const config = join(dir, "flexiai.config.json")
  writeFileSync(config, JSON.stringify({
    providers: [
      // `models: { "*": "*" }`: a request may name any model (the error tests use "broken")
      { kind: "openai-compatible", name: "flaky", model: "mock-model", models: { "*": "*" }, baseUrl: `${flaky.url}/v1`, apiKey, priority: 1 },
      { kind: "openai-compatible", name: "healthy", model: "mock-model", models: { "*": "*" }, baseUrl: `${healthy.url}/v1`, apiKey, priority: 2 }
    ],
    policy: { preset: "fast", retry: { maxRetries: 0 }, streamPolicy: "fail" },
    breaker: { failureThreshold: 3, openDuration: "30 seconds", jitter: 0 },
    logging: { level: "warn" }
  }))
  app = new App({ PORT: "0", WORKERS: "2", SHUTDOWN_GRACE_MS: String(graceMillis), FLEXIAI_CONFIG_FILE: config })
  await app.ready()
  one = await app.pin(1)
  two = await app.pin(2)
}, 30_000)

afterAll(async () => {
  one?.close()
  two?.close()
  app?.kill()
  await Promise.all([flaky?.stop(), healthy?.stop()])
  if (dir !== "") rmSync(dir, { recursive: true, force: true })
})

describe("examples/multi-worker (two workers, per-process circuits)", () => {
  it("runs two workers, each naming itself in /health and x-worker", async () => {
    const [first, second] = [await one.health(), await two.health()]
    assert.deepStrictEqual([first.worker.slot, second.worker.slot], [1, 2])
    assert.notStrictEqual(first.worker.pid, second.worker.pid)
    assert.strictEqual(first.status, "ok")
    assert.strictEqual(first["circuitStore"], "local")
    assert.deepStrictEqual(first.providers.map((entry) => [entry.name, entry.circuit]), [["flaky", "Closed"], ["healthy", "Closed"]])
  })

  it("answers a chat through the healthy provider after the flaky one fails", async () => {
    const reply = await one.request("POST", "/chat", ask("hello there"))
    assert.strictEqual(reply.status, 200, reply.body)
    const body = JSON.parse(reply.body)
    assert.strictEqual(body.text, "healthy: hello there")
    assert.strictEqual(body.provider, "healthy")
    assert.deepStrictEqual(
      body.attempts.map((attempt: { provider: string; outcome: string; reason?: string }) => `${attempt.provider}:${attempt.outcome}:${attempt.reason ?? ""}`),
      ["flaky:failure:ServerError", "healthy:success:"]
    )
  })

  it("streams deltas through the healthy provider and ends with one done event", async () => {
    const reply = await two.request("POST", "/stream", ask("stream these words please"))
    assert.strictEqual(reply.status, 200)
    assert.match(String(reply.headers["content-type"]), /^text\/event-stream/)
    const events = parseSse(reply.body)
    const text = events.filter((event) => event.event === "delta").map((event) => (event.data as { text: string }).text).join("")
    assert.strictEqual(text, "healthy: stream these words please")
    assert.deepStrictEqual(events.map((event) => event.event).filter((name) => name !== "delta"), ["done"])
    const done = lastEvent<{ provider: string; finishReason: string }>(events, "done")
    assert.strictEqual(done.provider, "healthy")
    assert.strictEqual(done.finishReason, "stop")
  })

  it("ends a stream cut mid-answer with a typed error event carrying the partial text, never with done", async () => {
    healthy.setScript({ replies: [MockProviderServer.cutAfter(3, "one two three four five six")], fallback: MockProviderServer.echo({ prefix: "healthy: " }) })
    const reply = await one.request("POST", "/stream", ask("tell me six words"))
    healthy.setScript(healthyScript)
    const events = parseSse(reply.body)
    assert.deepStrictEqual(events.map((event) => event.event), ["delta", "delta", "delta", "error"])
    const { error } = lastEvent<{ error: { reason: string; partialText: string } }>(events, "error")
    assert.strictEqual(error.reason, "StreamInterrupted")
    assert.strictEqual(error.partialText, "one two three ")
  })

  it("maps FlexiAI's typed errors to HTTP statuses and JSON bodies", async () => {
    const notJson = await one.request("POST", "/chat", "{not json")
    assert.strictEqual(notJson.status, 400)
    assert.strictEqual(JSON.parse(notJson.body).error.type, "InvalidJson")

    // on a connection of its own: the worker closes it rather than read 1 MB it will not use
    const tooLarge = await app.fresh("POST", "/chat", ask("x".repeat(1_100_000)))
    assert.strictEqual(tooLarge.status, 413)

    const invalid = await one.request("POST", "/chat", { messages: [] })
    assert.strictEqual(invalid.status, 400)
    const invalidError = JSON.parse(invalid.body).error
    assert.deepStrictEqual([invalidError.reason, invalidError.retryable], ["InvalidRequest", false])
    assert.include(invalidError.message, "messages is empty")

    // the flaky provider fails (500), the healthy one answers this model with 503: nobody could answer
    const failed = await two.request("POST", "/chat", ask("hi", { model: "broken" }))
    assert.strictEqual(failed.status, 502, failed.body)
    const failedError = JSON.parse(failed.body).error
    assert.strictEqual(failedError.type, "AllProvidersFailed")
    assert.strictEqual(failedError.retryable, true)
    assert.deepStrictEqual(
      failedError.attempts.map((attempt: { provider: string; reason: string }) => `${attempt.provider}:${attempt.reason}`),
      ["flaky:ServerError", "healthy:ServerError"]
    )
    // the same error as a stream's error event, before any delta
    const streamed = parseSse((await two.request("POST", "/stream", ask("hi", { model: "broken" }))).body)
    assert.deepStrictEqual(streamed.map((event) => event.event), ["error"])

    const unknownRoute = await one.request("GET", "/nope")
    assert.strictEqual(unknownRoute.status, 404)
  })

  it("keeps circuits per process without Redis: opened through worker 1, still closed on worker 2", async () => {
    await waitFor("the flaky circuit to open on worker 1", async () => {
      const health = await one.health()
      if (provider(health, "flaky").circuit === "Open") return true
      assert.strictEqual((await one.request("POST", "/chat", ask("trip it"))).status, 200)
      return undefined
    }, 10_000, app.tail)
    const before = chatRequests(flaky)
    const skipped = JSON.parse((await one.request("POST", "/chat", ask("skip it"))).body)
    assert.deepStrictEqual(skipped.attempts.map((attempt: { reason?: string }) => attempt.reason ?? "ok"), ["CircuitOpen", "ok"])
    assert.strictEqual(chatRequests(flaky), before, "an open circuit sends nothing upstream")
    assert.strictEqual((await one.health()).status, "degraded")

    // worker 2 has its own memory store: it still tries the flaky provider
    assert.strictEqual(provider(await two.health(), "flaky").circuit, "Closed")
    await two.request("POST", "/chat", ask("still tried"))
    assert.strictEqual(chatRequests(flaky), before + 1)
  })

  it("never puts the providers' key in a response or a log line", () => {
    assert.isAbove(seenBodies.length, 10)
    for (const body of seenBodies) assert.notInclude(body, apiKey.slice(3))
    assert.include(app.output, "attempt failed: flaky", "the workers did log the failed attempts")
    assert.notInclude(app.output, apiKey.slice(3))
  })

  it("cancels the upstream request when the client drops a stream", async () => {
    healthy.setScript({ fallback: MockProviderServer.echo({ chunkDelayMillis: 100 }) })
    const before = healthy.calls().length
    await app.dropAfterFirstChunk("/stream", ask("a b c d e f g h i j k l m n o p q r s t"))
    const dropped = await waitFor("the healthy provider's stream to be closed by the worker", () => {
      const call = healthy.calls().slice(before).find((each) => each.path.endsWith("/chat/completions"))
      return call?.clientClosedAt === undefined ? undefined : call
    }, 3000, app.tail)
    // closed well before the 2 s the whole answer takes
    assert.isBelow(dropped.clientClosedAt! - dropped.receivedAt, 1500)
    healthy.setScript(healthyScript)
  })

  it("restarts a worker that dies, in the same slot with a new pid", async () => {
    const old = (await one.health()).worker.pid
    one.close()
    process.kill(old, "SIGKILL")
    // the primary says when the replacement listens; connections before that may go to the dead one
    const pid = await waitFor("worker 1's replacement", () => {
      const ready = /worker 1 \(pid (\d+)\) ready/.exec(app.output)
      return ready === null ? undefined : Number(ready[1])
    }, 10_000, app.tail)
    app.remember(pid)
    one = await app.pin(1)
    assert.strictEqual((await one.health()).worker.pid, pid)
    assert.notStrictEqual(pid, old)
    assert.isFalse(alive(old))
    assert.match(app.output, /worker 1 \(pid \d+\) exited unexpectedly \(signal SIGKILL\): restarting/)
  })

  it("drains on SIGTERM: stops accepting, finishes an in-flight stream, cuts one past the grace period, exits 0", async () => {
    healthy.setScript({ fallback: MockProviderServer.echo({ chunkDelayMillis: 100 }) })
    const words = (count: number) => Array.from({ length: count }, (_, index) => `w${index}`).join(" ")
    const long = await app.pin(2)
    let firstDelta = false
    let shortEnded = false
    const shortStream = two.request("POST", "/stream", ask(words(15)), () => { firstDelta = true }).then((reply) => {
      shortEnded = true
      return reply
    })
    const longStream = long.request("POST", "/stream", ask(words(60)))
    await waitFor("the first delta", () => firstDelta || undefined, 5000, app.tail)
    app.signal("SIGTERM")

    // stopped accepting while the stream still runs: a new connection is refused
    // (worker 2 tells the primary it closed its server before it says it drains: ordered on one channel)
    await waitFor("worker 2 to drain and worker 1 to exit", () =>
      /worker 2 \(pid \d+\) draining 2 request/.test(app.output) && /worker 1 \(pid \d+\) exited \(code 0\)/.test(app.output) ||
      undefined, 5000, app.tail)
    const refused = await app.fresh("GET", "/health").then(() => "answered", (error: NodeJS.ErrnoException) => error.code)
    assert.strictEqual(refused, "ECONNREFUSED")
    assert.isFalse(shortEnded, "the short stream was still running when connections were refused")

    const shortEvents = parseSse((await shortStream).body)
    assert.strictEqual(shortEvents.at(-1)?.event, "done")
    assert.match(shortEvents.map((event) => event.event === "delta" ? (event.data as { text: string }).text : "").join(""), / w14$/)

    const longEvents = parseSse((await longStream).body)
    assert.isBelow(longEvents.filter((event) => event.event === "delta").length, 60)
    assert.isAbove(longEvents.filter((event) => event.event === "delta").length, 15)
    assert.strictEqual(lastEvent<{ error: { type: string } }>(longEvents, "error").error.type, "ShuttingDown")
    assert.notInclude(longEvents.map((event) => event.event), "done")

    const exit = await app.waitForExit(graceMillis + 8000)
    assert.deepStrictEqual(exit, { code: 0, signal: null }, app.tail())
    assert.match(app.output, /worker 2 \(pid \d+\) draining 2 request\(s\)/)
    assert.match(app.output, /\[primary \d+\] stopped\n/)
    long.close()
  })
})
