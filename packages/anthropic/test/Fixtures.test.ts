// Real recorded Anthropic responses replayed through MockProviderServer: the results must equal
// what the recordings say (texts, tool calls, thinking and its signature, usage, stop reasons).
import { assert, describe, it } from "@effect/vitest"
import type * as StreamPart from "@flexiai/core/StreamPart"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Effect, Stream } from "effect"
import { readFileSync } from "node:fs"
import { parse } from "yaml"
import { fixture, reasonOf, request, setup, textOf } from "./helpers.ts"

// oxlint-disable-next-line no-explicit-any -- recorded payloads, read by path
type Json = any

const lines = (name: string): ReadonlyArray<Json> =>
  readFileSync(fixture(name), "utf8").split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line))

/** The `data:` payloads of a raw SSE recording (padded JSON included). */
const sseData = (text: string): ReadonlyArray<Json> =>
  text.split(/\n\n/).flatMap((event) => event.split("\n").filter((line) => line.startsWith("data:")).map((line) => JSON.parse(line.slice(5))))

const cassette = (name: string): Json => parse(readFileSync(fixture(name), "utf8"))

describe("recorded Anthropic responses", () => {
  it.effect("vercel anthropic-text.json: text, id, model, usage, stop reason", () =>
    Effect.gen(function*() {
      const recorded = JSON.parse(readFileSync(fixture("vercel__anthropic-text.json"), "utf8"))
      const { provider } = yield* setup({ replies: [MockProviderServer.fixture(fixture("vercel__anthropic-text.json"))] })
      const response = yield* provider.chat(request())
      assert.strictEqual(response.text, recorded.content.map((block: Json) => block.text ?? "").join(""))
      assert.strictEqual(response.id, recorded.id)
      assert.strictEqual(response.model, recorded.model)
      assert.strictEqual(response.rawFinishReason, recorded.stop_reason)
      const usage = recorded.usage
      const prompt = usage.input_tokens + (usage.cache_read_input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0)
      assert.strictEqual(response.usage?.promptTokens, prompt)
      assert.strictEqual(response.usage?.completionTokens, usage.output_tokens)
    }))

  it.effect("vercel anthropic-json-tool.1.json: the tool_use block as a tool call", () =>
    Effect.gen(function*() {
      const recorded = JSON.parse(readFileSync(fixture("vercel__anthropic-json-tool.1.json"), "utf8"))
      const { provider } = yield* setup({ replies: [MockProviderServer.fixture(fixture("vercel__anthropic-json-tool.1.json"))] })
      const response = yield* provider.chat(request())
      const tools = recorded.content.filter((block: Json) => block.type === "tool_use")
      assert.isAbove(tools.length, 0)
      assert.deepStrictEqual(
        response.toolCalls.map((call) => ({ ...call, arguments: JSON.parse(call.arguments) })),
        tools.map((block: Json) => ({ id: block.id, name: block.name, arguments: block.input }))
      )
      assert.strictEqual(response.finishReason, "tool_calls")
    }))

  it.effect("vercel anthropic-text.chunks.txt streamed: the text deltas joined, usage, finish", () =>
    Effect.gen(function*() {
      const events = lines("vercel__anthropic-text.chunks.txt")
      const { provider } = yield* setup({ replies: [MockProviderServer.fixture(fixture("vercel__anthropic-text.chunks.txt"))] })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      const expected = events.filter((event) => event.delta?.type === "text_delta").map((event) => event.delta.text).join("")
      assert.strictEqual(textOf(parts), expected)
      const finish = parts.at(-1)
      const delta = events.find((event) => event.type === "message_delta")
      assert.strictEqual(finish?.type === "finish" && finish.rawFinishReason, delta.delta.stop_reason)
      assert.strictEqual(finish?.type === "finish" && finish.usage?.completionTokens, delta.usage.output_tokens)
    }))

  it.effect("vercel message-delta-input-tokens: usage taken from message_delta over message_start", () =>
    Effect.gen(function*() {
      const events = lines("vercel__anthropic-message-delta-input-tokens.chunks.txt")
      const start = events.find((event) => event.type === "message_start").message.usage
      const delta = events.find((event) => event.type === "message_delta").usage
      assert.notStrictEqual(start.input_tokens, delta.input_tokens)
      const { provider } = yield* setup({
        replies: [MockProviderServer.fixture(fixture("vercel__anthropic-message-delta-input-tokens.chunks.txt"))]
      })
      const finish = (yield* Stream.runCollect(provider.stream(request()))).at(-1)
      const input = delta.input_tokens + (delta.cache_read_input_tokens ?? start.cache_read_input_tokens ?? 0) +
        (delta.cache_creation_input_tokens ?? start.cache_creation_input_tokens ?? 0)
      assert.strictEqual(finish?.type === "finish" && finish.usage?.promptTokens, input)
    }))

  it.effect("vercel anthropic-refusal: a refusal ends as a content_filter finish, raw kept", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.fixture(fixture("vercel__anthropic-refusal.chunks.txt"))] })
      const finish = (yield* Stream.runCollect(provider.stream(request()))).at(-1)
      assert.strictEqual(finish?.type === "finish" && finish.finishReason, "content_filter")
      assert.strictEqual(finish?.type === "finish" && finish.rawFinishReason, "refusal")
    }))

  it.effect("vercel anthropic-tool-no-args: a tool call without arguments is {}", () =>
    Effect.gen(function*() {
      const events = lines("vercel__anthropic-tool-no-args.chunks.txt")
      const block = events.find((event) => event.content_block?.type === "tool_use").content_block
      const { provider } = yield* setup({ replies: [MockProviderServer.fixture(fixture("vercel__anthropic-tool-no-args.chunks.txt"))] })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      const calls = parts.flatMap((part) => (part.type === "tool-call" ? [part.toolCall] : []))
      assert.deepStrictEqual(calls, [{ id: block.id, name: block.name, arguments: "{}" }])
    }))

  it.effect("anthropic-sdk tool_use_response.sse (raw bytes): text, then the tool call from its input_json fragments", () =>
    Effect.gen(function*() {
      const events = sseData(readFileSync(fixture("anthropic-sdk__tool_use_response.sse"), "utf8"))
      const { provider } = yield* setup({ replies: [MockProviderServer.fixture(fixture("anthropic-sdk__tool_use_response.sse"))] })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      assert.strictEqual(
        textOf(parts),
        events.filter((event) => event.delta?.type === "text_delta").map((event) => event.delta.text).join("")
      )
      const json = events.filter((event) => event.delta?.type === "input_json_delta").map((event) => event.delta.partial_json).join("")
      const calls = parts.flatMap((part) => (part.type === "tool-call" ? [part.toolCall] : []))
      assert.lengthOf(calls, 1)
      assert.deepStrictEqual(JSON.parse(calls[0]!.arguments), JSON.parse(json))
      const finish = parts.at(-1)
      assert.strictEqual(finish?.type === "finish" && finish.finishReason, "tool_calls")
    }))

  it.effect("anthropic-sdk basic_response.sse: text and end_turn", () =>
    Effect.gen(function*() {
      const events = sseData(readFileSync(fixture("anthropic-sdk__basic_response.sse"), "utf8"))
      const { provider } = yield* setup({ replies: [MockProviderServer.fixture(fixture("anthropic-sdk__basic_response.sse"))] })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      assert.strictEqual(
        textOf(parts),
        events.filter((event) => event.delta?.type === "text_delta").map((event) => event.delta.text).join("")
      )
      assert.strictEqual(parts.at(-1)?.type === "finish" && (parts.at(-1) as StreamPart.Finish).finishReason, "stop")
    }))

  it.effect("pydantic-ai thinking stream (padded JSON): thinking as reasoning with its signature, then the text", () =>
    Effect.gen(function*() {
      const body: string = cassette("pydantic-ai__anthropic-thinking-stream.yaml").interactions[0].response.body.string
      const events = sseData(body)
      const thinking = events.filter((event) => event.delta?.type === "thinking_delta").map((event) => event.delta.thinking).join("")
      const signature = events.find((event) => event.delta?.type === "signature_delta").delta.signature
      const { provider } = yield* setup({ replies: [MockProviderServer.fixture(fixture("pydantic-ai__anthropic-thinking-stream.yaml"))] })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      const reasoning = parts.filter((part): part is StreamPart.ReasoningDelta => part.type === "reasoning-delta")
      assert.strictEqual(reasoning.map((part) => part.text).join(""), thinking)
      assert.strictEqual(reasoning.at(-1)?.signature, signature)
      assert.strictEqual(
        textOf(parts),
        events.filter((event) => event.delta?.type === "text_delta").map((event) => event.delta.text).join("")
      )
      assert.strictEqual(parts.at(-1)?.type, "finish")
    }))

  it.effect("pydantic-ai 400 invalid_request_error: InvalidRequest with the provider's message", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.fixture(fixture("pydantic-ai__anthropic-400-invalid-request.yaml"))] })
      const error = yield* Effect.flip(provider.chat(request()))
      const reason = reasonOf(error)
      assert.strictEqual(reason._tag, "InvalidRequest")
      assert.include(reason._tag === "InvalidRequest" ? reason.message : "", "effort level")
      assert.isFalse(reason.failsOver)
    }))

  it.effect("pydantic-ai 404 not_found_error: NotFound naming the model", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.fixture(fixture("pydantic-ai__anthropic-404-not-found.yaml"))] })
      const error = yield* Effect.flip(provider.chat(request("x", { model: "claude-does-not-exist" })))
      const reason = reasonOf(error)
      assert.strictEqual(reason._tag, "NotFound")
      assert.strictEqual(reason._tag === "NotFound" && reason.model, "claude-does-not-exist")
      assert.isFalse(reason.isRetryable)
      assert.isTrue(reason.failsOver)
    }))
})
