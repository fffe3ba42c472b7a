/**
 * `pnpm bench:soak`: the fault soak. N requests (half `chat`, half `stream`) through `FlexiAI.layer`
 * with the default policy over three OpenAI-compatible providers on loopback `MockProviderServer`s
 * (`soakServers.ts`, in a child process): `flaky-a` and `flaky-b`, which answer with every fault the
 * mock can script, drawn at random (5xx, 429 with Retry-After, resets, hangs, cuts, stalls,
 * undecodable and corrupted events, malformed JSON, HTML pages, in-band errors, a held socket, slow
 * drips), and `steady`, which always answers. Every answer echoes its prompt, so each request knows
 * the text it must end with.
 *
 * Prints, per outcome: served (the expected text, complete), failed (a typed error, by decisive
 * reason), hung (not settled within the deadline plus a grace period), truncated-but-complete (a
 * call or stream that ended as complete with a text other than the expected one) and past-deadline
 * (settled later than the deadline plus its tolerance), then the heap after GC before, during and
 * after the run. The target: 100% served or failed with a typed error, 0 hung, 0
 * truncated-but-complete, 0 past deadline, a flat heap.
 *
 * Usage: `pnpm bench:soak [requests]`, or `SOAK_REQUESTS` (default 3000); `SOAK_CONCURRENCY` calls
 * in flight (default 200); `SOAK_SEED` (default 1) for the fault draw. Needs `--expose-gc` (the
 * script sets it). Benchmarks, not tests: CI runs none of this.
 */
import { Duration, Effect, Exit, ManagedRuntime, Option, Stream } from "effect"
import { type ChatProvider, chat, FlexiAI, FlexiConfig, ProviderError, Providers, stream } from "flexiai"
import { fork } from "node:child_process"

const requests = Number(process.argv[2] ?? process.env["SOAK_REQUESTS"] ?? 3000)
const concurrency = Number(process.env["SOAK_CONCURRENCY"] ?? 200)
const seed = Number(process.env["SOAK_SEED"] ?? 1)
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error("run with node --expose-gc (pnpm bench:soak does)")

const input = (urls: { readonly flakyA: string; readonly flakyB: string; readonly steady: string }): FlexiAI.Input => ({
  providers: [
    { kind: "openai-compatible", name: "flaky-a", model: "soak-model", baseUrl: `${urls.flakyA}/v1`, apiKey: "sk-soak-a", priority: 1 },
    { kind: "openai-compatible", name: "flaky-b", model: "soak-model", baseUrl: `${urls.flakyB}/v1`, apiKey: "sk-soak-b", priority: 2 },
    { kind: "openai-compatible", name: "steady", model: "soak-model", baseUrl: `${urls.steady}/v1`, apiKey: "sk-soak-c", priority: 3 }
  ],
  // the default policy; only FlexiAI's own log lines are quietened (thousands of failed attempts)
  logging: { level: "error" }
})

// the policy the layer will run with, for the deadline and the slow drip that outlasts it
const resolved: FlexiConfig.ResolvedConfig = await Effect.runPromise(
  FlexiConfig.fromObject(input({ flakyA: "http://x", flakyB: "http://x", steady: "http://x" }), { providers: Providers.bundled })
)
const policy = resolved.policy
const deadlineMillis = Duration.toMillis(policy.deadline)
// a drip under the idle limit (so only the deadline can stop it) whose whole answer outlasts the deadline
const slowDripMillis = Math.floor(Duration.toMillis(policy.idleTimeout) / 2)
const toleranceMillis = 1000
const graceMillis = 30_000

const servers = fork(new URL("./soakServers.ts", import.meta.url), [String(requests), String(seed), String(slowDripMillis)], {
  stdio: ["ignore", "inherit", "inherit", "ipc"]
})
const { faults, urls } = await new Promise<{
  readonly urls: { readonly flakyA: string; readonly flakyB: string; readonly steady: string }
  readonly faults: ReadonlyArray<string>
}>((resolve) => servers.once("message", resolve))

const runtime = ManagedRuntime.make(FlexiAI.layer(input(urls)))
await runtime.runPromise(Effect.void)

const heapMiB = () => {
  gc()
  gc()
  return process.memoryUsage().heapUsed / 1024 / 1024
}

type Outcome =
  | { readonly _tag: "served" }
  | { readonly _tag: "failed"; readonly reason: string }
  | { readonly _tag: "hung" }
  | { readonly _tag: "truncated"; readonly got: string; readonly expected: string }

const prompt = (index: number) => `soak ${index}: transfer NOT ${1000 + index} dollars to account ${index * 7919 % 100_000}`
const expectedOf = (index: number) => `echo: ${prompt(index)}`

const failed = (error: ProviderError.ChatError): Outcome => {
  const decisive = ProviderError.decisive(error)
  const reason = decisive === undefined
    ? error._tag === "AllProvidersFailed" && error.deadlineExceeded === true ? "DeadlineExceeded" : error._tag
    : ProviderError.reasonTag(decisive)
  return { _tag: "failed", reason: error._tag === "AllProvidersFailed" && error.deadlineExceeded === true ? `${reason} (deadline)` : reason }
}

const oneChat = (index: number): Effect.Effect<Outcome, never, ChatProvider.ChatProvider> =>
  chat(prompt(index)).pipe(
    Effect.map((response): Outcome =>
      response.text === expectedOf(index) ? { _tag: "served" } : { _tag: "truncated", got: response.text, expected: expectedOf(index) }
    ),
    Effect.catch((error) => Effect.succeed(failed(error)))
  )

const oneStream = (index: number): Effect.Effect<Outcome, never, ChatProvider.ChatProvider> =>
  Effect.suspend(() => {
    let text = ""
    let finished = false
    return stream(prompt(index)).pipe(
      Stream.runForEach((part) =>
        Effect.sync(() => {
          if (part.type === "text-delta") text += part.text
          else if (part.type === "restart") text = ""
          else if (part.type === "finish") finished = true
        })
      ),
      Effect.map((): Outcome =>
        finished && text === expectedOf(index)
          ? { _tag: "served" }
          : { _tag: "truncated", got: finished ? text : `${text} (ended without a finish part)`, expected: expectedOf(index) }
      ),
      Effect.catch((error) => Effect.succeed(failed(error)))
    )
  })

interface Tally {
  served: number
  failed: number
  hung: number
  truncated: number
  pastDeadline: number
  readonly reasons: Map<string, number>
  readonly truncations: Array<string>
  readonly latencies: Array<number>
}
const tally: Tally = { served: 0, failed: 0, hung: 0, truncated: 0, pastDeadline: 0, reasons: new Map(), truncations: [], latencies: [] }

const one = (index: number): Effect.Effect<void, never, ChatProvider.ChatProvider> => {
  const call = index % 2 === 0 ? oneChat(index) : oneStream(index)
  return Effect.gen(function*() {
    const started = Date.now()
    // the watchdog: FlexiAI's deadline must end every call; one still running well after it is hung
    const outcome = yield* Effect.timeoutOption(call, Duration.millis(deadlineMillis + graceMillis)).pipe(
      Effect.map(Option.getOrElse((): Outcome => ({ _tag: "hung" })))
    )
    const elapsed = Date.now() - started
    tally.latencies.push(elapsed)
    if (outcome._tag !== "hung" && elapsed > deadlineMillis + toleranceMillis) tally.pastDeadline++
    switch (outcome._tag) {
      case "served":
        tally.served++
        break
      case "failed":
        tally.failed++
        tally.reasons.set(outcome.reason, (tally.reasons.get(outcome.reason) ?? 0) + 1)
        break
      case "hung":
        tally.hung++
        break
      case "truncated":
        tally.truncated++
        if (tally.truncations.length < 5) tally.truncations.push(`#${index}: "${outcome.got}" (expected "${outcome.expected}")`)
    }
  })
}

const heapBefore = heapMiB()
const heaps: Array<string> = []
const started = Date.now()
let done = 0
const progressEvery = Math.max(1, Math.floor(requests / 10))
process.stderr.write(
  `soak: ${requests} requests, ${concurrency} in flight, seed ${seed}; deadline ${Duration.format(policy.deadline)}, ` +
    `${faults.length} fault kinds on flaky-a and flaky-b\n`
)
const exit = await runtime.runPromiseExit(
  Effect.forEach(Array.from({ length: requests }, (_, index) => index), (index) =>
    Effect.andThen(one(index), () =>
      Effect.sync(() => {
        done++
        if (done % progressEvery === 0) {
          const heap = heapMiB().toFixed(1)
          heaps.push(heap)
          process.stderr.write(`  ${done}/${requests} after ${((Date.now() - started) / 1000).toFixed(0)} s, heap after GC ${heap} MiB\n`)
        }
      })), { concurrency, discard: true })
)
const seconds = (Date.now() - started) / 1000
if (Exit.isFailure(exit)) throw new Error(`the soak itself failed: ${String(exit.cause)}`)
const heapEnd = heapMiB()
await runtime.dispose()
const heapAfter = heapMiB()

const sorted = [...tally.latencies].sort((a, b) => a - b)
const percentile = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0
const percent = (count: number) => `${(100 * count / requests).toFixed(2)}%`

console.log(`\nFault soak: ${requests} requests (half chat, half stream) in ${seconds.toFixed(0)} s, ${concurrency} in flight (Node ${process.version})\n`)
console.log("| outcome | requests | share |")
console.log("| --- | --- | --- |")
console.log(`| served (expected text, complete) | ${tally.served} | ${percent(tally.served)} |`)
console.log(`| failed with a typed error | ${tally.failed} | ${percent(tally.failed)} |`)
console.log(`| hung (not settled ${Duration.format(Duration.millis(graceMillis))} past the deadline) | ${tally.hung} | ${percent(tally.hung)} |`)
console.log(`| truncated-but-complete | ${tally.truncated} | ${percent(tally.truncated)} |`)
console.log(`| past deadline (settled > ${Duration.format(policy.deadline)} + ${toleranceMillis} ms) | ${tally.pastDeadline} | ${percent(tally.pastDeadline)} |`)
console.log(`\nfailed, by decisive reason: ${[...tally.reasons].sort((a, b) => b[1] - a[1]).map(([reason, count]) => `${reason} ${count}`).join(", ") || "none"}`)
for (const line of tally.truncations) console.log(`truncated: ${line}`)
console.log(`latency: p50 ${percentile(0.5)} ms, p95 ${percentile(0.95)} ms, p99 ${percentile(0.99)} ms, max ${sorted.at(-1) ?? 0} ms`)
console.log(
  `heap after GC (MiB): ${heapBefore.toFixed(1)} before; at each tenth of the run ${heaps.join(", ")}; ` +
    `${heapEnd.toFixed(1)} at the end; ${heapAfter.toFixed(1)} after dispose`
)
servers.disconnect()
