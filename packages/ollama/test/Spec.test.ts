// Every request the Ollama provider sends must be valid under Ollama's OpenAPI document: the
// representative requests go through the real client to MockProviderServer, and the recorded
// bodies are validated with Ajv. Negative controls prove the validator is not accepting everything.
import { assert, describe, it } from "@effect/vitest"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import { Effect, Stream } from "effect"
import { setup } from "./helpers.ts"
import * as SpecValidator from "./specValidator.ts"

const chat = SpecValidator.chatRequest()
const show = SpecValidator.showRequest()

const weather = { name: "get_weather", description: "weather", parameters: { type: "object", properties: { city: { type: "string" } } } }

const representative: ReadonlyArray<{ readonly name: string; readonly request: ChatRequest.ChatRequest }> = [
  { name: "plain", request: { messages: [{ role: "user", content: "hi" }] } },
  {
    name: "every option",
    request: {
      messages: [{ role: "system", content: [{ type: "text", text: "a" }, { type: "text", text: "b" }] }, { role: "developer", content: "d" }, { role: "user", content: "hi" }],
      maxTokens: 10,
      temperature: 0.5,
      topP: 0.5,
      stop: ["x", "y"],
      seed: 1,
      responseFormat: { type: "json_schema", name: "s", schema: { type: "object" } }
    }
  },
  { name: "json object", request: { messages: [{ role: "user", content: "hi" }], responseFormat: { type: "json_object" } } },
  {
    name: "images",
    request: { messages: [{ role: "user", content: [{ type: "text", text: "see" }, { type: "image", source: { type: "base64", mediaType: "image/png", data: "iVBO" } }] }] }
  },
  {
    name: "tools both ways, with thinking given back",
    request: {
      messages: [
        { role: "user", content: "weather?" },
        { role: "assistant", content: null, reasoning: [{ text: "call it" }], toolCalls: [{ id: "c1", name: "get_weather", arguments: "{\"city\":\"Paris\"}" }] },
        { role: "tool", toolCallId: "c1", content: "18C" }
      ],
      tools: [weather]
    }
  }
]

describe("Ollama spec: ChatRequest", () => {
  it("rejects invalid bodies (negative control)", () => {
    assert.isNotEmpty(chat.validate({ model: 1, messages: [{ role: "user", content: "hi" }] }))
    assert.isNotEmpty(chat.validate({ model: "m", messages: [{ role: "wizard", content: "hi" }] }))
    assert.isNotEmpty(chat.validate({ model: "m" }))
    assert.isNotEmpty(chat.validate({ model: "m", messages: [{ role: "user", content: "hi" }], keepalive: "5m" })) // closed objects
    assert.isNotEmpty(chat.validate({ model: "m", messages: [{ role: "user", content: "hi", tool_calls: [{ function: { name: "f", arguments: "{}" } }] }] }))
    assert.isNotEmpty(chat.validate({ model: "m", messages: [{ role: "user", content: "hi" }], think: "extreme" }))
    assert.isNotEmpty(show.validate({ name: "m" }))
  })

  it("accepts a minimal valid body (positive control)", () => {
    assert.deepStrictEqual(chat.validate({ model: "m", messages: [{ role: "user", content: "hi" }] }), [])
    assert.deepStrictEqual(show.validate({ model: "m" }), [])
  })

  it.effect("every recorded request body (chat, stream, show) is valid", () =>
    Effect.gen(function*() {
      const { client, provider, server } = yield* setup({}, { chat: { keepAlive: "5m", think: "high", numCtx: 4096, topK: 20 } })
      for (const { request } of representative) {
        yield* provider.chat(request)
        yield* Stream.runDrain(provider.stream(request))
      }
      yield* client.show("llama3.2")
      const calls = yield* server.calls
      assert.strictEqual(calls.length, representative.length * 2 + 1)
      for (const [index, call] of calls.entries()) {
        if (call.path === "/api/show") {
          assert.deepStrictEqual(show.validate(call.body), [], "show")
          continue
        }
        const name = representative[Math.floor(index / 2)]?.name
        assert.deepStrictEqual(chat.validate(call.body), [], `${name} (${index % 2 === 0 ? "chat" : "stream"})`)
      }
    }))
})
