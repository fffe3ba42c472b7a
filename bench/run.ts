/**
 * `pnpm bench`: FlexiAI (router → OpenAI provider → Effect HttpClient on undici) against the floor,
 * a raw `undici` request with a hand-written SSE loop, both talking to the same local server (a
 * child process, so its CPU is not counted). Prints ratios; CI runs none of this.
 *
 * Figures: client CPU per non-streamed request, CPU per streamed chunk (200-chunk minus 1-chunk
 * streams, per chunk), time-to-first-token overhead, heap per open stream (1,000 at once), and
 * the cost of skipping an open circuit (with a check that no request reached that provider).
 */
import { NodeHttpClient } from "@effect/platform-node"
import { ChatProvider, CircuitBreaker, Router } from "@flexiai/core"
import type { ChatRequest, ChatResponse } from "@flexiai/core"
import { OpenAiChat, OpenAiClient } from "@flexiai/openai"
import { Effect, Fiber, Layer, ManagedRuntime, Redacted, Stream } from "effect"
import { fork } from "node:child_process"
import { Agent, request as undiciRequest } from "undici"

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error("run with --expose-gc (pnpm bench does)")

// ---------------------------------------------------------------------------
// the server
// ---------------------------------------------------------------------------

const server = fork(new URL("./server.ts", import.meta.url), { stdio: ["ignore", "inherit", "inherit", "ipc"] })
const port = await new Promise<number>((resolve) => server.once("message", (message: { port: number }) => resolve(message.port)))
const serverCount = () =>
  new Promise<number>((resolve) => {
    server.once("message", (message: { count: number }) => resolve(message.count))
    server.send({ type: "count" })
  })
const base = `http://127.0.0.1:${port}`

// ---------------------------------------------------------------------------
// the floor: raw undici + a hand-written SSE loop
// ---------------------------------------------------------------------------

const agent = new Agent({ keepAliveTimeout: 60_000 })
const headers = { "content-type": "application/json", authorization: "Bearer sk-bench" }
const wireBody = (model: string, stream: boolean) =>
  JSON.stringify({ model, messages: [{ role: "user", content: "hello" }], stream })

const rawChat = async (): Promise<string> => {
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
// FlexiAI
// ---------------------------------------------------------------------------

const upstream = (name: string) =>
  OpenAiChat.layer({ name }).pipe(
    Layer.provide(OpenAiClient.layer({ name, apiKey: Redacted.make("sk-bench"), apiUrl: `${base}/v1`, defaultModel: "json" })),
    Layer.provide(NodeHttpClient.layerUndici)
  )

const routerLayer = Router.layer({ providers: [upstream("mock")], policy: { retry: { maxRetries: 0 } } }).pipe(
  Layer.provideMerge(CircuitBreaker.layerMemory())
)
const runtime = ManagedRuntime.make(routerLayer)
const router = await runtime.runPromise(Effect.service(ChatProvider.ChatProvider))

const request = (model: string): ChatRequest.ChatRequest => ({ model, messages: [{ role: "user", content: "hello" }] })
const jsonRequest = request("json")

const flexChat = (): Promise<ChatResponse.ChatResponse> => runtime.runPromise(router.chat(jsonRequest))
const flexStream = (model: string, onFirst?: () => void): Promise<void> => {
  let first = true
  return runtime.runPromise(
    Stream.runForEach(router.stream(request(model)), (part) =>
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

const cpuMicros = async (count: number, run: () => Promise<unknown>): Promise<number> => {
  for (let index = 0; index < Math.max(50, count / 5); index++) await run()
  gc()
  const start = process.cpuUsage()
  for (let index = 0; index < count; index++) await run()
  const used = process.cpuUsage(start)
  return (used.user + used.system) / count
}

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

/** Alternates the two sides over several rounds, so drift on the machine hits both alike. */
const compare = async (rounds: number, raw: () => Promise<number>, flex: () => Promise<number>) => {
  const raws: Array<number> = []
  const flexes: Array<number> = []
  for (let round = 0; round < rounds; round++) {
    raws.push(await raw())
    flexes.push(await flex())
  }
  return { raw: median(raws), flex: median(flexes) }
}

const ttftMillis = async (count: number, run: (onFirst: () => void) => Promise<unknown>): Promise<number> => {
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
  return { ready: first, close: async () => { controller.abort(); await done } }
}

const openFlex = () => {
  let ready!: () => void
  const first = new Promise<void>((resolve) => (ready = resolve))
  let isFirst = true
  const fiber = runtime.runFork(
    Stream.runForEach(router.stream(request("stall")), () =>
      Effect.sync(() => {
        if (isFirst) {
          isFirst = false
          ready()
        }
      }))
  )
  return { ready: first, close: () => runtime.runPromise(Fiber.interrupt(fiber)) }
}

const results: Array<{ figure: string; raw: string; flex: string; ratio: string; target: string }> = []
const fmt = (value: number, digits = 1) => value.toFixed(digits)

// 1. CPU per non-streamed request
{
  const { flex, raw } = await compare(5, () => cpuMicros(1500, rawChat), () => cpuMicros(1500, flexChat))
  results.push({ figure: "CPU per request (µs)", raw: fmt(raw), flex: fmt(flex), ratio: `${fmt(flex / raw, 2)}×`, target: "≤ 4×" })
}

// 2. CPU per streamed chunk
{
  const perChunk = (run: (model: string) => Promise<unknown>) => async () => {
    const long = await cpuMicros(120, () => run("chunks-200"))
    const short = await cpuMicros(600, () => run("chunks-1"))
    return (long - short) / 199
  }
  const { flex, raw } = await compare(5, perChunk((model) => rawStream(model)), perChunk((model) => flexStream(model)))
  results.push({ figure: "CPU per streamed chunk (µs)", raw: fmt(raw, 2), flex: fmt(flex, 2), ratio: `${fmt(flex / raw, 2)}×`, target: "≤ 2.5×" })
}

// 3. time to first token
{
  const { flex, raw } = await compare(
    5,
    () => ttftMillis(300, (onFirst) => rawStream("chunks-1", onFirst)),
    () => ttftMillis(300, (onFirst) => flexStream("chunks-1", onFirst))
  )
  results.push({ figure: "time to first token (ms)", raw: fmt(raw, 3), flex: fmt(flex, 3), ratio: `+${fmt(flex - raw, 3)} ms`, target: "≤ +0.35 ms" })
}

// 4. heap per open stream
{
  const raw = await heapPerStream(1000, openRaw)
  const flex = await heapPerStream(1000, openFlex)
  results.push({ figure: "heap per open stream (KiB)", raw: fmt(raw / 1024, 1), flex: fmt(flex / 1024, 1), ratio: `${fmt(flex / raw, 2)}×`, target: "≤ 2.5×" })
}

// 5. skipping an open circuit: a router over [open upstream, in-memory answer] vs [in-memory answer]
{
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
  const local = Layer.succeed(ChatProvider.ChatProvider, ChatProvider.ChatProvider.of({
    name: "local",
    defaultModel: "json",
    capabilities: ChatProvider.allCapabilities,
    chat: () => Effect.succeed(answer),
    stream: () => Stream.empty
  }))
  const withOpen = ManagedRuntime.make(
    Router.layer({ providers: [upstream("open"), local] }).pipe(Layer.provideMerge(CircuitBreaker.layerMemory()))
  )
  const alone = ManagedRuntime.make(Router.layer({ providers: [local] }).pipe(Layer.provideMerge(CircuitBreaker.layerMemory())))
  await withOpen.runPromise(Effect.flatMap(Effect.service(CircuitBreaker.CircuitBreaker), (breaker) => breaker.forceOpen("open:json", "1 hour")))
  const openRouter = await withOpen.runPromise(Effect.service(ChatProvider.ChatProvider))
  const aloneRouter = await alone.runPromise(Effect.service(ChatProvider.ChatProvider))
  const time = async (run: () => Promise<unknown>, count: number) => {
    for (let index = 0; index < 2000; index++) await run()
    const start = performance.now()
    for (let index = 0; index < count; index++) await run()
    return ((performance.now() - start) * 1000) / count
  }
  const before = await serverCount()
  const { flex, raw } = await compare(
    5,
    () => time(() => alone.runPromise(aloneRouter.chat(jsonRequest)), 20_000),
    () => time(() => withOpen.runPromise(openRouter.chat(jsonRequest)), 20_000)
  )
  const reached = (await serverCount()) - before
  results.push({
    figure: "skipping an open circuit (µs per call)",
    raw: fmt(raw, 2),
    flex: fmt(flex, 2),
    ratio: `+${fmt(flex - raw, 2)} µs, ${reached} requests reached it`,
    target: "≤ 5 µs, 0 requests"
  })
  await withOpen.dispose()
  await alone.dispose()
}

console.log(`\nFlexiAI overhead vs raw undici (Node ${process.version}, ${new Date().toISOString()})\n`)
console.log("| figure | raw undici | FlexiAI | FlexiAI vs raw | target |")
console.log("| --- | --- | --- | --- | --- |")
for (const row of results) console.log(`| ${row.figure} | ${row.raw} | ${row.flex} | ${row.ratio} | ${row.target} |`)

await runtime.dispose()
await agent.close()
server.disconnect()
