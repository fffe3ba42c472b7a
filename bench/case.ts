/**
 * One benchmark case for one side, in a process of its own so neither side's JIT state or heap
 * colours the other's figure. `run.ts` starts the server once and runs these in rounds.
 *
 * Usage: node --expose-gc bench/case.ts <raw|flex|effect> <case> <port>; prints one JSON value. The
 * FlexiAI side is the path a user runs: the `chat` / `stream` accessors (request validation
 * included) on `FlexiAI.layer` over one OpenAI-compatible provider with the default policy
 * (retries on) and the default HTTP client (the kit's `UndiciHttpClient`), through
 * `ManagedRuntime.runPromise`. Per-request and per-chunk cases run at concurrency 1 and 16
 * (`chat-16`: 16 calls in flight at all times, CPU divided by calls made). The skip case builds a
 * `Router` by hand, to put an in-memory provider behind an open circuit.
 *
 * `effect` is the FlexiAI side on Effect's `NodeHttpClient.layerUndici` instead (the `httpClient`
 * option), to show what the client choice is worth. The `http-*` cases time the HTTP clients
 * alone (`flex` there is `UndiciHttpClient`, `effect` Effect's undici client).
 */
import { NodeHttpClient } from "@effect/platform-node"
import { ChatProvider, CircuitBreaker, Router } from "@flexiai/core"
import type { ChatRequest, ChatResponse } from "@flexiai/core"
import { OpenAiChat, OpenAiClient } from "@flexiai/openai"
import * as UndiciHttpClient from "@flexiai/provider/UndiciHttpClient"
import { Effect, Fiber, Layer, ManagedRuntime, Redacted, Stream } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import { chat, FlexiAI, stream } from "flexiai"
import { Agent, request as undiciRequest } from "undici"
import { cpuPerRun, median, perChunkMicros, repeat } from "./measure.ts"

const [side, which, portText] = process.argv.slice(2) as [string, string, string]
const base = `http://127.0.0.1:${portText}`
const gc = (globalThis as { gc?: () => void }).gc!

// ---------------------------------------------------------------------------
// the floor: raw undici + a hand-written SSE loop
// ---------------------------------------------------------------------------

const agent = new Agent({ keepAliveTimeout: 60_000 })
const headers = { "content-type": "application/json", authorization: "Bearer sk-bench" }
const wireBody = (model: string, stream: boolean) =>
  JSON.stringify({ model, messages: [{ role: "user", content: "hello" }], stream })

const rawChat = async (): Promise<unknown> => {
  const response = await undiciRequest(`${base}/v1/chat/completions`, {
    method: "POST",
    headers,
    body: wireBody("json", false),
    dispatcher: agent
  })
  const json = await response.body.json() as { choices: Array<{ message: { content: string } }> }
  return json.choices[0]!.message.content
}

const rawStream = async (model: string, onFirst?: () => void, signal?: AbortSignal): Promise<string> => {
  const response = await undiciRequest(`${base}/v1/chat/completions`, {
    method: "POST",
    headers,
    body: wireBody(model, true),
    dispatcher: agent,
    ...(signal === undefined ? {} : { signal })
  })
  const decoder = new TextDecoder()
  let buffer = ""
  let text = ""
  for await (const bytes of response.body) {
    buffer += decoder.decode(bytes as Uint8Array, { stream: true })
    let end: number
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      if (!event.startsWith("data: ")) continue
      const data = event.slice(6)
      if (data === "[DONE]") return text
      const parsed = JSON.parse(data) as { choices: Array<{ delta?: { content?: string } }> }
      const content = parsed.choices[0]?.delta?.content
      if (content) {
        if (text === "") onFirst?.()
        text += content
      }
    }
  }
  return text
}

// ---------------------------------------------------------------------------
// FlexiAI: router → OpenAI provider → UndiciHttpClient (or Effect's undici client)
// ---------------------------------------------------------------------------

const upstream = (name: string) =>
  OpenAiChat.layer({ name }).pipe(
    Layer.provide(OpenAiClient.layer({ name, apiKey: Redacted.make("sk-bench"), apiUrl: `${base}/v1`, defaultModel: "json" })),
    Layer.provide(UndiciHttpClient.layer)
  )
// The path users get: FlexiAI.layer (router with the default policy, breaker, OpenAI-compatible
// provider, UndiciHttpClient) and the `chat` / `stream` accessors, which validate the request first
const runtime = ManagedRuntime.make(
  FlexiAI.layer(
    {
      // the server picks its answer by model name (json, s200, stall, …): route every name to it as it is
      providers: [{ kind: "openai-compatible", name: "mock", model: "json", models: { "*": "*" }, baseUrl: `${base}/v1`, apiKey: "sk-bench" }],
      logging: { level: "warn" }
    },
    side === "effect" ? { httpClient: NodeHttpClient.layerUndici } : {}
  )
)
await runtime.runPromise(Effect.void)
const request = (model: string): ChatRequest.ChatRequest => ({ model, messages: [{ role: "user", content: "hello" }] })
const jsonRequest = request("json")

const flexChat = (): Promise<unknown> => runtime.runPromise(chat(jsonRequest))
const flexStream = (model: string, onFirst?: () => void): Promise<void> => {
  let first = true
  return runtime.runPromise(
    Stream.runForEach(stream(request(model)), (part) =>
      Effect.sync(() => {
        if (first && part.type === "text-delta") {
          first = false
          onFirst?.()
        }
      }))
  )
}

// ---------------------------------------------------------------------------
// measuring
// ---------------------------------------------------------------------------

/**
 * CPU per run after `warmup` runs, a forced full collection (so the warm-up's garbage is not
 * collected on the measured runs' time) and as many runs again as are measured. The second
 * warm-up is there because a forced collection is not something a serving process sees, and
 * the few thousand runs after it pay to get back to where they were (the collection resets heap
 * sizing and may drop compiled code; which of the two costs more was not pinned down).
 * Measured straight after it, the FlexiAI side (more code, more allocation) read 190 µs per
 * request at concurrency 16 where the same process read 125 µs without the forced collection;
 * raw undici moved by 2 µs.
 */
const cpuMicros = async (warmup: number, count: number, run: () => Promise<unknown>, concurrency = 1): Promise<number> => {
  await repeat(warmup, concurrency, run)
  gc()
  await repeat(count, concurrency, run)
  return cpuPerRun(count, run, concurrency)
}


const ttftMillis = async (count: number, run: (onFirst: () => void) => Promise<unknown>): Promise<number> => {
  for (let index = 0; index < 10_000; index++) await run(() => undefined)
  const samples: Array<number> = []
  for (let index = 0; index < count; index++) {
    const start = performance.now()
    let first = 0
    await run(() => {
      first = performance.now()
    })
    samples.push(first - start)
  }
  return median(samples)
}

const heapPerStream = async (count: number, open: () => { ready: Promise<void>; close: () => Promise<void> }) => {
  // warm the path once so code and pools are not counted as per-stream memory
  const warm = Array.from({ length: 20 }, open)
  await Promise.all(warm.map((stream) => stream.ready))
  await Promise.all(warm.map((stream) => stream.close()))
  gc()
  await new Promise((resolve) => setTimeout(resolve, 50))
  gc()
  const before = process.memoryUsage().heapUsed
  const streams = Array.from({ length: count }, open)
  await Promise.all(streams.map((stream) => stream.ready))
  gc()
  const after = process.memoryUsage().heapUsed
  await Promise.all(streams.map((stream) => stream.close()))
  return (after - before) / count
}

const openRaw = () => {
  const controller = new AbortController()
  let ready!: () => void
  const first = new Promise<void>((resolve) => (ready = resolve))
  const done = rawStream("stall", ready, controller.signal).catch(() => undefined)
  return {
    ready: first,
    close: async () => {
      controller.abort()
      await done
    }
  }
}

const openFlex = () => {
  let ready!: () => void
  const first = new Promise<void>((resolve) => (ready = resolve))
  let isFirst = true
  const fiber = runtime.runFork(
    Stream.runForEach(stream(request("stall")), () =>
      Effect.sync(() => {
        if (isFirst) {
          isFirst = false
          ready()
        }
      }))
  )
  return { ready: first, close: () => runtime.runPromise(Fiber.interrupt(fiber)) }
}

/**
 * Time per `chat` call (the accessor, on `Router.layer` with the default policy) over [in-memory answer] alone (`alone`) and over [open upstream, in-memory
 * answer] (`withOpen`), measured in this one process in alternating rounds, so the difference is
 * the skip and not the noise between two processes. Prints the median of each.
 */
const skipMicros = async (): Promise<{ readonly alone: number; readonly withOpen: number }> => {
  const answer: ChatResponse.ChatResponse = {
    id: "local",
    text: "local",
    toolCalls: [],
    finishReason: "stop",
    provider: "local",
    model: "local",
    latencyMillis: 0,
    attempts: []
  }
  const local = Layer.succeed(
    ChatProvider.ChatProvider,
    ChatProvider.ChatProvider.of({
      name: "local",
      defaultModel: "json",
      capabilities: ChatProvider.allCapabilities,
      chat: () => Effect.succeed(answer),
      stream: () => Stream.empty
    })
  )
  const build = async (withOpenCircuit: boolean) => {
    const skipRuntime = ManagedRuntime.make(
      Router.layer({ providers: withOpenCircuit ? [upstream("open"), local] : [local] }).pipe(
        Layer.provideMerge(CircuitBreaker.layerMemory())
      )
    )
    if (withOpenCircuit) {
      await skipRuntime.runPromise(
        Effect.flatMap(Effect.service(CircuitBreaker.CircuitBreaker), (breaker) => breaker.forceOpen("open:json", "1 hour"))
      )
    }
    return { dispose: () => skipRuntime.dispose(), run: () => skipRuntime.runPromise(chat(jsonRequest)) }
  }
  const alone = await build(false)
  const withOpen = await build(true)
  const time = async (run: () => Promise<unknown>, count: number) => {
    const start = performance.now()
    for (let index = 0; index < count; index++) await run()
    return ((performance.now() - start) * 1000) / count
  }
  await time(alone.run, 10_000)
  await time(withOpen.run, 10_000)
  const aloneTimes: Array<number> = []
  const withOpenTimes: Array<number> = []
  for (let round = 0; round < 11; round++) {
    aloneTimes.push(await time(alone.run, 4_000))
    withOpenTimes.push(await time(withOpen.run, 4_000))
  }
  await alone.dispose()
  await withOpen.dispose()
  return { alone: median(aloneTimes), withOpen: median(withOpenTimes) }
}

// ---------------------------------------------------------------------------
// the HTTP clients alone: ours (`flex`), Effect's undici client (`effect`), raw undici (`raw`)
// ---------------------------------------------------------------------------

// without Effect's HTTP span, as FlexiAI's providers run (`httpSpans` is opt-in)
const httpRuntime = side === "raw"
  ? undefined
  : ManagedRuntime.make(Layer.merge(
    side === "effect" ? NodeHttpClient.layerUndici : UndiciHttpClient.layer,
    Layer.succeed(HttpClient.TracerDisabledWhen, () => true)
  ))
const httpClient = httpRuntime === undefined ? undefined : await httpRuntime.runPromise(Effect.service(HttpClient.HttpClient))
const httpRequest = (model: string, streamed: boolean) =>
  HttpClientRequest.post(`${base}/v1/chat/completions`).pipe(
    HttpClientRequest.setHeaders(headers),
    HttpClientRequest.bodyText(wireBody(model, streamed), "application/json")
  )
const httpChatRequest = httpRequest("json", false)
const httpStreamRequest = httpRequest("chunks-1", true)
const httpChat = (): Promise<unknown> =>
  httpRuntime!.runPromise(Effect.flatMap(httpClient!.execute(httpChatRequest), (response) => response.json))
// streams as the providers read them: a scoped request, the body read to its end
const scopedHttp = httpClient === undefined ? undefined : HttpClient.withScope(httpClient)
const httpFirstBytes = (onFirst: () => void): Promise<unknown> => {
  let first = true
  return httpRuntime!.runPromise(Effect.scoped(Effect.flatMap(scopedHttp!.execute(httpStreamRequest), (response) =>
    Stream.runForEach(response.stream, () =>
      Effect.sync(() => {
        if (first) {
          first = false
          onFirst()
        }
      })))))
}
const rawFirstBytes = async (onFirst: () => void): Promise<unknown> => {
  const response = await undiciRequest(`${base}/v1/chat/completions`, {
    method: "POST",
    headers,
    body: wireBody("chunks-1", true),
    dispatcher: agent
  })
  let first = true
  for await (const _ of response.body) {
    if (first) {
      first = false
      onFirst()
    }
  }
  return undefined
}

const raw = side === "raw"
const chatRun = raw ? rawChat : flexChat
const streamRun = (model: string) => (raw ? rawStream(model) : flexStream(model))
const cases: Record<string, () => Promise<unknown>> = {
  chat: () => cpuMicros(20_000, 5000, chatRun),
  "chat-16": () => cpuMicros(20_000, 5008, chatRun, 16),
  stream: () => perChunkMicros(streamRun),
  "stream-16": () => perChunkMicros(streamRun, 16),
  ttft: () => ttftMillis(1000, (onFirst) => (raw ? rawStream("chunks-1", onFirst) : flexStream("chunks-1", onFirst))),
  heap: () => heapPerStream(1000, raw ? openRaw : openFlex),
  skip: () => skipMicros(),
  "http-chat": () => cpuMicros(20_000, 5000, raw ? rawChat : httpChat),
  "http-chat-16": () => cpuMicros(20_000, 5008, raw ? rawChat : httpChat, 16),
  "http-ttfb": () => ttftMillis(1000, raw ? rawFirstBytes : httpFirstBytes)
}

const value = await cases[which]!()
console.log(JSON.stringify(value))
await runtime.dispose()
await httpRuntime?.dispose()
await agent.close()
process.exit(0)
