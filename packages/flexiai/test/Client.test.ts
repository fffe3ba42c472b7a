// FlexiAI.make from plain async code: promises, for-await streams, typed rejections, dispose.
import { ProviderError } from "@flexiai/core"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { assert, describe, it } from "vitest"
import * as FlexiAI from "../src/FlexiAI.ts"
import { serverPool, twoProviders } from "./helpers.ts"

const { servers, start } = serverPool()

describe("FlexiAI.make", () => {
  it("chat, stream, typed errors and dispose from async code", async () => {
    const primary = await start({ fallback: MockProviderServer.echo({ prefix: "" }) })
    const backup = await start({ fallback: MockProviderServer.text("backup here") })
    const client = FlexiAI.make(twoProviders(primary.url, backup.url))
    try {
      const answer = await client.chat("hi")
      assert.strictEqual(answer.text, "hi")
      assert.strictEqual(answer.provider, "primary")

      let text = ""
      for await (const part of client.stream("streamed words here")) {
        if (part.type === "text-delta") text += part.text
      }
      assert.strictEqual(text, "streamed words here")

      primary.setScript({ fallback: MockProviderServer.serverError(500) })
      backup.setScript({ fallback: MockProviderServer.serverError(502) })
      const error: unknown = await client.chat("fail").then(() => undefined, (cause: unknown) => cause)
      assert.instanceOf(error, ProviderError.AllProvidersFailed) // the error itself, not a wrapper
      assert.strictEqual((error as ProviderError.AllProvidersFailed)._tag, "AllProvidersFailed")

      const status = await client.status()
      assert.strictEqual(status.find((p) => p.name === "backup")?.lastError?.reason, "ServerError")
      await client.resetCircuits()
    } finally {
      await client.dispose()
    }
  })

  it("break in for-await interrupts the stream (no hang on a stalled response)", async () => {
    // the server sends one chunk, then holds the socket open forever
    const server = await start({ fallback: MockProviderServer.stallAfter(1, "one two three four") })
    const client = FlexiAI.make({
      providers: [{ kind: "openai-compatible", model: "mock-model", baseUrl: `${server.url}/v1` }],
      logging: { level: "error" }
    })
    const started = Date.now()
    const parts: Array<string> = []
    for await (const part of client.stream("go")) {
      parts.push(part.type)
      if (part.type === "text-delta") break
    }
    assert.deepStrictEqual(parts, ["text-delta"])
    assert.isBelow(Date.now() - started, 2_000)
    // the interrupted request released its connection: dispose and stopping the server return promptly
    await client.dispose()
    await server.stop()
    servers.length = 0
    assert.isBelow(Date.now() - started, 3_000)
  })

  it("a bad config rejects with the FlexiConfigError itself", async () => {
    // a kind no bundled descriptor declares: a type error in code, so the cast stands for a config built at run time
    const client = FlexiAI.make({ providers: [{ kind: "mistral", model: "mistral-small", apiKey: "sk-x" }] } as unknown as FlexiAI.Input)
    const error: unknown = await client.ready().then(() => undefined, (cause: unknown) => cause)
    assert.strictEqual((error as { _tag?: string })._tag, "FlexiConfigError")
    const chatError: unknown = await client.chat("hi").then(() => undefined, (cause: unknown) => cause)
    assert.strictEqual((chatError as { _tag?: string })._tag, "FlexiConfigError")
    await client.dispose()
  })

  it("reads the environment through `env` (file: false)", async () => {
    const server = await start({ fallback: MockProviderServer.text("env client"), models: ["m1"] })
    const client = FlexiAI.make({
      file: false,
      env: {
        FLEXIAI_PROVIDERS_0_KIND: "openai-compatible",
        FLEXIAI_PROVIDERS_0_MODEL: "mock-model",
        FLEXIAI_PROVIDERS_0_BASE_URL: `${server.url}/v1`,
        FLEXIAI_LOGGING_LEVEL: "error"
      }
    })
    try {
      assert.strictEqual((await client.chat("hi")).text, "env client")
      assert.strictEqual((await client.health()).status, "ok")
      assert.deepStrictEqual((await client.listModels()).models.map((m) => m.id), ["m1"])
    } finally {
      await client.dispose()
    }
  })
})
