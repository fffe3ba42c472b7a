// The lean line check (internal/decode.ts) agrees with the `ChatChunk` Schema: on the recorded
// answers, on the mock's lines, and on values with a field of the wrong JSON kind.
import { assert, describe, it } from "@effect/vitest"
import { ollamaLines } from "@flexiai/testing/MockProviderServer"
import { Schema } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { isChatChunk } from "../src/internal/decode.ts"
import * as OllamaSchema from "../src/OllamaSchema.ts"
import { testDataDir } from "./helpers.ts"

const bySchema = Schema.is(OllamaSchema.ChatChunk)

const valid: ReadonlyArray<unknown> = [
  ...["native-api-chat-llama3.2.json", "native-api-chat-gemma3.json"].map((name) =>
    JSON.parse(readFileSync(join(testDataDir("fixtures"), "ollama", name), "utf8"))
  ),
  JSON.parse(ollamaLines.chunk("m", { thinking: "t" })),
  JSON.parse(ollamaLines.chunk("m", { tool_calls: [{ id: "c", function: { index: 0, name: "f", arguments: { a: 1 } } }] })),
  JSON.parse(ollamaLines.done("m", { eval_count: 3 })),
  JSON.parse(ollamaLines.error("boom")),
  {}
]

const wrong: ReadonlyArray<unknown> = [
  null,
  [],
  "text",
  { done: "yes" },
  { model: 1 },
  { eval_count: "3" },
  { message: "hi" },
  { message: { content: 1 } },
  { message: { thinking: false } },
  { message: { tool_calls: {} } },
  { message: { tool_calls: [{ function: { name: 1 } }] } },
  { message: { tool_calls: [{ function: { name: "f", arguments: "{}" } }] } },
  { error: { message: "x" } }
]

describe("the line check equals the Schema", () => {
  it("accepts what the Schema accepts", () => {
    for (const value of valid) {
      assert.isTrue(bySchema(value), JSON.stringify(value))
      assert.isTrue(isChatChunk(value), JSON.stringify(value))
    }
  })

  it("rejects what the Schema rejects", () => {
    for (const value of wrong) {
      assert.isFalse(bySchema(value), JSON.stringify(value))
      assert.isFalse(isChatChunk(value), JSON.stringify(value))
    }
  })
})
