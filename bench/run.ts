/**
 * `pnpm bench`: FlexiAI on the path a user runs (the `chat` / `stream` accessors on `FlexiAI.layer`
 * with the default policy: router → OpenAI-compatible provider → Effect HttpClient on undici)
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
// BENCH_CASES=chat,stream picks figures (all by default)
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
const once = (side: "raw" | "flex", which: string): number =>
  Number(execFileSync(process.execPath, ["--expose-gc", caseFile, side, which, String(port)], { encoding: "utf8" }).trim().split("\n").at(-1))

const median = (values: ReadonlyArray<number>): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const measure = (which: string) => {
  const raws: Array<number> = []
  const flexes: Array<number> = []
  for (let round = 0; round < rounds; round++) {
    raws.push(once("raw", which))
    flexes.push(once("flex", which))
  }
  process.stderr.write(`  ${which}: raw ${raws.map((v) => v.toFixed(2)).join(" ")} | flex ${flexes.map((v) => v.toFixed(2)).join(" ")}\n`)
  return { raw: median(raws), flex: median(flexes), raws, flexes }
}

const fmt = (value: number, digits = 1) => value.toFixed(digits)
const rows: Array<ReadonlyArray<string>> = []
const verdict = (pass: boolean) => (pass ? "✓ pass" : "✗ FAIL")

for (const [which, label] of [["chat", "concurrency 1"], ["chat-16", "concurrency 16"]] as const) {
  if (!wanted(which)) continue
  const chat = measure(which)
  const ratio = chat.flex / chat.raw
  rows.push([`CPU per request, ${label} (µs)`, fmt(chat.raw), fmt(chat.flex), `${fmt(ratio, 2)}×`, "≤ 2.5×", verdict(ratio <= 2.5)])
}

for (const [which, label] of [["stream", "concurrency 1"], ["stream-16", "concurrency 16"]] as const) {
  if (!wanted(which)) continue
  // per chunk: 200-chunk minus 1-chunk streams, the difference taken inside each process (case.ts)
  const perChunk = measure(which)
  const ratio = perChunk.flex / perChunk.raw
  rows.push([`CPU per streamed chunk, ${label} (µs)`, fmt(perChunk.raw, 2), fmt(perChunk.flex, 2), `${fmt(ratio, 2)}×`, "≤ 1.5×", verdict(ratio <= 1.5)])
}

if (wanted("ttft")) {
  // the overhead is the median of each round's difference (the two processes ran back to back),
  // which cancels the machine's load drifting between rounds
  const ttft = measure("ttft")
  const overhead = median(ttft.flexes.map((flex, round) => flex - ttft.raws[round]!))
  rows.push(["time to first token (ms)", fmt(ttft.raw, 3), fmt(ttft.flex, 3), `+${fmt(overhead, 3)} ms`, "≤ +0.15 ms", verdict(overhead <= 0.15)])
}

if (wanted("heap")) {
  const heap = measure("heap")
  const ratio = heap.flex / heap.raw
  rows.push(["heap per open stream (KiB)", fmt(heap.raw / 1024), fmt(heap.flex / 1024), `${fmt(ratio, 2)}×`, "≤ 2.2×", verdict(ratio <= 2.2)])
}

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
    verdict(withOpen - alone <= 5 && reached === 0)
  ])
}

console.log(`\nFlexiAI overhead vs raw undici (Node ${process.version}, ${rounds} rounds, medians)\n`)
console.log("| figure | raw undici | FlexiAI | FlexiAI vs raw | target | |")
console.log("| --- | --- | --- | --- | --- | --- |")
for (const row of rows) console.log(`| ${row.join(" | ")} |`)
server.disconnect()
