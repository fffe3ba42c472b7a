// examples/ollama.ts end to end against its mock servers: what it prints is what happened.
import { assert, describe, it } from "@effect/vitest"
import { runOllamaExample } from "../ollama.ts"

describe("examples/ollama.ts", () => {
  it("lists, shows, chats, streams thinking, explains a model not pulled, and fails over", async () => {
    const lines: Array<string> = []
    const report = await runOllamaExample((line) => lines.push(line))
    assert.deepStrictEqual(report.models, ["llama3.2:latest", "qwen3:8b"])
    assert.strictEqual(report.contextLength, 40960)
    assert.deepStrictEqual(report.capabilities, ["completion", "tools", "thinking"])
    assert.strictEqual(report.answer, "llama heard: Say hello")
    assert.strictEqual(report.reasoning, "The user wants a greeting.")
    assert.strictEqual(report.streamed, "Hello from qwen3!")
    assert.include(report.notPulled, "NotFound")
    assert.include(report.notPulled, "ollama pull mistral:7b")
    assert.strictEqual(report.failoverProvider, "backup")
    assert.include(lines.join("\n"), "router: the backup answers (from backup; ollama said NotFound)")
  })
})
