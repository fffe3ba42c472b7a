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

  it.effect("file parts: each source decodes; a bad one fails naming its field", () =>
    Effect.gen(function*() {
      const file = (part: unknown) => ({ messages: [{ role: "user", content: [part] }] })
      for (
        const source of [
          { type: "base64", mediaType: "application/pdf", data: "JVBERi0=" },
          { type: "url", url: "https://x/a.pdf", mediaType: "application/pdf" },
          { type: "text", text: "notes" },
          { type: "text", text: "# notes", mediaType: "text/markdown" }
        ]
      ) {
        const ok = file({ type: "file", source, fileName: "a.pdf" })
        assert.deepStrictEqual<unknown>(yield* ChatRequest.decode(ok), ok)
      }
      // a media type is required for bytes and URLs, and must look like one
      assert.include(yield* rejection(file({ type: "file", source: { type: "base64", data: "JVBERi0=" } })), "messages[0].content[0].source")
      assert.include(yield* rejection(file({ type: "file", source: { type: "url", url: "https://x/a.pdf" } })), "mediaType")
      assert.include(yield* rejection(file({ type: "file", source: { type: "base64", mediaType: "pdf", data: "x" } })), "mediaType")
      assert.include(yield* rejection(file({ type: "file", source: { type: "text", text: "x" }, fileName: "" })), "fileName")
      assert.include(yield* rejection(file({ type: "file", source: { type: "text", text: "x" }, filename: "a" })), "filename")
      // an unknown part type names the three it can be
      assert.include(
        yield* rejection(file({ type: "document", source: { type: "text", text: "x" } })),
        "messages[0].content[0].type \"document\" is not a content part type: use \"text\", \"image\" or \"file\""
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

  it.effect("rejects fields it does not know, listing every one with its path, on the request and in messages", () =>
    Effect.gen(function*() {
      const message = yield* rejection({ messages: [{ ...user, cache: true }], topK: 3, temprature: 0.2 })
      assert.include(message, "unknown fields")
      for (const path of ["topK", "temprature", "messages[0].cache"]) assert.include(message, path)
      assert.include(message, "providerOptions")
      const error = yield* Effect.flip(ChatRequest.decode({ messages: [user], topK: 3 }))
      assert.strictEqual(error.reason._tag === "InvalidRequest" ? error.reason.param : undefined, "topK")
    }))

  it.effect("says what is wrong with common mistakes in sentences, without Schema notation", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        [{ messages: [] }, "invalid chat request: messages is empty: give at least one message"],
        [{}, "invalid chat request: messages is missing: give at least one message"],
        [{ messages: [{ role: "wizard", content: "x" }] }, `messages[0].role "wizard" is not a role: use "system", "developer", "user", "assistant" or "tool"`],
        [{ messages: ["hi"] }, "messages[0] must be a message: an object with a role and content"],
        [{ messages: [{ role: "user" }] }, "messages[0].content is missing"],
        [{ messages: [{ role: "user", content: [] }] }, "messages[0].content is empty"],
        [{ messages: [{ role: "user", content: [{ type: "video" }] }] }, `messages[0].content[0].type "video" is not a content part type`],
        [{ messages: [user], temperature: 3 }, "temperature must be a value between 0 and 2"],
        [{ messages: [user], maxTokens: 1.5 }, "maxTokens must be an integer"]
      ]
      for (const [input, expected] of cases) {
        const message = yield* rejection(input)
        assert.include(message, expected, JSON.stringify(input))
        for (const notation of ["Missing key", "Expected", "[\"", "readonly"]) assert.notInclude(message, notation, message)
      }
    }))

  it.effect("accepts developer messages and system or developer content as text parts", () =>
    Effect.gen(function*() {
      const input = {
        messages: [
          { role: "developer", content: "answer in French" },
          { role: "system", content: [{ type: "text", text: "be brief" }, { type: "text", text: "no lists" }] },
          { role: "developer", content: [{ type: "text", text: "cite sources" }] },
          user
        ]
      }
      assert.deepStrictEqual<unknown>(yield* ChatRequest.decode(input), input)
      assert.strictEqual(ChatRequest.textOf(input.messages[1] as ChatRequest.Message), "be briefno lists")
      // images are not instructions
      assert.include(
        yield* rejection({ messages: [{ role: "system", content: [{ type: "image", source: { type: "url", url: "https://x/y.png" } }] }, user] }),
        "messages[0].content"
      )
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
