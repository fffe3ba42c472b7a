// toWire on any valid ChatRequest (generated from the core Schema): it fails with a typed reason,
// or gives a body the Messages API can take — alternating turns starting with the user, no empty
// text blocks, max_tokens always, every system and developer text in `system`, a prefill that
// does not end in whitespace — and, where the request is in Anthropic's ranges, one the spec
// validates. fromWire keeps the raw stop reason.
import { assert, describe, it } from "@effect/vitest"
import { ChatRequest } from "@flexiai/core/ChatRequest"
import { Arbitrary, Effect } from "effect"
import * as AnthropicCodec from "../src/AnthropicCodec.ts"
import * as SpecValidator from "./specValidator.ts"

const spec = SpecValidator.createMessage()

describe("toWire (property)", () => {
  it.effect("every request either fails typed or maps to a body the API takes", () =>
    Effect.map(Arbitrary.sampleEffect(Arbitrary.schema(ChatRequest), { count: 450, seed: 3 }), (requests) => {
      let mapped = 0
      let validated = 0
      for (const request of requests) {
        const wire = AnthropicCodec.toWire(request, "claude-x", { providerName: "anthropic" })
        if (wire.unsupported !== undefined) {
          assert.include(["Unsupported", "InvalidRequest"], wire.unsupported._tag)
          continue
        }
        mapped++
        const body = wire.body
        assert.isAtLeast(body.max_tokens, 1)
        let previous: string | undefined
        for (const message of body.messages) {
          assert.notStrictEqual(message.role, previous, "turns alternate")
          previous = message.role
          assert.isAbove(message.content.length, 0, "no empty message")
          for (const block of message.content) if (block.type === "text") assert.notStrictEqual(block.text, "", "no empty text")
        }
        const last = body.messages.at(-1)
        const tail = last?.role === "assistant" ? last.content.at(-1) : undefined
        if (tail?.type === "text") assert.notMatch(tail.text, /\s$/u, "a prefill never ends in whitespace")
        const instructions = request.messages.filter((message) => message.role === "system" || message.role === "developer")
        for (const message of instructions) {
          const text = typeof message.content === "string" ? message.content : message.content.map((part) => part.text).join("\n")
          assert.include(body.system?.[0]?.text ?? "", text)
        }
        // the spec (2024) knows Anthropic's own ranges only; requests inside them must validate
        const inRange = (request.temperature ?? 0) <= 1 && request.providerOptions === undefined &&
          body.messages.length > 0 && body.messages[0]!.role === "user" &&
          (request.stop ?? []).every((stop) => stop.trim() !== "") &&
          request.messages.every((message) =>
            message.role !== "tool" && (message.role !== "assistant" || (message.toolCalls ?? []).length === 0) &&
            (message.role !== "user" || typeof message.content === "string" ||
              message.content.every((part) => part.type === "text" || (part.source.type === "base64" && /^image\/(jpeg|png|gif|webp)$/.test(part.source.mediaType))))
          ) &&
          (request.tools ?? []).every((tool) => tool.parameters["type"] === "object")
        if (inRange) {
          validated++
          assert.deepStrictEqual(spec.validate(body), [], JSON.stringify(body))
        }
      }
      assert.isAbove(mapped, 100)
      assert.isAbove(validated, 10)
    }))
})

describe("fromWire", () => {
  it("keeps the raw stop reason beside the unified one, unknown ones as other", () => {
    for (const raw of ["end_turn", "pause_turn", "refusal", "brand_new_reason"]) {
      const response = AnthropicCodec.fromWire(
        { id: "m", content: [{ type: "text", text: "x" }], stop_reason: raw },
        { provider: "p", model: "m", latencyMillis: 1 }
      )
      assert.strictEqual("rawFinishReason" in response ? response.rawFinishReason : undefined, raw)
    }
  })

  it("untrim takes the prefill's cut whitespace off the answer's start, once", () => {
    assert.strictEqual(AnthropicCodec.untrim(" world", " "), "world")
    assert.strictEqual(AnthropicCodec.untrim("world", " "), "world")
    assert.strictEqual(AnthropicCodec.untrim("\n\nnext", "\n"), "\nnext")
    assert.strictEqual(AnthropicCodec.untrim(" x", ""), " x")
  })
})
