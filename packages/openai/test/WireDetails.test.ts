// Wire details found by validating requests against the providers' specs and reading their
// servers: each member's quirks as they reach a real socket (MockProviderServer), the bodies
// validated against the spec the member publishes.
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import * as ProviderKind from "@flexiai/provider/ProviderKind"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Effect, Layer, Logger, Redacted, Stream } from "effect"
import * as OpenAiChat from "../src/OpenAiChat.ts"
import * as OpenAiClient from "../src/OpenAiClient.ts"
import * as OpenAiCompatible from "../src/OpenAiCompatible.ts"
import * as OpenAiKind from "../src/OpenAiKind.ts"
import { build, request, setup } from "./helpers.ts"
import { representative } from "./requests.ts"
import * as SpecValidator from "./specValidator.ts"

const key = Redacted.make("wire-key-0123456789abcdef")

// compiled once, when the file loads (the OpenAI spec alone takes seconds)
const openAiSpec = SpecValidator.openAiChatRequest()
const azureSpec = SpecValidator.azureChatRequest()
const foundrySpec = SpecValidator.foundryChatRequest()
const openRouterSpec = SpecValidator.openRouterChatRequest()

const start = (preset: (url: string) => OpenAiCompatible.Preset, script: MockProviderServer.Script = {}) =>
  Effect.gen(function*() {
    const server = yield* MockProviderServer.make(script)
    const { client, chat } = preset(server.url)
    const built = yield* build(
      OpenAiChat.layer(chat).pipe(Layer.provideMerge(OpenAiClient.layer(client)), Layer.provide(NodeHttpClient.layerUndici))
    )
    return { server, ...built }
  })

/** Runs `effect` with a logger that records each warning's message and annotations. */
const withWarnings = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const warnings: Array<string> = []
    const logger = Logger.make((options) => {
      if (options.logLevel === "Warn") warnings.push(JSON.stringify(options.message))
    })
    const result = yield* Effect.provide(effect, Logger.layer([logger]))
    return { result, warnings }
  })

const bodyOf = (call: MockProviderServer.RecordedCall | undefined) => call?.body as Record<string, unknown>

// qualifies for strict mode: closed objects, every property required
const closed = {
  type: "object",
  properties: { city: { type: "string" }, days: { type: "array", items: { type: "integer" } } },
  required: ["city", "days"],
  additionalProperties: false
}
// does not: a property left optional, and an open object
const open = { type: "object", properties: { city: { type: "string" }, note: { type: "string" } }, required: ["city"] }

const strictRequest = (schema: Record<string, unknown>, strict?: boolean): ChatRequest.ChatRequest => ({
  messages: [{ role: "user", content: "weather?" }],
  tools: [{ name: "weather", parameters: schema, ...(strict === undefined ? {} : { strict }) }],
  responseFormat: { type: "json_schema", name: "answer", schema, ...(strict === undefined ? {} : { strict }) }
})

const strictOf = (body: Record<string, unknown>) => ({
  tool: ((body.tools as Array<{ function: { strict?: boolean } }>)[0]!.function).strict,
  format: ((body.response_format as { json_schema: { strict?: boolean } }).json_schema).strict
})

describe("User-Agent", () => {
  it.effect("every provider request names FlexiAI and its version: chat, stream and the model list", () =>
    Effect.gen(function*() {
      const { client, provider, server } = yield* setup({})
      yield* provider.chat(request())
      yield* Stream.runDrain(provider.stream(request()))
      yield* client.listModels
      const calls = yield* server.calls
      assert.strictEqual(calls.length, 3)
      for (const call of calls) assert.match(call.headers["user-agent"] ?? "", /^flexiai\/\d+\.\d+\.\d+/)
    }))

  it.effect("a provider's own headers may replace it", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({}, { client: { headers: { "User-Agent": "my-app/2.0" } } })
      yield* provider.chat(request())
      assert.strictEqual((yield* server.calls)[0]?.headers["user-agent"], "my-app/2.0")
    }))
})

describe("strict mode", () => {
  const openAi = openAiSpec
  const azure = azureSpec

  it("qualifiesForStrict: closed objects with every property required, supported keywords only", () => {
    assert.isTrue(OpenAiChat.qualifiesForStrict(closed))
    assert.isFalse(OpenAiChat.qualifiesForStrict(open))
    assert.isFalse(OpenAiChat.qualifiesForStrict({ ...closed, properties: { city: { type: "string", default: "Paris" } }, required: ["city"] }))
    assert.isFalse(OpenAiChat.qualifiesForStrict({ anyOf: [closed] }))
    assert.isTrue(OpenAiChat.qualifiesForStrict({
      type: "object",
      properties: { place: { $ref: "#/$defs/place" } },
      required: ["place"],
      additionalProperties: false,
      $defs: { place: closed }
    }))
    let deep: Record<string, unknown> = closed
    for (let level = 0; level < 11; level++) deep = { type: "object", properties: { x: deep }, required: ["x"], additionalProperties: false }
    assert.isFalse(OpenAiChat.qualifiesForStrict(deep))
  })

  it.effect("OpenAI and Azure get strict: true for a qualifying schema left unset, none for one that does not, an explicit value as it is; bodies valid under their specs", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      const azureSide = yield* start((url) => OpenAiCompatible.azure({ endpoint: url, apiKey: key, defaultModel: "deploy" }))
      for (const each of [provider, azureSide.provider]) {
        yield* each.chat(strictRequest(closed))
        yield* each.chat(strictRequest(open))
        yield* each.chat(strictRequest(closed, false))
        yield* each.chat(strictRequest(open, true))
      }
      for (const [calls, spec] of [[yield* server.calls, openAi], [yield* azureSide.server.calls, azure]] as const) {
        assert.deepStrictEqual(calls.map((call) => strictOf(bodyOf(call))), [
          { tool: true, format: true },
          { tool: undefined, format: undefined },
          { tool: false, format: false },
          { tool: true, format: true }
        ])
        for (const call of calls) assert.deepStrictEqual(spec.validate(call.body), [], JSON.stringify(call.body))
      }
    }))

  it.effect("off where the API has no strict (Foundry tools) or may not know it (any compatible server), and by quirk", () =>
    Effect.gen(function*() {
      const foundry = yield* start((url) => OpenAiCompatible.foundry({ endpoint: `${url}/models`, apiKey: key, defaultModel: "m" }))
      const compatible = yield* start((url) => OpenAiCompatible.compatible({ apiUrl: `${url}/v1`, defaultModel: "m" }))
      const off = yield* setup({}, { chat: { quirks: { strictJsonSchema: false, strictTools: false } } })
      yield* foundry.provider.chat(strictRequest(closed))
      yield* compatible.provider.chat(strictRequest(closed))
      yield* off.provider.chat(strictRequest(closed))
      const [foundryCall] = yield* foundry.server.calls
      assert.deepStrictEqual(strictOf(bodyOf(foundryCall)), { tool: undefined, format: true })
      assert.deepStrictEqual(foundrySpec.validate(foundryCall?.body), [])
      assert.deepStrictEqual(strictOf(bodyOf((yield* compatible.server.calls)[0])), { tool: undefined, format: undefined })
      assert.deepStrictEqual(strictOf(bodyOf((yield* off.server.calls)[0])), { tool: undefined, format: undefined })
    }))
})

describe("Ollama's /v1", () => {
  const image = (url: string): ChatRequest.ChatRequest => ({
    messages: [{ role: "user", content: [{ type: "text", text: "what is it?" }, { type: "image", source: { type: "url", url } }] }]
  })
  const tools = (toolChoice: ChatRequest.ToolChoice): ChatRequest.ChatRequest => ({
    messages: [{ role: "user", content: "weather?" }],
    tools: [{ name: "weather", parameters: closed }],
    toolChoice
  })

  it.effect("an image by URL fails with Unsupported (images) before any request; a data: URL and base64 go out", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* start((url) => OpenAiCompatible.ollama({ apiUrl: `${url}/v1` }))
      for (const call of [provider.chat(image("https://example.com/cat.png")), Stream.runDrain(provider.stream(image("http://x/cat.png")))]) {
        const error = yield* Effect.flip(call as Effect.Effect<unknown, { readonly reason: { readonly _tag: string; readonly field?: string } }>)
        assert.strictEqual(error.reason._tag, "Unsupported")
        assert.strictEqual(error.reason.field, "images")
      }
      assert.strictEqual((yield* server.calls).length, 0)
      yield* provider.chat(image("data:image/png;base64,iVBORw0KGgo="))
      yield* provider.chat({
        messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", mediaType: "image/png", data: "iVBORw0KGgo=" } }] }]
      })
      assert.strictEqual((yield* server.calls).length, 2)
    }))

  it.effect("tool_choice is never sent: none withholds the tools, auto is the default, required and a named tool warn", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* start((url) => OpenAiCompatible.ollama({ apiUrl: `${url}/v1` }))
      const none = yield* withWarnings(provider.chat(tools("none")))
      const auto = yield* withWarnings(provider.chat(tools("auto")))
      const required = yield* withWarnings(provider.chat(tools("required")))
      const named = yield* withWarnings(provider.chat(tools({ type: "tool", name: "weather" })))
      const bodies = (yield* server.calls).map(bodyOf)
      for (const body of bodies) assert.isUndefined(body.tool_choice)
      assert.isUndefined(bodies[0]!.tools)
      for (const body of bodies.slice(1)) assert.isArray(body.tools)
      assert.deepStrictEqual([none.warnings.length, auto.warnings.length], [0, 0])
      for (const { warnings } of [required, named]) {
        assert.strictEqual(warnings.length, 1)
        assert.include(warnings[0]!, "toolChoice")
      }
    }))
})

describe("Azure and Foundry streamed usage", () => {
  it("azureStreamUsage: only the api-versions that take stream_options", () => {
    assert.isFalse(OpenAiCompatible.azureStreamUsage("2024-10-21"))
    assert.isFalse(OpenAiCompatible.azureStreamUsage("2024-06-01"))
    assert.isFalse(OpenAiCompatible.azureStreamUsage("2024-05-01-preview"))
    assert.isTrue(OpenAiCompatible.azureStreamUsage("2024-08-01-preview"))
    assert.isTrue(OpenAiCompatible.azureStreamUsage("2025-04-01-preview"))
    assert.isTrue(OpenAiCompatible.azureStreamUsage("v1"))
  })

  it.effect("Azure asks for usage on a version that offers it (and gets it), never on 2024-10-21", () =>
    Effect.gen(function*() {
      const preview = yield* start((url) =>
        OpenAiCompatible.azure({ endpoint: url, apiKey: key, defaultModel: "deploy", apiVersion: "2024-12-01-preview" })
      )
      const ga = yield* start((url) => OpenAiCompatible.azure({ endpoint: url, apiKey: key, defaultModel: "deploy" }))
      const parts = yield* Stream.runCollect(preview.provider.stream(request()))
      yield* Stream.runDrain(ga.provider.stream(request()))
      assert.deepStrictEqual(bodyOf((yield* preview.server.calls)[0]).stream_options, { include_usage: true })
      assert.isUndefined(bodyOf((yield* ga.server.calls)[0]).stream_options)
      const finish = parts.at(-1)
      assert.isDefined(finish?.type === "finish" ? finish.usage : undefined)
    }))

  it.effect("Foundry sends no stream_options (it rejects them) and its usage chunk after the finish reason still reaches the finish part", () =>
    Effect.gen(function*() {
      const chunk = (body: Record<string, unknown>) => `data: ${JSON.stringify({ id: "c1", object: "chat.completion", created: 1, model: "m", ...body })}\n\n`
      const { provider, server } = yield* start(
        (url) => OpenAiCompatible.foundry({ endpoint: `${url}/models`, apiKey: key, defaultModel: "m" }),
        {
          replies: [MockProviderServer.raw([
            chunk({ choices: [{ index: 0, delta: { role: "assistant", content: "hi" }, finish_reason: null }] }),
            chunk({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
            chunk({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } }),
            "data: [DONE]\n\n"
          ], { headers: { "content-type": "text/event-stream" } })]
        }
      )
      const parts = yield* Stream.runCollect(provider.stream(request()))
      const body = bodyOf((yield* server.calls)[0])
      assert.isUndefined(body.stream_options)
      assert.deepStrictEqual(foundrySpec.validate(body), [])
      const finish = parts.at(-1)
      assert.deepStrictEqual(finish?.type === "finish" ? finish.usage : undefined, { promptTokens: 5, completionTokens: 1, totalTokens: 6 })
    }))
})

describe("Foundry's temperature range", () => {
  it("is 0–1 for the preset and the descriptor alike (the spec's ChatCompletionsOptions.temperature maximum)", () => {
    const preset = OpenAiCompatible.foundry({ endpoint: "https://x.services.ai.azure.com/models", apiKey: key })
    assert.deepStrictEqual(preset.chat.capabilities?.temperature, { min: 0, max: 1 })
    assert.deepStrictEqual(ProviderKind.find(OpenAiKind.kinds, "foundry")?.capabilities.temperature, { min: 0, max: 1 })
  })
})

describe("OpenRouter", () => {
  it("its ChatRequest validator rejects invalid bodies (negative control)", () => {
    assert.isNotEmpty(openRouterSpec.validate({ model: "x", messages: [{ role: "wizard", content: "hi" }] }))
    assert.isNotEmpty(openRouterSpec.validate({ model: "x", messages: [{ role: "user", content: "hi" }], metadata: { a: 1 } }))
    assert.isNotEmpty(openRouterSpec.validate({ model: "x", messages: "hi" }))
    assert.deepStrictEqual(openRouterSpec.validate({ model: "x", messages: [{ role: "user", content: "hi" }] }), [])
  })

  it.effect("every representative request, chat and stream, is valid under OpenRouter's ChatRequest", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* start((url) => OpenAiCompatible.openRouter({ apiUrl: `${url}/api/v1`, apiKey: key, defaultModel: "m" }))
      for (const { request: each } of representative) {
        yield* provider.chat(each)
        yield* Stream.runDrain(provider.stream(each))
      }
      const calls = yield* server.calls
      assert.strictEqual(calls.length, representative.length * 2)
      for (const call of calls) assert.deepStrictEqual(openRouterSpec.validate(call.body), [], JSON.stringify(call.body))
    }))

  it.effect("sends metadata without a warning, and the title as X-OpenRouter-Title and the older X-Title", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* start((url) =>
        OpenAiCompatible.openRouter({ apiUrl: `${url}/api/v1`, apiKey: key, title: "FlexiAI", referer: "https://flexiai.dev" })
      )
      const { warnings } = yield* withWarnings(provider.chat(request("hi", { metadata: { tenant: "acme" } })))
      const [call] = yield* server.calls
      assert.deepStrictEqual(bodyOf(call).metadata, { tenant: "acme" })
      assert.deepStrictEqual(openRouterSpec.validate(call?.body), [])
      assert.deepStrictEqual(warnings, [])
      assert.strictEqual(call?.headers["x-openrouter-title"], "FlexiAI")
      assert.strictEqual(call?.headers["x-title"], "FlexiAI")
      assert.strictEqual(call?.headers["http-referer"], "https://flexiai.dev")
    }))
})

describe("developer and system messages", () => {
  const instructions: ChatRequest.ChatRequest = {
    messages: [
      { role: "developer", content: "answer in French" },
      { role: "system", content: [{ type: "text", text: "be brief" }, { type: "text", text: "no lists" }] },
      { role: "user", content: "hi" }
    ]
  }
  const sentTo = (preset: (url: string) => OpenAiCompatible.Preset) =>
    Effect.gen(function*() {
      const { provider, server } = yield* start(preset)
      yield* provider.chat(instructions)
      return bodyOf((yield* server.calls)[0])
    })

  it.effect("OpenAI and OpenRouter keep developer and text parts; Azure sends system; Foundry, Ollama and compatible servers system with the parts joined; each valid under its spec", () =>
    Effect.gen(function*() {
      const parts = [{ type: "text", text: "be brief" }, { type: "text", text: "no lists" }]
      const { provider, server } = yield* setup({})
      yield* provider.chat(instructions)
      const openAi = bodyOf((yield* server.calls)[0])
      assert.deepStrictEqual(openAi.messages, [
        { role: "developer", content: "answer in French" },
        { role: "system", content: parts },
        { role: "user", content: "hi" }
      ])
      assert.deepStrictEqual(openAiSpec.validate(openAi), [])
      const openRouter = yield* sentTo((url) => OpenAiCompatible.openRouter({ apiUrl: `${url}/api/v1`, apiKey: key }))
      assert.deepStrictEqual(openRouter.messages, openAi.messages)
      assert.deepStrictEqual(openRouterSpec.validate(openRouter), [])
      const azure = yield* sentTo((url) => OpenAiCompatible.azure({ endpoint: url, apiKey: key, defaultModel: "d" }))
      assert.deepStrictEqual((azure.messages as Array<unknown>).slice(0, 2), [
        { role: "system", content: "answer in French" },
        { role: "system", content: parts }
      ])
      assert.deepStrictEqual(azureSpec.validate(azure), [])
      const joined = [{ role: "system", content: "answer in French" }, { role: "system", content: "be brief\nno lists" }]
      const foundry = yield* sentTo((url) => OpenAiCompatible.foundry({ endpoint: `${url}/models`, apiKey: key, defaultModel: "m" }))
      assert.deepStrictEqual((foundry.messages as Array<unknown>).slice(0, 2), joined)
      assert.deepStrictEqual(foundrySpec.validate(foundry), [])
      for (const preset of [
        (url: string) => OpenAiCompatible.ollama({ apiUrl: `${url}/v1` }),
        (url: string) => OpenAiCompatible.compatible({ apiUrl: `${url}/v1`, defaultModel: "m" })
      ]) {
        assert.deepStrictEqual(((yield* sentTo(preset)).messages as Array<unknown>).slice(0, 2), joined)
      }
    }))
})
