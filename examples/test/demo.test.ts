// `pnpm demo` end to end, with fast timings: the story a user watches must really happen — who
// answers each scene, the circuit's open/half-open/closed cycle in order, no request reaching an
// open circuit, and the summary table — and the run must finish and stop its servers.
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { type DemoReport, fastTimings, runDemo } from "../demo.ts"

let output = ""
let report: DemoReport

beforeAll(async () => {
  report = await runDemo({ write: (text) => { output += text }, color: false, timings: fastTimings })
})

const callsOf = (scene: string) => report.calls.filter((call) => call.scene === scene)

const outcomes = (scene: string) =>
  callsOf(scene).map((call) => call.attempts.map((attempt) => `${attempt.provider}:${attempt.outcome}:${attempt.reason ?? ""}`))

describe("pnpm demo", () => {
  it("finishes quickly with plain output when colour is off", () => {
    assert.isBelow(report.elapsedMillis, 15_000)
    assert.isFalse(report.real)
    assert.notInclude(output, "\u001b[")
    assert.strictEqual(report.stats.failed, 0)
  })

  it("streams the first answer from the primary, token by token", () => {
    const [call] = callsOf("stream")
    assert.strictEqual(call?.provider, "primary")
    assert.strictEqual(call?.text, "Failover means your program keeps answering when one provider does not.")
    assert.include(output, `    ${call?.text}\n`)
  })

  it("waits out a short Retry-After on the primary", () => {
    const [call] = callsOf("short-429")
    assert.strictEqual(call?.provider, "primary")
    assert.deepStrictEqual(call?.attempts.map((attempt) => [attempt.provider, attempt.outcome, attempt.tries]), [["primary", "success", 2]])
    assert.isAtLeast(call?.attempts[0]?.latencyMillis ?? 0, fastTimings.shortRetryAfterMillis)
  })

  it("fails over during the 503 burst, skips the open circuit, and the probe goes back to the primary", () => {
    assert.deepStrictEqual(callsOf("circuit").map((call) => call.provider), ["backup", "backup", "backup", "backup", "backup", "primary"])
    assert.deepStrictEqual(outcomes("circuit"), [
      ["primary:failure:ServerError", "backup:success:"],
      ["primary:failure:ServerError", "backup:success:"],
      ["primary:failure:ServerError", "backup:success:"],
      ["primary:skipped:CircuitOpen", "backup:success:"],
      ["primary:skipped:CircuitOpen", "backup:success:"],
      ["primary:success:"]
    ])
  })

  it("opens the circuit, then half-opens and closes it, in that order, printed as it happens", () => {
    assert.deepStrictEqual(
      report.transitions.map((transition) => `${transition.key} ${transition.from}→${transition.to}`),
      ["primary:demo-model Closed→Open", "primary:demo-model Open→HalfOpen", "primary:demo-model HalfOpen→Closed"]
    )
    const lines = ["Closed → Open", "Open → HalfOpen", "HalfOpen → Closed"].map((text) =>
      output.indexOf(`⚡ circuit primary:demo-model: ${text}`)
    )
    assert.isTrue(lines.every((index) => index >= 0), "every transition is printed")
    assert.deepStrictEqual([...lines].sort((a, b) => a - b), lines)
    // the trip is printed under call 3, the one that caused it
    assert.isBelow(output.indexOf("› call 3 "), lines[0] ?? -1)
    assert.isBelow(lines[0] ?? -1, output.indexOf("› call 4 "))
  })

  it("sends no request to the primary while its circuit is open", () => {
    assert.isDefined(report.whileOpen)
    assert.strictEqual(report.whileOpen?.after, report.whileOpen?.before)
    assert.include(output, "the primary's mock got 6 requests for calls 1–3 and 0 for calls 4–5")
  })

  it("restarts a cut stream on the backup with the complete answer", () => {
    const [call] = callsOf("cut")
    assert.strictEqual(call?.provider, "backup")
    assert.isTrue(call?.restarted)
    assert.strictEqual(call?.text, "A complete answer from the backup, streamed from the start.")
    assert.deepStrictEqual(outcomes("cut"), [["primary:failure:StreamInterrupted", "backup:success:"]])
    assert.match(output, /The primary starts a \n {4}↺ restart \(StreamInterrupted\): discard the text above; backup answers/)
  })

  it("fails over at once on a long Retry-After and skips the primary until then", () => {
    assert.deepStrictEqual(outcomes("long-429"), [
      ["primary:failure:RateLimited", "backup:success:"],
      ["primary:skipped:CircuitOpen", "backup:success:"]
    ])
    assert.strictEqual(callsOf("long-429")[0]?.attempts[0]?.tries, 1)
    assert.include(output, "RateLimited, 30.0 s left")
  })

  it("fails over across three wire formats: OpenAI 503, Anthropic 529, Gemini answers", () => {
    const [call] = callsOf("formats")
    assert.strictEqual(call?.provider, "gemini")
    assert.strictEqual(call?.text, "Gemini answers after OpenAI's 503 and Anthropic's 529.")
    assert.deepStrictEqual(outcomes("formats"), [["openai:failure:ServerError", "anthropic:failure:Overloaded", "gemini:success:"]])
  })

  it("continues a stream cut on OpenAI on Anthropic from the text already shown", () => {
    const [call] = callsOf("formats-continue")
    assert.strictEqual(call?.provider, "anthropic")
    assert.strictEqual(call?.resumedOn, "anthropic")
    assert.isFalse(call?.restarted)
    assert.strictEqual(call?.text, "Failover keeps an answer going when a provider drops mid-stream.")
    assert.deepStrictEqual(outcomes("formats-continue"), [["openai:failure:StreamInterrupted", "anthropic:success:"]])
    // the prefill Anthropic was sent is the text the caller had already seen (its trailing space trimmed, as the API requires)
    assert.include(output, `trailing assistant message: [{"type":"text","text":"Failover keeps an answer"}]`)
    assert.include(output, "↪ resume (StreamInterrupted): anthropic continued from the text already shown")
  })

  it("ends with the status table and the router's stats", () => {
    const summary = output.slice(output.indexOf("Summary: Router.status"))
    assert.match(summary, /provider\s+requests\s+ok\s+failed\s+skipped\s+success\s+p50\s+p95\s+circuit\s+last error/)
    assert.match(summary, /\n {2}primary\s+8\s+3\s+5\s+3\s+38%\s+\d+ ms\s+\d+ ms\s+Closed, rate limited \d+\.\d s\s+RateLimited\n/)
    assert.match(summary, /\n {2}backup\s+8\s+8\s+0\s+0\s+100%\s+\d+ ms\s+\d+ ms\s+Closed\s+-\n/)
    assert.match(summary, /router: 11 calls, 19 attempts, 8 failovers \(failed or skipped attempts\), 0 calls failed/)
    const primary = report.status.find((status) => status.name === "primary")
    assert.deepStrictEqual(primary?.circuits, [{ key: "primary:demo-model", state: "Closed" }])
  })
})
