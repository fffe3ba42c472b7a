// Rate limits FlexiAI builds from a config with `redis` and `rateLimit`: two clients (as two
// processes would have) share one requests-per-minute window in Redis, so together they never
// send the limited provider more than its limit, under concurrency; the rest fail over unsent.
import { afterAll, assert, beforeAll, describe, it } from "vitest"
// relative, not "flexiai": flexiai depends on this package
import { FlexiAI } from "../../flexiai/src/index.ts"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import * as RedisServer from "@flexiai/testing/RedisServer"

let server: RedisServer.RedisServer
beforeAll(async () => {
  server = await RedisServer.start()
})
afterAll(async () => {
  await server?.stop()
})

describe("FlexiAI's rate limits over Redis", () => {
  it("two clients together send the limited provider no more than requestsPerMinute", async () => {
    const primary = await MockProviderServer.start({ fallback: MockProviderServer.text("from primary") })
    const backup = await MockProviderServer.start({ fallback: MockProviderServer.text("from backup") })
    const input: FlexiAI.Input = {
      providers: [
        { kind: "openai-compatible", name: "primary", model: "m", baseUrl: `${primary.url}/v1`, apiKey: "sk-test", priority: 1, rateLimit: { requestsPerMinute: 3 } },
        { kind: "openai-compatible", name: "backup", model: "m", baseUrl: `${backup.url}/v1`, apiKey: "sk-test", priority: 2 }
      ],
      redis: { url: server.url, prefix: `flexiratelimit${process.pid}:`, storeTimeout: "1 second" },
      policy: { retry: { maxRetries: 0 } },
      logging: { level: "none" }
    }
    const one = FlexiAI.make(input)
    const two = FlexiAI.make(input)
    try {
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? one : two).chat(`hi ${i}`)))
      const sent = primary.calls().filter((call) => call.path === "/v1/chat/completions").length
      assert.strictEqual(sent, 3)
      assert.strictEqual(answers.filter((answer) => answer.provider === "primary").length, 3)
      assert.strictEqual(answers.filter((answer) => answer.provider === "backup").length, 7)
    } finally {
      await Promise.all([one.dispose(), two.dispose(), primary.stop(), backup.stop()])
    }
  })
})
