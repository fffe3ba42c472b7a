// The descriptor and the model-dependent capabilities: which models take an assistant prefill,
// what an entry's layer sends (its own fields become headers and body fields), config overrides.
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import * as ProviderKind from "@flexiai/provider/ProviderKind"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Context, Effect, Layer, Redacted } from "effect"
import * as AnthropicChat from "../src/AnthropicChat.ts"
import { anthropic } from "../src/AnthropicKind.ts"
import { apiKey, type Body, request, setup } from "./helpers.ts"

describe("assistant prefill by model", () => {
  const takes = [
    "claude-3-5-sonnet-20241022",
    "claude-3-7-sonnet-latest",
    "claude-3-haiku-20240307",
    "claude-sonnet-4-20250514",
    "claude-opus-4-0",
    "claude-opus-4-1",
    "claude-opus-4-1-20250805",
    "claude-sonnet-4-5",
    "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5",
    "claude-opus-4-5",
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
  ]
  const refuses = ["claude-opus-4-6", "claude-sonnet-4-6", "claude-opus-4-7", "claude-sonnet-5", "claude-fable-5", "some-proxy-alias", "gpt-4o"]
  for (const model of takes) it(`${model} takes a prefill`, () => assert.isTrue(AnthropicChat.prefillSupported(model)))
  for (const model of refuses) it(`${model} does not`, () => assert.isFalse(AnthropicChat.prefillSupported(model)))

  it("the descriptor's capabilities follow the entry's model; config overrides win", () => {
    assert.isTrue(ProviderKind.capabilitiesOf(anthropic, "claude-sonnet-4-5", undefined).assistantPrefill)
    assert.isFalse(ProviderKind.capabilitiesOf(anthropic, "claude-opus-4-6", undefined).assistantPrefill)
    assert.isTrue(ProviderKind.capabilitiesOf(anthropic, "claude-opus-4-6", { assistantPrefill: true }).assistantPrefill)
    assert.isFalse(ProviderKind.capabilitiesOf(anthropic, "claude-sonnet-4-5", { assistantPrefill: false }).assistantPrefill)
    assert.deepStrictEqual(ProviderKind.capabilitiesOf(anthropic, "claude-sonnet-4-5", undefined).temperature, { min: 0, max: 1 })
  })
})

describe("the descriptor's layer", () => {
  const entryLayer = (url: string, extra: Record<string, unknown>) =>
    anthropic.layer({
      kind: "anthropic",
      name: "claude",
      model: "claude-haiku-4-5",
      baseUrl: url,
      apiKey: Redacted.make(apiKey),
      timeouts: {},
      capabilities: ProviderKind.capabilitiesOf(anthropic, "claude-haiku-4-5", undefined),
      ...extra
    } as Parameters<typeof anthropic.layer>[0])

  it.effect("its own fields: maxTokens, anthropicVersion, betas, cache, thinkingBudget", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({})
      const context = yield* Layer.build(entryLayer(server.url, {
        maxTokens: 500,
        anthropicVersion: "2099-01-01",
        betas: "a-1, b-2",
        cache: { system: true },
        thinkingBudget: 1024
      }).pipe(Layer.provide(NodeHttpClient.layerUndici)))
      const provider = Context.get(context, ChatProvider.ChatProvider)
      assert.strictEqual(provider.name, "claude")
      assert.isFalse(provider.capabilities.assistantPrefill)
      yield* provider.chat({ messages: [{ role: "system", content: "s" }, { role: "user", content: "hi" }] })
      const [call] = yield* server.calls
      assert.strictEqual(call?.headers["anthropic-version"], "2099-01-01")
      assert.strictEqual(call?.headers["anthropic-beta"], "a-1,b-2")
      const body = call?.body as Body
      assert.strictEqual(body.model, "claude-haiku-4-5")
      assert.strictEqual(body.max_tokens, 1524)
      assert.deepStrictEqual(body.thinking, { type: "enabled", budget_tokens: 1024 })
      assert.deepStrictEqual(body.system[0].cache_control, { type: "ephemeral" })
    }))

  it.effect("thinkingBudget 0 is off: no thinking, prefill as the model allows", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({})
      const context = yield* Layer.build(entryLayer(server.url, { thinkingBudget: 0 }).pipe(Layer.provide(NodeHttpClient.layerUndici)))
      const provider = Context.get(context, ChatProvider.ChatProvider)
      assert.isTrue(provider.capabilities.assistantPrefill)
      yield* provider.chat(request())
      const [call] = yield* server.calls
      assert.isUndefined((call!.body as Record<string, unknown>).thinking)
      assert.strictEqual((call!.body as Record<string, unknown>).max_tokens, 4096)
    }))
})

describe("listModels", () => {
  it.effect("GET /v1/models lists the ids", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({ models: ["claude-sonnet-4-5", "claude-haiku-4-5"] })
      const models = yield* provider.listModels!
      assert.deepStrictEqual(models.map((model) => model.id), ["claude-sonnet-4-5", "claude-haiku-4-5"])
      const [call] = yield* server.calls
      assert.strictEqual(call?.path, "/v1/models")
      assert.strictEqual(call?.query["limit"], "1000")
      assert.strictEqual(call?.headers["anthropic-version"], "2023-06-01")
    }))
})
