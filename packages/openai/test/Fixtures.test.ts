// Real recorded provider responses replayed byte for byte through MockProviderServer: the results
// must equal what the recordings say.
import { assert, describe, it } from "@effect/vitest"
import type * as StreamPart from "@flexiai/core/StreamPart"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Effect, Stream } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { parse } from "yaml"
import { request, setup, testDataDir } from "./helpers.ts"

const fixtures = testDataDir("fixtures")
const path = (name: string) => join(fixtures, name)
const lines = (name: string): ReadonlyArray<any> =>
  readFileSync(path(name), "utf8").split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line))
const textOf = (parts: ReadonlyArray<StreamPart.StreamPart>) =>
  parts.map((part) => (part.type === "text-delta" ? part.text : "")).join("")

/** The raw response body of a pydantic-ai VCR cassette interaction. */
const cassetteBody = (name: string, interaction = 0): string => {
  const cassette = parse(readFileSync(path(name), "utf8")) as {
    interactions: Array<{ response: { body?: { string: string }; parsed_body?: unknown } }>
  }
  const response = cassette.interactions[interaction]?.response
  if (response === undefined) throw new Error(`no interaction ${interaction} in ${name}`)
  return response.body?.string ?? JSON.stringify(response.parsed_body)
}

describe("recorded OpenAI responses", () => {
  it.effect("vercel openai-text.json: text, model, usage and finish as recorded", () =>
    Effect.gen(function*() {
      const recorded = JSON.parse(readFileSync(path("openai/vercel__openai-text.json"), "utf8"))
      const { provider } = yield* setup({ replies: [MockProviderServer.fixture(path("openai/vercel__openai-text.json"))] })
      const response = yield* provider.chat(request())
      assert.strictEqual(response.text, recorded.choices[0].message.content)
      assert.strictEqual(response.id, recorded.id)
      assert.strictEqual(response.model, "gpt-4.1-nano-2025-04-14")
      assert.strictEqual(response.finishReason, "stop")
      assert.deepStrictEqual(response.usage, {
        promptTokens: recorded.usage.prompt_tokens,
        completionTokens: recorded.usage.completion_tokens,
        totalTokens: recorded.usage.total_tokens,
        cachedTokens: recorded.usage.prompt_tokens_details.cached_tokens,
        reasoningTokens: recorded.usage.completion_tokens_details.reasoning_tokens
      })
    }))

  it.effect("vercel openai-text.chunks.txt: the streamed text and the final usage", () =>
    Effect.gen(function*() {
      const chunks = lines("openai/vercel__openai-text.chunks.txt")
      const expected = chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? "").join("")
      const { provider } = yield* setup({ replies: [MockProviderServer.fixture(path("openai/vercel__openai-text.chunks.txt"))] })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      assert.strictEqual(textOf(parts), expected)
      assert.isAbove(expected.length, 1000)
      assert.deepStrictEqual(parts.at(-1), {
        type: "finish",
        finishReason: "stop",
        rawFinishReason: "stop",
        usage: { promptTokens: 16, completionTokens: 300, totalTokens: 316, cachedTokens: 0, reasoningTokens: 0 },
        provider: "openai",
        model: "gpt-4.1-nano-2025-04-14"
      })
    }))

  it.effect("pydantic-ai streamed tool call round trip (raw SSE from a cassette)", () =>
    Effect.gen(function*() {
      const body = cassetteBody("openai/pydantic-ai__openai-stream-tool-call-roundtrip.yaml")
      const { provider } = yield* setup({
        replies: [MockProviderServer.raw(body, { headers: { "content-type": "text/event-stream" } })]
      })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      const calls = parts.filter((part) => part.type === "tool-call")
      assert.isAbove(calls.length, 0)
      for (const call of calls) {
        if (call.type !== "tool-call") continue
        assert.doesNotThrow(() => JSON.parse(call.toolCall.arguments))
        assert.match(call.toolCall.id, /^call_/)
      }
      const finish = parts.at(-1)
      assert.strictEqual(finish?.type === "finish" ? finish.finishReason : undefined, "tool_calls")
    }))

  it.effect("o3-mini non-streamed: reasoning tokens from completion_tokens_details", () =>
    Effect.gen(function*() {
      const body = cassetteBody("openai/pydantic-ai__openai-o3-mini-nonstream.yaml")
      const recorded = JSON.parse(body)
      const { provider } = yield* setup({ replies: [MockProviderServer.raw(body)] })
      const response = yield* provider.chat(request())
      assert.strictEqual(response.usage?.reasoningTokens, recorded.usage.completion_tokens_details.reasoning_tokens)
      assert.strictEqual(response.text, recorded.choices[0].message.content)
    }))
})

describe("recorded OpenAI-compatible responses", () => {
  it.effect("groq tool call: whole call in one delta; usage only in x_groq", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.fixture(path("openai-compatible/vercel__groq-tool-call.chunks.txt"))] })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      assert.deepStrictEqual(parts.filter((part) => part.type === "tool-call"), [
        { type: "tool-call", index: 0, toolCall: { id: "tk85n1k4m", name: "weather", arguments: "{}" } }
      ])
      const finish = parts.at(-1)
      assert.strictEqual(finish?.type === "finish" ? finish.usage?.totalTokens : undefined, 225)
    }))

  it.effect("groq tool call, non-streamed", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.fixture(path("openai-compatible/vercel__groq-tool-call.json"))] })
      const response = yield* provider.chat(request())
      assert.deepStrictEqual(response.toolCalls, [{ id: "ax9fskhev", name: "weather", arguments: "{}" }])
      assert.strictEqual(response.finishReason, "tool_calls")
      assert.strictEqual(response.text, "")
    }))

  it.effect("tool call index starting at 1 with empty first argument deltas (raw .sse)", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.fixture(path("openai-compatible/vercel__anthropic-fallback-tool-call.sse"))] })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      assert.strictEqual(textOf(parts), "Reading it.")
      assert.deepStrictEqual(parts.filter((part) => part.type === "tool-call"), [
        { type: "tool-call", index: 1, toolCall: { id: "toolu_sanitized", name: "read_file", arguments: "{\"path\": \"a.txt\"}" } }
      ])
      assert.strictEqual(parts.filter((part) => part.type === "finish").length, 1)
    }))

  it.effect("deepseek: argument fragments assembled; usage with cached and reasoning tokens", () =>
    Effect.gen(function*() {
      const chunks = lines("openai-compatible/vercel__deepseek-tool-call.chunks.txt")
      const expectedArguments = chunks.flatMap((chunk) => chunk.choices[0]?.delta?.tool_calls ?? [])
        .map((call: any) => call.function?.arguments ?? "").join("")
      const { provider } = yield* setup({ replies: [MockProviderServer.fixture(path("openai-compatible/vercel__deepseek-tool-call.chunks.txt"))] })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      const call = parts.find((part) => part.type === "tool-call")
      assert.strictEqual(call?.type === "tool-call" ? call.toolCall.arguments : undefined, expectedArguments)
      const finish = parts.at(-1)
      assert.deepStrictEqual(finish?.type === "finish" ? finish.usage : undefined, {
        promptTokens: 374,
        completionTokens: 61,
        totalTokens: 435,
        cachedTokens: 256,
        reasoningTokens: 17
      })
    }))

  it.effect("deepseek reasoning_content deltas are reasoning-delta parts, ahead of the answer, never text", () =>
    Effect.gen(function*() {
      const chunks = lines("openai-compatible/vercel__deepseek-tool-call.chunks.txt")
      const expected = chunks.map((chunk) => chunk.choices[0]?.delta?.reasoning_content ?? "").join("")
      const { provider } = yield* setup({ replies: [MockProviderServer.fixture(path("openai-compatible/vercel__deepseek-tool-call.chunks.txt"))] })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      assert.isAbove(expected.length, 10)
      assert.strictEqual(parts.map((part) => (part.type === "reasoning-delta" ? part.text : "")).join(""), expected)
      assert.notInclude(textOf(parts), expected.slice(0, 10))
    }))

  it.effect("openrouter reasoning stream: delta.reasoning as reasoning-delta parts, content as text", () =>
    Effect.gen(function*() {
      const events = lines("openrouter/openrouter-provider__stream-reasoning.response.jsonl")
        .flatMap((line) => (line.json === undefined ? [] : [line.json]))
      const reasoning = events.map((chunk) => chunk.choices?.[0]?.delta?.reasoning ?? "").join("")
      const content = events.map((chunk) => chunk.choices?.[0]?.delta?.content ?? "").join("")
      const { provider } = yield* setup({
        replies: [MockProviderServer.fixture(path("openrouter/openrouter-provider__stream-reasoning.response.jsonl"), { chunkDelayMillis: 0 })]
      })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      assert.isAbove(reasoning.length, 10)
      assert.strictEqual(parts.map((part) => (part.type === "reasoning-delta" ? part.text : "")).join(""), reasoning)
      assert.strictEqual(textOf(parts), content)
      // reasoning comes first
      assert.isBelow(parts.findIndex((part) => part.type === "reasoning-delta"), parts.findIndex((part) => part.type === "text-delta"))
    }))

  it.effect("azure model-router chunks: empty first chunk with prompt_filter_results, content filter fields", () =>
    Effect.gen(function*() {
      const chunks = lines("azure/vercel__azure-model-router.1.chunks.txt")
      const expected = chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? "").join("")
      const { provider } = yield* setup({ replies: [MockProviderServer.fixture(path("azure/vercel__azure-model-router.1.chunks.txt"))] })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      assert.strictEqual(textOf(parts), expected)
      assert.strictEqual(parts.at(-1)?.type, "finish")
    }))

  it.effect("openrouter non-streamed response", () =>
    Effect.gen(function*() {
      const recorded = JSON.parse(readFileSync(path("openrouter/openrouter-provider__nonstream.response.json"), "utf8"))
      const { provider } = yield* setup({ replies: [MockProviderServer.fixture(path("openrouter/openrouter-provider__nonstream.response.json"))] })
      const response = yield* provider.chat(request())
      assert.strictEqual(response.text, recorded.choices[0].message.content)
      assert.strictEqual(response.model, "anthropic/claude-sonnet-4")
      assert.strictEqual(response.usage?.totalTokens, 165)
    }))

  it.effect("openrouter mid-stream error chunk (after keep-alive comments) is a typed error", () =>
    Effect.gen(function*() {
      const body = cassetteBody("openrouter/pydantic-ai__openrouter-stream-midstream-error.yaml")
      const { provider } = yield* setup({ replies: [MockProviderServer.raw(body, { headers: { "content-type": "text/event-stream" } })] })
      const error = yield* Effect.flip(Stream.runCollect(provider.stream(request())))
      assert.strictEqual(error._tag, "ProviderError")
      assert.strictEqual(error._tag === "ProviderError" ? error.reason._tag : undefined, "InvalidRequest")
      assert.include(error.message, "Token limit reached")
    }))

  it.effect("openrouter 429 body is RateLimited", () =>
    Effect.gen(function*() {
      const body = cassetteBody("openrouter/pydantic-ai__openrouter-429.yaml")
      const { provider } = yield* setup({ replies: [MockProviderServer.raw(body, { status: 429 })] })
      const error = yield* Effect.flip(provider.chat(request()))
      assert.strictEqual(error._tag === "ProviderError" ? error.reason._tag : undefined, "RateLimited")
    }))
})
