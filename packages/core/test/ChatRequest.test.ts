import { assert, describe, it } from "@effect/vitest"
import { ChatRequest } from "@flexiai/core"
import { Effect } from "effect"

const rejection = (input: unknown) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(ChatRequest.decode(input))
    assert.strictEqual(error.provider, "flexiai")
    assert.strictEqual(error.reason._tag, "InvalidRequest")
    return error.reason.message
  })

const user = { role: "user", content: "hello" } as const

describe("ChatRequest.decode", () => {
  it.effect("accepts a prompt, a message list and a full request", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* ChatRequest.decode("hi"), { messages: [{ role: "user", content: "hi" }] })
      assert.deepStrictEqual(yield* ChatRequest.decode([user]), { messages: [user] })
      const full = {
        messages: [
          { role: "system", content: "be brief" },
          {
            role: "user",
            content: [
              { type: "text", text: "what is this?" },
              { type: "image", source: { type: "base64", mediaType: "image/png", data: "iVBORw0KGgo=" } }
            ]
          },
          {
            role: "assistant",
            content: null,
            toolCalls: [{ id: "call_1", name: "lookup", arguments: "{\"q\":\"x\"}" }],
            reasoning: [{ text: "look it up", signature: "sig" }, { text: "", redactedData: "opaque" }]
          },
          { role: "tool", toolCallId: "call_1", content: "{\"answer\":42}" }
        ],
        model: "gpt-4o-mini",
        temperature: 0.2,
        maxTokens: 100,
        topP: 0.9,
        stop: ["\n\n"],
        seed: 7,
        tools: [{ name: "lookup", description: "look it up", parameters: { type: "object" } }],
        toolChoice: { type: "tool", name: "lookup" },
        responseFormat: { type: "json_schema", name: "answer", schema: { type: "object" }, strict: true },
        user: "u-1",
        metadata: { team: "search" },
        providerOptions: { openai: { logprobs: true } }
      }
      assert.deepStrictEqual<unknown>(yield* ChatRequest.decode(full), full)
    }))

  it.effect("rejects out-of-range generation options, naming the field", () =>
    Effect.gen(function*() {
      assert.include(yield* rejection({ messages: [user], temperature: 2.5 }), "temperature")
      assert.include(yield* rejection({ messages: [user], topP: -0.1 }), "topP")
      assert.include(yield* rejection({ messages: [user], maxTokens: 0 }), "maxTokens")
      assert.include(yield* rejection({ messages: [user], maxTokens: 1.5 }), "maxTokens")
      assert.include(yield* rejection({ messages: [user], stop: ["a", "b", "c", "d", "e"] }), "stop")
    }))

  it.effect("rejects providerOptions that would override model, messages or stream, naming the key", () =>
    Effect.gen(function*() {
      for (const key of ["model", "messages", "stream"]) {
        const message = yield* rejection({ messages: [user], providerOptions: { openai: { [key]: [] } } })
        assert.include(message, `providerOptions.openai may not set "${key}"`)
      }
      // a reserved key set to undefined is still an override the provider would merge
      assert.include(
        yield* rejection({ messages: [user], providerOptions: { a: { logprobs: true }, b: { stream: undefined } } }),
        `providerOptions.b may not set "stream"`
      )
      const allowed = { messages: [user], providerOptions: { openai: { logprobs: true, modelVersion: "x" } } }
      assert.deepStrictEqual<unknown>(yield* ChatRequest.decode(allowed), allowed)
    }))

  it.effect("rejects malformed messages", () =>
    Effect.gen(function*() {
      assert.include(yield* rejection({ messages: [] }), "messages")
      assert.include(yield* rejection({ messages: [{ role: "wizard", content: "x" }] }), "messages")
      assert.include(yield* rejection({ messages: [{ role: "user" }] }), "messages")
      assert.include(
        yield* rejection({
          messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", mediaType: "text/plain", data: "x" } }] }]
        }),
        "mediaType"
      )
    }))

  it.effect("rejects inconsistent tool use: unknown tool choice, duplicate tools, unanswered tool results", () =>
    Effect.gen(function*() {
      const tool = { name: "lookup", parameters: { type: "object" } }
      assert.include(yield* rejection({ messages: [user], toolChoice: "required" }), "toolChoice requires at least one tool")
      assert.include(
        yield* rejection({ messages: [user], tools: [tool], toolChoice: { type: "tool", name: "other" } }),
        "\"other\", which is not in `tools`"
      )
      assert.include(yield* rejection({ messages: [user], tools: [tool, tool] }), "tool names must be unique")
      assert.include(yield* rejection({ messages: [user], tools: [{ ...tool, name: "has space" }] }), "name")
      assert.include(
        yield* rejection({ messages: [user, { role: "tool", toolCallId: "call_9", content: "x" }] }),
        "toolCallId \"call_9\""
      )
    }))

  it.effect("reports every problem, not just the first", () =>
    Effect.gen(function*() {
      const message = yield* rejection({ messages: [user], temperature: 9, topP: 7, seed: "x" })
      for (const field of ["temperature", "topP", "seed"]) assert.include(message, field)
    }))

  it("textOf joins text parts and drops images", () => {
    assert.strictEqual(
      ChatRequest.textOf({
        role: "user",
        content: [
          { type: "text", text: "a" },
          { type: "image", source: { type: "url", url: "https://x/y.png" } },
          { type: "text", text: "b" }
        ]
      }),
      "ab"
    )
    assert.strictEqual(ChatRequest.textOf({ role: "assistant", content: null }), "")
  })
})
