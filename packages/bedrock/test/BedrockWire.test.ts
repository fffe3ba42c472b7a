// Bedrock over real sockets against MockProviderServer with SigV4 checked by the mock: chat,
// streams, tool calls, the path encoding of model ids, and the bearer-token (API key) path.
import { assert, describe, it } from "@effect/vitest"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Effect, Redacted, Stream } from "effect"
import { credentials, model, reasonOf, request, setup } from "./helpers.ts"

describe("Converse over the wire", () => {
  it.effect("chat: signed request, text, stop reason and usage", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({ replies: [MockProviderServer.text("Hi there!", { usage: { promptTokens: 12, completionTokens: 3 } })] })
      const response = yield* provider.chat(request("hello"))
      assert.strictEqual(response.text, "Hi there!")
      assert.strictEqual(response.finishReason, "stop")
      assert.strictEqual(response.rawFinishReason, "end_turn")
      assert.deepStrictEqual(response.usage, { promptTokens: 12, completionTokens: 3, totalTokens: 15 })
      const call = (yield* server.calls).at(-1)!
      assert.strictEqual(call.path, `/model/${encodeURIComponent(model)}/converse`)
      assert.strictEqual(call.reply, "Answer")
      assert.match(call.headers["x-amz-date"] ?? "", /^\d{8}T\d{6}Z$/)
      assert.deepStrictEqual(call.body, { messages: [{ role: "user", content: [{ text: "hello" }] }] })
    }))

  it.effect("an ARN model id is one URL-encoded path segment", () =>
    Effect.gen(function*() {
      const arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0"
      const { provider, server } = yield* setup({ replies: [MockProviderServer.text("ok")] })
      const response = yield* provider.chat(request("hi", { model: arn }))
      assert.strictEqual(response.model, arn)
      assert.strictEqual((yield* server.calls).at(-1)!.path, `/model/${encodeURIComponent(arn)}/converse`)
    }))

  it.effect("stream: text deltas, then finish with usage from metadata", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.text("one two three", { usage: { promptTokens: 5, completionTokens: 3 } })] })
      const parts = Array.from(yield* Stream.runCollect(provider.stream(request())))
      assert.strictEqual(parts.filter((part) => part.type === "text-delta").map((part) => part.type === "text-delta" ? part.text : "").join(""), "one two three")
      const finish = parts.at(-1)!
      assert.strictEqual(finish.type, "finish")
      if (finish.type === "finish") {
        assert.strictEqual(finish.finishReason, "stop")
        assert.deepStrictEqual(finish.usage, { promptTokens: 5, completionTokens: 3, totalTokens: 8 })
      }
    }))

  it.effect("tool calls both ways: streamed input pieces, a completed call, toolResult sent back", () =>
    Effect.gen(function*() {
      const call = { id: "tooluse_abc", name: "get_weather", arguments: "{\"city\":\"Paris\",\"unit\":\"C\"}" }
      const { provider, server } = yield* setup({
        replies: [MockProviderServer.toolCalls([call], { argumentChunks: 3 }), MockProviderServer.toolCalls([call]), MockProviderServer.text("Sunny")]
      })
      const tools = [{ name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }]
      const parts = Array.from(yield* Stream.runCollect(provider.stream(request("weather?", { tools }))))
      const deltas = parts.filter((part) => part.type === "tool-call-delta")
      assert.isAtLeast(deltas.length, 3)
      const complete = parts.find((part) => part.type === "tool-call")
      assert.deepStrictEqual(complete?.type === "tool-call" ? complete.toolCall : undefined, call)
      const finish = parts.at(-1)
      assert.strictEqual(finish?.type === "finish" ? finish.finishReason : undefined, "tool_calls")

      const chat = yield* provider.chat(request("weather?", { tools, toolChoice: "required" }))
      assert.deepStrictEqual(chat.toolCalls.map((c) => ({ ...c, arguments: JSON.parse(c.arguments) })), [{ ...call, arguments: JSON.parse(call.arguments) }])
      const sent = (yield* server.calls).at(-1)!.body as Record<string, unknown>
      assert.deepStrictEqual(sent.toolConfig, {
        tools: [{ toolSpec: { name: "get_weather", inputSchema: { json: tools[0]!.parameters } } }],
        toolChoice: { any: {} }
      })

      yield* provider.chat({
        messages: [
          { role: "user", content: "weather?" },
          { role: "assistant", content: null, toolCalls: [call] },
          { role: "tool", toolCallId: call.id, content: "18C sunny" }
        ],
        tools
      })
      const followUp = (yield* server.calls).at(-1)!.body as { messages: ReadonlyArray<unknown> }
      assert.deepStrictEqual(followUp.messages, [
        { role: "user", content: [{ text: "weather?" }] },
        { role: "assistant", content: [{ toolUse: { toolUseId: call.id, name: call.name, input: { city: "Paris", unit: "C" } } }] },
        { role: "user", content: [{ toolResult: { toolUseId: call.id, content: [{ text: "18C sunny" }] } }] }
      ])
    }))

  it.effect("a wrong secret key is refused by the mock's SigV4 check as Bedrock does (Authentication)", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.text("never")] }, {
        client: { credentials: { accessKeyId: Redacted.make("AKIAIOSFODNN7EXAMPLE"), secretAccessKey: Redacted.make("not-the-secret-key-0123456789"), sessionToken: credentials.sessionToken } }
      })
      const reason = reasonOf(yield* Effect.flip(provider.chat(request())))
      assert.strictEqual(reason._tag, "Authentication")
      assert.include(reason.message, "InvalidSignatureException")
    }))

  it.effect("a Bedrock API key goes as a bearer token, unsigned", () =>
    Effect.gen(function*() {
      const apiKey = "ABSKQmVkcm9ja0FQSUtleS1leGFtcGxlMDEyMzQ1Njc4OQ=="
      const server = yield* MockProviderServer.make({ replies: [MockProviderServer.text("ok")] }, {
        encoders: [MockProviderServer.bedrockEncoderVerifying({ accessKeyId: "x", secretAccessKey: "y", region: "us-east-1", apiKey }), ...MockProviderServer.encoders]
      })
      const { provider } = yield* setup({}, { verify: false, client: { endpoint: server.url, credentials: undefined, environment: { AWS_BEARER_TOKEN_BEDROCK: apiKey } } })
      assert.strictEqual((yield* provider.chat(request())).text, "ok")
      const call = (yield* server.calls).at(-1)!
      assert.isUndefined(call.headers["x-amz-date"])
      assert.match(call.headers.authorization ?? "", /^Bearer \*{4}/)
    }))

  it.effect("every stop reason over the wire, chat and stream, the raw value kept", () =>
    Effect.gen(function*() {
      const reasons: ReadonlyArray<readonly [string, string]> = [
        ["end_turn", "stop"],
        ["stop_sequence", "stop"],
        ["max_tokens", "length"],
        ["content_filtered", "content_filter"],
        ["guardrail_intervened", "content_filter"]
      ]
      const { provider } = yield* setup({
        replies: reasons.flatMap(([raw]) => [MockProviderServer.text("some text", { finishReason: raw }), MockProviderServer.text("some text", { finishReason: raw })])
      })
      for (const [raw, unified] of reasons) {
        const chat = yield* provider.chat(request())
        assert.deepStrictEqual([chat.finishReason, chat.rawFinishReason], [unified, raw])
        const finish = Array.from(yield* Stream.runCollect(provider.stream(request()))).at(-1)
        assert.deepStrictEqual(finish?.type === "finish" ? [finish.finishReason, finish.rawFinishReason] : [], [unified, raw])
      }
    }))

  it.effect("prompt caching: cachePoint blocks on the wire, cache reads and writes in the streamed usage", () =>
    Effect.gen(function*() {
      const frame = (type: string, payload: unknown) =>
        MockProviderServer.eventStreamFrame({ ":event-type": type, ":content-type": "application/json", ":message-type": "event" }, JSON.stringify(payload))
      const { provider, server } = yield* setup({
        replies: [MockProviderServer.raw([
          frame("messageStart", { role: "assistant" }),
          frame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "cached" } }),
          frame("messageStop", { stopReason: "end_turn" }),
          frame("metadata", { usage: { inputTokens: 4, outputTokens: 1, totalTokens: 1030, cacheReadInputTokens: 1000, cacheWriteInputTokens: 25 }, metrics: { latencyMs: 3 } })
        ], { headers: { "content-type": "application/vnd.amazon.eventstream" } })]
      })
      const parts = Array.from(yield* Stream.runCollect(provider.stream({
        messages: [{ role: "system", content: "a long system prompt" }, { role: "user", content: "q" }],
        providerOptions: { bedrock: { cache: { system: true } } }
      })))
      const finish = parts.at(-1)
      assert.deepStrictEqual(finish?.type === "finish" ? finish.usage : undefined, {
        promptTokens: 1029,
        completionTokens: 1,
        totalTokens: 1030,
        cachedTokens: 1000,
        cacheWriteTokens: 25
      })
      // Bedrock's own timing rides on the finish part as it came
      assert.deepStrictEqual(finish?.type === "finish" ? finish.providerMetadata : undefined, { bedrock: { metrics: { latencyMs: 3 } } })
      const sent = (yield* server.calls).at(-1)!.body as Record<string, unknown>
      assert.deepStrictEqual(sent.system, [{ text: "a long system prompt" }, { cachePoint: { type: "default" } }])
    }))
})
