/**
 * `pnpm bench:redis`: what shared circuits (`@flexiai/redis`) add to a call, on loopback, against a
 * redis-server this script starts on a random port (no persistence) and the benchmark's upstream
 * (`server.ts`, its own process).
 *
 * - store: one breaker admission and its record (`admit` + `record`, what every routed call
 *   does), memory store vs Redis store: the added latency per call, with no HTTP around it;
 * - chat: a whole `FlexiAI.layer` chat call, without and with `redis` configured;
 * - down: Redis hung (SIGSTOP: nothing answers, nothing resets): the first call after it hangs
 *   (bounded by the store timeout, 150 ms), then calls while it stays hung (memory again).
 *
 * Sequential calls, rounds alternating between the cases after a warm-up; p50 / p95 in
 * microseconds over every call of every round. Not a test: figures for the README.
 */
import { fork } from "node:child_process"
import { ChatProvider, CircuitBreaker } from "@flexiai/core"
import type { ChatRequest } from "@flexiai/core"
import { RedisBreakerStore } from "@flexiai/redis"
import { Effect, Layer, ManagedRuntime } from "effect"
import { FlexiAI } from "flexiai"
import * as RedisServer from "@flexiai/testing/RedisServer"

const upstream = fork(new URL("./server.ts", import.meta.url), { stdio: ["ignore", "inherit", "inherit", "ipc"] })
const port = await new Promise<number>((resolve) => upstream.once("message", (m: { port: number }) => resolve(m.port)))
const redis = await RedisServer.start()

const request: ChatRequest.ChatRequest = { model: "json", messages: [{ role: "user", content: "hello" }] }
const providers = [{ kind: "openai-compatible", name: "mock", model: "json", baseUrl: `http://127.0.0.1:${port}/v1` }] as const
const logging = { level: "none" } as const

const memoryStore = ManagedRuntime.make(CircuitBreaker.layerMemory())
const redisStore = ManagedRuntime.make(CircuitBreaker.layer().pipe(
  Layer.provideMerge(RedisBreakerStore.layerConnected({ url: redis.url, prefix: "bench:" }))
))
const flexMemory = ManagedRuntime.make(FlexiAI.layer({ providers, logging }))
const flexRedis = ManagedRuntime.make(FlexiAI.layer({ providers, logging, redis: { url: redis.url, prefix: "bench-chat:" } }))

const storeCall = CircuitBreaker.CircuitBreaker.use((breaker) =>
  Effect.flatMap(breaker.admit("mock:json"), (permit) => breaker.record(permit, { _tag: "Success" })))

// wait until the Redis store has connected (it starts per-process until Redis first answers)
await redisStore.runPromise(Effect.gen(function*() {
  const store = yield* CircuitBreaker.BreakerStore
  while (store.shared?.availableUnsafe() !== true) yield* Effect.sleep("10 millis")
}))
await flexRedis.runPromise(Effect.gen(function*() {
  const flexi = yield* FlexiAI.FlexiAI
  while ((yield* flexi.health).circuitStore !== "shared") yield* Effect.sleep("10 millis")
}))

const cases: Record<string, () => Promise<unknown>> = {
  "store: memory": () => memoryStore.runPromise(storeCall),
  "store: redis": () => redisStore.runPromise(storeCall),
  "chat: memory": () => flexMemory.runPromise(ChatProvider.chat(request)),
  "chat: redis": () => flexRedis.runPromise(ChatProvider.chat(request))
}

const timeEach = async (run: () => Promise<unknown>, n: number, into: Array<number>) => {
  for (let i = 0; i < n; i++) {
    const started = performance.now()
    await run()
    into.push((performance.now() - started) * 1000)
  }
}
const quantile = (values: ReadonlyArray<number>, q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
}

for (const run of Object.values(cases)) await timeEach(run, 2000, [])
const samples: Record<string, Array<number>> = {}
for (let round = 0; round < 5; round++) {
  for (const [name, run] of Object.entries(cases)) await timeEach(run, 2000, samples[name] ??= [])
}
const p50 = (name: string) => quantile(samples[name]!, 0.5)
for (const [name, values] of Object.entries(samples)) {
  console.log(`${name.padEnd(14)} p50 ${quantile(values, 0.5).toFixed(0).padStart(6)} µs   p95 ${quantile(values, 0.95).toFixed(0).padStart(6)} µs`)
}
console.log(`added by Redis: store ${(p50("store: redis") - p50("store: memory")).toFixed(0)} µs p50, chat ${(p50("chat: redis") - p50("chat: memory")).toFixed(0)} µs p50`)

// Redis hangs: the first call waits out the store timeout, the next ones are memory's
redis.pause()
const first: Array<number> = []
await timeEach(cases["chat: redis"]!, 1, first)
const during: Array<number> = []
await timeEach(cases["chat: redis"]!, 5000, during)
const storeDuring: Array<number> = []
await timeEach(cases["store: redis"]!, 1, [])
await timeEach(cases["store: redis"]!, 5000, storeDuring)
console.log(
  `Redis hung: first chat ${(first[0]! / 1000).toFixed(1)} ms; then chat p50 ${quantile(during, 0.5).toFixed(0)} µs ` +
    `(p95 ${quantile(during, 0.95).toFixed(0)}), store p50 ${quantile(storeDuring, 0.5).toFixed(0)} µs, slowest ${(Math.max(...during) / 1000).toFixed(1)} ms`
)
redis.resume()

await Promise.all([memoryStore.dispose(), redisStore.dispose(), flexMemory.dispose(), flexRedis.dispose()])
await redis.stop()
upstream.kill()
process.exit(0)
