// FlexiAI.layer over an OpenAI-compatible provider, Gemini and Vertex AI, each a MockProviderServer
// on loopback speaking its own wire format: chat failover between the formats, and streams under
// each stream policy (fail, restart, continue, which restarts where the next provider has no
// assistant prefill, as neither Chat Completions nor Gemini has).
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider } from "@flexiai/core"
import type * as StreamPart from "@flexiai/core/StreamPart"
import * as Mock from "@flexiai/testing/MockProviderServer"
import { Effect, Stream } from "effect"
import * as FlexiAI from "../src/FlexiAI.ts"

type Policy = "fail" | "restart" | "continue"
type Server = Mock.MockProviderServer["Service"]

const config = (
  servers: { readonly openai: Server; readonly gemini: Server; readonly vertex?: Server | undefined },
  order: ReadonlyArray<"openai" | "gemini" | "vertex">,
  streamPolicy: Policy = "fail"
): FlexiAI.Input => ({
  providers: order.map((name, index) => {
    const priority = index + 1
    switch (name) {
      case "openai":
        return { kind: "openai-compatible", name, model: "mock-model", baseUrl: `${servers.openai.url}/v1`, priority }
      case "gemini":
        return { kind: "gemini", name, model: "gemini-2.5-flash", baseUrl: `${servers.gemini.url}/v1beta`, apiKey: "AIzaSy-test-key-0123456789", priority }
      case "vertex":
        return {
          kind: "vertex",
          name,
          model: "gemini-2.5-flash",
          project: "p1",
          location: "us-central1",
          baseUrl: `${servers.vertex!.url}/v1`,
          accessToken: "ya29.test-token-0123456789",
          priority
        }
    }
  }),
  policy: { retry: { maxRetries: 0 }, streamPolicy },
  logging: { level: "none" }
})

const textOf = (parts: ReadonlyArray<StreamPart.StreamPart>) =>
  parts.flatMap((part) => part.type === "text-delta" ? [part.text] : []).join("")
const finishOf = (parts: ReadonlyArray<StreamPart.StreamPart>) => parts.at(-1) as StreamPart.Finish
const geminiCalls = (server: Server) => Effect.map(server.calls, (calls) => calls.filter((call) => call.format === "google"))

describe("failover across OpenAI-compatible, Gemini and Vertex AI", () => {
  it.live("chat: OpenAI 503 and Vertex 503 fail over to Gemini; a Gemini 429 fails over to OpenAI", () =>
    Effect.gen(function*() {
      const openai = yield* Mock.make({ replies: [Mock.serverError(503)], fallback: Mock.text("from openai") })
      const vertex = yield* Mock.make({ replies: [Mock.serverError(503)], fallback: Mock.text("from vertex") })
      const gemini = yield* Mock.make({
        replies: [Mock.text("from gemini"), Mock.error(429, { message: "Resource exhausted", type: "RESOURCE_EXHAUSTED" })]
      })
      const first = yield* ChatProvider.chat("hello").pipe(Effect.provide(FlexiAI.layer(config({ openai, gemini, vertex }, ["openai", "vertex", "gemini"]))))
      assert.strictEqual(first.provider, "gemini")
      assert.strictEqual(first.text, "from gemini")
      assert.deepStrictEqual(first.attempts.map((attempt) => [attempt.provider, attempt.reason]), [
        ["openai", "ServerError"],
        ["vertex", "ServerError"],
        ["gemini", undefined]
      ])
      const [vertexCall] = yield* vertex.calls
      assert.strictEqual(vertexCall?.path, "/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent")
      const second = yield* ChatProvider.chat("again").pipe(Effect.provide(FlexiAI.layer(config({ openai, gemini }, ["gemini", "openai"]))))
      assert.strictEqual(second.provider, "openai")
      assert.deepStrictEqual(second.attempts.map((attempt) => [attempt.provider, attempt.reason]), [["gemini", "RateLimited"], ["openai", undefined]])
    }))

  it.live("stream: an error before any content fails over freely (every policy)", () =>
    Effect.gen(function*() {
      for (const policy of ["fail", "restart", "continue"] as const) {
        const openai = yield* Mock.make({ fallback: Mock.text("from openai") })
        const gemini = yield* Mock.make({ replies: [Mock.inBandError({ message: "overloaded", code: 503, type: "UNAVAILABLE" }, { afterChunks: 0 })] })
        const parts = yield* Stream.runCollect(ChatProvider.stream("hi")).pipe(
          Effect.provide(FlexiAI.layer(config({ openai, gemini }, ["gemini", "openai"], policy)))
        )
        assert.strictEqual(textOf(parts), "from openai", policy)
        assert.isFalse(parts.some((part) => part.type === "restart" || part.type === "resume"), policy)
        assert.strictEqual(finishOf(parts).provider, "openai")
      }
    }))

  it.live("stream, policy fail: a Gemini stream cut after content fails with the partial text, no failover", () =>
    Effect.gen(function*() {
      const openai = yield* Mock.make({ fallback: Mock.text("from openai") })
      const gemini = yield* Mock.make({ replies: [Mock.cutAfter(2, "one two three four")] })
      const error = yield* Effect.flip(Stream.runCollect(ChatProvider.stream("hi")).pipe(
        Effect.provide(FlexiAI.layer(config({ openai, gemini }, ["gemini", "openai"], "fail")))
      ))
      const reason = error._tag === "ProviderError" ? error.reason : undefined
      assert.strictEqual(reason?._tag, "StreamInterrupted")
      assert.strictEqual(reason?._tag === "StreamInterrupted" ? reason.partialText : undefined, "one two ")
      assert.strictEqual((yield* openai.calls).length, 0)
    }))

  it.live("stream, policy restart: a Gemini cut restarts on OpenAI, which answers the original question whole", () =>
    Effect.gen(function*() {
      const openai = yield* Mock.make({ fallback: Mock.text("from openai") })
      const gemini = yield* Mock.make({ replies: [Mock.cutAfter(2, "one two three four")] })
      const parts = yield* Stream.runCollect(ChatProvider.stream("hi")).pipe(
        Effect.provide(FlexiAI.layer(config({ openai, gemini }, ["gemini", "openai"], "restart")))
      )
      const restart = parts.findIndex((part) => part.type === "restart")
      assert.isAbove(restart, 0)
      assert.strictEqual(textOf(parts.slice(0, restart)), "one two ")
      assert.strictEqual(textOf(parts.slice(restart + 1)), "from openai")
      assert.strictEqual(finishOf(parts).provider, "openai")
    }))

  it.live("stream, policy restart: an OpenAI cut restarts on Gemini (and the other way round)", () =>
    Effect.gen(function*() {
      const openai = yield* Mock.make({ replies: [Mock.cutAfter(1, "alpha beta gamma")] })
      const gemini = yield* Mock.make({ fallback: Mock.text("from gemini") })
      const parts = yield* Stream.runCollect(ChatProvider.stream("question")).pipe(
        Effect.provide(FlexiAI.layer(config({ openai, gemini }, ["openai", "gemini"], "restart")))
      )
      assert.isTrue(parts.some((part) => part.type === "restart"))
      assert.strictEqual(finishOf(parts).provider, "gemini")
      const [call] = yield* geminiCalls(gemini)
      assert.strictEqual(call?.path, "/v1beta/models/gemini-2.5-flash:streamGenerateContent")
      assert.deepStrictEqual((call!.body as { contents: unknown }).contents, [{ role: "user", parts: [{ text: "question" }] }])
    }))

  it.live("stream, policy continue: Gemini has no assistant prefill, so a cut OpenAI stream restarts there", () =>
    Effect.gen(function*() {
      const openai = yield* Mock.make({ replies: [Mock.cutAfter(2, "one two three four")] })
      const gemini = yield* Mock.make({ fallback: Mock.text("from gemini") })
      const parts = yield* Stream.runCollect(ChatProvider.stream("question")).pipe(
        Effect.provide(FlexiAI.layer(config({ openai, gemini }, ["openai", "gemini"], "continue")))
      )
      assert.isFalse(parts.some((part) => part.type === "resume"))
      const restart = parts.findIndex((part) => part.type === "restart")
      assert.isAbove(restart, 0)
      assert.strictEqual(textOf(parts.slice(restart + 1)), "from gemini")
      // asked the original question, without the partial answer as a model turn
      const [call] = yield* geminiCalls(gemini)
      assert.deepStrictEqual((call!.body as { contents: unknown }).contents, [{ role: "user", parts: [{ text: "question" }] }])
    }))
})
