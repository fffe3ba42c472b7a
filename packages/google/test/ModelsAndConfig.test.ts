// listModels (Gemini API: GET /models, the generateContent models, paged) and layerConfig (the
// standard variables GEMINI_API_KEY, then GOOGLE_API_KEY).
import { assert, describe, it } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import * as Loopback from "@flexiai/testing/Loopback"
import * as Mock from "@flexiai/testing/MockProviderServer"
import { ConfigProvider, Effect, Layer } from "effect"
import * as GoogleProvider from "../src/GoogleProvider.ts"
import { build, request, setup, setupVertex } from "./helpers.ts"

describe("listModels", () => {
  it.effect("lists the models that answer generateContent, following nextPageToken", () =>
    Effect.gen(function*() {
      const pages: Array<string> = []
      const server = yield* Loopback.serve((incoming, response) => {
        pages.push(incoming.url ?? "")
        response.writeHead(200, { "content-type": "application/json" })
        response.end(JSON.stringify(
          (incoming.url ?? "").includes("pageToken=next")
            ? { models: [{ name: "models/gemini-2.5-pro", supportedGenerationMethods: ["generateContent"] }] }
            : {
              models: [
                { name: "models/gemini-2.5-flash", supportedGenerationMethods: ["generateContent", "countTokens"] },
                { name: "models/text-embedding-004", supportedGenerationMethods: ["embedContent"] }
              ],
              nextPageToken: "next"
            }
        ))
      })
      const provider = yield* build(GoogleProvider.gemini({ baseUrl: `${server.url}/v1beta` }).pipe(Layer.provide(NodeHttpClient.layerUndici)))
      const models = yield* provider.listModels!
      assert.deepStrictEqual(models.map((model) => model.id), ["gemini-2.5-flash", "gemini-2.5-pro"])
      assert.deepStrictEqual(pages, ["/v1beta/models?pageSize=1000", "/v1beta/models?pageSize=1000&pageToken=next"])
    }).pipe(Effect.scoped))

  it.effect("the mock's model list decodes; Vertex has none", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ models: ["gemini-a", "gemini-b"] })
      assert.deepStrictEqual((yield* provider.listModels!).map((model) => model.id), ["gemini-a", "gemini-b"])
      const vertex = yield* setupVertex({})
      assert.strictEqual(vertex.provider.listModels, undefined)
    }).pipe(Effect.scoped))
})

describe("layerConfig", () => {
  it.effect("reads GEMINI_API_KEY before GOOGLE_API_KEY, and GOOGLE_GEMINI_BASE_URL", () =>
    Effect.gen(function*() {
      const server = yield* Mock.make({})
      for (const [env, expected] of [
        [{ GEMINI_API_KEY: "gemini-key-000000000001", GOOGLE_API_KEY: "google-key-00000000002" }, "****0001"],
        [{ GOOGLE_API_KEY: "google-key-00000000002" }, "****0002"]
      ] as const) {
        const provider = yield* build(
          GoogleProvider.layerConfig({ defaultModel: "gemini-test" }).pipe(
            Layer.provide(NodeHttpClient.layerUndici),
            Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { ...env, GOOGLE_GEMINI_BASE_URL: `${server.url}/v1beta` } }))),
            Layer.orDie
          ) as Layer.Layer<ChatProvider.ChatProvider>
        )
        yield* server.clearCalls
        yield* provider.chat(request())
        assert.strictEqual((yield* server.calls)[0]?.headers["x-goog-api-key"], expected)
      }
    }).pipe(Effect.scoped))
})
