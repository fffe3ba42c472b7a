// Per-provider rate limits through FlexiAI.make over MockProviderServers (real HTTP on 127.0.0.1):
// a request over a limit fails over *without being sent* (the mock's request count proves it), for
// requests, tokens (reservation of estimate + maxTokens) and concurrency, with a `rate-limit`
// event per decision; no `rateLimit` adds no wrapper.
import { FlexiAI } from "../src/index.ts"
import type { RouterEvent } from "@flexiai/core/RouterEvent"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Effect } from "effect"
import { assert, describe, it } from "vitest"
import { canary, serverPool } from "./helpers.ts"

const { start } = serverPool()

interface Limits {
  readonly requestsPerMinute?: number
  readonly tokensPerMinute?: number
  readonly concurrency?: number
  readonly maxWait?: string | number
  readonly outputReserve?: number
  readonly providerHeaders?: boolean
}

const config = (primaryUrl: string, backupUrl: string, rateLimit: Limits): FlexiAI.Input => ({
  providers: [
    { kind: "openai-compatible", name: "primary", model: "gpt-4o", baseUrl: `${primaryUrl}/v1`, apiKey: canary, priority: 1, rateLimit },
    { kind: "openai-compatible", name: "backup", model: "gpt-4o", baseUrl: `${backupUrl}/v1`, apiKey: canary, priority: 2 }
  ],
  policy: { retry: { maxRetries: 0 } },
  logging: { level: "none" }
})

const completions = (server: MockProviderServer.Handle) => server.calls().filter((call) => call.path === "/v1/chat/completions").length

const setup = async (rateLimit: Limits) => {
  const primary = await start({ fallback: MockProviderServer.text("from primary", { usage: { promptTokens: 10, completionTokens: 5 } }) })
  const backup = await start({ fallback: MockProviderServer.text("from backup") })
  const events: Array<RouterEvent> = []
  const client = FlexiAI.make(config(primary.url, backup.url, rateLimit), {
    observers: [(event) => Effect.sync(() => void events.push(event))]
  })
  return { primary, backup, client, events }
}

describe("rate limits", () => {
  it("requestsPerMinute: the request over the limit fails over before it is sent; the provider is then skipped", async () => {
    const { backup, client, events, primary } = await setup({ requestsPerMinute: 1 })
    try {
      assert.strictEqual((await client.chat("one")).text, "from primary")
      const second = await client.chat("two")
      assert.strictEqual(second.provider, "backup")
      assert.strictEqual(second.attempts?.[0]?.reason, "RateLimited")
      const third = await client.chat("three")
      assert.strictEqual(third.provider, "backup")
      // the limited provider saw one request: the others never reached it
      assert.strictEqual(completions(primary), 1)
      assert.strictEqual(completions(backup), 2)
      await new Promise((resolve) => setTimeout(resolve, 50))
      const decisions = events.filter((event) => event.type === "rate-limit")
      assert.strictEqual(decisions.length, 1)
      const decision = decisions[0]!
      assert.isTrue(decision.type === "rate-limit" && decision.decision === "failover" && decision.limit === "requests")
      assert.isTrue(decision.type === "rate-limit" && decision.waitMillis > 0 && decision.waitMillis <= 60_000)
      // in order: the decision, then that attempt's finish, the failover, the skip on the third call
      const order = events.map((event) => event.type === "attempt-skip" ? `skip:${event.reason}` : event.type)
      const at = order.indexOf("rate-limit")
      assert.deepStrictEqual(order.slice(at, at + 3), ["rate-limit", "attempt-finish", "failover"])
      // the decision carries the call's id, like the router's own events around it
      const failover = events[at + 2]!
      assert.isTrue(decision.type === "rate-limit" && failover.type === "failover" && decision.callId === failover.callId)
      assert.include(order.slice(at), "skip:RateLimited")
      assert.notInclude(JSON.stringify(events), canary)
    } finally {
      await client.dispose()
    }
  })

  it("tokensPerMinute: a request reserves its estimate plus maxTokens; one that does not fit fails over unsent", async () => {
    const { backup, client, events, primary } = await setup({ tokensPerMinute: 1000 })
    try {
      // estimate ~8 + 600 reserved: fits
      assert.strictEqual((await client.chat({ messages: [{ role: "user", content: "hi" }], maxTokens: 600 })).provider, "primary")
      // another 608 would be over 1000 in this window
      assert.strictEqual((await client.chat({ messages: [{ role: "user", content: "hi" }], maxTokens: 600 })).provider, "backup")
      assert.strictEqual(completions(primary), 1)
      assert.strictEqual(completions(backup), 1)
      await new Promise((resolve) => setTimeout(resolve, 50))
      const decision = events.find((event) => event.type === "rate-limit")
      assert.isTrue(decision?.type === "rate-limit" && decision.limit === "tokens")
    } finally {
      await client.dispose()
    }
  })

  it("tokensPerMinute: more than a window holds never goes to the provider", async () => {
    const { client, primary } = await setup({ tokensPerMinute: 100, requestsPerMinute: 100 })
    try {
      // no maxTokens: outputReserve (1024) is reserved
      assert.strictEqual((await client.chat("hi")).provider, "backup")
      assert.strictEqual(completions(primary), 0)
    } finally {
      await client.dispose()
    }
  })

  it("concurrency: a call that gets no permit fails over; the permit comes back when the stream ends", async () => {
    const { backup, client, primary } = await setup({ concurrency: 1 })
    try {
      const open = client.stream("long")[Symbol.asyncIterator]()
      const first = await open.next()
      assert.isFalse(first.done)
      assert.strictEqual((await client.chat("while open")).provider, "backup")
      while (!(await open.next()).done) { /* drain */ }
      // the rate-limited skip lasts maxRetryAfter past the refusal; the permit itself is free again
      assert.strictEqual(completions(primary), 1)
      assert.strictEqual(completions(backup), 1)
    } finally {
      await client.dispose()
    }
  })

  it("provider headers reach the limiter on the lean chat path and on streams", async () => {
    const headers = { "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "6m0s" }
    for (const first of ["chat", "stream"] as const) {
      const primary = await start({ fallback: MockProviderServer.text("from primary", { headers }) })
      const backup = await start({ fallback: MockProviderServer.text("from backup") })
      const client = FlexiAI.make(config(primary.url, backup.url, { providerHeaders: true }))
      try {
        if (first === "chat") assert.strictEqual((await client.chat("one")).provider, "primary")
        else for await (const _ of client.stream("one")) { /* drain */ }
        assert.strictEqual((await client.chat("two")).provider, "backup", first)
        assert.strictEqual(completions(primary), 1, first)
      } finally {
        await client.dispose()
      }
    }
  })

  it("a provider without rateLimit is not wrapped", async () => {
    const primary = await start({ fallback: MockProviderServer.text("x") })
    const backup = await start({ fallback: MockProviderServer.text("y") })
    const base = config(primary.url, backup.url, {})
    const client = FlexiAI.make({ ...base, providers: base.providers!.map(({ rateLimit: _, ...entry }) => entry) })
    try {
      for (let i = 0; i < 5; i++) assert.strictEqual((await client.chat("hi")).provider, "primary")
    } finally {
      await client.dispose()
    }
  })
})
