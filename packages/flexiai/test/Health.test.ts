// `health` reflects chats, not only the probe: a provider over a real loopback server whose model
// list answers while every chat fails is reported not ok, first for its failing chats, then for
// its open circuit; it is ok again once its chats succeed.
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider } from "@flexiai/core"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Effect } from "effect"
import * as FlexiAI from "../src/FlexiAI.ts"
import { canary } from "./helpers.ts"

/** `primary` (priority 1) and `backup`, no retries, the default breaker (opens after 5 failures). */
const config = (primaryUrl: string, backupUrl: string): FlexiAI.Input => ({
  providers: [
    { kind: "openai-compatible", name: "primary", model: "mock-model", baseUrl: `${primaryUrl}/v1`, apiKey: canary, priority: 1 },
    { kind: "openai-compatible", name: "backup", model: "mock-model", baseUrl: `${backupUrl}/v1`, apiKey: canary, priority: 2 }
  ],
  policy: { retry: { maxRetries: 0 } },
  logging: { level: "none" }
})

const primaryOf = (report: FlexiAI.HealthReport) => report.providers.find((provider) => provider.name === "primary")

describe("health", () => {
  it.live("a provider whose model list answers but whose chats all fail is not ok", () =>
    Effect.gen(function*() {
      // lists its models, answers every chat with a 500
      const primary = yield* MockProviderServer.make({
        models: ["mock-model"],
        fallback: MockProviderServer.serverError(500)
      })
      const backup = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from the backup") })
      const modelCalls = Effect.map(primary.calls, (calls) => calls.filter((call) => call.path === "/v1/models").length)

      yield* Effect.gen(function*() {
        const flexi = yield* FlexiAI.FlexiAI
        // no chat yet: the probe alone decides
        const before = yield* flexi.health
        // no redis configured: circuits are this process's own
        assert.strictEqual(before.circuitStore, "local")
        assert.strictEqual(before.status, "ok")
        assert.deepStrictEqual(before.providers.map((provider) => [provider.name, provider.ok]), [["primary", true], ["backup", true]])

        for (const prompt of ["one", "two"]) assert.strictEqual((yield* ChatProvider.chat(prompt)).provider, "backup")
        const failing = yield* flexi.health
        const probesSoFar = yield* modelCalls
        assert.strictEqual(probesSoFar, 2) // the model list was asked again, and answered
        assert.strictEqual(failing.status, "degraded")
        assert.strictEqual(primaryOf(failing)?.ok, false)
        assert.strictEqual(primaryOf(failing)?.probe, "listModels")
        assert.strictEqual(primaryOf(failing)?.error?.reason, "ChatsFailing")
        assert.match(primaryOf(failing)?.error?.message ?? "", /^all 2 chats since .* failed; last error: ServerError: /)
        assert.strictEqual(failing.providers[1]?.ok, true)
        // its circuit is still closed (2 of 5 failures): the chats alone made it not ok
        assert.strictEqual((yield* flexi.status)[0]?.circuit, "Closed")

        // no chats since: the verdict stands rather than turning ok for lack of traffic
        assert.strictEqual(primaryOf(yield* flexi.health)?.error?.reason, "ChatsFailing")

        for (const prompt of ["three", "four", "five"]) yield* ChatProvider.chat(prompt)
        assert.strictEqual((yield* flexi.status)[0]?.circuit, "Open")
        const open = yield* flexi.health
        assert.strictEqual(primaryOf(open)?.ok, false)
        assert.strictEqual(primaryOf(open)?.error?.reason, "CircuitOpen")
        assert.match(primaryOf(open)?.error?.message ?? "", /^circuit primary:mock-model is Open; last error: ServerError: /)

        // the provider is fixed and its circuit closed by hand: a chat succeeds, and it is ok again
        yield* primary.setScript({ models: ["mock-model"], fallback: MockProviderServer.text("from the primary") })
        yield* flexi.resetCircuits("primary")
        assert.strictEqual((yield* ChatProvider.chat("six")).provider, "primary")
        const recovered = yield* flexi.health
        assert.strictEqual(recovered.status, "ok")
        assert.strictEqual(primaryOf(recovered)?.ok, true)

        // one failure among successes is not "all failed"
        yield* primary.setScript({
          models: ["mock-model"],
          replies: [MockProviderServer.text("ok"), MockProviderServer.serverError(500)],
          fallback: MockProviderServer.text("from the primary")
        })
        assert.strictEqual((yield* ChatProvider.chat("seven")).provider, "primary")
        assert.strictEqual((yield* ChatProvider.chat("eight")).provider, "backup")
        assert.strictEqual(primaryOf(yield* flexi.health)?.ok, true)
      }).pipe(Effect.provide(FlexiAI.layer(config(primary.url, backup.url), { healthTtl: "0 millis" })))
    }))

  it.live("the probe's own failure is reported before what the chats say", () =>
    Effect.gen(function*() {
      const primary = yield* MockProviderServer.make({ fallback: MockProviderServer.serverError(500) })
      const backup = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from the backup") })
      yield* primary.setScript({ byPath: { "/v1/models": [MockProviderServer.serverError(503)] }, fallback: MockProviderServer.serverError(500) })

      yield* Effect.gen(function*() {
        const flexi = yield* FlexiAI.FlexiAI
        yield* ChatProvider.chat("one")
        const report = yield* flexi.health
        assert.strictEqual(primaryOf(report)?.ok, false)
        assert.strictEqual(primaryOf(report)?.error?.reason, "ServerError") // the probe's, not ChatsFailing
        assert.strictEqual(report.providers[1]?.ok, true)
      }).pipe(Effect.provide(FlexiAI.layer(config(primary.url, backup.url), { healthTtl: "0 millis" })))
    }))
})
