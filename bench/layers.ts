/**
 * `pnpm bench:layers`: CPU per chat call for each layer of the user path, in one warm process, so a
 * regression or a saving can be placed: raw undici, the kit's `UndiciHttpClient` alone, + the
 * OpenAI-compatible provider, + the router (default policy, in-memory breaker), + `FlexiAI.layer` and
 * the `chat` accessor. Five rounds of 3,000 calls each after 6,000 warm-up calls per layer, layers
 * alternating within a round; the median and every round are printed. Not a test, and not the
 * figures `pnpm bench` reports (fresh processes per case): a tool for finding where time goes.
 */
import { fork } from "node:child_process"
import { ChatProvider, CircuitBreaker, Router } from "@flexiai/core"
import type { ChatRequest } from "@flexiai/core"
import { OpenAiCompatible } from "@flexiai/openai"
import * as UndiciHttpClient from "@flexiai/provider/UndiciHttpClient"
import { Agent, request as undiciRequest } from "undici"
import { Effect, Layer, ManagedRuntime } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import { chat, FlexiAI } from "flexiai"

const server = fork(new URL("./server.ts", import.meta.url), { stdio: ["ignore", "inherit", "inherit", "ipc"] })
const port = await new Promise<number>((resolve) => server.once("message", (m: { port: number }) => resolve(m.port)))
const base = `http://127.0.0.1:${port}`
const request: ChatRequest.ChatRequest = { model: "json", messages: [{ role: "user", content: "hello" }] }
const provider = OpenAiCompatible.layerCompatible({ name: "mock", defaultModel: "json", apiUrl: `${base}/v1`, apiKey: undefined as never })
const noSpan = Layer.succeed(HttpClient.TracerDisabledWhen, () => true)
const http = Layer.merge(UndiciHttpClient.layer, noSpan)

const rtHttp = ManagedRuntime.make(http)
// the client alone, as the providers send through it (no HTTP span)
const client = await rtHttp.runPromise(Effect.service(HttpClient.HttpClient))
const req = HttpClientRequest.post(`${base}/v1/chat/completions`).pipe(HttpClientRequest.bodyText(JSON.stringify({ model: "json", messages: [{ role: "user", content: "hello" }], stream: false }), "application/json"))
const rtProvider = ManagedRuntime.make(provider.pipe(Layer.provideMerge(http)))
const rtRouter = ManagedRuntime.make(Router.layer({ providers: [provider] }).pipe(Layer.provide(http), Layer.provide(CircuitBreaker.layerMemory())))
const rtFlex = ManagedRuntime.make(FlexiAI.layer({ providers: [{ kind: "openai-compatible", name: "mock", model: "json", baseUrl: `${base}/v1` }], logging: { level: "warn" } }))

const agent = new Agent({ keepAliveTimeout: 60_000 })
const rawBody = JSON.stringify({ model: "json", messages: [{ role: "user", content: "hello" }], stream: false })
const cases: Record<string, () => Promise<unknown>> = {
  raw: async () => {
    const response = await undiciRequest(`${base}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: rawBody,
      dispatcher: agent
    })
    return response.body.json()
  },
  http: () => rtHttp.runPromise(Effect.flatMap(client.execute(req), (r) => r.json)),
  provider: () => rtProvider.runPromise(ChatProvider.chat(request)),
  router: () => rtRouter.runPromise(ChatProvider.chat(request)),
  flexiai: () => rtFlex.runPromise(chat(request))
}
// BENCH_CONCURRENCY=16 keeps that many calls in flight; BENCH_LAYERS=raw,flexiai times only those
// (each layer warms the code the next one shares, so a subset shows what that sharing is worth)
const concurrency = Number(process.env["BENCH_CONCURRENCY"] ?? 1)
const onlyLayers = process.env["BENCH_LAYERS"]?.split(",")
for (const name of Object.keys(cases)) if (onlyLayers !== undefined && !onlyLayers.includes(name)) delete cases[name]
const cpu = async (run: () => Promise<unknown>, n: number) => {
  const s = process.cpuUsage()
  let left = n
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left > 0) {
      left--
      await run()
    }
  }))
  const u = process.cpuUsage(s)
  return (u.user + u.system) / n
}
for (const run of Object.values(cases)) await cpu(run, Number(process.env["BENCH_WARMUP"] ?? 6000))
const out: Record<string, Array<number>> = {}
for (let round = 0; round < 5; round++) for (const [name, run] of Object.entries(cases)) (out[name] ??= []).push(await cpu(run, 3000))
for (const [name, values] of Object.entries(out)) console.log(name, values.sort((a, b) => a - b)[2]!.toFixed(1), values.map((v) => v.toFixed(0)).join(" "))
server.kill(); process.exit(0)
