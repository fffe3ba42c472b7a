// Every request the Anthropic provider sends must be valid under Anthropic's spec (the 2024 copy
// with the overlays specValidator.ts names): representative requests go through the real client to
// MockProviderServer, and the recorded bodies are validated with Ajv. Negative controls prove the
// validator is not accepting everything.
import { assert, describe, it } from "@effect/vitest"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import { Effect, Stream } from "effect"
import { setup } from "./helpers.ts"
import * as SpecValidator from "./specValidator.ts"

const spec = SpecValidator.createMessage()

const tools: ChatRequest.ChatRequest["tools"] = [
  { name: "weather", description: "Weather by city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
  { name: "time", parameters: { type: "object", properties: {} } }
]

const representative: ReadonlyArray<{ readonly name: string; readonly request: ChatRequest.ChatRequest }> = [
  { name: "plain", request: { messages: [{ role: "user", content: "hi" }] } },
  {
    name: "every option",
    request: {
      messages: [{ role: "system", content: "Be brief." }, { role: "developer", content: "Use English." }, { role: "user", content: "hi" }],
      temperature: 0.3,
      topP: 0.9,
      maxTokens: 100,
      stop: ["END", "STOP"],
      user: "user-1",
      providerOptions: { anthropic: { top_k: 20, cache: { system: true, messages: true, ttl: "1h" } } }
    }
  },
  {
    name: "images",
    request: {
      messages: [{
        role: "user",
        content: [
          { type: "text", text: "what is this?" },
          { type: "image", source: { type: "base64", mediaType: "image/png", data: "iVBORw0KGgo=" } },
          { type: "image", source: { type: "url", url: "https://example.com/cat.png" } }
        ]
      }]
    }
  },
  {
    name: "tools, tool use and results, merged turns",
    request: {
      messages: [
        { role: "user", content: "weather in Paris and the time?" },
        {
          role: "assistant",
          content: "Checking.",
          toolCalls: [{ id: "toolu_01", name: "weather", arguments: "{\"city\":\"Paris\"}" }, { id: "toolu_02", name: "time", arguments: "" }]
        },
        { role: "tool", toolCallId: "toolu_01", content: "sunny" },
        { role: "tool", toolCallId: "toolu_02", content: "noon" },
        { role: "user", content: "thanks" }
      ],
      tools,
      toolChoice: "required",
      providerOptions: { anthropic: { cache: { tools: true } } }
    }
  },
  { name: "tool choice: one tool", request: { messages: [{ role: "user", content: "x" }], tools, toolChoice: { type: "tool", name: "time" } } },
  { name: "tool choice: none", request: { messages: [{ role: "user", content: "x" }], tools, toolChoice: "none" } },
  {
    name: "thinking, given back signed",
    request: {
      messages: [
        { role: "user", content: "q" },
        { role: "assistant", content: "a", reasoning: [{ text: "hmm", signature: "sig" }, { text: "", redactedData: "enc" }] },
        { role: "user", content: "q2" }
      ],
      providerOptions: { anthropic: { thinking: { type: "enabled", budget_tokens: 2048 } } }
    }
  },
  {
    name: "prefill with trailing whitespace",
    request: { messages: [{ role: "user", content: "Say hi" }, { role: "assistant", content: "Hi " }] }
  }
]

describe("Anthropic spec: CreateMessageParams", () => {
  it("rejects invalid bodies (negative control)", () => {
    const ok = { model: "claude-x", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }
    assert.isNotEmpty(spec.validate({ ...ok, max_tokens: undefined }))
    assert.isNotEmpty(spec.validate({ ...ok, messages: [{ role: "system", content: "hi" }] }))
    assert.isNotEmpty(spec.validate({ ...ok, temperature: 1.5 }))
    assert.isNotEmpty(spec.validate({ ...ok, stop: ["x"] }))
    assert.isNotEmpty(spec.validate({ ...ok, messages: [{ role: "user", content: [{ type: "text", text: "" }] }] }))
    assert.isNotEmpty(spec.validate({ ...ok, tool_choice: { type: "required" } }))
    assert.isNotEmpty(spec.validate({ ...ok, messages: [{ role: "user", content: [{ type: "thinking", thinking: "x" }] }] }))
  })

  it("accepts a minimal valid body (positive control)", () => {
    assert.deepStrictEqual(spec.validate({ model: "claude-x", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }), [])
  })

  it.effect("every recorded request body (chat and stream) is valid", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      for (const { request } of representative) {
        yield* provider.chat(request)
        yield* Stream.runDrain(provider.stream(request))
      }
      const calls = yield* server.calls
      assert.strictEqual(calls.length, representative.length * 2)
      for (const [index, call] of calls.entries()) {
        const name = representative[Math.floor(index / 2)]?.name
        assert.deepStrictEqual(spec.validate(call.body), [], `${name} (${index % 2 === 0 ? "chat" : "stream"})`)
      }
    }))
})
