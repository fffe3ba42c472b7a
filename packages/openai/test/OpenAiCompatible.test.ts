// The compatible family over real sockets: URLs, auth headers, quirks, and (where the provider
// publishes a spec) the recorded bodies validated against it.
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import * as TokenSource from "@flexiai/provider/TokenSource"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Context, Effect, Layer, Redacted, Stream } from "effect"
import * as OpenAiChat from "../src/OpenAiChat.ts"
import * as OpenAiClient from "../src/OpenAiClient.ts"
import * as OpenAiCompatible from "../src/OpenAiCompatible.ts"
import { build, request } from "./helpers.ts"
import { representative } from "./requests.ts"
import * as SpecValidator from "./specValidator.ts"

const key = Redacted.make("azure-key-0123456789abcdef")

const start = (preset: (url: string) => OpenAiCompatible.Preset, script: MockProviderServer.Script = {}) =>
  Effect.gen(function*() {
    const server = yield* MockProviderServer.make(script)
    const { client, chat } = preset(server.url)
    const built = yield* build(
      OpenAiChat.layer(chat).pipe(
        Layer.provideMerge(OpenAiClient.layer(client)),
        Layer.provide(NodeHttpClient.layerUndici)
      )
    )
    return { server, ...built }
  })

describe("layerAzure", () => {
  const azure = SpecValidator.azureChatRequest()

  it("the Azure validator rejects invalid bodies (negative control)", () => {
    assert.isNotEmpty(azure.validate({ messages: [{ role: "wizard", content: "hi" }] }))
    assert.isNotEmpty(azure.validate({ messages: [] }))
    assert.deepStrictEqual(azure.validate({ messages: [{ role: "user", content: "hi" }] }), [])
  })

  it.effect("deployment URL, api-version, api-key header; bodies valid under the Azure spec", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* start((url) => OpenAiCompatible.azure({ endpoint: url, apiKey: key, defaultModel: "gpt4o-deploy" }))
      assert.strictEqual(provider.name, "azure")
      for (const { request: each } of representative) {
        yield* provider.chat(each)
        yield* Stream.runDrain(provider.stream(each))
      }
      const calls = yield* server.calls
      for (const call of calls) {
        assert.strictEqual(call.path, "/openai/deployments/gpt4o-deploy/chat/completions")
        assert.strictEqual(call.query["api-version"], "2024-10-21")
        assert.strictEqual(call.headers["api-key"], "****cdef")
        assert.isUndefined(call.headers.authorization)
        const body = call.body as Record<string, unknown>
        assert.isUndefined(body.stream_options)
        assert.isUndefined(body.metadata)
        assert.deepStrictEqual(azure.validate(body), [], JSON.stringify(body))
      }
      assert.strictEqual(calls.length, representative.length * 2)
    }))

  it.effect("a bearer token (Entra ID) instead of the key; the real layerAzure provides ChatProvider", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({ replies: [MockProviderServer.text("from azure")] })
      const context = yield* Layer.build(
        OpenAiCompatible.layerAzure({ endpoint: server.url, bearerToken: Redacted.make("entra-token-abcdefghijkl9876") }).pipe(
          Layer.provide(NodeHttpClient.layerUndici)
        )
      )
      const provider = Context.get(context, ChatProvider.ChatProvider)
      const response = yield* provider.chat(request("hi", { model: "my-deploy" }))
      assert.strictEqual(response.text, "from azure")
      const [call] = yield* server.calls
      assert.strictEqual(call?.path, "/openai/deployments/my-deploy/chat/completions")
      assert.strictEqual(call?.headers.authorization, "Bearer ****9876")
      assert.isUndefined(call?.headers["api-key"])
    }))

  it.effect("Entra tokens from a token source: sent as bearer, renewed once on a 401 and the request sent again", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({ replies: [MockProviderServer.unauthorized(), MockProviderServer.text("from azure")] })
      let fetches = 0
      const tokenSource = TokenSource.make(Effect.sync(() => ({ value: Redacted.make(`entra-token-abcdefghijkl000${++fetches}`) })))
      const context = yield* Layer.build(
        OpenAiCompatible.layerAzure({ endpoint: server.url, apiKey: key, tokenSource }).pipe(Layer.provide(NodeHttpClient.layerUndici))
      )
      const provider = Context.get(context, ChatProvider.ChatProvider)
      const response = yield* provider.chat(request("hi", { model: "my-deploy" }))
      assert.strictEqual(response.text, "from azure")
      const calls = yield* server.calls
      assert.deepStrictEqual(calls.map((call) => call.headers.authorization), ["Bearer ****0001", "Bearer ****0002"])
      assert.isUndefined(calls[0]?.headers["api-key"])
      assert.strictEqual(fetches, 2)
    }))

  it.effect("streams complete without usage (no stream_options on 2024-10-21)", () =>
    Effect.gen(function*() {
      const { provider } = yield* start((url) => OpenAiCompatible.azure({ endpoint: url, apiKey: key }))
      const parts = yield* Stream.runCollect(provider.stream(request("hi", { model: "d" })))
      const finish = parts.at(-1)
      assert.strictEqual(finish?.type, "finish")
      assert.isUndefined(finish?.type === "finish" ? finish.usage : "present")
    }))
})

describe("layerFoundry", () => {
  const foundry = SpecValidator.foundryChatRequest()

  it("the Foundry validator rejects invalid bodies (negative control)", () => {
    assert.isNotEmpty(foundry.validate({ messages: [{ role: "wizard", content: "hi" }] }))
    assert.isNotEmpty(foundry.validate({ model: 3, messages: [{ role: "user", content: "hi" }] }))
    assert.deepStrictEqual(foundry.validate({ messages: [{ role: "user", content: "hi" }] }), [])
  })

  it.effect("/models/chat/completions with api-version and max_tokens; bodies valid under the Foundry spec", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* start((url) =>
        OpenAiCompatible.foundry({ endpoint: `${url}/models`, apiKey: key, defaultModel: "DeepSeek-R1" })
      )
      for (const { request: each } of representative) yield* provider.chat(each)
      const calls = yield* server.calls
      for (const call of calls) {
        assert.strictEqual(call.path, "/models/chat/completions")
        assert.strictEqual(call.query["api-version"], "2024-05-01-preview")
        const body = call.body as Record<string, unknown>
        assert.isUndefined(body.user)
        assert.isUndefined(body.max_completion_tokens)
        assert.deepStrictEqual(foundry.validate(body), [], JSON.stringify(body))
      }
      assert.strictEqual((calls[1]?.body as Record<string, unknown>).max_tokens, 64)
      const models = yield* OpenAiClient.listModels.pipe(Effect.provideService(OpenAiClient.OpenAiClient, (yield* start((url) => OpenAiCompatible.foundry({ endpoint: url }))).client))
      assert.deepStrictEqual(models, [])
    }))
})

describe("layerOpenRouter", () => {
  it.effect("/api/v1, bearer, attribution headers, max_tokens, usage in streams", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* start((url) =>
        OpenAiCompatible.openRouter({
          apiUrl: `${url}/api/v1`,
          apiKey: Redacted.make("sk-or-v1-abcdefghijklmnop4321"),
          referer: "https://flexiai.dev",
          title: "FlexiAI",
          defaultModel: "anthropic/claude-sonnet-4"
        })
      )
      yield* provider.chat(request("hi", { maxTokens: 10 }))
      const parts = yield* Stream.runCollect(provider.stream(request()))
      const [call, streamed] = yield* server.calls
      assert.strictEqual(call?.path, "/api/v1/chat/completions")
      assert.strictEqual(call?.headers.authorization, "Bearer ****4321")
      assert.strictEqual(call?.headers["http-referer"], "https://flexiai.dev")
      assert.strictEqual(call?.headers["x-title"], "FlexiAI")
      assert.strictEqual((call?.body as Record<string, unknown>).max_tokens, 10)
      assert.deepStrictEqual((streamed?.body as Record<string, unknown>).stream_options, { include_usage: true })
      const finish = parts.at(-1)
      assert.isDefined(finish?.type === "finish" ? finish.usage : undefined)
      assert.strictEqual(provider.name, "openrouter")
    }))
})

describe("layerOllama and layerCompatible", () => {
  it.effect("Ollama: /v1 with no auth header and its default model", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* start((url) => OpenAiCompatible.ollama({ apiUrl: `${url}/v1` }))
      const response = yield* provider.chat(request("ping"))
      assert.strictEqual(response.text, "echo: ping")
      const [call] = yield* server.calls
      assert.isUndefined(call?.headers.authorization)
      assert.strictEqual((call?.body as Record<string, unknown>).model, "llama3.2")
      assert.strictEqual(provider.name, "ollama")
    }))

  it.effect("any compatible base URL, with its own name in errors; listModels", () =>
    Effect.gen(function*() {
      const { provider, client, server } = yield* start(
        (url) => OpenAiCompatible.compatible({ apiUrl: `${url}/v1`, name: "vllm", apiKey: Redacted.make("vllm-key-0123456789") }),
        { replies: [MockProviderServer.serverError(502)], models: ["qwen", "llama"] }
      )
      const error = yield* Effect.flip(provider.chat(request()))
      assert.strictEqual(error._tag === "ProviderError" ? error.provider : undefined, "vllm")
      const models = yield* client.listModels
      assert.deepStrictEqual(models.map((model) => model.id), ["qwen", "llama"])
      assert.strictEqual((yield* server.calls).at(-1)?.path, "/v1/models")
    }))
})
