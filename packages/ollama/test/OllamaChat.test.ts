// Wire-level tests: the real client against MockProviderServer speaking Ollama's native API,
// for every mapping (request options, format, images, tools both ways, thinking, done_reason,
// counts) and every error (statuses, a model not pulled, error lines, cut and unfinished streams).
import { assert, describe, it } from "@effect/vitest"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { ollamaLines } from "@flexiai/testing/MockProviderServer"
import type * as StreamPart from "@flexiai/core/StreamPart"
import { Duration, Effect, Logger, Redacted, Stream } from "effect"
import { join } from "node:path"
import * as OllamaCodec from "../src/OllamaCodec.ts"
import { lastBody, reasonOf, request, setup, testDataDir } from "./helpers.ts"

const collect = <E>(stream: Stream.Stream<StreamPart.StreamPart, E>) =>
  Effect.map(Stream.runCollect(stream), (parts): ReadonlyArray<StreamPart.StreamPart> => [...parts])

const fixture = (name: string) => MockProviderServer.fixture(join(testDataDir("fixtures"), "ollama", name))

const textOf = (parts: ReadonlyArray<StreamPart.StreamPart>) =>
  parts.map((part) => (part.type === "text-delta" ? part.text : "")).join("")

const ndjson = (lines: ReadonlyArray<string>, options: { readonly status?: number } = {}) =>
  MockProviderServer.raw(lines, { headers: { "content-type": "application/x-ndjson" }, ...options })

describe("OllamaChat: requests", () => {
  it.effect("maps the request to /api/chat: options, format, keep_alive, think, stream flag", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({}, { chat: { keepAlive: "10m", think: true, numCtx: 8192, topK: 40 } })
      yield* provider.chat(request("hi", {
        maxTokens: 64,
        temperature: 0.2,
        topP: 0.9,
        stop: ["END"],
        seed: 7,
        responseFormat: { type: "json_schema", name: "answer", schema: { type: "object", properties: { a: { type: "string" } } } }
      }))
      const calls = yield* server.calls
      assert.strictEqual(calls[0]?.path, "/api/chat")
      const body = yield* lastBody(server)
      assert.deepStrictEqual(body, {
        model: "llama3.2",
        messages: [{ role: "user", content: "hi" }],
        stream: false,
        format: { type: "object", properties: { a: { type: "string" } } },
        think: true,
        keep_alive: "10m",
        options: { num_predict: 64, temperature: 0.2, top_p: 0.9, top_k: 40, stop: ["END"], num_ctx: 8192, seed: 7 }
      })
      yield* Stream.runDrain(provider.stream(request("hi", { responseFormat: { type: "json_object" } })))
      const streamed = yield* lastBody(server)
      assert.strictEqual(streamed?.stream, true)
      assert.strictEqual(streamed?.format, "json")
    }))

  it.effect("providerOptions merge last: options into options, the rest at the top", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      yield* provider.chat(request("hi", { temperature: 1, providerOptions: { ollama: { options: { min_p: 0.05, temperature: 0.5 }, keep_alive: 0 } } }))
      const body = yield* lastBody(server)
      assert.deepStrictEqual(body?.options, { temperature: 0.5, min_p: 0.05 })
      assert.strictEqual(body?.keep_alive, 0)
    }))

  it.effect("images go as base64 (data: URLs unpacked); an http(s) URL is Unsupported before any call", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      yield* provider.chat({
        messages: [{
          role: "user",
          content: [
            { type: "text", text: "what is this?" },
            { type: "image", source: { type: "base64", mediaType: "image/png", data: "iVBORw0K" } },
            { type: "image", source: { type: "url", url: "data:image/jpeg;base64,/9j/4AAQ" } }
          ]
        }]
      })
      const body = yield* lastBody(server)
      assert.deepStrictEqual(body?.messages, [{ role: "user", content: "what is this?", images: ["iVBORw0K", "/9j/4AAQ"] }])
      const error = yield* Effect.flip(provider.chat({
        messages: [{ role: "user", content: [{ type: "image", source: { type: "url", url: "https://example.com/cat.png" } }] }]
      }))
      assert.strictEqual(reasonOf(error), "Unsupported")
      assert.strictEqual((error.reason as { readonly field?: string }).field, "images")
      assert.strictEqual((yield* server.calls).length, 1)
    }))

  it.effect("a file (document) part is Unsupported (files) before any call", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      const error = yield* Effect.flip(provider.chat({
        messages: [{ role: "user", content: [{ type: "text", text: "read" }, { type: "file", source: { type: "text", text: "notes" } }] }]
      }))
      assert.strictEqual(reasonOf(error), "Unsupported")
      assert.strictEqual((error.reason as { readonly field?: string }).field, "files")
      assert.strictEqual((yield* server.calls).length, 0)
    }))

  it.effect("tools: definitions, assistant tool calls back with object arguments, results as role tool with tool_name", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      yield* provider.chat({
        messages: [
          { role: "system", content: "be brief" },
          { role: "user", content: "weather in Paris?" },
          { role: "assistant", content: null, toolCalls: [{ id: "call_0", name: "get_weather", arguments: "{\"city\":\"Paris\"}" }] },
          { role: "tool", toolCallId: "call_0", content: "{\"temp\":18}" }
        ],
        tools: [{ name: "get_weather", description: "weather", parameters: { type: "object", properties: { city: { type: "string" } } } }]
      })
      const body = yield* lastBody(server)
      assert.deepStrictEqual(body?.messages, [
        { role: "system", content: "be brief" },
        { role: "user", content: "weather in Paris?" },
        { role: "assistant", content: "", tool_calls: [{ function: { name: "get_weather", arguments: { city: "Paris" } } }] },
        { role: "tool", content: "{\"temp\":18}", tool_name: "get_weather" }
      ])
      assert.deepStrictEqual(body?.tools, [{
        type: "function",
        function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } }, description: "weather" }
      }])
      // tool choice none: no tools offered (Ollama has no tool_choice)
      yield* provider.chat({ ...request("x"), tools: [{ name: "t", parameters: {} }], toolChoice: "none" })
      assert.isUndefined((yield* lastBody(server))?.tools)
      // required: the tools go, the choice cannot (a warning says so), and no tool_choice field is sent
      const warnings: Array<unknown> = []
      yield* provider.chat({ ...request("x"), tools: [{ name: "t", parameters: {} }], toolChoice: "required", user: "u1" }).pipe(
        Effect.provide(Logger.layer([Logger.make((options) => warnings.push(options.message))]))
      )
      const required = yield* lastBody(server)
      assert.isDefined(required?.tools)
      assert.isUndefined(required?.tool_choice)
      assert.isUndefined(required?.user)
      assert.include(JSON.stringify(warnings), "\"toolChoice\",\"user\"")
    }))

  it.effect("a tool call whose arguments are not a JSON object is Unsupported, not sent", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      const error = yield* Effect.flip(provider.chat({
        messages: [
          { role: "user", content: "x" },
          { role: "assistant", toolCalls: [{ id: "c", name: "t", arguments: "[1,2" }] },
          { role: "tool", toolCallId: "c", content: "r" }
        ]
      }))
      assert.strictEqual(reasonOf(error), "Unsupported")
      assert.strictEqual((yield* server.calls).length, 0)
    }))

  it.effect("no key: no authorization header; an apiKey goes as a bearer; a host without a scheme gets http://", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      yield* provider.chat(request())
      assert.isUndefined((yield* server.calls)[0]?.headers.authorization)
      const server2 = yield* MockProviderServer.make({})
      const keyed = yield* setup({}, { client: { host: server2.url.replace("http://", "") + "/", apiKey: Redacted.make("ollama-key-0123456789abcdef") } })
      yield* keyed.provider.chat(request())
      // the helper's own server got nothing: the scheme-less host reached server2
      assert.strictEqual((yield* keyed.server.calls).length, 0)
      const [call] = yield* server2.calls
      assert.strictEqual(call?.path, "/api/chat")
      assert.strictEqual(call?.headers.authorization, "Bearer ****cdef")
    }))
})

describe("OllamaChat: answers", () => {
  it.effect("chat: text, done_reason, counts as usage, the model the server names", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [MockProviderServer.text("Hello there", { model: "llama3.2:3b", usage: { promptTokens: 12, completionTokens: 3 } })]
      })
      const response = yield* provider.chat(request())
      assert.strictEqual(response.text, "Hello there")
      assert.strictEqual(response.finishReason, "stop")
      assert.strictEqual(response.rawFinishReason, "stop")
      assert.deepStrictEqual(response.usage, { promptTokens: 12, completionTokens: 3, totalTokens: 15 })
      assert.strictEqual(response.model, "llama3.2:3b")
      assert.strictEqual(response.provider, "ollama")
    }))

  it.effect("chat: done_reason length → length; tool calls → tool_calls with arguments as JSON text", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [
          MockProviderServer.text("cut", { finishReason: "length" }),
          MockProviderServer.toolCalls([{ id: "x", name: "get_weather", arguments: "{\"city\":\"Paris\"}" }])
        ]
      })
      const cut = yield* provider.chat(request())
      assert.strictEqual(cut.finishReason, "length")
      const tools = yield* provider.chat(request())
      assert.strictEqual(tools.finishReason, "tool_calls")
      assert.strictEqual(tools.rawFinishReason, "stop")
      assert.deepStrictEqual(tools.toolCalls, [{ id: "call_0", name: "get_weather", arguments: "{\"city\":\"Paris\"}" }])
    }))

  it.effect("stream: text deltas, one finish with usage; tool calls as delta then tool-call", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [
          MockProviderServer.text("one two three", { usage: { promptTokens: 5, completionTokens: 3 } }),
          MockProviderServer.toolCalls([{ id: "x", name: "f", arguments: "{\"a\":1}" }, { id: "y", name: "g", arguments: "" }])
        ]
      })
      const parts = yield* collect(provider.stream(request()))
      assert.strictEqual(textOf(parts), "one two three")
      const finish = parts.at(-1)
      assert.strictEqual(finish?.type, "finish")
      assert.deepStrictEqual(finish?.type === "finish" ? finish.usage : undefined, { promptTokens: 5, completionTokens: 3, totalTokens: 8 })
      assert.strictEqual(parts.filter((part) => part.type === "finish").length, 1)
      const toolParts = yield* collect(provider.stream(request()))
      assert.deepStrictEqual(toolParts.filter((part) => part.type === "tool-call").map((part) => part.type === "tool-call" ? part.toolCall : undefined), [
        { id: "call_0", name: "f", arguments: "{\"a\":1}" },
        { id: "call_1", name: "g", arguments: "{}" }
      ])
      assert.strictEqual(toolParts.filter((part) => part.type === "tool-call-delta").length, 2)
      const end = toolParts.at(-1)
      assert.strictEqual(end?.type === "finish" ? end.finishReason : undefined, "tool_calls")
    }))

  it.effect("stream: thinking lines are reasoning deltas before the text; chat returns thinking as reasoning", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [
          ndjson([
            ollamaLines.chunk("qwen3", { thinking: "Let me" }),
            ollamaLines.chunk("qwen3", { thinking: " think." }),
            ollamaLines.chunk("qwen3", { content: "42" }),
            ollamaLines.done("qwen3", { prompt_eval_count: 9, eval_count: 4 })
          ]),
          MockProviderServer.raw(JSON.stringify({
            model: "qwen3",
            message: { role: "assistant", content: "42", thinking: "Let me think." },
            done: true,
            done_reason: "stop"
          }))
        ]
      }, { chat: { think: true } })
      const parts = yield* collect(provider.stream(request("meaning?", { model: "qwen3" })))
      assert.deepStrictEqual(parts.slice(0, 3).map((part) => part.type), ["reasoning-delta", "reasoning-delta", "text-delta"])
      assert.strictEqual(parts.map((part) => part.type === "reasoning-delta" ? part.text : "").join(""), "Let me think.")
      assert.strictEqual(parts.at(-1)?.type, "finish")
      const response = yield* provider.chat(request("meaning?", { model: "qwen3" }))
      assert.deepStrictEqual(response.reasoning, [{ text: "Let me think." }])
      assert.strictEqual(response.text, "42")
    }))

  it.effect("thinking given back on the next turn as the assistant message's thinking", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      yield* provider.chat({
        messages: [
          { role: "user", content: "q" },
          { role: "assistant", content: "a", reasoning: [{ text: "hm" }] },
          { role: "user", content: "q2" }
        ]
      })
      assert.deepStrictEqual((yield* lastBody(server))?.messages, [
        { role: "user", content: "q" },
        { role: "assistant", content: "a", thinking: "hm" },
        { role: "user", content: "q2" }
      ])
    }))

  it.effect("the recorded native answers decode: text, done_reason, counts; durations as timings", () =>
    Effect.gen(function*() {
      const { client, provider } = yield* setup({
        replies: [
          fixture("native-api-chat-llama3.2.json"),
          fixture("native-api-chat-gemma3.json"),
          fixture("native-api-chat-llama3.2.json")
        ]
      })
      const first = yield* provider.chat(request("Reply with exactly the single word: pong", { model: "llama3.2:1b" }))
      assert.strictEqual(first.text, "Yes.")
      assert.strictEqual(first.model, "llama3.2:1b")
      assert.deepStrictEqual(first.usage, { promptTokens: 33, completionTokens: 3, totalTokens: 36 })
      // the durations, in nanoseconds as the server sent them
      assert.deepStrictEqual(first.providerMetadata, {
        ollama: { total_duration: 1060152334, load_duration: 763833084, prompt_eval_duration: 185414666, eval_duration: 108885167 }
      })
      const second = yield* provider.chat(request("x", { model: "gemma3" }))
      assert.strictEqual(second.text, "OK.")
      assert.deepStrictEqual(second.usage, { promptTokens: 24, completionTokens: 3, totalTokens: 27 })
      const raw = yield* client.chat({ model: "llama3.2:1b", messages: [{ role: "user", content: "x" }], stream: false })
      const timings = OllamaCodec.timings(raw.parsed)
      assert.deepStrictEqual(Duration.toMillis(timings.load!), 763.833084)
      assert.deepStrictEqual(OllamaCodec.timingAttributes(timings)["ollama.total_duration_ms"], 1060.152334)
    }))

  it.effect("recorded from a real server: a qwen3 answer with inline <think> text (kept as text: no think option was sent), and /api/tags", () =>
    Effect.gen(function*() {
      const { client, provider } = yield* setup({
        replies: [fixture("libinruan__qwen3-api-chat.json")],
        byPath: { "/api/tags": [fixture("libinruan__api-tags.json")] }
      })
      const response = yield* provider.chat(request("Hello, how are you?", { model: "qwen3:0.6b" }))
      assert.isTrue(response.text.startsWith("<think>\nOkay, the user just asked"))
      assert.isTrue(response.text.endsWith("Let me know if there's anything you need!"))
      assert.isUndefined(response.reasoning)
      assert.strictEqual(response.finishReason, "stop")
      assert.deepStrictEqual(response.usage, { promptTokens: 25, completionTokens: 127, totalTokens: 152 })
      const models = yield* client.listModels
      assert.deepStrictEqual(models, [{ id: "qwen3:0.6b", family: "qwen3", parameterSize: "751.63M", sizeBytes: 522653767 }])
    }))
})

describe("OllamaChat: errors", () => {
  it.effect("a model that is not pulled is NotFound saying how to pull it (chat and stream)", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.ollamaNotPulled("qwen3:8b"), MockProviderServer.ollamaNotPulled("qwen3:8b")] })
      for (const call of [provider.chat(request("x", { model: "qwen3:8b" })), Stream.runDrain(provider.stream(request("x", { model: "qwen3:8b" })))]) {
        const error = yield* Effect.flip(call as Effect.Effect<unknown, { readonly reason: { readonly _tag: string; readonly message: string; readonly model?: string } }>)
        assert.strictEqual(error.reason._tag, "NotFound")
        assert.include(error.reason.message, "ollama pull qwen3:8b")
        assert.strictEqual(error.reason.model, "qwen3:8b")
      }
    }))

  it.effect("statuses: 400 InvalidRequest, 400 'does not support tools' Unsupported, 401, 429 with retry-after, 500, 503", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [
          MockProviderServer.error(400, { message: "invalid options: num_foo" }),
          MockProviderServer.error(400, { message: "registry.ollama.ai/library/gemma:2b does not support tools" }),
          MockProviderServer.error(401, { message: "unauthorized" }),
          MockProviderServer.error(429, { message: "too many requests" }, { headers: { "retry-after": "7" } }),
          MockProviderServer.error(500, { message: "llama runner process has terminated" }),
          MockProviderServer.error(503, { message: "server busy, please try again. maximum pending requests exceeded" })
        ]
      })
      const reasons: Array<string> = []
      let retryAfter: Duration.Duration | undefined
      for (let index = 0; index < 6; index++) {
        const error = yield* Effect.flip(provider.chat(request()))
        reasons.push(error.reason._tag)
        if (error.reason._tag === "RateLimited") retryAfter = error.reason.retryAfter
        if (error.reason._tag === "Unsupported") assert.strictEqual(error.reason.field, "tools")
      }
      assert.deepStrictEqual(reasons, ["InvalidRequest", "Unsupported", "Authentication", "RateLimited", "ServerError", "ServerError"])
      assert.deepStrictEqual(retryAfter, Duration.seconds(7))
    }))

  it.effect("an error line mid-stream is its typed reason; before content it fails the stream open", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [
          MockProviderServer.inBandError({ message: "an error was encountered while running the model: CUDA error" }, { afterChunks: 1, text: "partial answer" }),
          MockProviderServer.inBandError({ message: "model \"x\" not found, try pulling it first" }, { afterChunks: 0 })
        ]
      })
      const seen: Array<StreamPart.StreamPart> = []
      const error = yield* Effect.flip(Stream.runForEach(provider.stream(request()), (part) => Effect.sync(() => seen.push(part))))
      assert.strictEqual(textOf(seen), "partial ")
      assert.strictEqual(error.reason._tag, "ServerError")
      const second = yield* Effect.flip(Stream.runDrain(provider.stream(request())))
      assert.strictEqual(second.reason._tag, "NotFound")
    }))

  it.effect("a stream that ends without done: true is StreamInterrupted with the partial text", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.withoutDone("no terminator here"), MockProviderServer.cutAfter(2)] })
      const error = yield* Effect.flip(Stream.runDrain(provider.stream(request())))
      assert.strictEqual(error.reason._tag, "StreamInterrupted")
      assert.strictEqual(error.reason._tag === "StreamInterrupted" ? error.reason.partialText : "", "no terminator here")
      const cut = yield* Effect.flip(Stream.runDrain(provider.stream(request())))
      assert.strictEqual(cut.reason._tag, "StreamInterrupted")
      assert.strictEqual(cut.reason._tag === "StreamInterrupted" ? cut.reason.partialText : "", "one two ")
    }))

  it.effect("an undecodable line fails the stream with MalformedResponse (or is skipped when asked)", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.malformedEvent("a b c", 1)] })
      const error = yield* Effect.flip(Stream.runDrain(provider.stream(request())))
      assert.strictEqual(error.reason._tag, "MalformedResponse")
      const skipping = yield* setup({ replies: [MockProviderServer.malformedEvent("a b c", 1)] }, { chat: { onMalformedEvent: "skip" } })
      const parts = yield* collect(skipping.provider.stream(request()))
      assert.strictEqual(textOf(parts), "a b c")
    }))

  it.live("a stream that stalls after content fails on the idle limit (Timeout, phase idle), never ends as complete", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.stallAfter(1)] }, { client: { timeouts: { idle: "200 millis" } } })
      const seen: Array<StreamPart.StreamPart> = []
      const error = yield* Effect.flip(Stream.runForEach(provider.stream(request()), (part) => Effect.sync(() => seen.push(part))))
      assert.strictEqual(textOf(seen), "one ")
      assert.isUndefined(seen.find((part) => part.type === "finish"))
      assert.strictEqual(error.reason._tag, "Timeout")
      assert.strictEqual(error.reason._tag === "Timeout" ? error.reason.phase : undefined, "idle")
    }))

  it.effect("a connection refused is Connection", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({}, { client: { host: "127.0.0.1:1" } })
      const error = yield* Effect.flip(provider.chat(request()))
      assert.strictEqual(error.reason._tag, "Connection")
    }))
})

describe("OllamaClient: models", () => {
  it.effect("/api/tags is listModels", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({ models: ["llama3.2:latest", "qwen3:8b"] })
      const models = yield* provider.listModels!
      assert.deepStrictEqual(models.map((model) => model.id), ["llama3.2:latest", "qwen3:8b"])
      assert.strictEqual((yield* server.calls)[0]?.path, "/api/tags")
    }))

  it.effect("/api/show gives the context length and capabilities; a model not pulled is NotFound", () =>
    Effect.gen(function*() {
      const { client, server } = yield* setup({
        byPath: {
          "/api/show": [
            MockProviderServer.ollamaShowReply({ architecture: "qwen3", contextLength: 40960, capabilities: ["completion", "tools", "thinking"] }),
            MockProviderServer.ollamaNotPulled("nope")
          ]
        }
      })
      const details = yield* client.show("qwen3:8b")
      assert.strictEqual(details.contextLength, 40960)
      assert.deepStrictEqual(details.capabilities, ["completion", "tools", "thinking"])
      assert.deepStrictEqual(OllamaCodec.capabilitiesOf(details), { tools: true, images: false, reasoning: true, contextWindow: 40960 })
      assert.deepStrictEqual((yield* server.calls)[0]?.body, { model: "qwen3:8b" })
      const error = yield* Effect.flip(client.show("nope"))
      assert.strictEqual(error.reason._tag, "NotFound")
      assert.include(error.reason.message, "ollama pull nope")
    }))
})
