// The response cache through FlexiAI.make over MockProviderServers (real HTTP on 127.0.0.1): a
// repeat is answered without a provider call and costs nothing, tenants do not share answers, a
// stream is replayed as the same parts, a cut stream and an error are not kept.
import { FlexiAI } from "../src/index.ts"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { assert, describe, it } from "vitest"
import { canary, serverPool } from "./helpers.ts"

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
})
