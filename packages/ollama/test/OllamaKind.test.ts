// The ollama-native descriptor: a resolved config entry becomes the provider it describes (host
// with or without scheme, baseUrl winning, keepAlive numbers as seconds, thinkLevel over think, 0
// as unset, an optional bearer), and config decodes its fields and detects it from OLLAMA_HOST.
import { assert, describe, it } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import * as Capabilities from "@flexiai/core/Capabilities"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import * as ProviderKind from "@flexiai/provider/ProviderKind"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Context, Effect, Layer, Redacted } from "effect"
import { OllamaKind } from "../src/index.ts"
import { lastBody, request } from "./helpers.ts"

type Options = Parameters<typeof OllamaKind.ollamaNative.layer>[0]

const entry = (fields: Partial<Options>): Options => ({
  kind: "ollama-native",
  name: "local",
  model: "llama3.2",
  timeouts: {},
  capabilities: Capabilities.merge(OllamaKind.capabilities, undefined),
  ...fields
})

const providerOf = (options: Options) =>
  Effect.map(
    Layer.build(OllamaKind.ollamaNative.layer(options).pipe(Layer.provide(NodeHttpClient.layerUndici))),
    (context) => Context.get(context, ChatProvider.ChatProvider)
  )

describe("ollama-native descriptor", () => {
  it.effect("builds a provider from an entry: options on the wire, 0 as unset, thinkLevel over think", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({})
      const provider = yield* providerOf(entry({ host: server.url.replace("http://", ""), keepAlive: "300", think: false, thinkLevel: "high", numCtx: 0, topK: 40 }))
      assert.strictEqual(provider.name, "local")
      yield* provider.chat(request())
      const body = yield* lastBody(server)
      assert.strictEqual(body?.keep_alive, 300)
      assert.strictEqual(body?.think, "high")
      assert.deepStrictEqual(body?.options, { top_k: 40 })
      assert.strictEqual(body?.model, "llama3.2")
    }))

  it.effect("baseUrl wins over host; apiKey goes as a bearer; keepAlive durations stay text", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({})
      const provider = yield* providerOf(entry({
        host: "http://127.0.0.1:1",
        baseUrl: server.url,
        keepAlive: "5m",
        apiKey: Redacted.make("hosted-ollama-key-000000001234")
      }))
      yield* provider.chat(request())
      const [call] = yield* server.calls
      assert.strictEqual(call?.headers.authorization, "Bearer ****1234")
      assert.strictEqual((call?.body as { keep_alive?: unknown } | undefined)?.keep_alive, "5m")
    }))

  it("is found in a registry by its kind, with its standard variables and detection", () => {
    assert.strictEqual(ProviderKind.find(OllamaKind.kinds, "ollama-native"), OllamaKind.ollamaNative)
    const environment = OllamaKind.ollamaNative.environment
    assert.deepStrictEqual(environment?.fields.map((field) => [field.field, field.variables[0]]), [["host", "OLLAMA_HOST"], ["apiKey", "OLLAMA_API_KEY"]])
    assert.deepStrictEqual(environment?.detection?.requires, ["host"])
    assert.isFalse(OllamaKind.ollamaNative.requiresApiKey)
  })
})
