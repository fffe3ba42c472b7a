// examples/anthropic.ts end to end (a mock Anthropic server on 127.0.0.1): what it prints must be
// what happened on the wire — the system prompt lifted out, the tool round trip, the signed
// thinking given back on the next turn, and the cache breakpoints it asked for.
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { type AnthropicExampleReport, runAnthropicExample } from "../anthropic.ts"

// oxlint-disable-next-line no-explicit-any -- recorded wire bodies, read by path
type Body = any

const lines: Array<string> = []
let report: AnthropicExampleReport

beforeAll(async () => {
  report = await runAnthropicExample((line) => lines.push(line))
})

describe("examples/anthropic.ts", () => {
  it("answers, calls the tool, answers after it, streams with thinking", () => {
    assert.strictEqual(report.answer, "FlexiAI is one typed way to talk to many LLM providers.")
    assert.deepStrictEqual(report.toolCall, { name: "weather", arguments: "{\"city\":\"Paris\"}" })
    assert.strictEqual(report.afterTool, "It is sunny in Paris, 21°C.")
    assert.strictEqual(report.streamed, "Sunlight scatters off air molecules, blue the most.")
    assert.strictEqual(report.reasoning, "thinking about: Why is the sky blue?")
    assert.isTrue(report.signed)
    assert.strictEqual(report.cachedTokens, 100)
    assert.include(lines.join("\n"), "tool call: weather({\"city\":\"Paris\"})")
  })

  it("sent what the example says it sends", () => {
    const [first, , afterTool, streamed, next] = report.requests as ReadonlyArray<Body>
    assert.deepStrictEqual(first.system, [{ type: "text", text: "You answer in one short sentence.", cache_control: { type: "ephemeral" } }])
    assert.strictEqual(first.max_tokens, 1024)
    assert.deepStrictEqual(afterTool.messages.at(-1).content[0], { type: "tool_result", tool_use_id: "toolu_01", content: "sunny, 21°C" })
    assert.isTrue(streamed.stream)
    assert.deepStrictEqual(streamed.thinking, { type: "enabled", budget_tokens: 1024 })
    const thinking = next.messages[1].content[0]
    assert.strictEqual(thinking.type, "thinking")
    assert.match(thinking.signature, /^mock-signature-/)
    assert.deepStrictEqual(next.messages.at(-1).content.at(-1).cache_control, { type: "ephemeral" })
  })
})
