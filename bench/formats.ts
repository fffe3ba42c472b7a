/**
 * `pnpm bench:formats`: CPU per streamed chunk for each wire format FlexiAI reads (SSE with and
 * without event names, NDJSON, AWS event-stream), FlexiAI on the path a user runs against raw undici
 * with a hand-written decoder of the same bytes (`formats/<name>.ts`; target ≤ 1.5×). Each side of
 * each format runs in a fresh process per round (`formatCase.ts`), alternating, against a server
 * in its own process (`formatServer.ts`); medians are reported. Benchmarks, not tests.
 *
 * BENCH_FORMATS=openai,anthropic,… picks formats (every file in formats/ by default),
 * BENCH_ROUNDS (3), BENCH_CONCURRENCY (1).
 */
import { execFileSync, fork } from "node:child_process"
import { readdirSync } from "node:fs"
import type { Format } from "./formats/Format.ts"
import { median } from "./measure.ts"

const rounds = Number(process.env["BENCH_ROUNDS"] ?? 3)
const concurrency = process.env["BENCH_CONCURRENCY"] ?? "1"
const dir = new URL("./formats/", import.meta.url)
const names = process.env["BENCH_FORMATS"]?.split(",") ??
  readdirSync(dir).filter((file) => file.endsWith(".ts") && file !== "Format.ts").map((file) => file.slice(0, -3)).sort()
const caseFile = new URL("./formatCase.ts", import.meta.url).pathname

const rows: Array<ReadonlyArray<string>> = []
for (const name of names) {
  const file = new URL(`${name}.ts`, dir).pathname
  const format = (await import(file) as { default: Format }).default
  const server = fork(new URL("./formatServer.ts", import.meta.url), [file], { stdio: ["ignore", "inherit", "inherit", "ipc"] })
  const port = await new Promise<number>((resolve) => server.once("message", (message: { port: number }) => resolve(message.port)))
  const once = (side: "raw" | "flex"): number =>
    Number(
      execFileSync(process.execPath, ["--expose-gc", caseFile, side, file, String(port), concurrency], { encoding: "utf8" })
        .trim().split("\n").at(-1)
    )
  const raws: Array<number> = []
  const flexes: Array<number> = []
  for (let round = 0; round < rounds; round++) {
    raws.push(once("raw"))
    flexes.push(once("flex"))
  }
  server.kill()
  const show = (values: ReadonlyArray<number>) => values.map((value) => value.toFixed(2)).join(" ")
  process.stderr.write(`  ${name}: raw ${show(raws)} | flex ${show(flexes)}\n`)
  const raw = median(raws)
  const flex = median(flexes)
  const ratio = flex / raw
  rows.push([format.name, raw.toFixed(2), flex.toFixed(2), `${ratio.toFixed(2)}×`, "≤ 1.5×", ratio <= 1.5 ? "✓ pass" : "✗ FAIL"])
}

const header = ["CPU per streamed chunk (µs), concurrency " + concurrency, "raw undici", "FlexiAI", "ratio", "target", ""]
console.log(`| ${header.join(" | ")} |`)
console.log(`| ${header.map(() => "---").join(" | ")} |`)
for (const row of rows) console.log(`| ${row.join(" | ")} |`)
