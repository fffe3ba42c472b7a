// The response cache through FlexiAI.make over MockProviderServers (real HTTP on 127.0.0.1): a
// repeat is answered without a provider call and costs nothing, tenants do not share answers, a
// stream is replayed as the same parts, a cut stream and an error are not kept.
import { FlexiAI } from "../src/index.ts"
import { Effect } from "effect"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import * as RedisServer from "@flexiai/testing/RedisServer"
import { execFileSync } from "node:child_process"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { canary, serverPool } from "./helpers.ts"

let redis: RedisServer.RedisServer
beforeAll(async () => {
  redis = await RedisServer.start()
})
afterAll(async () => {
  await redis?.stop()
})

const redisCli = (...args: ReadonlyArray<string>): string =>
  execFileSync(RedisServer.redisServerPath.replace(/redis-server$/, "redis-cli"), ["-p", String(redis.port), ...args], { encoding: "utf8" })

const { start } = serverPool()

const config = (url: string): FlexiAI.Input => ({
  providers: [{ kind: "openai-compatible", name: "primary", model: "gpt-4o", baseUrl: `${url}/v1`, apiKey: canary }],
  policy: { retry: { maxRetries: 0 } },
  logging: { level: "none" },
  cache: { enabled: true, ttl: "1 minute" }
})

const completions = (server: MockProviderServer.Handle) => server.calls().filter((call) => call.path === "/v1/chat/completions").length

describe("response cache", () => {
  it("a repeat is a hit: no provider call, no cost in the ledger, marked as cached; tenants apart", async () => {
    const server = await start({ fallback: MockProviderServer.text("an answer", { usage: { promptTokens: 10, completionTokens: 2 } }) })
    const client = FlexiAI.make(config(server.url))
    try {
      const request = { messages: [{ role: "user" as const, content: "hi" }] as const, metadata: { tag: "team-a" } }
      const first = await client.chat(request)
      const second = await client.chat(request)
      assert.strictEqual(completions(server), 1)
      assert.strictEqual(second.text, first.text)
      assert.deepStrictEqual(second.providerMetadata?.flexiai, { cache: "hit" })
      assert.strictEqual(second.cost, undefined)
      assert.strictEqual((await client.stats()).usage!.total.requests, 1)
      await client.chat({ ...request, metadata: { tag: "team-b" } })
      assert.strictEqual(completions(server), 2)
      await client.chat({ ...request, temperature: 0.5 })
      assert.strictEqual(completions(server), 3)
    } finally {
      await client.dispose()
    }
  })

  it("a stream is replayed as the same parts; a cut stream is not kept", async () => {
    const server = await start({ fallback: MockProviderServer.text("one two three") })
    const client = FlexiAI.make(config(server.url))
    try {
      const first = []
      for await (const part of client.stream("count")) first.push(part)
      const second = []
      for await (const part of client.stream("count")) second.push(part)
      assert.strictEqual(completions(server), 1)
      assert.deepStrictEqual(second.filter((part) => part.type !== "finish"), first.filter((part) => part.type !== "finish"))
      const finish = second.at(-1)
      assert.strictEqual(finish?.type === "finish" && finish.finishReason, "stop")
    } finally {
      await client.dispose()
    }
    const cut = await start({ fallback: MockProviderServer.cutAfter(2, "one two three four") })
    const cutClient = FlexiAI.make(config(cut.url))
    try {
      for (let round = 0; round < 2; round++) {
        try {
          for await (const _ of cutClient.stream("count")) { /* read */ }
        } catch { /* the cut fails the stream */ }
      }
      assert.strictEqual(completions(cut), 2)
    } finally {
      await cutClient.dispose()
    }
  })

  it("a middleware that adds a system prompt changes the key (the cache is inside middleware.all)", async () => {
    const server = await start({ fallback: MockProviderServer.text("an answer") })
    let prompt = "Be brief."
    const client = FlexiAI.make(config(server.url), {
      middleware: {
        all: [{
          name: "prompt",
          request: (request) => Effect.succeed({ ...request, messages: [{ role: "system", content: prompt }, ...request.messages] })
        }]
      }
    })
    try {
      await client.chat("hi")
      await client.chat("hi")
      assert.strictEqual(completions(server), 1)
      prompt = "Be thorough."
      await client.chat("hi")
      assert.strictEqual(completions(server), 2)
    } finally {
      await client.dispose()
    }
  })

  it("two clients share a Redis cache; its entries hold no key", async () => {
    const server = await start({ fallback: MockProviderServer.text("shared answer") })
    const prefix = `cachetest${process.pid}:`
    const shared = (): FlexiAI.Input => ({
      ...config(server.url),
      redis: { url: redis.url, prefix, storeTimeout: "1 second" },
      cache: { enabled: true, ttl: "1 minute", store: "redis" }
    })
    const one = FlexiAI.make(shared())
    const two = FlexiAI.make(shared())
    try {
      // both connect to Redis in the background: wait until one's answer is a hit on two (real I/O, bounded)
      await one.chat("warm up")
      for (let round = 0; round < 100; round++) {
        if ((await two.chat("warm up")).providerMetadata?.flexiai !== undefined) break
        await one.chat("warm up")
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      const before = completions(server)
      const first = await one.chat("hello")
      const parts = []
      for await (const part of one.stream("hello")) parts.push(part)
      const second = await two.chat("hello")
      const replayed = []
      for await (const part of two.stream("hello")) replayed.push(part)
      assert.strictEqual(completions(server) - before, 2)
      assert.strictEqual(second.text, first.text)
      assert.deepStrictEqual(second.providerMetadata?.flexiai, { cache: "hit" })
      assert.deepStrictEqual(replayed.filter((part) => part.type !== "finish"), parts.filter((part) => part.type !== "finish"))
      const keys = redisCli("--scan", "--pattern", `${prefix}cache:*`).trim().split("\n").filter((key) => key !== "")
      assert.strictEqual(keys.length, 3)
      for (const key of keys) {
        const value = redisCli("GET", key)
        assert.include(value, "answer")
        assert.notInclude(value, canary)
        assert.notInclude(value.toLowerCase(), "authorization")
        assert.isAbove(Number(redisCli("PTTL", key).trim()), 0)
      }
    } finally {
      await one.dispose()
      await two.dispose()
    }
  })
})
