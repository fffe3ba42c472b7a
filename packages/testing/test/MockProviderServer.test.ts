import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as MockProviderServer from "../src/MockProviderServer.ts"

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  Effect.promise(async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body)
    })
    return { status: response.status, headers: response.headers, text: await response.text() }
  })

const chat = (model: string, stream = false) => ({ model, stream, messages: [{ role: "user", content: "ping pong" }] })

describe("MockProviderServer", () => {
  it.effect("serves per-model queues in order, then the fallback, and records masked calls", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({
        byModel: { a: [MockProviderServer.text("first"), MockProviderServer.serverError(503)] }
      })
      const url = `${server.url}/v1/chat/completions`
      const first = yield* post(url, chat("a"), { authorization: "Bearer sk-secret-abcdefghijkl1234" })
      const second = yield* post(url, chat("a"))
      const third = yield* post(url, chat("a"))
      assert.strictEqual(JSON.parse(first.text).choices[0].message.content, "first")
      assert.strictEqual(second.status, 503)
      assert.strictEqual(JSON.parse(third.text).choices[0].message.content, "echo: ping pong")
      const calls = yield* server.calls
      assert.strictEqual(calls.length, 3)
      assert.strictEqual(calls[0]?.headers.authorization, "Bearer ****1234")
      assert.deepStrictEqual(calls[0]?.body, chat("a"))
    }))

  it.effect("path queues win over model queues; setScript replaces the script", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({
        byPath: { "/openai/deployments/dep/chat/completions": [MockProviderServer.text("azure")] },
        byModel: { dep: [MockProviderServer.text("model")] }
      })
      const azure = yield* post(`${server.url}/openai/deployments/dep/chat/completions?api-version=2024-10-21`, chat("x"))
      assert.strictEqual(JSON.parse(azure.text).choices[0].message.content, "azure")
      const byDeployment = yield* post(`${server.url}/openai/deployments/dep/chat/completions`, chat("x"))
      assert.strictEqual(JSON.parse(byDeployment.text).choices[0].message.content, "model")
      yield* server.setScript({ replies: [MockProviderServer.rateLimited({ retryAfterSeconds: 3 })] })
      const limited = yield* post(`${server.url}/chat/completions`, chat("x"))
      assert.strictEqual(limited.status, 429)
      assert.strictEqual(limited.headers.get("retry-after"), "3")
      assert.strictEqual(JSON.parse(limited.text).error.code, "rate_limit_exceeded")
      assert.strictEqual((yield* server.calls)[0]?.query["api-version"], "2024-10-21")
    }))

  it.effect("streams SSE chunks with finish, usage (when asked) and [DONE]", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({ replies: [MockProviderServer.text("a b")] })
      const response = yield* post(`${server.url}/v1/chat/completions`, {
        ...chat("m", true),
        stream_options: { include_usage: true }
      })
      const events = response.text.split("\n\n").filter((event) => event.length > 0)
      assert.strictEqual(response.headers.get("content-type"), "text/event-stream")
      assert.strictEqual(events.at(-1), "data: [DONE]")
      const payloads = events.slice(0, -1).map((event) => JSON.parse(event.slice("data: ".length)))
      assert.deepStrictEqual(payloads.flatMap((chunk) => chunk.choices.map((choice: any) => choice.delta.content ?? "")).join(""), "a b")
      assert.strictEqual(payloads.at(-2).choices[0].finish_reason, "stop")
      assert.deepStrictEqual(payloads.at(-1).choices, [])
      assert.strictEqual(typeof payloads.at(-1).usage.total_tokens, "number")
    }))

  it.effect("faults: reset before headers, cut mid-stream, malformed event, missing [DONE]", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({
        replies: [
          MockProviderServer.reset(),
          MockProviderServer.cutAfter(2, "one two three"),
          MockProviderServer.malformedEvent("x y", 1),
          MockProviderServer.withoutDone("done?")
        ]
      })
      const url = `${server.url}/v1/chat/completions`
      const reset = yield* Effect.promise(() => fetch(url, { method: "POST", body: JSON.stringify(chat("m")) }).then(() => "ok", () => "failed"))
      assert.strictEqual(reset, "failed")
      const cut = yield* Effect.promise(() =>
        fetch(url, { method: "POST", body: JSON.stringify(chat("m", true)) }).then((response) => response.text()).then(() => "complete", () => "cut")
      )
      assert.strictEqual(cut, "cut")
      const malformed = yield* post(url, chat("m", true))
      assert.include(malformed.text, "data: {not json\n\n")
      const noDone = yield* post(url, chat("m", true))
      assert.notInclude(noDone.text, "[DONE]")
      assert.include(noDone.text, "\"finish_reason\":\"stop\"")
    }))

  it.effect("replays fixtures: .chunks.txt framed as SSE with [DONE], .json as is", () =>
    Effect.gen(function*() {
      const base = new URL("../../../test-data/fixtures/", import.meta.url)
      const chunks = new URL("openai/vercel__openai-text.chunks.txt", base).pathname
      const json = new URL("openai/vercel__openai-text.json", base).pathname
      const server = yield* MockProviderServer.make({
        replies: [MockProviderServer.fixture(chunks), MockProviderServer.fixture(json)]
      })
      const url = `${server.url}/v1/chat/completions`
      const streamed = yield* post(url, chat("m", true))
      const lines = (yield* Effect.promise(() => import("node:fs").then((fs) => fs.readFileSync(chunks, "utf8"))))
        .split("\n").filter((line) => line.trim().length > 0)
      assert.strictEqual(streamed.text, lines.map((line) => `data: ${line}\n\n`).join("") + "data: [DONE]\n\n")
      const whole = yield* post(url, chat("m"))
      assert.strictEqual(JSON.parse(whole.text).model, "gpt-4.1-nano-2025-04-14")
    }))

  it.effect("lists models on GET /v1/models and answers 404 on unknown routes", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({ models: ["m1", "m2"] })
      const list = yield* Effect.promise(() => fetch(`${server.url}/v1/models`).then((response) => response.json()))
      assert.deepStrictEqual((list as any).data.map((model: any) => model.id), ["m1", "m2"])
      const missing = yield* Effect.promise(() => fetch(`${server.url}/nope`).then((response) => response.status))
      assert.strictEqual(missing, 404)
    }))

  it("start() gives a plain Promise handle", async () => {
    const handle = await MockProviderServer.start({ replies: [MockProviderServer.text("plain")] })
    try {
      const response = await fetch(`${handle.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(chat("m")) })
      assert.strictEqual(((await response.json()) as any).choices[0].message.content, "plain")
      assert.strictEqual(handle.calls().length, 1)
    } finally {
      await handle.stop()
    }
  })
})
