// The request and response mapping as pure functions: prompt-caching checkpoints, images, the
// typed provider option, what Converse cannot take, stop reasons (raw kept) and usage.
import { assert, describe, it } from "@effect/vitest"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import { MalformedResponse } from "@flexiai/core/ProviderError"
import { BedrockOptions, finishReason, fromWire, toWire, usage } from "../src/BedrockCodec.ts"

const user = (content: string) => ({ role: "user" as const, content })

describe("toWire", () => {
  it("cache checkpoints after the system blocks, the tools and a chosen message", () => {
    const wire = toWire({
      messages: [{ role: "system", content: [{ type: "text", text: "A" }, { type: "text", text: "B" }] }, user("long document"), { role: "assistant", content: "ok" }, user("question")],
      tools: [{ name: "f", parameters: { type: "object" } }],
      providerOptions: { bedrock: { cache: { system: true, tools: true, messages: [1] } } }
    })
    assert.isUndefined(wire.unsupported)
    assert.deepStrictEqual(wire.body.system, [{ text: "A" }, { text: "B" }, { cachePoint: { type: "default" } }])
    assert.deepStrictEqual(wire.body.toolConfig?.tools.at(-1), { cachePoint: { type: "default" } })
    assert.deepStrictEqual(wire.body.messages[0], { role: "user", content: [{ text: "long document" }, { cachePoint: { type: "default" } }] })
    assert.deepStrictEqual(wire.body.messages[2], { role: "user", content: [{ text: "question" }] })
  })

  it("the provider's own name wins over the kind; an unknown option key is InvalidRequest", () => {
    const named = toWire({ messages: [user("x")], providerOptions: { bedrock: { cache: { messages: [0] } }, "my-bedrock": {} } }, { providerName: "my-bedrock" })
    assert.deepStrictEqual(named.body.messages[0]?.content, [{ text: "x" }])
    const typo = toWire({ messages: [user("x")], providerOptions: { bedrock: { caching: true } } })
    assert.strictEqual(typo.unsupported?._tag, "InvalidRequest")
    assert.isTrue(BedrockOptions.fields.cache !== undefined)
  })

  it("images as bytes: base64 parts and data: URLs; an http URL and an unknown format are Unsupported", () => {
    const image = (source: ChatRequest.ImagePart["source"]) => toWire({ messages: [{ role: "user", content: [{ type: "image", source }] }] })
    assert.deepStrictEqual(image({ type: "base64", mediaType: "image/jpeg", data: "AAAA" }).body.messages[0]?.content, [{ image: { format: "jpeg", source: { bytes: "AAAA" } } }])
    assert.deepStrictEqual(image({ type: "url", url: "data:image/webp;base64,BBBB" }).body.messages[0]?.content, [{ image: { format: "webp", source: { bytes: "BBBB" } } }])
    assert.strictEqual(image({ type: "url", url: "https://example.com/cat.png" }).unsupported?._tag, "Unsupported")
    assert.strictEqual(image({ type: "base64", mediaType: "image/tiff", data: "AAAA" }).unsupported?._tag, "Unsupported")
  })

  it("json response formats are Unsupported; seed and user are dropped with a warning; metadata is requestMetadata", () => {
    assert.strictEqual(toWire({ messages: [user("x")], responseFormat: { type: "json_object" } }).unsupported?._tag, "Unsupported")
    const wire = toWire({ messages: [user("x")], seed: 1, user: "u", metadata: { a: "b" } })
    assert.deepStrictEqual(wire.dropped, ["seed", "user"])
    assert.deepStrictEqual(wire.body.requestMetadata, { a: "b" })
  })

  it("consecutive tool results join one user turn; toolChoice none without tool history sends no tools", () => {
    const calls = [{ id: "a", name: "f", arguments: "{}" }, { id: "b", name: "f", arguments: "" }]
    const wire = toWire({
      messages: [user("x"), { role: "assistant", toolCalls: calls }, { role: "tool", toolCallId: "a", content: "1" }, { role: "tool", toolCallId: "b", content: "2" }],
      tools: [{ name: "f", parameters: {} }]
    })
    assert.strictEqual(wire.body.messages.length, 3)
    assert.strictEqual(wire.body.messages[2]?.content.length, 2)
    assert.deepStrictEqual(wire.body.messages[1]?.content[1], { toolUse: { toolUseId: "b", name: "f", input: {} } })
    assert.isUndefined(toWire({ messages: [user("x")], tools: [{ name: "f", parameters: {} }], toolChoice: "none" }).body.toolConfig)
  })
})

describe("fromWire", () => {
  it("stop reasons unified, the raw value kept", () => {
    const table: Record<string, string> = {
      end_turn: "stop",
      stop_sequence: "stop",
      max_tokens: "length",
      tool_use: "tool_calls",
      content_filtered: "content_filter",
      guardrail_intervened: "content_filter",
      something_new: "other"
    }
    for (const [raw, unified] of Object.entries(table)) {
      assert.strictEqual(finishReason(raw), unified)
      const response = fromWire({ output: { message: { content: [{ text: "t" }] } }, stopReason: raw }, { provider: "p", model: "m", latencyMillis: 1 })
      assert.strictEqual("rawFinishReason" in response ? response.rawFinishReason : undefined, raw)
    }
  })

  it("usage: promptTokens counts cache reads and writes; a response without content is MalformedResponse", () => {
    assert.deepStrictEqual(usage({ inputTokens: 10, outputTokens: 5, cacheReadInputTokens: 100, cacheWriteInputTokens: 20 }), {
      promptTokens: 130,
      completionTokens: 5,
      totalTokens: 135,
      cachedTokens: 100,
      cacheWriteTokens: 20
    })
    assert.instanceOf(fromWire({ stopReason: "end_turn" }, { provider: "p", model: "m", latencyMillis: 1 }), MalformedResponse)
  })
})
