// `examples/observability.ts` end to end (real sockets on 127.0.0.1): the events it printed come in
// the documented order, its Prometheus text counts the failover, and the loopback OTLP collector
// received the call and attempt spans with their GenAI attributes, each attempt under its call.
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { type Report, run } from "../observability.ts"

let report: Report
const lines: Array<string> = []

beforeAll(async () => {
  report = await run((line) => lines.push(line))
})

describe("examples/observability.ts", () => {
  it("prints the chat's events in order: a retry on flaky, a failover, the answer from steady", () => {
    const chat = report.events.filter((event) => "operation" in event && event.operation === "chat")
    assert.deepStrictEqual(chat.map((event) => event.type), [
      "call-start",
      "attempt-start",
      "retry",
      "attempt-finish",
      "failover",
      "attempt-start",
      "attempt-finish",
      "call-finish"
    ])
    const finish = chat.at(-1)
    assert.strictEqual(finish?.type === "call-finish" ? finish.provider : undefined, "steady")
    assert.isTrue(report.events.some((event) => event.type === "first-token"))
    assert.isTrue(lines.some((line) => line.startsWith("answer from steady")))
  })

  it("prints Prometheus text that counts the failover and the tokens", () => {
    assert.match(report.prometheus, /^flexiai_failovers_total\{provider="flaky",reason="ServerError"\} 2$/m)
    assert.match(report.prometheus, /^flexiai_requests_total\{provider="steady",model="mock-model",operation="chat",outcome="success",reason=""\} 1$/m)
    assert.match(report.prometheus, /^flexiai_tokens_total\{provider="steady",model="mock-model",kind="output"\} [1-9]\d*$/m)
  })

  it("sends the spans to the collector with their GenAI attributes", () => {
    const call = report.spans.find((span) => span.name === "Router.chat")
    assert.isDefined(call)
    assert.strictEqual(call?.attributes["gen_ai.operation.name"], "chat")
    assert.strictEqual(call?.attributes["gen_ai.provider.name"], "steady")
    assert.strictEqual(call?.attributes["gen_ai.response.model"], "mock-model")
    assert.isAbove(Number(call?.attributes["gen_ai.usage.output_tokens"]), 0)
    const attempts = report.spans.filter((span) => span.name === "chat mock-model" && span.parentSpanId === call?.spanId)
    assert.deepStrictEqual(attempts.map((span) => span.attributes["gen_ai.provider.name"]), ["flaky", "flaky", "steady"])
    assert.strictEqual(attempts[0]?.attributes["error.type"], "ServerError")
    assert.isTrue(report.spans.some((span) => span.name === "Router.stream"))
    // no key in any span
    assert.notInclude(JSON.stringify(report.spans), "sk-example")
  })
})
