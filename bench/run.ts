/**
 * `pnpm bench`: FlexiAI on the path a user runs (the `chat` / `stream` accessors on `FlexiAI.layer`
 * with the default policy: router → OpenAI-compatible provider → the kit's UndiciHttpClient)
 * against the floor, a raw `undici` request with a hand-written SSE loop, both against the
 * same local server (a child process, so its CPU is not counted). Each case runs for each side in a
 * fresh process (`case.ts`), alternating sides over several rounds; medians are reported.
 * Benchmarks, not tests: CI times nothing.
 *
 * Figures, each with its target and pass/fail: client CPU per non-streamed request and CPU per
 * streamed chunk at concurrency 1 and 16 (a 200-chunk stream minus a 1-chunk stream, per chunk,
 * the difference taken within each process); time-to-first-token
 * overhead (the median of each round's flex − raw); heap per open stream (1,000 at once); the cost
 * of skipping an open circuit, with a check that no request reached that provider.
 */
import { execFileSync, fork } from "node:child_process"

const rounds = Number(process.env["BENCH_ROUNDS"] ?? 3)
// BENCH_CASES=chat,chat-16,stream,stream-16,ttft,heap,skip,http-chat,http-chat-16,http-ttfb picks figures (all by
// default); `soak` adds the fault soak (soak.ts), which is never run by default
const only = process.env["BENCH_CASES"]?.split(",")
const wanted = (figure: string) => only === undefined || only.includes(figure)
const server = fork(new URL("./server.ts", import.meta.url), { stdio: ["ignore", "inherit", "inherit", "ipc"] })
const port = await new Promise<number>((resolve) => server.once("message", (message: { port: number }) => resolve(message.port)))
const serverCount = () =>
  new Promise<number>((resolve) => {
    server.once("message", (message: { count: number }) => resolve(message.count))
    server.send({ type: "count" })
  })

const caseFile = new URL("./case.ts", import.meta.url).pathname
type Side = "raw" | "flex" | "effect"
const once = (side: Side, which: string): number =>
  Number(execFileSync(process.execPath, ["--expose-gc", caseFile, side, which, String(port)], { encoding: "utf8" }).trim().split("\n").at(-1))

const median = (values: ReadonlyArray<number>): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

// BENCH_EFFECT=0 leaves out the `effect` side (FlexiAI on Effect's NodeHttpClient.layerUndici)
const withEffect = process.env["BENCH_EFFECT"] !== "0"

interface Figures {
  readonly raw: number
  readonly flex: number
  readonly effect: number
  readonly raws: ReadonlyArray<number>
  readonly flexes: ReadonlyArray<number>
  readonly effects: ReadonlyArray<number>
}

/** Each side in a fresh process per round, the sides alternating within a round. */
const measure = (which: string, effect = withEffect): Figures => {
  const raws: Array<number> = []
  const flexes: Array<number> = []
  const effects: Array<number> = []
  for (let round = 0; round < rounds; round++) {
    raws.push(once("raw", which))
    flexes.push(once("flex", which))
    if (effect) effects.push(once("effect", which))
  }
  const show = (values: ReadonlyArray<number>) => values.map((v) => v.toFixed(2)).join(" ")
  process.stderr.write(`  ${which}: raw ${show(raws)} | flex ${show(flexes)}${effect ? ` | effect ${show(effects)}` : ""}\n`)
  return { raw: median(raws), flex: median(flexes), effect: effect ? median(effects) : Number.NaN, raws, flexes, effects }
}

const fmt = (value: number, digits = 1) => (Number.isNaN(value) ? "–" : value.toFixed(digits))
const verdict = (pass: boolean) => (pass ? "✓ pass" : "✗ FAIL")

/** One row: the figure, raw, FlexiAI and its ratio/verdict, then the same for the `effect` side. */
const rows: Array<ReadonlyArray<string>> = []
const ratioRow = (figure: string, f: Figures, target: number, digits: number, scale = 1) => {
  const ratio = f.flex / f.raw
  const effect = f.effect / f.raw
  rows.push([
    figure,
    fmt(f.raw / scale, digits),
    fmt(f.flex / scale, digits),
    `${fmt(ratio, 2)}×`,
    `≤ ${target}×`,
    verdict(ratio <= target),
    ...(withEffect ? [fmt(f.effect / scale, digits), `${fmt(effect, 2)}× ${verdict(effect <= target)}`] : [])
  ])
}

for (const [which, label] of [["chat", "concurrency 1"], ["chat-16", "concurrency 16"]] as const) {
  if (wanted(which)) ratioRow(`CPU per request, ${label} (µs)`, measure(which), 2.5, 1)
}

for (const [which, label] of [["stream", "concurrency 1"], ["stream-16", "concurrency 16"]] as const) {
  // per chunk: 200-chunk minus 1-chunk streams, the difference taken inside each process (case.ts)
  if (wanted(which)) ratioRow(`CPU per streamed chunk, ${label} (µs)`, measure(which), 1.5, 2)
}

if (wanted("ttft")) {
  // the overhead is the median of each round's difference (the processes ran back to back),
  // which cancels the machine's load drifting between rounds
  const ttft = measure("ttft")
  const overhead = median(ttft.flexes.map((flex, round) => flex - ttft.raws[round]!))
  const effectOverhead = withEffect ? median(ttft.effects.map((effect, round) => effect - ttft.raws[round]!)) : Number.NaN
  rows.push([
    "time to first token (ms)",
    fmt(ttft.raw, 3),
    fmt(ttft.flex, 3),
    `+${fmt(overhead, 3)} ms`,
    "≤ +0.15 ms",
    verdict(overhead <= 0.15),
    ...(withEffect ? [fmt(ttft.effect, 3), `+${fmt(effectOverhead, 3)} ms ${verdict(effectOverhead <= 0.15)}`] : [])
  ])
}

if (wanted("heap")) ratioRow("heap per open stream (KiB)", measure("heap"), 2.2, 1, 1024)

if (wanted("skip")) {
  // alone and with an open circuit are timed in one process, alternating (see case.ts)
  const before = await serverCount()
  const differences: Array<{ readonly alone: number; readonly withOpen: number }> = []
  for (let round = 0; round < rounds; round++) {
    differences.push(JSON.parse(execFileSync(process.execPath, ["--expose-gc", caseFile, "flex", "skip", String(port)], { encoding: "utf8" }).trim().split("\n").at(-1)!))
  }
  const reached = (await serverCount()) - before
  const alone = median(differences.map((d) => d.alone))
  const withOpen = median(differences.map((d) => d.withOpen))
  process.stderr.write(`  skip: ${differences.map((d) => `${d.alone.toFixed(2)}/${d.withOpen.toFixed(2)}`).join(" ")}\n`)
  rows.push([
    "`chat` on Router.layer: alone vs. after skipping an open circuit (µs)",
    fmt(alone, 2),
    fmt(withOpen, 2),
    `+${fmt(withOpen - alone, 2)} µs, ${reached} requests reached it`,
    "≤ 5 µs, 0 requests",
    verdict(withOpen - alone <= 5 && reached === 0),
    ...(withEffect ? ["", "(no HTTP client on this path)"] : [])
  ])
}

// The HTTP clients alone, same method: ours (`flex` side of the http-* cases), Effect's undici
// client (`effect`) and raw undici. Time to first body bytes, from a scoped request as providers make them.
const clientRows: Array<ReadonlyArray<string>> = []
for (const [which, label] of [["http-chat", "CPU per request, concurrency 1 (µs)"], ["http-chat-16", "CPU per request, concurrency 16 (µs)"]] as const) {
  if (!wanted(which)) continue
  const f = measure(which, true)
  clientRows.push([label, fmt(f.raw), fmt(f.flex), `${fmt(f.flex / f.raw, 2)}×`, fmt(f.effect), `${fmt(f.effect / f.raw, 2)}×`])
}
if (wanted("http-ttfb")) {
  const f = measure("http-ttfb", true)
  const over = (values: ReadonlyArray<number>) => median(values.map((value, round) => value - f.raws[round]!))
  clientRows.push(["time to first body bytes (ms)", fmt(f.raw, 3), fmt(f.flex, 3), `+${fmt(over(f.flexes), 3)} ms`, fmt(f.effect, 3), `+${fmt(over(f.effects), 3)} ms`])
}

console.log(`\nFlexiAI overhead vs raw undici (Node ${process.version}, ${rounds} rounds, medians)\n`)
if (rows.length > 0) {
  console.log(`| figure | raw undici | FlexiAI | FlexiAI vs raw | target | |${withEffect ? " FlexiAI on Effect's undici client | vs raw |" : ""}`)
  console.log(`| --- | --- | --- | --- | --- | --- |${withEffect ? " --- | --- |" : ""}`)
  for (const row of rows) console.log(`| ${row.join(" | ")} |`)
}
if (clientRows.length > 0) {
  console.log("\nHTTP clients alone\n")
  console.log("| figure | raw undici | UndiciHttpClient | vs raw | Effect's undici client | vs raw |")
  console.log("| --- | --- | --- | --- | --- | --- |")
  for (const row of clientRows) console.log(`| ${row.join(" | ")} |`)
}
server.disconnect()

// The fault soak takes minutes (its slowest faults run to the deadline), so it runs only when asked
// for by name: BENCH_CASES=soak (or `pnpm bench:soak`, which also takes a request count).
if (only?.includes("soak") === true) {
  execFileSync(process.execPath, ["--expose-gc", new URL("./soak.ts", import.meta.url).pathname], { stdio: "inherit" })
}
