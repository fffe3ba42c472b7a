import { assert, describe, it } from "@effect/vitest"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import type * as StreamPart from "@flexiai/core/StreamPart"
import { Effect, Stream } from "effect"
import * as OpenAiChat from "../src/OpenAiChat.ts"
import * as OpenAiCodec from "../src/OpenAiCodec.ts"
import * as OpenAiStream from "../src/OpenAiStream.ts"
import { lastBody, request, setup } from "./helpers.ts"
import { representative } from "./requests.ts"

const byName = (name: string) => {
  const found = representative.find((entry) => entry.name === name)
  if (found === undefined) throw new Error(`no representative request ${name}`)
  return found.request
}

describe("OpenAiChat mapping (recorded request bodies)", () => {
  it.effect("system/user messages and generation options", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      yield* provider.chat({ ...byName("system, named user, options"), model: "gpt-4.1" })
      const body = yield* lastBody(server)
      assert.deepStrictEqual(body, {
        model: "gpt-4.1",
        messages: [{ role: "system", content: "be brief" }, { role: "user", content: "hi", name: "ada" }],
        temperature: 0.2,
        top_p: 0.9,
        max_completion_tokens: 64,
        stop: ["\n\n", "END"],
        seed: 7,
        user: "user-42",
        metadata: { tenant: "acme" }
      })
    }))

  it.effect("max_tokens quirk for compatible servers, and fields they do not accept are left out", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({}, {
        chat: { quirks: { maxTokensField: "max_tokens", metadata: false, user: false } }
      })
      yield* provider.chat(byName("system, named user, options"))
      const body = yield* lastBody(server)
      assert.strictEqual(body?.max_tokens, 64)
      assert.isFalse(body !== undefined && "max_completion_tokens" in body)
      assert.isFalse(body !== undefined && "metadata" in body)
      assert.isFalse(body !== undefined && "user" in body)
    }))

  it.effect("image parts: url with detail, base64 as a data URL", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      yield* provider.chat(byName("images by url and base64"))
      const body = yield* lastBody(server)
      assert.deepStrictEqual(body?.messages, [{
        role: "user",
        content: [
          { type: "text", text: "what is this?" },
          { type: "image_url", image_url: { url: "https://example.com/cat.png", detail: "low" } },
          { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } }
        ]
      }])
    }))

  it.effect("tools, tool choice, assistant tool calls and tool results", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      yield* provider.chat(byName("tools, named tool choice, tool round trip"))
      const body = yield* lastBody(server)
      assert.deepStrictEqual(body?.tools, [{
        type: "function",
        function: {
          name: "get_weather",
          description: "Current weather for a city",
          parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
          strict: true
        }
      }])
      assert.deepStrictEqual(body?.tool_choice, { type: "function", function: { name: "get_weather" } })
      assert.deepStrictEqual((body?.messages as Array<unknown>).slice(1), [
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } },
            { id: "call_2", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Rome\"}" } }
          ]
        },
        { role: "tool", tool_call_id: "call_1", content: "sunny" },
        { role: "tool", tool_call_id: "call_2", content: "rainy" }
      ])
      yield* provider.chat(byName("required tool choice"))
      assert.strictEqual((yield* lastBody(server))?.tool_choice, "required")
    }))

  it.effect("response_format json_schema and json_object; providerOptions merged", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      yield* provider.chat(byName("json_schema response format"))
      assert.deepStrictEqual((yield* lastBody(server))?.response_format, {
        type: "json_schema",
        json_schema: {
          name: "city",
          description: "a city",
          schema: { type: "object", properties: { name: { type: "string" } }, required: ["name"], additionalProperties: false },
          strict: true
        }
      })
      yield* provider.chat(byName("json_object response format"))
      assert.deepStrictEqual((yield* lastBody(server))?.response_format, { type: "json_object" })
      yield* provider.chat(byName("providerOptions merged"))
      const merged = yield* lastBody(server)
      assert.strictEqual(merged?.logprobs, true)
      assert.strictEqual(merged?.top_logprobs, 2)
    }))

  it.effect("OpenAI's own prompt caching: prompt_cache_key passes through providerOptions, on chat and stream", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      const cached = { messages: [{ role: "user" as const, content: "hi" }] as const, providerOptions: { openai: { prompt_cache_key: "tenant-a" } } }
      yield* provider.chat(cached)
      assert.strictEqual((yield* lastBody(server))?.prompt_cache_key, "tenant-a")
      yield* Stream.runDrain(provider.stream(cached))
      assert.strictEqual((yield* lastBody(server))?.prompt_cache_key, "tenant-a")
    }))

  it.effect("a streamed request asks for usage", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      yield* Stream.runDrain(provider.stream(request()))
      const body = yield* lastBody(server)
      assert.strictEqual(body?.stream, true)
      assert.deepStrictEqual(body?.stream_options, { include_usage: true })
    }))
})

describe("OpenAiChat responses", () => {
  it.effect("text, usage with cached/reasoning tokens, model that answered, finish reason", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [MockProviderServer.text("Hello there", {
          model: "gpt-4.1-2025-04-14",
          usage: { promptTokens: 10, completionTokens: 3, cachedTokens: 4, reasoningTokens: 1 }
        })]
      })
      const response = yield* provider.chat(request())
      assert.strictEqual(response.text, "Hello there")
      assert.strictEqual(response.model, "gpt-4.1-2025-04-14")
      assert.strictEqual(response.provider, "openai")
      assert.strictEqual(response.finishReason, "stop")
      assert.strictEqual(response.rawFinishReason, "stop")
      assert.deepStrictEqual(response.usage, {
        promptTokens: 10,
        completionTokens: 3,
        totalTokens: 13,
        cachedTokens: 4,
        reasoningTokens: 1
      })
      assert.match(response.id, /^chatcmpl-/)
    }))

  it.effect("tool calls in a completion; unknown finish reason is other with raw kept", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [
          MockProviderServer.toolCalls([{ id: "call_a", name: "get_weather", arguments: "{\"city\":\"Oslo\"}" }]),
          MockProviderServer.text("hmm", { finishReason: "sleepy" })
        ]
      })
      const withTools = yield* provider.chat(request())
      assert.deepStrictEqual(withTools.toolCalls, [{ id: "call_a", name: "get_weather", arguments: "{\"city\":\"Oslo\"}" }])
      assert.strictEqual(withTools.finishReason, "tool_calls")
      const odd = yield* provider.chat(request())
      assert.strictEqual(odd.finishReason, "other")
      assert.strictEqual(odd.rawFinishReason, "sleepy")
    }))

  it.effect("stream: text deltas, then one finish with usage after the usage chunk", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [MockProviderServer.text("one two three", { usage: { promptTokens: 5, completionTokens: 3 }, model: "gpt-x" })]
      })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      assert.deepStrictEqual(parts.filter((part) => part.type === "text-delta").map((part) => part.type === "text-delta" ? part.text : ""), ["one ", "two ", "three"])
      const finishes = parts.filter((part) => part.type === "finish")
      assert.strictEqual(finishes.length, 1)
      assert.deepStrictEqual(parts.at(-1), {
        type: "finish",
        finishReason: "stop",
        rawFinishReason: "stop",
        usage: { promptTokens: 5, completionTokens: 3, totalTokens: 8, cachedTokens: 0, reasoningTokens: 0 },
        provider: "openai",
        model: "gpt-x"
      })
    }))

  it.effect("stream: parallel tool calls by index, deltas as they come, one tool-call per call", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [MockProviderServer.toolCalls([
          { id: "call_1", name: "get_weather", arguments: "{\"city\":\"Paris\"}" },
          { id: "call_2", name: "get_time", arguments: "{\"tz\":\"CET\"}" }
        ], { argumentChunks: 3 })]
      })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      const deltas = parts.filter((part): part is StreamPart.ToolCallDelta => part.type === "tool-call-delta")
      assert.isAbove(deltas.length, 4)
      assert.strictEqual(deltas.filter((delta) => delta.index === 0).map((delta) => delta.argumentsDelta).join(""), "{\"city\":\"Paris\"}")
      assert.deepStrictEqual(deltas[0], { type: "tool-call-delta", index: 0, id: "call_1", name: "get_weather", argumentsDelta: "" })
      const calls = parts.filter((part) => part.type === "tool-call")
      assert.deepStrictEqual(calls, [
        { type: "tool-call", index: 0, toolCall: { id: "call_1", name: "get_weather", arguments: "{\"city\":\"Paris\"}" } },
        { type: "tool-call", index: 1, toolCall: { id: "call_2", name: "get_time", arguments: "{\"tz\":\"CET\"}" } }
      ])
      const last = parts.at(-1)
      assert.strictEqual(last?.type === "finish" ? last.finishReason : undefined, "tool_calls")
    }))
})

describe("the pure codec and stream machine", () => {
  it("finishReason keeps raw values and maps unknown ones to other", () => {
    assert.deepStrictEqual(OpenAiCodec.finishReason("content_filter"), { finishReason: "content_filter", rawFinishReason: "content_filter" })
    assert.deepStrictEqual(OpenAiCodec.finishReason("length"), { finishReason: "length", rawFinishReason: "length" })
    assert.deepStrictEqual(OpenAiCodec.finishReason("weird"), { finishReason: "other", rawFinishReason: "weird" })
  })

  it("end() without a finish reason reports the stream as interrupted with the partial text", () => {
    const state = OpenAiStream.initialState("m", { expectUsage: true })
    const result = OpenAiStream.step(state, { choices: [{ index: 0, delta: { content: "half" } }] }, "openai")
    assert.strictEqual(result._tag, "Parts")
    assert.deepStrictEqual(result._tag === "Parts" ? result.parts : [], [{ type: "text-delta", text: "half" }])
    // the text received is the stream decoder's (it keeps what the machine emitted)
    const ended = OpenAiStream.end(result.state, "openai", () => "half")
    assert.strictEqual(ended._tag, "Interrupted")
    assert.strictEqual(ended._tag === "Interrupted" ? ended.reason.partialText : undefined, "half")
  })

  it("finish waits for usage when it is expected, and not otherwise", () => {
    const chunk = { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }
    const waiting = OpenAiStream.step(OpenAiStream.initialState("m", { expectUsage: true }), chunk, "p")
    assert.isFalse(waiting.state.done)
    const withUsage = OpenAiStream.step(waiting.state, { choices: [], usage: { prompt_tokens: 1, completion_tokens: 2 } }, "p")
    assert.isTrue(withUsage.state.done)
    const immediate = OpenAiStream.step(OpenAiStream.initialState("m", { expectUsage: false }), chunk, "p")
    assert.isTrue(immediate.state.done)
  })

  it("fromWire keeps reasoning text (OpenRouter reasoning, DeepSeek reasoning_content) as one block", () => {
    const context = { provider: "p", model: "m", latencyMillis: 1 }
    const completion = (message: Record<string, unknown>) =>
      OpenAiCodec.fromWire({ choices: [{ message: { content: "4", ...message }, finish_reason: "stop" }] }, context)
    const openRouter = completion({ reasoning: "2 and 2 make 4" })
    const deepSeek = completion({ reasoning_content: "adding" })
    assert.deepStrictEqual(!(openRouter instanceof Error) && openRouter.reasoning, [{ text: "2 and 2 make 4" }])
    assert.deepStrictEqual(!(deepSeek instanceof Error) && deepSeek.reasoning, [{ text: "adding" }])
    const none = completion({ reasoning: null })
    assert.isTrue(!(none instanceof Error) && none.reasoning === undefined)
  })

  it("OpenAiChat still exports the codec and the stream machine under their former names", () => {
    assert.strictEqual(OpenAiChat.toWire, OpenAiCodec.toWire)
    assert.strictEqual(OpenAiChat.fromWire, OpenAiCodec.fromWire)
    assert.strictEqual(OpenAiChat.resolveQuirks, OpenAiCodec.resolveQuirks)
    assert.strictEqual(OpenAiChat.step, OpenAiStream.step)
    assert.strictEqual(OpenAiChat.bytesToParts, OpenAiStream.bytesToParts)
  })
})
