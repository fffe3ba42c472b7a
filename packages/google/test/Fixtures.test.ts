// Recorded Gemini and Vertex responses (test-data/fixtures/google, see its SOURCES.md) replayed
// byte for byte by MockProviderServer, through the real client: text, streamed text, tool calls,
// thought signatures, safety blocks, thinking usage, and the Vertex URL shape.
import { assert, describe, it } from "@effect/vitest"
import * as Mock from "@flexiai/testing/MockProviderServer"
import { Effect, Stream } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { parse } from "yaml"
import type * as StreamPart from "@flexiai/core/StreamPart"
import { request, setup, setupVertex, testDataDir } from "./helpers.ts"
import * as SpecValidator from "./specValidator.ts"

const fixture = (name: string) => join(testDataDir("fixtures"), "google", name)

const texts = (parts: ReadonlyArray<StreamPart.StreamPart>) =>
  parts.flatMap((part) => part.type === "text-delta" ? [part.text] : []).join("")
const finishOf = (parts: ReadonlyArray<StreamPart.StreamPart>) => parts.at(-1) as StreamPart.Finish

describe("recorded fixtures", () => {
  it.effect("text (gemini-3-pro-preview): text, thought signature on the text part, thinking usage", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [Mock.fixture(fixture("vercel__google-text.json"))] })
      const answer = yield* provider.chat(request())
      assert.strictEqual(answer.text, "There are **3** r's in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y.")
      assert.strictEqual(answer.model, "gemini-3-pro-preview")
      assert.strictEqual(answer.id, "Un6LacrVMcjUxs0PmJfWoQc")
      assert.deepStrictEqual(answer.usage, { promptTokens: 9, completionTokens: 272, totalTokens: 281, reasoningTokens: 244 })
      assert.strictEqual(answer.reasoning?.length, 1)
      assert.strictEqual(answer.reasoning?.[0]?.id, "text")
      assert.isTrue(answer.reasoning?.[0]?.signature?.startsWith("EtoFCtcFAb4"))
    }).pipe(Effect.scoped))

  it.effect("streamed text: the pieces joined, the signature of the last (empty) part kept, finish with usage", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [Mock.fixture(fixture("vercel__google-text.chunks.txt"))] })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      assert.strictEqual(texts(parts), "There are **3** \"r\"s in strawberry.\n\nst**r**awbe**rr**y")
      const signed = parts.filter((part) => part.type === "reasoning-delta")
      assert.strictEqual(signed.length, 1)
      const finish = finishOf(parts)
      assert.strictEqual(finish.finishReason, "stop")
      assert.deepStrictEqual(finish.usage, { promptTokens: 9, completionTokens: 208, totalTokens: 217, reasoningTokens: 185 })
    }).pipe(Effect.scoped))

  it.effect("streamed reasoning model without includeThoughts: hidden thinking counted, no thought text", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [Mock.fixture(fixture("vercel__google-reasoning.chunks.txt"))] })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      assert.isTrue(parts.filter((part) => part.type === "reasoning-delta").every((part) => part.type === "reasoning-delta" && part.text === ""))
      assert.strictEqual(finishOf(parts).usage?.reasoningTokens, 256)
      assert.include(texts(parts), "strawberry")
    }).pipe(Effect.scoped))

  it.effect("tool call (chat and stream): name, args, a made-up id, the signature tied to the call", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [Mock.fixture(fixture("vercel__google-tool-call.json")), Mock.fixture(fixture("vercel__google-tool-call.chunks.txt"))]
      })
      const answer = yield* provider.chat(request("weather?"))
      assert.strictEqual(answer.finishReason, "tool_calls")
      assert.strictEqual(answer.toolCalls.length, 1)
      const call = answer.toolCalls[0]!
      assert.strictEqual(call.name, "weather")
      assert.deepStrictEqual(JSON.parse(call.arguments), { location: "San Francisco" })
      assert.isTrue(call.id.startsWith("gcall_"))
      assert.strictEqual(answer.reasoning?.[0]?.id, `call:${call.id}`)
      const parts = yield* Stream.runCollect(provider.stream(request("weather?")))
      const streamed = parts.flatMap((part) => part.type === "tool-call" ? [part.toolCall] : [])
      assert.deepStrictEqual(streamed.map((c) => [c.name, JSON.parse(c.arguments)]), [["weather", { location: "San Francisco" }]])
      assert.strictEqual(finishOf(parts).finishReason, "tool_calls")
    }).pipe(Effect.scoped))

  it.effect("the SSE cassette (\\r\\n framing) streams to its finish", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [Mock.fixture(fixture("pydantic-ai__gemini-stream-alt-sse.yaml"))] })
      const parts = yield* Stream.runCollect(provider.stream(request()))
      assert.match(texts(parts), /^The capital of France/)
      assert.strictEqual(finishOf(parts).finishReason, "stop")
    }).pipe(Effect.scoped))

  it.effect("a safety block: content_filter, empty text, the ratings in providerMetadata", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [Mock.fixture(fixture("pydantic-ai__gemini-safety-block.yaml"))] })
      const answer = yield* provider.chat(request())
      assert.strictEqual(answer.finishReason, "content_filter")
      assert.strictEqual(answer.rawFinishReason, "SAFETY")
      assert.strictEqual(answer.text, "")
      const ratings = (answer.providerMetadata!.gemini as { safetyRatings: ReadonlyArray<{ blocked?: boolean }> }).safetyRatings
      assert.strictEqual(ratings.length, 4)
      assert.isTrue(ratings[0]?.blocked)
    }).pipe(Effect.scoped))

  it.effect("function-call round trip (both interactions) and thinking usage", () =>
    Effect.gen(function*() {
      const path = fixture("pydantic-ai__gemini-function-call-roundtrip.yaml")
      const { provider } = yield* setup({
        replies: [
          Mock.fixture(path, { interaction: 0 }),
          Mock.fixture(path, { interaction: 1 }),
          Mock.fixture(fixture("pydantic-ai__gemini-thinking-config.yaml"))
        ]
      })
      const first = yield* provider.chat(request())
      assert.deepStrictEqual(first.toolCalls.map((call) => [call.name, call.arguments]), [["get_user_country", "{}"]])
      const second = yield* provider.chat(request())
      assert.deepStrictEqual(JSON.parse(second.toolCalls[0]!.arguments), { city: "Mexico City", country: "Mexico" })
      const thinking = yield* provider.chat(request())
      assert.deepStrictEqual(thinking.usage, { promptTokens: 15, completionTokens: 283, totalTokens: 298, reasoningTokens: 275 })
    }).pipe(Effect.scoped))

  it.effect("Vertex AI (global endpoint cassette): same body, the Vertex path", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setupVertex({ replies: [Mock.fixture(fixture("pydantic-ai__vertex-generateContent.yaml"))] }, {
        location: "global",
        project: "pydantic-ai"
      })
      const answer = yield* provider.chat(request("What is the capital of France?", { model: "gemini-2.0-flash" }))
      assert.strictEqual(answer.text, "The capital of France is Paris.\n")
      assert.deepStrictEqual(answer.usage, { promptTokens: 13, completionTokens: 8, totalTokens: 21 })
      const [call] = yield* server.calls
      assert.strictEqual(call?.path, "/v1/projects/pydantic-ai/locations/global/publishers/google/models/gemini-2.0-flash:generateContent")
    }).pipe(Effect.scoped))

  it("the recorded requests pydantic-ai sent (and the API accepted) are valid under the spec (positive controls)", () => {
    const validator = SpecValidator.generateContentRequest()
    let checked = 0
    for (
      const name of [
        "pydantic-ai__gemini-function-call-roundtrip.yaml",
        "pydantic-ai__gemini-safety-block.yaml",
        "pydantic-ai__gemini-thinking-config.yaml",
        "pydantic-ai__vertex-generateContent.yaml"
      ]
    ) {
      const document = parse(readFileSync(fixture(name), "utf8")) as {
        interactions: ReadonlyArray<{ request: { parsed_body?: unknown; body?: unknown } }>
      }
      for (const interaction of document.interactions) {
        const body = interaction.request.parsed_body ?? interaction.request.body
        assert.deepStrictEqual(validator.validate(body), [], name)
        checked++
      }
    }
    assert.isAbove(checked, 4)
  })
})
