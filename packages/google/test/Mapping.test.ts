// The request and response mapping, at the wire: the real client sends to MockProviderServer on
// loopback, and the recorded bodies and the decoded answers are checked field by field.
import { assert, describe, it } from "@effect/vitest"
import * as Mock from "@flexiai/testing/MockProviderServer"
import { Effect, Stream } from "effect"
import type * as StreamPart from "@flexiai/core/StreamPart"
import { lastBody, reasonOf, request, setup } from "./helpers.ts"

const tools = [{
  name: "weather",
  description: "The weather in a city",
  parameters: {
    type: "object",
    properties: { city: { type: "string", description: "City name" }, unit: { type: ["string", "null"], enum: ["c", "f", null] } },
    required: ["city"],
    additionalProperties: false
  }
}, { name: "now", parameters: { type: "object", properties: {} } }]

describe("request mapping", () => {
  it.effect("roles, systemInstruction, image parts and generationConfig", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      yield* provider.chat({
        messages: [
          { role: "system", content: "Be brief." },
          { role: "developer", content: [{ type: "text", text: "Answer in English." }] },
          {
            role: "user",
            content: [
              { type: "text", text: "What is in these?" },
              { type: "image", source: { type: "base64", mediaType: "image/png", data: "iVBORw0KGgo=" } },
              { type: "image", source: { type: "url", url: "data:image/webp;base64,UklGRg==" } },
              { type: "image", source: { type: "url", url: "gs://bucket/cat.JPG" } },
              { type: "image", source: { type: "url", url: "https://example.com/pic.png?size=2" } }
            ]
          },
          { role: "assistant", content: "A cat." },
          { role: "user", content: "And?" }
        ],
        maxTokens: 100,
        temperature: 0.3,
        topP: 0.9,
        stop: ["END"],
        seed: 7,
        providerOptions: { gemini: { topK: 40, safetySettings: [{ category: "HARM_CATEGORY_HATE_SPEECH", threshold: "BLOCK_NONE" }] } }
      })
      const body = yield* lastBody(server)
      assert.deepStrictEqual(body?.systemInstruction, { parts: [{ text: "Be brief." }, { text: "Answer in English." }] })
      assert.deepStrictEqual(body?.contents, [
        {
          role: "user",
          parts: [
            { text: "What is in these?" },
            { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } },
            { inlineData: { mimeType: "image/webp", data: "UklGRg==" } },
            { fileData: { mimeType: "image/jpeg", fileUri: "gs://bucket/cat.JPG" } },
            { fileData: { mimeType: "image/png", fileUri: "https://example.com/pic.png?size=2" } }
          ]
        },
        { role: "model", parts: [{ text: "A cat." }] },
        { role: "user", parts: [{ text: "And?" }] }
      ])
      assert.deepStrictEqual(body?.generationConfig, {
        candidateCount: 1,
        maxOutputTokens: 100,
        temperature: 0.3,
        topP: 0.9,
        stopSequences: ["END"],
        seed: 7,
        topK: 40
      })
      assert.deepStrictEqual(body?.safetySettings, [{ category: "HARM_CATEGORY_HATE_SPEECH", threshold: "BLOCK_NONE" }])
    }).pipe(Effect.scoped))

  it.effect("tools as functionDeclarations (schemas converted), toolChoice as functionCallingConfig", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      const bodies: Array<Record<string, unknown> | undefined> = []
      for (const toolChoice of ["auto", "none", "required", { type: "tool", name: "weather" }] as const) {
        yield* provider.chat(request("weather?", { tools, toolChoice }))
        bodies.push(yield* lastBody(server))
      }
      assert.deepStrictEqual(bodies[0]?.tools, [{
        functionDeclarations: [{
          name: "weather",
          description: "The weather in a city",
          parameters: {
            type: "OBJECT",
            properties: {
              city: { type: "STRING", description: "City name" },
              unit: { type: "STRING", nullable: true, enum: ["c", "f"], format: "enum" }
            },
            required: ["city"]
          }
        }, { name: "now", description: "" }]
      }])
      assert.strictEqual(bodies[0]?.toolConfig, undefined)
      assert.deepStrictEqual(bodies.slice(1).map((body) => body?.toolConfig), [
        { functionCallingConfig: { mode: "NONE" } },
        { functionCallingConfig: { mode: "ANY" } },
        { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["weather"] } }
      ])
    }).pipe(Effect.scoped))

  it.effect("tool calls and results go back as functionCall and functionResponse parts, named after the call", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      yield* provider.chat({
        messages: [
          { role: "user", content: "weather in Paris and Rome?" },
          {
            role: "assistant",
            content: null,
            toolCalls: [
              { id: "gcall_r1_0", name: "weather", arguments: "{\"city\":\"Paris\"}" },
              { id: "call-own-id", name: "weather", arguments: "{\"city\":\"Rome\"}" }
            ]
          },
          { role: "tool", toolCallId: "gcall_r1_0", content: "{\"temp\":21}" },
          { role: "tool", toolCallId: "call-own-id", content: "sunny" },
          { role: "user", content: "thanks" }
        ],
        tools
      })
      const body = yield* lastBody(server)
      assert.deepStrictEqual(body?.contents, [
        { role: "user", parts: [{ text: "weather in Paris and Rome?" }] },
        {
          role: "model",
          parts: [
            // a made-up id is not sent back; Gemini's own is
            { functionCall: { name: "weather", args: { city: "Paris" } } },
            { functionCall: { id: "call-own-id", name: "weather", args: { city: "Rome" } } }
          ]
        },
        {
          role: "user",
          parts: [
            { functionResponse: { name: "weather", response: { temp: 21 } } },
            { functionResponse: { id: "call-own-id", name: "weather", response: { result: "sunny" } } }
          ]
        },
        { role: "user", parts: [{ text: "thanks" }] }
      ])
    }).pipe(Effect.scoped))

  it.effect("tool arguments that are not a JSON object fail as Unsupported before any call", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      const error = yield* Effect.flip(provider.chat({
        messages: [
          { role: "user", content: "x" },
          { role: "assistant", toolCalls: [{ id: "a", name: "now", arguments: "[1,2]" }] },
          { role: "tool", toolCallId: "a", content: "ok" }
        ]
      }))
      assert.strictEqual(reasonOf(error), "Unsupported")
      assert.strictEqual((yield* server.calls).length, 0)
    }).pipe(Effect.scoped))

  it.effect("json_schema: responseMimeType + responseSchema (converted, propertyOrdering), or responseJsonSchema", () =>
    Effect.gen(function*() {
      const schema = {
        type: "object",
        properties: { name: { type: "string" }, tags: { type: "array", items: { type: "string" }, maxItems: 3 } },
        required: ["name", "tags"],
        additionalProperties: false
      }
      const responseFormat = { type: "json_schema", name: "person", schema } as const
      const converted = yield* setup({})
      yield* converted.provider.chat(request("who?", { responseFormat }))
      assert.deepStrictEqual((yield* lastBody(converted.server))?.generationConfig, {
        candidateCount: 1,
        responseMimeType: "application/json",
        responseSchema: {
          type: "OBJECT",
          properties: { name: { type: "STRING" }, tags: { type: "ARRAY", items: { type: "STRING" }, maxItems: "3" } },
          propertyOrdering: ["name", "tags"],
          required: ["name", "tags"]
        }
      })
      yield* converted.provider.chat(request("who?", { responseFormat: { type: "json_object" } }))
      assert.deepStrictEqual((yield* lastBody(converted.server))?.generationConfig, {
        candidateCount: 1,
        responseMimeType: "application/json"
      })
      const json = yield* setup({}, { schemaField: "json" })
      yield* json.provider.chat(request("who?", { responseFormat, tools }))
      const body = yield* lastBody(json.server)
      assert.deepStrictEqual(body?.generationConfig, { candidateCount: 1, responseMimeType: "application/json", responseJsonSchema: schema })
      const declarations = (body!.tools as ReadonlyArray<{ functionDeclarations: ReadonlyArray<Record<string, unknown>> }>)[0]!
        .functionDeclarations
      assert.deepStrictEqual(declarations[0]?.parametersJsonSchema, tools[0]!.parameters)
    }).pipe(Effect.scoped))

  it.effect("a schema Gemini cannot express fails as Unsupported naming the keyword, before any call", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      const error = yield* Effect.flip(provider.chat(request("x", {
        responseFormat: {
          type: "json_schema",
          name: "map",
          schema: { type: "object", properties: { scores: { type: "object", additionalProperties: { type: "number" } } } }
        }
      })))
      assert.strictEqual(reasonOf(error), "Unsupported")
      const reason = (error as unknown as { readonly reason: { readonly message: string; readonly field: string } }).reason
      assert.strictEqual(reason.field, "responseFormat")
      assert.include(reason.message, "additionalProperties at $.properties.scores")
      assert.strictEqual((yield* server.calls).length, 0)
    }).pipe(Effect.scoped))

  it.effect("thinking config, and thought signatures sent back on the parts they came on", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({}, { thinking: { includeThoughts: true, thinkingBudget: 512 } })
      yield* provider.chat({
        messages: [
          { role: "user", content: "plan" },
          {
            role: "assistant",
            content: "Done.",
            toolCalls: [{ id: "gcall_x_0", name: "now", arguments: "{}" }],
            reasoning: [
              { text: "Let me think", id: "thought", format: "gemini" },
              { text: "", signature: "sig-call", id: "call:gcall_x_0", format: "gemini" },
              { text: "", signature: "sig-text", id: "text", format: "gemini" },
              // another provider's block is not sent to Gemini
              { text: "claude thoughts", signature: "anthropic-sig" }
            ]
          },
          { role: "tool", toolCallId: "gcall_x_0", content: "12:00" }
        ],
        tools
      })
      const body = yield* lastBody(server)
      assert.deepStrictEqual((body!.generationConfig as Record<string, unknown>).thinkingConfig, { includeThoughts: true, thinkingBudget: 512 })
      assert.deepStrictEqual((body!.contents as ReadonlyArray<unknown>)[1], {
        role: "model",
        parts: [
          { text: "Let me think", thought: true },
          { text: "Done.", thoughtSignature: "sig-text" },
          { functionCall: { name: "now", args: {} }, thoughtSignature: "sig-call" }
        ]
      })
    }).pipe(Effect.scoped))

  it.effect("the key goes in x-goog-api-key, never in the query string", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      yield* provider.chat(request())
      yield* Stream.runDrain(provider.stream(request()))
      const calls = yield* server.calls
      assert.deepStrictEqual(calls.map((call) => call.query), [{}, { alt: "sse" }])
      for (const call of calls) {
        assert.strictEqual(call.headers["x-goog-api-key"], "****pqrs")
        assert.strictEqual(call.headers.authorization, undefined)
        assert.notInclude(call.rawBody, "AIzaSy")
      }
    }).pipe(Effect.scoped))
})

const texts = (parts: ReadonlyArray<StreamPart.StreamPart>) =>
  parts.flatMap((part) => part.type === "text-delta" ? [part.text] : []).join("")

describe("response mapping", () => {
  it.effect("text, usage (thoughts and cached tokens) and the finish reason, chat and stream alike", () =>
    Effect.gen(function*() {
      const usage = { promptTokens: 12, completionTokens: 5, cachedTokens: 4, reasoningTokens: 30 }
      const { provider } = yield* setup({ replies: [Mock.text("Hello there", { usage }), Mock.text("Hello there", { usage })] })
      const answer = yield* provider.chat(request())
      assert.strictEqual(answer.text, "Hello there")
      assert.deepStrictEqual(answer.usage, { promptTokens: 12, completionTokens: 35, totalTokens: 47, cachedTokens: 4, reasoningTokens: 30 })
      assert.strictEqual(answer.finishReason, "stop")
      assert.strictEqual(answer.rawFinishReason, "STOP")
      const parts = yield* Stream.runCollect(provider.stream(request()))
      assert.strictEqual(texts(parts), "Hello there")
      const finish = parts.at(-1)
      assert.strictEqual(finish?.type, "finish")
      assert.deepStrictEqual(finish?.type === "finish" ? finish.usage : undefined, answer.usage)
    }).pipe(Effect.scoped))

  it.effect("function calls both ways, with ids made up where Gemini sends none", () =>
    Effect.gen(function*() {
      const calls = [{ id: "ignored", name: "weather", arguments: "{\"city\":\"Paris\"}" }, { id: "x", name: "now", arguments: "" }]
      const { provider } = yield* setup({ replies: [Mock.toolCalls(calls), Mock.toolCalls(calls)] })
      const answer = yield* provider.chat(request("w", { tools }))
      assert.strictEqual(answer.finishReason, "tool_calls")
      assert.deepStrictEqual(answer.toolCalls.map((call) => [call.name, call.arguments]), [["weather", "{\"city\":\"Paris\"}"], ["now", "{}"]])
      const ids = answer.toolCalls.map((call) => call.id)
      assert.isTrue(ids.every((id) => id.startsWith("gcall_")))
      assert.strictEqual(new Set(ids).size, 2)
      const parts = yield* Stream.runCollect(provider.stream(request("w", { tools })))
      const complete = parts.flatMap((part) => part.type === "tool-call" ? [part.toolCall] : [])
      assert.deepStrictEqual(complete.map((call) => [call.name, call.arguments]), [["weather", "{\"city\":\"Paris\"}"], ["now", "{}"]])
      const finish = parts.at(-1)
      assert.strictEqual(finish?.type === "finish" ? finish.finishReason : undefined, "tool_calls")
    }).pipe(Effect.scoped))

  it.effect.each([
    ["MAX_TOKENS", "length"],
    ["SAFETY", "content_filter"],
    ["RECITATION", "content_filter"],
    ["BLOCKLIST", "content_filter"],
    ["PROHIBITED_CONTENT", "content_filter"],
    ["SPII", "content_filter"],
    ["LANGUAGE", "other"],
    ["OTHER", "other"]
  ] as const)("finish reason %s → %s, raw kept (chat and stream)", ([raw, unified]) =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [Mock.text("partial", { finishReason: raw }), Mock.text("partial", { finishReason: raw })] })
      const answer = yield* provider.chat(request())
      assert.deepStrictEqual([answer.finishReason, answer.rawFinishReason], [unified, raw])
      const finish = (yield* Stream.runCollect(provider.stream(request()))).at(-1) as StreamPart.Finish
      assert.deepStrictEqual([finish.finishReason, finish.rawFinishReason], [unified, raw])
    }).pipe(Effect.scoped))

  it.effect("MALFORMED_FUNCTION_CALL is an error (MalformedResponse), chat and stream", () =>
    Effect.gen(function*() {
      const reply = Mock.text("", { finishReason: "MALFORMED_FUNCTION_CALL" })
      const { provider } = yield* setup({ replies: [reply, reply] })
      assert.strictEqual(reasonOf(yield* Effect.flip(provider.chat(request()))), "MalformedResponse")
      assert.strictEqual(reasonOf(yield* Effect.flip(Stream.runCollect(provider.stream(request())))), "MalformedResponse")
    }).pipe(Effect.scoped))

  it.effect("a prompt blocked outright (promptFeedback.blockReason) is ContentFiltered, chat and stream", () =>
    Effect.gen(function*() {
      const blocked = JSON.stringify({
        promptFeedback: { blockReason: "PROHIBITED_CONTENT", safetyRatings: [] },
        usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 },
        modelVersion: "gemini-test"
      })
      const { provider } = yield* setup({
        replies: [Mock.raw(blocked), Mock.raw(`data: ${blocked}\r\n\r\n`, { headers: { "content-type": "text/event-stream" } })]
      })
      const chatError = yield* Effect.flip(provider.chat(request()))
      assert.strictEqual(reasonOf(chatError), "ContentFiltered")
      assert.include((chatError as unknown as { reason: { message: string } }).reason.message, "PROHIBITED_CONTENT")
      assert.strictEqual(reasonOf(yield* Effect.flip(Stream.runCollect(provider.stream(request())))), "ContentFiltered")
    }).pipe(Effect.scoped))

  it.effect("thought parts are reasoning, with their signatures; the answer text is separate", () =>
    Effect.gen(function*() {
      const response = {
        candidates: [{
          content: {
            role: "model",
            parts: [
              { text: "Thinking about it", thought: true },
              { text: "The answer", thoughtSignature: "sig-1" },
              { functionCall: { name: "now", args: {} }, thoughtSignature: "sig-2" }
            ]
          },
          finishReason: "STOP"
        }],
        responseId: "r9"
      }
      const events = response.candidates[0]!.content.parts.map((part, index) =>
        `data: ${JSON.stringify({ candidates: [{ content: { role: "model", parts: [part] }, ...(index === 2 ? { finishReason: "STOP" } : {}) }], responseId: "r9" })}\r\n\r\n`
      )
      const { provider } = yield* setup({
        replies: [Mock.raw(JSON.stringify(response)), Mock.raw(events, { headers: { "content-type": "text/event-stream" } })]
      })
      const answer = yield* provider.chat(request("x", { tools }))
      assert.strictEqual(answer.text, "The answer")
      const expected = [
        { text: "Thinking about it", id: "thought", format: "gemini" },
        { text: "", signature: "sig-1", id: "text", format: "gemini" },
        { text: "", signature: "sig-2", id: "call:gcall_r9_0", format: "gemini" }
      ]
      assert.deepStrictEqual(answer.reasoning, expected)
      assert.deepStrictEqual(answer.toolCalls, [{ id: "gcall_r9_0", name: "now", arguments: "{}" }])
      const parts = yield* Stream.runCollect(provider.stream(request("x", { tools })))
      const reasoning = parts.flatMap((part) => part.type === "reasoning-delta" ? [part] : [])
      assert.deepStrictEqual(reasoning.map(({ type: _type, ...block }) => block), expected)
      assert.strictEqual(texts(parts), "The answer")
    }).pipe(Effect.scoped))

  it.effect("safety ratings are kept in providerMetadata (chat and the stream's finish)", () =>
    Effect.gen(function*() {
      const ratings = [{ category: "HARM_CATEGORY_HATE_SPEECH", probability: "LOW", blocked: true }]
      const body = { candidates: [{ content: {}, finishReason: "SAFETY", safetyRatings: ratings }], modelVersion: "gemini-test" }
      const { provider } = yield* setup({
        replies: [Mock.raw(JSON.stringify(body)), Mock.raw(`data: ${JSON.stringify(body)}\r\n\r\n`, { headers: { "content-type": "text/event-stream" } })]
      })
      const answer = yield* provider.chat(request())
      assert.strictEqual(answer.finishReason, "content_filter")
      assert.deepStrictEqual(answer.providerMetadata, { gemini: { safetyRatings: ratings } })
      const finish = (yield* Stream.runCollect(provider.stream(request()))).at(-1) as StreamPart.Finish
      assert.deepStrictEqual(finish.providerMetadata, { gemini: { safetyRatings: ratings } })
    }).pipe(Effect.scoped))
})
