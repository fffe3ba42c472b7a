// Wire-level behaviour of the Anthropic provider against MockProviderServer: the request body and
// headers it sends, the answers it reads (chat and stream), and how it maps stop reasons and usage.
import { assert, describe, it } from "@effect/vitest"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import type * as StreamPart from "@flexiai/core/StreamPart"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Effect, Stream } from "effect"
import { events, lastBody, partialText, reasonOf, request, setup, sseReply, textOf } from "./helpers.ts"

const message = (content: ReadonlyArray<unknown>, extra: Record<string, unknown> = {}) =>
  MockProviderServer.raw(JSON.stringify({
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5-20250929",
    content,
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 5 },
    ...extra
  }))

describe("request mapping", () => {
  it.effect("POST /v1/messages with x-api-key, anthropic-version and the body", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({}, { client: { betas: ["prompt-caching-2024-07-31"] } })
      yield* provider.chat(request("hi", { temperature: 0.5, topP: 0.9, stop: ["END"], user: "u-1" }))
      const call = (yield* server.calls)[0]!
      assert.strictEqual(call.method, "POST")
      assert.strictEqual(call.path, "/v1/messages")
      assert.match(call.headers["x-api-key"]!, /mnop$/)
      assert.isUndefined(call.headers["authorization"])
      assert.strictEqual(call.headers["anthropic-version"], "2023-06-01")
      assert.strictEqual(call.headers["anthropic-beta"], "prompt-caching-2024-07-31")
      assert.deepStrictEqual(call.body, {
        model: "claude-sonnet-4-5",
        max_tokens: 4096,
        messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
        temperature: 0.5,
        top_p: 0.9,
        stop_sequences: ["END"],
        metadata: { user_id: "u-1" }
      })
    }))

  it.effect("system and developer messages are lifted out and joined; same-role runs merged; max_tokens from the request", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({}, { chat: { maxTokens: 999 } })
      yield* provider.chat({
        maxTokens: 77,
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "one" },
          { role: "developer", content: [{ type: "text", text: "Use" }, { type: "text", text: "English." }] },
          { role: "user", content: "two" },
          { role: "assistant", content: "ok" },
          { role: "assistant", content: "more" },
          { role: "user", content: "three" }
        ]
      })
      const body = (yield* lastBody(server))!
      assert.strictEqual(body.max_tokens, 77)
      assert.deepStrictEqual(body.system, [{ type: "text", text: "Be brief.\n\nUse\nEnglish." }])
      assert.deepStrictEqual(body.messages, [
        { role: "user", content: [{ type: "text", text: "one" }, { type: "text", text: "two" }] },
        { role: "assistant", content: [{ type: "text", text: "ok" }, { type: "text", text: "more" }] },
        { role: "user", content: [{ type: "text", text: "three" }] }
      ])
    }))

  it.effect("the provider's maxTokens default is sent when the request has none", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({}, { chat: { maxTokens: 321 } })
      yield* provider.chat(request())
      assert.strictEqual((yield* lastBody(server))!.max_tokens, 321)
    }))

  it.effect("images (base64, data: URL, URL), tools, tool_choice, tool_use and tool_result blocks", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      yield* provider.chat({
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "look" },
              { type: "image", source: { type: "base64", mediaType: "image/png", data: "iVBORw0KGgo=" } },
              { type: "image", source: { type: "url", url: "data:image/jpeg;base64,/9j/4AAQ" } },
              { type: "image", source: { type: "url", url: "https://example.com/cat.png" } }
            ]
          },
          { role: "assistant", content: "calling", toolCalls: [{ id: "toolu_1", name: "weather", arguments: "{\"city\":\"Paris\"}" }] },
          { role: "tool", toolCallId: "toolu_1", content: "sunny" },
          { role: "user", content: "thanks" }
        ],
        tools: [{ name: "weather", description: "Weather by city", parameters: { type: "object", properties: { city: { type: "string" } } } }],
        toolChoice: { type: "tool", name: "weather" }
      })
      const body = (yield* lastBody(server))!
      assert.deepStrictEqual(body.messages, [
        {
          role: "user",
          content: [
            { type: "text", text: "look" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
            { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "/9j/4AAQ" } },
            { type: "image", source: { type: "url", url: "https://example.com/cat.png" } }
          ]
        },
        {
          role: "assistant",
          content: [{ type: "text", text: "calling" }, { type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } }]
        },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "sunny" }, { type: "text", text: "thanks" }]
        }
      ])
      assert.deepStrictEqual(body.tools, [{
        name: "weather",
        description: "Weather by city",
        input_schema: { type: "object", properties: { city: { type: "string" } } }
      }])
      assert.deepStrictEqual(body.tool_choice, { type: "tool", name: "weather" })
    }))

  it.effect("tool choice: required is any, none is none, auto is auto", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      const tools = [{ name: "t", parameters: { type: "object" } }]
      for (const [choice, wire] of [["required", "any"], ["none", "none"], ["auto", "auto"]] as const) {
        yield* provider.chat(request("x", { tools, toolChoice: choice }))
        assert.deepStrictEqual((yield* lastBody(server))!.tool_choice, { type: wire })
      }
    }))

  it.effect("reasoning goes back as thinking with its signature; unsigned blocks are left out", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      yield* provider.chat({
        messages: [
          { role: "user", content: "q" },
          {
            role: "assistant",
            content: "a",
            reasoning: [{ text: "hmm", signature: "sig-1" }, { text: "", redactedData: "enc" }, { text: "other provider's" }]
          },
          { role: "user", content: "q2" }
        ]
      })
      assert.deepStrictEqual((yield* lastBody(server))!.messages[1], {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "hmm", signature: "sig-1" },
          { type: "redacted_thinking", data: "enc" },
          { type: "text", text: "a" }
        ]
      })
    }))

  it.effect("prompt caching: cache_control on system, the last tool and the last message; the request's option wins", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({}, { chat: { cache: { system: true, tools: true } } })
      const tools = [{ name: "a", parameters: { type: "object" } }, { name: "b", parameters: { type: "object" } }]
      const base: ChatRequest.ChatRequest = { messages: [{ role: "system", content: "sys" }, { role: "user", content: "hi" }], tools }
      yield* provider.chat(base)
      let body = (yield* lastBody(server))!
      assert.deepStrictEqual(body.system, [{ type: "text", text: "sys", cache_control: { type: "ephemeral" } }])
      assert.isUndefined(body.tools[0].cache_control)
      assert.deepStrictEqual(body.tools[1].cache_control, { type: "ephemeral" })
      assert.isUndefined(body.messages[0].content[0].cache_control)
      yield* provider.chat({ ...base, providerOptions: { anthropic: { cache: { messages: true, tools: false, ttl: "1h" } } } })
      body = (yield* lastBody(server))!
      assert.isUndefined(body.cache)
      assert.deepStrictEqual(body.system[0].cache_control, { type: "ephemeral", ttl: "1h" })
      assert.isUndefined(body.tools[1].cache_control)
      assert.deepStrictEqual(body.messages[0].content[0], { type: "text", text: "hi", cache_control: { type: "ephemeral", ttl: "1h" } })
    }))

  it.effect("a bad cache option fails with InvalidRequest before any call", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      const error = yield* Effect.flip(provider.chat(request("x", { providerOptions: { anthropic: { cache: { system: "yes" } } } })))
      assert.strictEqual(reasonOf(error)._tag, "InvalidRequest")
      assert.lengthOf(yield* server.calls, 0)
    }))

  it.effect("providerOptions pass through as wire fields (top_k, thinking)", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      yield* provider.chat(request("x", { providerOptions: { anthropic: { top_k: 40, thinking: { type: "enabled", budget_tokens: 2048 } } } }))
      const body = (yield* lastBody(server))!
      assert.strictEqual(body.top_k, 40)
      assert.deepStrictEqual(body.thinking, { type: "enabled", budget_tokens: 2048 })
    }))

  it.effect("thinkingBudget: thinking on every request, max_tokens above the budget, no prefill", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({}, { chat: { thinkingBudget: 2000 } })
      assert.isFalse(provider.capabilities.assistantPrefill)
      yield* provider.chat(request("x", { temperature: 0.5 }))
      const body = (yield* lastBody(server))!
      assert.deepStrictEqual(body.thinking, { type: "enabled", budget_tokens: 2000 })
      assert.strictEqual(body.max_tokens, 6096)
      // extended thinking takes no temperature: left out (with a warning) rather than a 400
      assert.isUndefined(body.temperature)
    }))

  it.effect("json_schema response format is Unsupported, without a call", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      const error = yield* Effect.flip(provider.chat(request("x", { responseFormat: { type: "json_schema", name: "n", schema: {} } })))
      assert.strictEqual(reasonOf(error)._tag, "Unsupported")
      assert.lengthOf(yield* server.calls, 0)
    }))

  it.effect("a request of system messages alone is InvalidRequest, without a call", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      const error = yield* Effect.flip(provider.chat({ messages: [{ role: "system", content: "only instructions" }] }))
      assert.strictEqual(reasonOf(error)._tag, "InvalidRequest")
      assert.lengthOf(yield* server.calls, 0)
    }))

  it.effect("a trailing assistant message is a prefill, its trailing whitespace cut and not repeated in the answer", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({
        replies: [message([{ type: "text", text: " world" }]), sseReply(events(
          { type: "message_start", message: { id: "m", model: "claude-sonnet-4-5", usage: { input_tokens: 3 } } },
          { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
          { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: " " } },
          { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "world" } },
          { type: "content_block_stop", index: 0 },
          { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 2 } },
          { type: "message_stop" }
        ))]
      })
      const prefilled: ChatRequest.ChatRequest = {
        messages: [{ role: "user", content: "say hello world" }, { role: "assistant", content: "Hello " }]
      }
      const response = yield* provider.chat(prefilled)
      assert.deepStrictEqual((yield* lastBody(server))!.messages[1], { role: "assistant", content: [{ type: "text", text: "Hello" }] })
      assert.strictEqual(`Hello ${response.text}`, "Hello world")
      const parts = yield* Stream.runCollect(provider.stream(prefilled))
      assert.strictEqual(`Hello ${textOf(parts)}`, "Hello world")
    }))
})

describe("response mapping", () => {
  it.effect("several content blocks: text joined, tool calls, thinking with signature, redacted thinking", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [message([
          { type: "thinking", thinking: "Let me think.", signature: "EqQBCkgI" },
          { type: "redacted_thinking", data: "EmwKAhgB" },
          { type: "text", text: "Part one. " },
          { type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } },
          { type: "text", text: "Part two." }
        ], { stop_reason: "tool_use" })]
      })
      const response = yield* provider.chat(request())
      assert.strictEqual(response.text, "Part one. Part two.")
      assert.deepStrictEqual(response.toolCalls, [{ id: "toolu_1", name: "weather", arguments: "{\"city\":\"Paris\"}" }])
      assert.deepStrictEqual(response.reasoning, [{ text: "Let me think.", signature: "EqQBCkgI" }, { text: "", redactedData: "EmwKAhgB" }])
      assert.strictEqual(response.finishReason, "tool_calls")
      assert.strictEqual(response.rawFinishReason, "tool_use")
      assert.strictEqual(response.model, "claude-sonnet-4-5-20250929")
      assert.strictEqual(response.id, "msg_1")
    }))

  it.effect("usage: promptTokens counts input, cache reads and cache writes", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [message([{ type: "text", text: "x" }], {
          usage: { input_tokens: 10, cache_read_input_tokens: 100, cache_creation_input_tokens: 20, output_tokens: 5 }
        })]
      })
      const response = yield* provider.chat(request())
      assert.deepStrictEqual(response.usage, {
        promptTokens: 130,
        completionTokens: 5,
        totalTokens: 135,
        cachedTokens: 100,
        cacheWriteTokens: 20
      })
    }))

  for (
    const [raw, unified] of [
      ["end_turn", "stop"],
      ["stop_sequence", "stop"],
      ["max_tokens", "length"],
      ["tool_use", "tool_calls"],
      ["pause_turn", "other"],
      ["refusal", "content_filter"],
      ["something_new", "other"]
    ] as const
  ) {
    it.effect(`stop reason ${raw} is ${unified}, raw kept (chat and stream)`, () =>
      Effect.gen(function*() {
        const { provider } = yield* setup({
          replies: [
            message([{ type: "text", text: "x" }], { stop_reason: raw }),
            sseReply(events(
              { type: "message_start", message: { id: "m", model: "claude-x", usage: { input_tokens: 1 } } },
              { type: "message_delta", delta: { stop_reason: raw }, usage: { output_tokens: 1 } },
              { type: "message_stop" }
            ))
          ]
        })
        const response = yield* provider.chat(request())
        assert.strictEqual(response.finishReason, unified)
        assert.strictEqual(response.rawFinishReason, raw)
        const finish = (yield* Stream.runCollect(provider.stream(request()))).at(-1)
        assert.strictEqual(finish?.type === "finish" && finish.finishReason, unified)
        assert.strictEqual(finish?.type === "finish" && finish.rawFinishReason, raw)
      }))
  }
})

describe("streaming", () => {
  it.effect("text, thinking with signature, tool input JSON, usage from message_delta, finish at message_stop", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({
        replies: [sseReply(events(
          { type: "message_start", message: { id: "m", model: "claude-opus-4-1", usage: { input_tokens: 7, cache_read_input_tokens: 3 } } },
          { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } },
          { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Think" } },
          { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "ing." } },
          { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "SIG" } },
          { type: "content_block_stop", index: 0 },
          { type: "ping" },
          { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } },
          { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "Hi " } },
          { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "there" } },
          { type: "content_block_stop", index: 1 },
          { type: "content_block_start", index: 2, content_block: { type: "tool_use", id: "toolu_9", name: "f", input: {} } },
          { type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: "{\"a\":" } },
          { type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: "1}" } },
          { type: "content_block_stop", index: 2 },
          { type: "content_block_start", index: 3, content_block: { type: "tool_use", id: "toolu_10", name: "g", input: {} } },
          { type: "content_block_delta", index: 3, delta: { type: "input_json_delta", partial_json: "" } },
          { type: "content_block_stop", index: 3 },
          { type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 12 } },
          { type: "message_stop" }
        ))]
      })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      assert.isTrue((yield* lastBody(server))!.stream)
      const reasoning = parts.filter((part): part is StreamPart.ReasoningDelta => part.type === "reasoning-delta")
      assert.deepStrictEqual(reasoning.map(({ signature, text }) => ({ text, signature })), [
        { text: "Think", signature: undefined },
        { text: "ing.", signature: undefined },
        { text: "", signature: "SIG" }
      ])
      assert.strictEqual(textOf(parts), "Hi there")
      const calls = parts.flatMap((part) => (part.type === "tool-call" ? [part] : []))
      assert.deepStrictEqual(calls, [
        { type: "tool-call", index: 0, toolCall: { id: "toolu_9", name: "f", arguments: "{\"a\":1}" } },
        { type: "tool-call", index: 1, toolCall: { id: "toolu_10", name: "g", arguments: "{}" } }
      ])
      assert.deepStrictEqual(parts.at(-1), {
        type: "finish",
        finishReason: "tool_calls",
        rawFinishReason: "tool_use",
        usage: { promptTokens: 10, completionTokens: 12, totalTokens: 22, cachedTokens: 3 },
        provider: "anthropic",
        model: "claude-opus-4-1"
      })
    }))

  it.effect("a stream that ends after message_delta but before message_stop is StreamInterrupted with the text", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [sseReply(events(
          { type: "message_start", message: { id: "m", model: "claude-x" } },
          { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
          { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "partial" } },
          { type: "content_block_stop", index: 0 },
          { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 1 } }
        ))]
      })
      const error = yield* Effect.flip(Stream.runCollect(provider.stream(request())))
      assert.strictEqual(reasonOf(error)._tag, "StreamInterrupted")
      assert.strictEqual(partialText(error), "partial")
    }))

  it.effect("a cut after thinking alone is StreamInterrupted carrying the signed reasoning", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [sseReply(events(
          { type: "message_start", message: { id: "m", model: "claude-x" } },
          { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } },
          { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Hmm." } },
          { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "S1" } },
          { type: "content_block_stop", index: 0 }
        ))]
      })
      const reason = reasonOf(yield* Effect.flip(Stream.runCollect(provider.stream(request()))))
      assert.strictEqual(reason._tag, "StreamInterrupted")
      assert.deepStrictEqual(reason._tag === "StreamInterrupted" ? reason.partialReasoning : undefined, [{ text: "Hmm.", signature: "S1" }])
    }))

  it.effect("an in-band overloaded_error becomes Overloaded; before any content it fails the call", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [MockProviderServer.inBandError({ message: "Overloaded", type: "overloaded_error" }, { afterChunks: 1 })]
      })
      const parts: Array<StreamPart.StreamPart> = []
      const error = yield* Effect.flip(Stream.runForEach(provider.stream(request()), (part) => Effect.sync(() => parts.push(part))))
      assert.strictEqual(reasonOf(error)._tag, "Overloaded")
      assert.strictEqual(textOf(parts), "partial ")
    }))

  it.effect("a connection cut mid-stream is StreamInterrupted carrying the text so far", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.cutAfter(2)] })
      const error = yield* Effect.flip(Stream.runCollect(provider.stream(request())))
      assert.strictEqual(reasonOf(error)._tag, "StreamInterrupted")
      assert.strictEqual(partialText(error), "one two ")
    }))

  it.effect("a malformed event fails the stream (default policy)", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.malformedEvent()] })
      const error = yield* Effect.flip(Stream.runCollect(provider.stream(request())))
      assert.strictEqual(reasonOf(error)._tag, "MalformedResponse")
    }))

  it.effect("the mock's encoder answers round-trip: text and tool calls, chat and stream", () =>
    Effect.gen(function*() {
      const calls = [{ id: "toolu_1", name: "lookup", arguments: "{\"q\":\"x\"}" }]
      const { provider } = yield* setup({
        replies: [
          MockProviderServer.toolCalls(calls, { text: "Let me check." }),
          MockProviderServer.toolCalls(calls, { text: "Let me check." })
        ]
      })
      const response = yield* provider.chat(request())
      assert.strictEqual(response.text, "Let me check.")
      assert.deepStrictEqual(response.toolCalls, calls)
      const parts = yield* Stream.runCollect(provider.stream(request()))
      assert.strictEqual(textOf(parts), "Let me check.")
      assert.deepStrictEqual(parts.flatMap((part) => (part.type === "tool-call" ? [part.toolCall] : [])), calls)
      assert.strictEqual(parts.at(-1)?.type === "finish" && parts.at(-1)?.type, "finish")
    }))
})

describe("thinking across turns (the mock's signed thinking blocks)", () => {
  it.effect("a signed thinking block (chat and stream) goes back unchanged on the next turn", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({}, { chat: { thinkingBudget: 1024 } })
      const first = yield* provider.chat(request("why is the sky blue?"))
      assert.strictEqual(first.reasoning?.length, 1)
      const block = first.reasoning![0]!
      assert.strictEqual(block.text, "thinking about: why is the sky blue?")
      assert.match(block.signature ?? "", /^mock-signature-/)
      const streamed = yield* Stream.runCollect(provider.stream(request("and at night?")))
      const deltas = streamed.filter((part): part is StreamPart.ReasoningDelta => part.type === "reasoning-delta")
      assert.strictEqual(deltas.map((part) => part.text).join(""), "thinking about: and at night?")
      assert.match(deltas.at(-1)?.signature ?? "", /^mock-signature-/)
      yield* provider.chat({
        messages: [
          { role: "user", content: "why is the sky blue?" },
          { role: "assistant", content: first.text, ...(first.reasoning === undefined ? {} : { reasoning: first.reasoning }) },
          { role: "user", content: "thanks" }
        ]
      })
      assert.deepStrictEqual((yield* lastBody(server))!.messages[1].content[0], {
        type: "thinking",
        thinking: block.text,
        signature: block.signature
      })
    }))

  it.effect("cache reads reported by the mock count in promptTokens and cachedTokens", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [MockProviderServer.text("cached", { usage: { promptTokens: 100, completionTokens: 2, cachedTokens: 80 } })]
      })
      const response = yield* provider.chat(request())
      assert.deepStrictEqual(response.usage, { promptTokens: 100, completionTokens: 2, totalTokens: 102, cachedTokens: 80 })
    }))
})
