/**
 * `pnpm bench:features`: what events, metrics and tracing each add per request when they are on,
 * and that they add nothing measurable when off. Same method as `pnpm bench` (`case.ts`): the
 * upstream is `server.ts` in a process of its own; each (mode, case) runs in a fresh process, modes
 * alternating within a round over several rounds; the figure is client CPU (user + system) per
 * request after a warm-up and a forced collection; medians are reported.
 *
 * Modes, each on the path a user runs (`chat` / `stream` accessors on `FlexiAI.layer` over one
 * OpenAI-compatible provider, default policy):
 * - `off`: no subscriber, no metrics, Effect's default tracer (the hub is there, inactive);
 * - `events`: one `FlexiAI.events` subscriber draining every event;
 * - `metrics`: `metrics: true` (`RouterMetrics` into the default registry);
 * - `tracing`: a tracer that makes every span and drops it (span creation and the GenAI
 *   attributes; no export, which is the exporter's cost, not ours);
 * - `all`: the three together;
 * - `router-bare` / `router-hub`: `Router.layer` over the same provider without and with an
 *   inactive `RouterEvents` in context: the event sites' own cost when nobody listens.
 *
 * Cases: `chat` (a JSON answer) and `stream` (a one-chunk stream), both per request.
 *
 * Usage: `pnpm bench:features` (BENCH_ROUNDS=3, FEATURES_MODES=off,events,..., FEATURES_CASES=chat,stream,
 * FEATURES_WARMUP=20000, FEATURES_COUNT=5000). Benchmarks, not tests: CI times nothing.
 */
import { type ChatProvider, type ChatRequest, CircuitBreaker, Router, RouterEvents } from "@flexiai/core"
import { OpenAiChat, OpenAiClient } from "@flexiai/openai"
import * as UndiciHttpClient from "@flexiai/provider/UndiciHttpClient"
import { Effect, Layer, ManagedRuntime, Redacted, Stream, Tracer } from "effect"
import { chat, FlexiAI, stream } from "flexiai"
import { execFileSync, fork } from "node:child_process"

const modes = ["off", "events", "metrics", "tracing", "all", "router-bare", "router-hub"] as const
type Mode = (typeof modes)[number]
const cases = ["chat", "stream"] as const

const warmup = Number(process.env["FEATURES_WARMUP"] ?? 20_000)
const count = Number(process.env["FEATURES_COUNT"] ?? 5000)
const median = (values: ReadonlyArray<number>): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

// ---------------------------------------------------------------------------
// child: one mode, one case, in this process
// ---------------------------------------------------------------------------

const child = async (mode: Mode, which: string, port: string): Promise<void> => {
  const base = `http://127.0.0.1:${port}`
  const gc = (globalThis as { gc?: () => void }).gc!
  const dropping = Tracer.make({ span: (options) => new Tracer.NativeSpan(options) })

  const flexi = FlexiAI.layer(
    {
      providers: [{ kind: "openai-compatible", name: "mock", model: "json", models: { "*": "*" }, baseUrl: `${base}/v1`, apiKey: "sk-bench" }],
      logging: { level: "warn" }
    },
    { metrics: mode === "metrics" || mode === "all" }
  )
  const upstream = OpenAiChat.layer({ name: "mock" }).pipe(
    Layer.provide(OpenAiClient.layer({ name: "mock", apiKey: Redacted.make("sk-bench"), apiUrl: `${base}/v1`, defaultModel: "json" })),
    Layer.provide(UndiciHttpClient.layer)
  )
  const router = Router.layer({ providers: [upstream] }).pipe(Layer.provide(CircuitBreaker.layerMemory()))
  const flexiRuntime = ManagedRuntime.make(flexi)
  const runtime: ManagedRuntime.ManagedRuntime<ChatProvider.ChatProvider, unknown> = mode === "router-bare"
    ? ManagedRuntime.make(router)
    : mode === "router-hub"
    ? ManagedRuntime.make(router.pipe(Layer.provide(RouterEvents.layer())))
    : flexiRuntime
  await runtime.runPromise(Effect.void)
  if (mode === "events" || mode === "all") flexiRuntime.runFork(Stream.runDrain(FlexiAI.events))
  const tracing = mode === "tracing" || mode === "all"
  const traced = <A, E>(effect: Effect.Effect<A, E, ChatProvider.ChatProvider>) =>
    tracing ? Effect.withTracer(effect, dropping) : effect
  const chatRequest: ChatRequest.ChatRequest = { model: "json", messages: [{ role: "user", content: "hello" }] }
  const streamRequest: ChatRequest.ChatRequest = { model: "chunks-1", messages: [{ role: "user", content: "hello" }] }
  const chatOnce = traced(chat(chatRequest))
  const streamOnce = traced(Stream.runDrain(stream(streamRequest)))
  const run = which === "chat" ? () => runtime.runPromise(chatOnce) : () => runtime.runPromise(streamOnce)

  for (let index = 0; index < warmup; index++) await run()
  gc()
  for (let index = 0; index < warmup; index++) await run()
  const start = process.cpuUsage()
  for (let index = 0; index < count; index++) await run()
  const used = process.cpuUsage(start)
  console.log(JSON.stringify((used.user + used.system) / count))
  await runtime.dispose()
  if (runtime !== flexiRuntime) await flexiRuntime.dispose()
  process.exit(0)
}

// ---------------------------------------------------------------------------
// parent: rounds of fresh processes against one server
// ---------------------------------------------------------------------------

const parent = async (): Promise<void> => {
  const rounds = Number(process.env["BENCH_ROUNDS"] ?? 3)
  const wantedModes = (process.env["FEATURES_MODES"]?.split(",") ?? modes) as ReadonlyArray<Mode>
  const wantedCases = process.env["FEATURES_CASES"]?.split(",") ?? cases
  const server = fork(new URL("./server.ts", import.meta.url), { stdio: ["ignore", "inherit", "inherit", "ipc"] })
  const port = await new Promise<number>((resolve) => server.once("message", (message: { port: number }) => resolve(message.port)))
  const self = new URL(import.meta.url).pathname
  const once = (mode: Mode, which: string): number =>
    Number(
      execFileSync(process.execPath, ["--expose-gc", self, "child", mode, which, String(port)], { encoding: "utf8" })
        .trim().split("\n").at(-1)
    )
  const figures = new Map<string, Array<number>>()
  for (const which of wantedCases) {
    for (let round = 0; round < rounds; round++) {
      for (const mode of wantedModes) {
        const value = once(mode, which)
        const key = `${which}/${mode}`
        figures.set(key, [...(figures.get(key) ?? []), value])
        process.stderr.write(`  ${key}: ${value.toFixed(1)} µs\n`)
      }
    }
  }
  server.kill()
  const rows: Array<ReadonlyArray<string>> = [["case", "mode", "CPU µs/request", "vs off", "rounds"]]
  for (const which of wantedCases) {
    const off = median(figures.get(`${which}/off`) ?? [Number.NaN])
    const bare = median(figures.get(`${which}/router-bare`) ?? [Number.NaN])
    for (const mode of wantedModes) {
      const values = figures.get(`${which}/${mode}`)!
      const value = median(values)
      // the router-only pair compares with each other, the FlexiAI modes with `off`
      const reference = mode.startsWith("router-") ? bare : off
      const delta = value - reference
      rows.push([
        which,
        mode,
        value.toFixed(1),
        mode === "off" || mode === "router-bare" ? "–" : `${delta >= 0 ? "+" : ""}${delta.toFixed(1)} µs`,
        values.map((v) => v.toFixed(1)).join(" ")
      ])
    }
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join("  "))
}

const [role, mode, which, port] = process.argv.slice(2)
if (role === "child") await child(mode as Mode, which!, port!)
else await parent()
