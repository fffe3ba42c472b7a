// examples/bedrock.ts end to end: every request it makes is SigV4-signed and accepted by the mock,
// and what it prints is what the scripted Bedrock answers say.
import { assert, describe, it } from "@effect/vitest"
import { runBedrockExample } from "../bedrock.ts"

describe("examples/bedrock.ts", () => {
  it("chats, streams, calls a tool and goes through FlexiAI, all signed", async () => {
    const lines: Array<string> = []
    await runBedrockExample((line) => lines.push(line))
    assert.deepStrictEqual(lines, [
      "chat: Paris is the capital of France. (stop, raw end_turn, 40 prompt tokens)",
      "stream: Bonjour ! Je suis un modèle sur Bedrock.",
      "tool call: get_weather({\"city\":\"Paris\"}) (tool_calls)",
      "FlexiAI: bedrock heard: Which provider answers? (from bedrock, model anthropic.claude-3-5-haiku-20241022-v1:0)",
      "signed requests accepted: 4"
    ])
  })
})
