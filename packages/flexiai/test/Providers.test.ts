// Providers come from their descriptors: the bundled list decides which kinds are available, the
// descriptor of an entry's kind builds its layer and declares its capabilities, and the router
// skips a provider whose declared limits refuse the request before any call.
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider } from "@flexiai/core"
import * as ProviderKind from "@flexiai/provider/ProviderKind"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import * as TestChatProvider from "@flexiai/testing/TestChatProvider"
import { Context, Effect, Layer, Schema } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import * as FlexiAI from "../src/FlexiAI.ts"
import * as ProviderLayers from "../src/ProviderLayers.ts"
import * as Providers from "../src/Providers.ts"
import { canary } from "./helpers.ts"

const chatCalls = (server: MockProviderServer.MockProviderServer["Service"]) =>
  Effect.map(server.calls, (calls) => calls.filter((call) => call.path.endsWith("/chat/completions")).length)

describe("Providers", () => {
  it("the bundled descriptors are the available kinds, each listed once", () => {
    const kinds = ProviderLayers.availableKinds()
    assert.deepStrictEqual([...kinds].sort(), ["anthropic", "azure-openai", "bedrock", "flow", "foundry", "gemini", "ollama", "ollama-native", "ollama-openai", "openai", "openai-compatible", "openrouter", "vertex"])
    assert.strictEqual(new Set(Providers.bundled.map((descriptor) => descriptor.kind)).size, Providers.bundled.length)
    assert.isFalse(ProviderLayers.isAvailable("mistral"))
    // a registry with one more descriptor knows one more kind
    const echo = ProviderKind.make({
      kind: "echo",
      description: "answers from a script",
      options: Schema.Struct({}),
      requiresApiKey: false,
      secretFields: [],
      capabilities: ChatProvider.allCapabilities,
      listsModels: false,
      layer: (entry) => TestChatProvider.layer({ name: entry.name, script: [{ reply: `echo from ${entry.name}` }] })
    })
    assert.isTrue(ProviderLayers.isAvailable("echo", [...Providers.bundled, echo]))
    assert.isFalse(ProviderLayers.listsModels("foundry"))
    assert.isTrue(ProviderLayers.listsModels("openai"))
  })

  it.effect("the descriptor of the entry's kind builds its layer; the last one registered wins", () =>
    Effect.gen(function*() {
      const replacement = ProviderKind.make({
        kind: "openai",
        description: "a replacement for the bundled openai kind",
        options: Schema.Struct({}),
        requiresApiKey: false,
        secretFields: [],
        capabilities: ChatProvider.allCapabilities,
        listsModels: false,
        layer: (entry) => TestChatProvider.layer({ name: entry.name, script: [{ reply: `scripted ${entry.model}` }] })
      })
      const entry = {
        kind: "openai",
        name: "main",
        model: "gpt-x",
        priority: 1,
        timeouts: {}
      } as unknown as Parameters<typeof ProviderLayers.chatLayer>[0]
      const layer = ProviderLayers.chatLayer(entry, [...Providers.bundled, replacement])!
      const context = yield* Layer.build(Layer.provide(layer, FetchHttpClient.layer))
      const answer = yield* Context.get(context, ChatProvider.ChatProvider).chat({ messages: [{ role: "user", content: "hi" }] })
      assert.strictEqual(answer.text, "scripted gpt-x")
      assert.isUndefined(ProviderLayers.chatLayer({ ...entry, kind: "mistral" } as typeof entry))
    }))

  it.live("Foundry's declared temperature range (0–1) makes the router skip it for a hotter request, with no call", () =>
    Effect.gen(function*() {
      const foundry = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from foundry") })
      const backup = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from the backup") })
      yield* Effect.gen(function*() {
        const hot = yield* ChatProvider.chat({ messages: [{ role: "user", content: "hi" }], temperature: 1.5 })
        assert.strictEqual(hot.provider, "backup")
        assert.strictEqual(hot.attempts[0]?.provider, "azure")
        assert.strictEqual(hot.attempts[0]?.outcome, "skipped")
        assert.strictEqual(yield* chatCalls(foundry), 0)

        const mild = yield* ChatProvider.chat({ messages: [{ role: "user", content: "hi" }], temperature: 0.5 })
        assert.strictEqual(mild.provider, "azure")
        assert.strictEqual(mild.text, "from foundry")
        assert.strictEqual(yield* chatCalls(foundry), 1)
      }).pipe(Effect.provide(FlexiAI.layer({
        providers: [
          { kind: "foundry", name: "azure", model: "DeepSeek-R1", endpoint: `${foundry.url}/models`, apiKey: canary, priority: 1 },
          { kind: "openai-compatible", name: "backup", model: "m", baseUrl: `${backup.url}/v1`, apiKey: canary, priority: 2 }
        ],
        policy: { retry: { maxRetries: 0 } },
        logging: { level: "error" }
      })))
    }))

  it.live("a capability override in config reaches the router: tools off skips the provider for a tool request", () =>
    Effect.gen(function*() {
      const primary = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from the primary") })
      const backup = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from the backup") })
      yield* Effect.gen(function*() {
        const tools = [{ name: "lookup", parameters: { type: "object", properties: {} } }]
        const withTools = yield* ChatProvider.chat({ messages: [{ role: "user", content: "hi" }], tools })
        assert.strictEqual(withTools.provider, "backup")
        assert.strictEqual(withTools.attempts[0]?.outcome, "skipped")
        assert.strictEqual(yield* chatCalls(primary), 0)
        const plain = yield* ChatProvider.chat("hi")
        assert.strictEqual(plain.provider, "primary")
        // the override merged over the kind's defaults: prefill declared by config, the rest kept
        const router = yield* ChatProvider.ChatProvider
        assert.isTrue(router.capabilities.assistantPrefill)
        assert.isTrue(router.capabilities.streaming)
      }).pipe(Effect.provide(FlexiAI.layer({
        providers: [
          {
            kind: "openai-compatible",
            name: "primary",
            model: "m",
            baseUrl: `${primary.url}/v1`,
            priority: 1,
            capabilities: { tools: false, assistantPrefill: true }
          },
          { kind: "openai-compatible", name: "backup", model: "m", baseUrl: `${backup.url}/v1`, priority: 2 }
        ],
        policy: { retry: { maxRetries: 0 } },
        logging: { level: "error" }
      })))
    }))

  it.live("providers send through the HTTP client given in options (default: undici)", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({ fallback: MockProviderServer.text("ok") })
      // the app's own client: Effect's fetch client with a header of its own on every request
      const appClient = Layer.effect(
        HttpClient.HttpClient,
        Effect.map(
          Effect.service(HttpClient.HttpClient),
          (client) => client.pipe(HttpClient.mapRequest(HttpClientRequest.setHeader("x-app-client", "fetch")))
        )
      ).pipe(Layer.provide(FetchHttpClient.layer))
      const config = {
        providers: [{ kind: "openai-compatible" as const, name: "local", model: "m", baseUrl: `${server.url}/v1` }],
        logging: { level: "error" as const }
      }
      yield* ChatProvider.chat("hi").pipe(Effect.provide(FlexiAI.layer(config, { httpClient: appClient })))
      yield* ChatProvider.chat("hi").pipe(Effect.provide(FlexiAI.layer(config)))
      const calls = (yield* server.calls).filter((call) => call.path === "/v1/chat/completions")
      assert.deepStrictEqual(calls.map((call) => call.headers["x-app-client"]), ["fetch", undefined])
    }))
})
