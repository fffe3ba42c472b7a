// The response cache's events through FlexiAI's hub, in order: a miss is `cache-miss`, the
// router's events, then `cache-store`, all under one `callId` (the router takes the cache's id);
// a repeat is `cache-hit` alone, for chat and for a stream.
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider } from "@flexiai/core"
import type { RouterEvent } from "@flexiai/core"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Deferred, Effect, Stream } from "effect"
import * as FlexiAI from "../src/FlexiAI.ts"
import { canary } from "./helpers.ts"

describe("response cache events", () => {
  it.live("miss: cache-miss, the router's call, cache-store under one callId; hit: cache-hit alone", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({ fallback: MockProviderServer.text("an answer") })
      const seen: Array<RouterEvent.RouterEvent> = []
      const hits = { count: 0 }
      const done = yield* Deferred.make<void>()
      const layer = FlexiAI.layer({
        providers: [{ kind: "openai-compatible", name: "primary", model: "gpt-4o", baseUrl: `${server.url}/v1`, apiKey: canary }],
        logging: { level: "none" },
        cache: { enabled: true }
      }, {
        observers: [(event) =>
          Effect.sync(() => seen.push(event)).pipe(
            Effect.andThen(event.type === "cache-hit" && ++hits.count === 2 ? Deferred.succeed(done, undefined) : Effect.void)
          )]
      })
      yield* Effect.gen(function*() {
        yield* ChatProvider.chat("hi")
        yield* ChatProvider.chat("hi")
        yield* Stream.runDrain(ChatProvider.stream("hi"))
        yield* Stream.runDrain(ChatProvider.stream("hi"))
        yield* Deferred.await(done)
      }).pipe(Effect.provide(layer))

      const calls = new Map<string, Array<string>>()
      for (const event of seen) {
        if (!("callId" in event) || event.callId === undefined) continue
        calls.set(event.callId, [...(calls.get(event.callId) ?? []), event.type])
      }
      const router = ["call-start", "attempt-start", "attempt-finish", "call-finish"]
      const orders = [...calls.values()].map((types) => types.filter((type) => type !== "cost"))
      assert.deepStrictEqual(orders, [
        ["cache-miss", ...router, "cache-store"],
        ["cache-hit"],
        ["cache-miss", "call-start", "attempt-start", "first-token", "attempt-finish", "call-finish", "cache-store"],
        ["cache-hit"]
      ])
      // the provider was asked twice: once per operation
      assert.strictEqual((yield* server.calls).filter((call) => call.path === "/v1/chat/completions").length, 2)
      assert.notInclude(JSON.stringify(seen), canary)
    }))
})
