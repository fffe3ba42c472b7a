// The stream machine reads plain text deltas by hand (the common frame) and every other
// contentBlockDelta through `BedrockSchema.ContentBlockDelta`: for any payload, what it makes must
// be what the Schema route alone would make (the same text part, or the same non-text outcome).
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import * as fc from "fast-check"
import * as BedrockSchema from "../src/BedrockSchema.ts"
import * as BedrockStream from "../src/BedrockStream.ts"

const context: BedrockStream.StreamContext = { provider: "bedrock", model: "m", mask: (text) => text }
const frameOf = (json: unknown) => ({
  headers: { ":message-type": "event", ":event-type": "contentBlockDelta", ":content-type": "application/json" },
  payload: new TextEncoder().encode(JSON.stringify(json))
})

const schemaText = (json: unknown): string | undefined | "invalid" => {
  const decoded = Schema.decodeUnknownOption(BedrockSchema.ContentBlockDelta)(json)
  if (decoded._tag === "None") return "invalid"
  return decoded.value.delta.text
}

const anyValue = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.string(), { maxLength: 2 }))
const delta = fc.record({
  text: fc.option(fc.oneof(fc.string(), anyValue), { nil: undefined }),
  toolUse: fc.option(fc.oneof(fc.record({ input: fc.string() }), anyValue), { nil: undefined }),
  reasoningContent: fc.option(fc.oneof(fc.record({ text: fc.string() }), anyValue), { nil: undefined }),
  extra: fc.option(fc.string(), { nil: undefined })
}, { requiredKeys: [] })
const payload = fc.oneof(
  fc.record({ contentBlockIndex: fc.oneof(fc.nat(), fc.double(), fc.string(), fc.constant(null)), delta: fc.oneof(delta, anyValue) }, { requiredKeys: [] }),
  anyValue
)

describe("BedrockStream: a plain text delta read by hand agrees with the Schema", () => {
  it("gives the text part exactly when the Schema route would, and the same text", () => {
    fc.assert(fc.property(payload, (value) => {
      // what goes on the wire (an undefined field is not sent) is what both routes read
      const json: unknown = JSON.parse(JSON.stringify(value))
      const step = BedrockStream.step(BedrockStream.initialState, frameOf(json), context)
      const expected = schemaText(json)
      if (expected === "invalid") {
        assert.strictEqual(step._tag, "Malformed")
        return
      }
      if (expected !== undefined) {
        assert.deepStrictEqual(step._tag === "Parts" ? step.parts : step, [{ type: "text-delta", text: expected }])
        return
      }
      // no text: a tool-use or reasoning delta, or an empty one; never a text part
      assert.isTrue(step._tag !== "Parts" || step.parts.every((part) => part.type !== "text-delta"))
    }), { numRuns: 2000 })
  })
})
