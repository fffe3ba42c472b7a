// examples/flow.ts end to end against the Flow mock: what it prints is what the gateway's model
// lists and scripted answers say, and the failover goes to the direct provider.
import { assert, describe, it } from "@effect/vitest"
import { runFlowExample } from "../flow.ts"

describe("examples/flow.ts", () => {
  it("lists Flow's provider:modelId models, chats and streams through the gateway, fails over to the direct provider", async () => {
    const lines: Array<string> = []
    await runFlowExample((line) => lines.push(line))
    assert.deepStrictEqual(lines, [
      "models: azure-openai:gpt-4o (flow), google:gemini-2.5-pro (flow), bedrock:anthropic.claude-sonnet-4 (flow), azure-foundry:DeepSeek-R1 (flow), gpt-4o-mini (direct)",
      "chat: flow heard: Hello, Gemini (from flow/google, model gemini-2.5-pro)",
      "stream: flow heard: Stream from Bedrock",
      "failover: The direct provider answers. (from direct; tried flow failure, direct success)",
      // one token for every call: cached, shared by the model lists and the chats
      "gateway tokens issued: 1"
    ])
  })
})
