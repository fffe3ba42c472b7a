// Property: for any conversation built from the request's parts (system and developer messages
// anywhere, user text and images, assistant text and tool calls with reasoning, tool results),
// `toWire` gives a body valid under Google's spec, with every system text in systemInstruction,
// roles only user/model, and one functionResponse per tool message.
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import * as fc from "fast-check"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import * as GoogleCodec from "../src/GoogleCodec.ts"
import * as SpecValidator from "./specValidator.ts"

const validator = SpecValidator.generateContentRequest()
const text = fc.string({ minLength: 1, maxLength: 12 })
const base64 = fc.uint8Array({ minLength: 1, maxLength: 12 }).map((bytes) => Buffer.from(bytes).toString("base64"))

type Turn =
  | { readonly kind: "system"; readonly text: string }
  | { readonly kind: "user"; readonly text: string; readonly image: string | undefined }
  | { readonly kind: "assistant"; readonly text: string | undefined; readonly calls: number; readonly thought: string | undefined; readonly signature: string | undefined }

const turn: fc.Arbitrary<Turn> = fc.oneof(
  fc.record({ kind: fc.constant("system" as const), text }),
  fc.record({ kind: fc.constant("user" as const), text, image: fc.option(base64, { nil: undefined }) }),
  fc.record({
    kind: fc.constant("assistant" as const),
    text: fc.option(text, { nil: undefined }),
    calls: fc.integer({ min: 0, max: 2 }),
    thought: fc.option(text, { nil: undefined }),
    signature: fc.option(base64, { nil: undefined })
  })
)

/** A valid ChatRequest from turns: every assistant call is answered by a tool message right after it. */
const toRequest = (turns: ReadonlyArray<Turn>): ChatRequest.ChatRequest => {
  const messages: Array<ChatRequest.Message> = []
  let id = 0
  for (const entry of turns) {
    if (entry.kind === "system") messages.push({ role: id % 2 === 0 ? "system" : "developer", content: entry.text })
    else if (entry.kind === "user") {
      messages.push({
        role: "user",
        content: entry.image === undefined
          ? entry.text
          : [{ type: "text", text: entry.text }, { type: "image", source: { type: "base64", mediaType: "image/png", data: entry.image } }]
      })
    } else {
      const calls = Array.from({ length: entry.calls }, () => ({ id: `call_${++id}`, name: "lookup", arguments: JSON.stringify({ q: entry.text ?? "" }) }))
      messages.push({
        role: "assistant",
        content: entry.text ?? null,
        toolCalls: calls,
        reasoning: [
          ...(entry.thought === undefined ? [] : [{ text: entry.thought, id: "thought", format: "gemini" }]),
          ...(entry.signature === undefined ? [] : [{ text: "", signature: entry.signature, id: "text", format: "gemini" }])
        ]
      })
      for (const call of calls) messages.push({ role: "tool", toolCallId: call.id, content: "{\"ok\":true}" })
    }
  }
  if (!messages.some((message) => message.role === "user")) messages.push({ role: "user", content: "hi" })
  return {
    messages: messages as unknown as ChatRequest.ChatRequest["messages"],
    tools: [{ name: "lookup", parameters: { type: "object", properties: { q: { type: "string" } }, required: ["q"] } }]
  }
}

describe("toWire on generated conversations", () => {
  it("always gives a spec-valid body that keeps every message", () => {
    fc.assert(
      fc.property(fc.array(turn, { minLength: 1, maxLength: 8 }), (turns) => {
        const request = toRequest(turns)
        const wire = GoogleCodec.toWire(request, { providerName: "gemini", kind: "gemini" })
        assert.isTrue(Result.isSuccess(wire))
        if (!Result.isSuccess(wire)) return
        const body = wire.success.body
        assert.deepStrictEqual(validator.validate(body), [])
        const systemTexts = request.messages.flatMap((message) =>
          message.role === "system" || message.role === "developer" ? [message.content as string] : []
        )
        assert.deepStrictEqual((body.systemInstruction?.parts ?? []).map((part) => part.text), systemTexts)
        for (const content of body.contents) assert.include(["user", "model"], content.role)
        const responses = body.contents.flatMap((content) => content.parts.filter((part) => part.functionResponse !== undefined))
        assert.strictEqual(responses.length, request.messages.filter((message) => message.role === "tool").length)
        const calls = body.contents.flatMap((content) => content.parts.filter((part) => part.functionCall !== undefined))
        assert.strictEqual(calls.length, responses.length)
      }),
      { numRuns: 200 }
    )
  })
})
