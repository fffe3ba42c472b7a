// Model aliases from config, on the wire: each provider declares the names it serves and the id
// it is sent for each; a request's model reaches only the providers that serve it, each with its
// own id in the request body, and a model no provider is configured for fails before any request
// (the case: a typo was sent verbatim to the backup).
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider } from "@flexiai/core"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Effect } from "effect"
import * as FlexiAI from "../src/FlexiAI.ts"

const modelsSent = (server: MockProviderServer.MockProviderServer["Service"]) =>
  Effect.map(server.calls, (calls) =>
    calls.filter((call) => call.path === "/v1/chat/completions").map((call) => (call.body as { readonly model?: unknown }).model))

describe("model aliases (providers[].models)", () => {
  it.live("an alias is sent as each provider's own id; a raw id only to its provider; a typo to none", () =>
    Effect.gen(function*() {
      const primary = yield* MockProviderServer.make({ fallback: MockProviderServer.error(503, { message: "down" }) })
      const backup = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from the backup") })
      const layer = FlexiAI.layer({
        providers: [
          {
            kind: "openai-compatible",
            name: "primary",
            model: "gpt-4o-mini",
            models: { fast: "gpt-4o-mini", smart: "gpt-4o" },
            baseUrl: `${primary.url}/v1`,
            priority: 1,
            retry: { maxRetries: 0 }
          },
          { kind: "openai-compatible", name: "backup", model: "mini-prod", models: { fast: "mini-prod" }, baseUrl: `${backup.url}/v1`, priority: 2 }
        ],
        logging: { level: "none" }
      })
      yield* Effect.gen(function*() {
        const fast = yield* ChatProvider.chat({ model: "fast", messages: [{ role: "user", content: "hi" }] })
        assert.strictEqual(fast.provider, "backup")
        assert.deepStrictEqual(yield* modelsSent(primary), ["gpt-4o-mini"])
        assert.deepStrictEqual(yield* modelsSent(backup), ["mini-prod"])

        // "smart" only the primary serves: it fails, and the backup is not asked for a model it lacks
        const smart = yield* Effect.flip(ChatProvider.chat({ model: "smart", messages: [{ role: "user", content: "hi" }] }))
        assert.strictEqual(smart._tag, "AllProvidersFailed")
        assert.deepStrictEqual(yield* modelsSent(primary), ["gpt-4o-mini", "gpt-4o"])
        assert.deepStrictEqual(yield* modelsSent(backup), ["mini-prod"])

        const typo = yield* Effect.flip(ChatProvider.chat({ model: "gpt-4o-typo", messages: [{ role: "user", content: "hi" }] }))
        assert.strictEqual(typo._tag === "ProviderError" && typo.reason._tag, "NotFound")
        assert.include(typo.message, `no provider serves model "gpt-4o-typo"`)
        assert.deepStrictEqual(yield* modelsSent(primary), ["gpt-4o-mini", "gpt-4o"])
        assert.deepStrictEqual(yield* modelsSent(backup), ["mini-prod"])
      }).pipe(Effect.provide(layer))
    }))
})
