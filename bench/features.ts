/**
 * `pnpm bench:features`: what each observability and cost feature adds per request when it is
 * on, and that it adds nothing when off. Same method as `pnpm bench` (`case.ts`), with its loops
 * (`measure.ts`): the upstream is `server.ts` in a process of its own; each (mode, case) runs in a
 * fresh process, modes alternating within a round over several rounds; the figure is client CPU
 * (user + system) per request after a warm-up and a forced collection; medians are reported.
 *
 * Modes, each on the path a user runs (`chat` / `stream` accessors on `FlexiAI.layer` over one
 * OpenAI-compatible provider, default policy), each one feature on top of `off`:
 * - `off`: no subscriber, no metrics, Effect's default tracer, `pricing.enabled: false` (the hub
 *   is there, inactive; providers unwrapped);
 * - `events`: one `FlexiAI.events` subscriber draining every event;
 * - `metrics`: `metrics: true` (`RouterMetrics` into the default registry);
 * - `tracing`: a tracer that makes every span and drops it (span creation and the GenAI
 *   attributes; no export, which is the exporter's cost, not ours);
 * - `pricing`: metering on (cost on every answer, the ledger), the bench models priced;
 * - `budgets`: `pricing` plus one budget that never runs out (in memory: reserve and settle);
 * - `cache`: the response cache on (memory store), every request a new one: the miss path (the
 *   key's hash, the entry's encoding and write);
 * - `cache-hit`: the cache on and the same request every time: answered from the cache (no
 *   provider call; below `off`);
 * - `rate-limit`: limits that never bind on the provider (requests, tokens, concurrency: the
 *   limiter's consume, the token estimate, the semaphore and the header feed per request);
 * - `all`: every feature above together (the cache on its miss path);
 * - `router-bare` / `router-hub`: `Router.layer` over the same provider without and with an
 *   inactive `RouterEvents` in context: the event sites' own cost when nobody listens (the "off
 *   adds nothing" row: its delta should be noise).
 *
 * Cases: `chat` (a JSON answer) and `stream` (a one-chunk stream), both per request.
 *
 * **Bounded**: the default counts (FEATURES_WARMUP=3000 runs, then a collection, then
 * FEATURES_COUNT=3000 measured) keep a child to about 2–3 s on an idle 2-core machine, so 3 rounds
 * of 9 modes × 2 cases (54 processes) take about 3–4 minutes; the parent prints the time taken.
 * The previous 45,000 runs per child did not finish 3 rounds in 8 minutes.
 *
 * Usage: `pnpm bench:features` (BENCH_ROUNDS=3, FEATURES_MODES=off,events,..., FEATURES_CASES=chat,stream,
 * FEATURES_WARMUP, FEATURES_COUNT). Benchmarks, not tests: CI times nothing.
 */
import { type ChatProvider, CircuitBreaker, Router, RouterEvents } from "@flexiai/core"
import { OpenAiChat, OpenAiClient } from "@flexiai/openai"
import * as UndiciHttpClient from "@flexiai/provider/UndiciHttpClient"
import { Effect, Layer, ManagedRuntime, Redacted, Stream, Tracer } from "effect"
import { chat, FlexiAI, stream } from "flexiai"
import { execFileSync, fork } from "node:child_process"
import { cpuPerRun, median, repeat } from "./measure.ts"

const modes = [
  "off",
  "events",
  "metrics",
  "tracing",
  "pricing",
  "budgets",
  "cache",
  "cache-hit",
  "rate-limit",
  "all",
  "router-bare",
  "router-hub"
] as const
type Mode = (typeof modes)[number]
const cases = ["chat", "stream"] as const

/**
 * Features not built yet: their rows say so instead of a figure. Whoever lands one removes it
 * here and gives it its `FlexiAI.Input` in `featureInput` (and to `all`).
 */
const todo: Partial<Record<Mode, string>> = {}

const warmup = Number(process.env["FEATURES_WARMUP"] ?? 3000)
const count = Number(process.env["FEATURES_COUNT"] ?? 3000)

const priced = ["json", "chunks-1"].map((model) => ({ model, input: 1, output: 2, source: "bench", date: "2026-01-01" }))

/** Limits the bench never reaches. */
const rateLimit = { requestsPerMinute: 1e9, tokensPerMinute: 1e12, concurrency: 10_000 }

/** What a FlexiAI mode sets beyond `off` (its provider's `rateLimit` is set in `child`). */
const featureInput = (mode: Mode): Partial<FlexiAI.Input> => {
  const pricing = { pricing: { enabled: true, models: priced } }
  const budgets = { ...pricing, budgets: { limits: [{ name: "bench", limitUsd: 1e12, period: "total" as const }] } }
  const cache = { cache: { enabled: true, maxEntries: 1000 } }
  switch (mode) {
    case "pricing":
      return pricing
    case "budgets":
      return budgets
    case "cache":
    case "cache-hit":
      return { pricing: { enabled: false }, ...cache }
    case "all":
      return { ...budgets, ...cache }
    default:
      return { pricing: { enabled: false } }
  }
}

// ---------------------------------------------------------------------------
// child: one mode, one case, in this process
// ---------------------------------------------------------------------------

const child = async (mode: Mode, which: string, port: string): Promise<void> => {
  const base = `http://127.0.0.1:${port}`
  const gc = (globalThis as { gc?: () => void }).gc!
  const dropping = Tracer.make({ span: (options) => new Tracer.NativeSpan(options) })

  const flexi = FlexiAI.layer(
    {
      providers: [{
        kind: "openai-compatible",
        name: "mock",
        model: "json",
        models: { "*": "*" },
        baseUrl: `${base}/v1`,
        apiKey: "sk-bench",
        ...(mode === "rate-limit" || mode === "all" ? { rateLimit } : {})
      }],
      logging: { level: "warn" },
      ...featureInput(mode)
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
  // the cache's miss path needs a new request each time (`off` and the rest pay the same suffix)
  let serial = 0
  const content = mode === "cache-hit" ? () => "hello" : () => `hello ${serial++}`
  const chatOnce = () => traced(chat({ model: "json", messages: [{ role: "user", content: content() }] }))
  const streamOnce = () => traced(Stream.runDrain(stream({ model: "chunks-1", messages: [{ role: "user", content: content() }] })))
  const run = which === "chat" ? () => runtime.runPromise(chatOnce()) : () => runtime.runPromise(streamOnce())

  await repeat(warmup, 1, run)
  gc()
  console.log(JSON.stringify(await cpuPerRun(count, run)))
  await runtime.dispose()
  if (runtime !== flexiRuntime) await flexiRuntime.dispose()
  process.exit(0)
}

// ---------------------------------------------------------------------------
// parent: rounds of fresh processes against one server
// ---------------------------------------------------------------------------

const parent = async (): Promise<void> => {
  const started = Date.now()
  const rounds = Number(process.env["BENCH_ROUNDS"] ?? 3)
  const wantedModes = (process.env["FEATURES_MODES"]?.split(",") ?? modes) as ReadonlyArray<Mode>
  const wantedCases = process.env["FEATURES_CASES"]?.split(",") ?? cases
  const server = fork(new URL("./server.ts", import.meta.url), { stdio: ["ignore", "inherit", "inherit", "ipc"] })
  const port = await new Promise<number>((resolve) => server.once("message", (message: { port: number }) => resolve(message.port)))
  const self = new URL(import.meta.url).pathname
  const once = (mode: Mode, which: string): number =>
    Number(
      execFileSync(process.execPath, ["--expose-gc", self, "child", mode, which, String(port)], {
        encoding: "utf8",
        env: { ...process.env, FEATURES_WARMUP: String(warmup), FEATURES_COUNT: String(count) }
      })
        .trim().split("\n").at(-1)
    )
  const figures = new Map<string, Array<number>>()
  for (const which of wantedCases) {
    for (let round = 0; round < rounds; round++) {
      for (const mode of wantedModes) {
        if (todo[mode] !== undefined) continue
        const value = once(mode, which)
        const key = `${which}/${mode}`
        figures.set(key, [...(figures.get(key) ?? []), value])
        process.stderr.write(`  ${key}: ${value.toFixed(1)} µs\n`)
      }
    }
  }
  server.kill()
  const rows: Array<ReadonlyArray<string>> = [["case", "mode", "CPU µs/request", "added vs off", "rounds"]]
  for (const which of wantedCases) {
    const off = median(figures.get(`${which}/off`) ?? [Number.NaN])
    const bare = median(figures.get(`${which}/router-bare`) ?? [Number.NaN])
    for (const mode of wantedModes) {
      const pending = todo[mode]
      if (pending !== undefined) {
        rows.push([which, mode, "–", pending, "–"])
        continue
      }
      const values = figures.get(`${which}/${mode}`)!
      const value = median(values)
      // the router-only pair compares with each other, the FlexiAI modes with `off`
      const reference = mode.startsWith("router-") ? bare : off
      const delta = value - reference
      rows.push([
        which,
        mode,
        value.toFixed(1),
        mode === "off" || mode === "router-bare"
          ? "– (reference)"
          : `${delta >= 0 ? "+" : ""}${delta.toFixed(1)} µs${mode === "router-hub" ? " (vs router-bare: inactive hub)" : ""}`,
        values.map((v) => v.toFixed(1)).join(" ")
      ])
    }
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join("  "))
  console.log(`(${rounds} rounds, ${warmup} warm-up + ${count} measured runs per process, ${((Date.now() - started) / 1000).toFixed(0)} s)`)
}

const [role, mode, which, port] = process.argv.slice(2)
if (role === "child") await child(mode as Mode, which!, port!)
else await parent()
