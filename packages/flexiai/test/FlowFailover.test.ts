// Failover through FlexiAI.layer from a Flow model (MockProviderServer in Flow mode: token
// endpoint, model lists, per-upstream routes) to a direct OpenAI-compatible provider on its own
// mock, chat and streams; and the merged model list with Flow's provider:modelId ids.
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider } from "@flexiai/core"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Effect, Stream } from "effect"
import * as FlexiAI from "../src/FlexiAI.ts"

const azureChat = "/azure-openai/openai/deployments/gpt-4o/chat/completions"

const servers = Effect.gen(function*() {
  const gateway = MockProviderServer.makeFlowGateway()
  const flow = yield* MockProviderServer.make({}, { encoders: MockProviderServer.flowEncoders(gateway) })
  const openAi = yield* MockProviderServer.make({ models: ["mock-model", "mock-large"] })
  return { gateway, flow, openAi }
})

const config = (flowUrl: string, openAiUrl: string, gateway: MockProviderServer.FlowGateway): FlexiAI.Input => ({
  providers: [
    {
      kind: "flow",
      name: "flow",
      model: "azure-openai:gpt-4o",
      baseUrl: flowUrl,
      tenant: gateway.tenant,
      clientId: gateway.clientId,
      clientSecret: gateway.clientSecret,
      priority: 1
    },
    { kind: "openai-compatible", name: "openai", model: "mock-model", baseUrl: `${openAiUrl}/v1`, apiKey: "sk-flow-failover-0123456789", priority: 2 }
  ],
  policy: { retry: { maxRetries: 0 } },
  logging: { level: "error" }
})

/** Paths the Flow mock saw, the token endpoint's included. */
const paths = (server: MockProviderServer.MockProviderServer["Service"]) => Effect.map(server.calls, (calls) => calls.map((call) => call.path))

describe("failover from a Flow model to a direct provider", () => {
  it.live("chat: the Flow upstream answers 503 → the OpenAI-compatible provider answers; then Flow again", () =>
    Effect.gen(function*() {
      const { flow, gateway, openAi } = yield* servers
      yield* flow.setScript({ byPath: { [azureChat]: [MockProviderServer.serverError(503)] }, fallback: MockProviderServer.text("from flow") })
      yield* openAi.setScript({ fallback: MockProviderServer.text("from openai") })
      yield* Effect.gen(function*() {
        const first = yield* ChatProvider.chat("hello")
        assert.strictEqual(first.provider, "openai")
        assert.strictEqual(first.text, "from openai")
        assert.deepStrictEqual(first.attempts.map((attempt) => [attempt.provider, attempt.outcome]), [
          ["flow", "failure"],
          ["openai", "success"]
        ])
        assert.strictEqual(first.attempts[0]?.reason, "ServerError")
        // the fault was scripted once and one failure opens no circuit: Flow answers the next call
        const second = yield* ChatProvider.chat("again")
        // the answer names the upstream behind the gateway
        assert.strictEqual(second.provider, "flow/azure-openai")
        assert.strictEqual(second.text, "from flow")
      }).pipe(Effect.provide(FlexiAI.layer(config(flow.url, openAi.url, gateway))))
      // one token, then the Azure OpenAI route twice (the 503 and the answer)
      assert.deepStrictEqual(yield* paths(flow), [MockProviderServer.flowPaths.token, azureChat, azureChat])
      assert.deepStrictEqual((yield* openAi.calls).map((call) => call.path), ["/v1/chat/completions"])
    }))

  it.live("streams: a Flow stream failing before any content (503, then an in-band error) fails over; the direct stream is whole", () =>
    Effect.gen(function*() {
      const { flow, gateway, openAi } = yield* servers
      yield* flow.setScript({
        byPath: { [azureChat]: [MockProviderServer.serverError(503), MockProviderServer.inBandError({ message: "upstream busy", type: "server_error" }, { afterChunks: 0 })] }
      })
      yield* openAi.setScript({ fallback: MockProviderServer.text("openai streams this") })
      const streamed = Effect.map(Stream.runCollect(ChatProvider.stream("hi")), (parts) => {
        const all = Array.from(parts)
        const finish = all.at(-1)
        return {
          text: all.map((part) => (part.type === "text-delta" ? part.text : "")).join(""),
          provider: finish?.type === "finish" ? finish.provider : undefined
        }
      })
      yield* Effect.gen(function*() {
        assert.deepStrictEqual(yield* streamed, { text: "openai streams this", provider: "openai" })
        assert.deepStrictEqual(yield* streamed, { text: "openai streams this", provider: "openai" })
      }).pipe(Effect.provide(FlexiAI.layer(config(flow.url, openAi.url, gateway))))
      assert.deepStrictEqual(yield* paths(flow), [MockProviderServer.flowPaths.token, azureChat, azureChat])
      assert.deepStrictEqual((yield* flow.calls).slice(1).map((call) => call.format), ["flow-azure-openai", "flow-azure-openai"])
      assert.deepStrictEqual((yield* openAi.calls).map((call) => call.path), ["/v1/chat/completions", "/v1/chat/completions"])
    }))
})

describe("FlexiAI.listModels with a Flow provider", () => {
  it.live("lists Flow's provider:modelId ids next to the direct provider's models", () =>
    Effect.gen(function*() {
      const { flow, gateway, openAi } = yield* servers
      const list = yield* FlexiAI.listModels.pipe(Effect.provide(FlexiAI.layer(config(flow.url, openAi.url, gateway))))
      assert.deepStrictEqual(list.models.map((model) => [model.provider, model.id]), [
        ["flow", "azure-openai:gpt-4o"],
        ["flow", "google:gemini-2.5-pro"],
        ["flow", "bedrock:anthropic.claude-sonnet-4"],
        ["flow", "azure-foundry:DeepSeek-R1"],
        ["openai", "mock-model"],
        ["openai", "mock-large"]
      ])
      assert.deepStrictEqual(list.failures, [])
      // the gateway's metadata is kept in the merged list
      const gpt = list.models.find((model) => model.id === "azure-openai:gpt-4o")
      assert.strictEqual(gpt?.contextWindow, 128000)
      assert.deepStrictEqual(gpt?.capabilities, ["chat", "tools"])
      const modelPaths = (yield* paths(flow)).filter((path) => path !== MockProviderServer.flowPaths.token)
      assert.sameMembers(modelPaths, Object.values(MockProviderServer.flowPaths).flatMap((route) => typeof route === "string" ? [] : [route.models]))
      assert.deepStrictEqual((yield* openAi.calls).map((call) => call.path), ["/v1/models"])
    }))
})
