// Flow end to end over loopback: MockProviderServer in Flow mode (token endpoint, per-upstream
// model lists and chat routes on the existing encoders) and the real provider. Token and
// model-list caching run under TestClock (the client's clock; the mock's tokens expire on its own).
import { assert, describe, it } from "@effect/vitest"
import * as Mock from "@flexiai/testing/MockProviderServer"
import { Effect, Stream } from "effect"
import { TestClock } from "effect/testing"
import { reasonOf, request, setup, tokenCalls } from "./helpers.ts"

const ids = ["azure-openai:gpt-4o", "google:gemini-2.5-pro", "bedrock:anthropic.claude-sonnet-4", "azure-foundry:DeepSeek-R1"] as const

describe("Flow provider", () => {
  it.effect("one request per upstream format, chat and stream, with the gateway's headers", () =>
    Effect.gen(function*() {
      const { flow, server } = yield* setup()
      for (const id of ids) {
        const answer = yield* flow.provider.chat(request("ping pong", { model: id }))
        assert.include(answer.text, "ping pong", id)
        const parts = yield* Stream.runCollect(flow.provider.stream(request("stream me", { model: id })))
        const text = parts.map((part) => part.type === "text-delta" ? part.text : "").join("")
        assert.include(text, "stream me", id)
      }
      const chats = (yield* server.calls).filter((call) => call.path !== Mock.flowPaths.token)
      assert.deepStrictEqual(chats.map((call) => call.format), [
        "flow-azure-openai", "flow-azure-openai", "flow-google", "flow-google",
        "flow-bedrock", "flow-bedrock", "flow-azure-foundry", "flow-azure-foundry"
      ])
      assert.deepStrictEqual(chats.map((call) => call.path), [
        "/azure-openai/openai/deployments/gpt-4o/chat/completions",
        "/azure-openai/openai/deployments/gpt-4o/chat/completions",
        "/google/v1beta/models/gemini-2.5-pro:generateContent",
        "/google/v1beta/models/gemini-2.5-pro:streamGenerateContent",
        "/bedrock/model/anthropic.claude-sonnet-4/converse",
        "/bedrock/model/anthropic.claude-sonnet-4/converse-stream",
        "/azure-foundry/models/chat/completions",
        "/azure-foundry/models/chat/completions"
      ])
      for (const call of chats) {
        assert.strictEqual(call.headers["x-flow-tenant"], "acme")
        assert.strictEqual(call.headers["x-flow-app-id"], "agent-7")
        assert.match(call.headers.authorization ?? "", /^Bearer \*\*\*\*/)
      }
      assert.strictEqual(tokenCalls(yield* server.calls).length, 1)
    }))

  it.effect("one token fetch for 100 concurrent first calls; renewed before expiry; one refresh on 401", () =>
    Effect.gen(function*() {
      const { flow, gateway, server } = yield* setup()
      yield* Effect.all(Array.from({ length: 100 }, () => flow.provider.chat(request("hi", { model: ids[0] }))), { concurrency: "unbounded" })
      assert.strictEqual(tokenCalls(yield* server.calls).length, 1)
      assert.strictEqual(gateway.issued.length, 1)
      const form = new URLSearchParams(tokenCalls(yield* server.calls)[0]!.rawBody)
      assert.strictEqual(form.get("grant_type"), "client_credentials")
      assert.strictEqual(form.get("tenant"), "acme")
      assert.strictEqual(form.get("app_id"), "agent-7")

      // within the renewal margin of the hour: a new token before the call goes out
      yield* TestClock.adjust("3550 seconds")
      yield* flow.provider.chat(request("hi", { model: ids[0] }))
      assert.strictEqual(gateway.issued.length, 2)

      // the gateway revokes it: the 401 refreshes once and the call succeeds
      gateway.rejectTokens()
      yield* server.clearCalls
      yield* flow.provider.chat(request("hi", { model: ids[1] }))
      assert.strictEqual(gateway.issued.length, 3)
      assert.deepStrictEqual((yield* server.calls).map((call) => call.path.startsWith("/google") ? "chat" : call.path), ["chat", Mock.flowPaths.token, "chat"])
    }))

  it.effect("a failing token endpoint is a typed error that fails over; an unknown tenant says so", () =>
    Effect.gen(function*() {
      const { flow } = yield* setup({ byPath: { [Mock.flowPaths.token]: [Mock.serverError(503)] } })
      const error = yield* Effect.flip(flow.provider.chat(request("hi", { model: ids[0] })))
      const reason = reasonOf(error)
      assert.isTrue(reason?.failsOver)
      assert.strictEqual(error._tag === "ProviderError" ? error.provider : "", "flow")
      // the next call fetches again and succeeds
      yield* flow.provider.chat(request("hi", { model: ids[0] }))

      const other = yield* setup({}, { tenant: "nobody" })
      const refused = reasonOf(yield* Effect.flip(other.flow.provider.chat(request("hi", { model: ids[0] }))))
      assert.strictEqual(refused?._tag, "Authentication")
      assert.include(refused?.message, "nobody")
    }))

  it.effect("a model not enabled for the tenant is NotFound naming the tenant; a bad id too", () =>
    Effect.gen(function*() {
      const { flow } = yield* setup()
      const reason = reasonOf(yield* Effect.flip(flow.provider.chat(request("hi", { model: "azure-openai:gpt-5-secret" }))))
      assert.strictEqual(reason?._tag, "NotFound")
      assert.include(reason?.message, "\"acme\"")
      const bad = reasonOf(yield* Effect.flip(flow.provider.chat(request("hi", { model: "gpt-4o" }))))
      assert.strictEqual(bad?._tag, "NotFound")
    }))

  it.effect("fails over between its own upstreams, chat and stream (before the first part)", () =>
    Effect.gen(function*() {
      const { flow, server } = yield* setup(
        { byModel: { "gpt-4o": [Mock.serverError(500), Mock.serverError(500)] } },
        { failover: ["azure-foundry:DeepSeek-R1"] }
      )
      const answer = yield* flow.provider.chat(request("over there", { model: ids[0] }))
      assert.include(answer.text, "over there")
      const parts = yield* Stream.runCollect(flow.provider.stream(request("streamed over", { model: ids[0] })))
      assert.isTrue(parts.some((part) => part.type === "text-delta"))
      const formats = (yield* server.calls).map((call) => call.format).filter((format) => format !== "flow-token")
      assert.deepStrictEqual(formats, ["flow-azure-openai", "flow-azure-foundry", "flow-azure-openai", "flow-azure-foundry"])
    }))

  it.effect("model list: provider:modelId with metadata, cached for the TTL, refreshed, served stale while failing", () =>
    Effect.gen(function*() {
      const { flow, gateway, server } = yield* setup({}, { modelsTtl: "5 minutes" })
      const first = yield* flow.models.list
      assert.deepStrictEqual(first.models.map((model) => model.id), [...ids])
      assert.strictEqual(first.models[0]?.contextWindow, 128000)
      assert.isFalse(first.stale)
      const listed = yield* flow.provider.listModels!
      assert.deepStrictEqual(listed.map((model) => model.id), [...ids])
      const modelCalls = () => Effect.map(server.calls, (calls) => calls.filter((call) => call.format?.startsWith("flow-models")).length)
      assert.strictEqual(yield* modelCalls(), 4)

      // within the TTL: no fetch; after it: fetched again, with the gateway's new list
      yield* TestClock.adjust("4 minutes")
      yield* flow.models.list
      assert.strictEqual(yield* modelCalls(), 4)
      gateway.models = { ...gateway.models, google: [...gateway.models.google!, { id: "gemini-2.5-flash" }] }
      yield* TestClock.adjust("2 minutes")
      const second = yield* flow.models.list
      assert.include(second.models.map((model) => model.id), "google:gemini-2.5-flash")
      assert.strictEqual(yield* modelCalls(), 8)

      // a refresh that fails serves the last good list, marked stale
      yield* server.setScript({ byPath: { [Mock.flowPaths.bedrock.models]: [Mock.serverError(502)] } })
      const stale = yield* flow.models.refresh
      assert.isTrue(stale.stale)
      assert.strictEqual(stale.models.length, second.models.length)
      // and the next call tries again (the fault was scripted once)
      const fresh = yield* flow.models.list
      assert.isFalse(fresh.stale)
    }))

  it.effect("a model list that fails with nothing cached is a typed error", () =>
    Effect.gen(function*() {
      const { flow } = yield* setup({ byPath: { [Mock.flowPaths.google.models]: [Mock.serverError(500)] } })
      const error = yield* Effect.flip(flow.models.list)
      assert.strictEqual(error.reason._tag, "ServerError")
    }))
})
