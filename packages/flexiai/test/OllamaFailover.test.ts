// Ollama's native API beside an OpenAI-compatible provider in one FlexiAI.layer: chat fails over
// both ways, and streams do under each stream policy (fail, restart, continue), with the bytes of
// both wire formats (SSE and NDJSON) coming from MockProviderServer on loopback.
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider } from "@flexiai/core"
import type * as StreamPart from "@flexiai/core/StreamPart"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Effect, Stream } from "effect"
import * as FlexiAI from "../src/FlexiAI.ts"

type Server = MockProviderServer.MockProviderServer["Service"]
type Policy = "fail" | "restart" | "continue"

/** `first` is tried first: the native Ollama provider or the OpenAI-compatible one. */
const layer = (ollama: Server, openai: Server, first: "ollama" | "openai", streamPolicy: Policy = "fail") =>
  FlexiAI.layer({
    providers: [
      { kind: "ollama-native", name: "ollama", model: "llama3.2", host: ollama.url.replace("http://", ""), priority: first === "ollama" ? 1 : 2 },
      { kind: "openai-compatible", name: "openai", model: "mock-model", baseUrl: `${openai.url}/v1`, priority: first === "openai" ? 1 : 2 }
    ],
    policy: { retry: { maxRetries: 0 }, streamPolicy },
    logging: { level: "none" }
  })

const text = (parts: ReadonlyArray<StreamPart.StreamPart>) => parts.map((part) => (part.type === "text-delta" ? part.text : "")).join("")
const paths = (server: Server) => Effect.map(server.calls, (calls) => calls.map((call) => call.path))

describe("Ollama native and OpenAI-compatible in one router", () => {
  it.live("chat: a model not pulled on Ollama fails over to the OpenAI-compatible provider", () =>
    Effect.gen(function*() {
      const ollama = yield* MockProviderServer.make({ replies: [MockProviderServer.ollamaNotPulled("llama3.2")] })
      const openai = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from openai") })
      const response = yield* ChatProvider.chat("hi").pipe(Effect.provide(layer(ollama, openai, "ollama")))
      assert.strictEqual(response.provider, "openai")
      assert.strictEqual(response.text, "from openai")
      assert.deepStrictEqual(response.attempts.map((attempt) => [attempt.provider, attempt.reason ?? attempt.outcome]), [
        ["ollama", "NotFound"],
        ["openai", "success"]
      ])
      assert.deepStrictEqual(yield* paths(ollama), ["/api/chat"])
    }))

  it.live("chat: a 503 on the OpenAI-compatible provider fails over to Ollama's /api/chat", () =>
    Effect.gen(function*() {
      const ollama = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from ollama") })
      const openai = yield* MockProviderServer.make({ replies: [MockProviderServer.serverError(503)] })
      const response = yield* ChatProvider.chat("hi").pipe(Effect.provide(layer(ollama, openai, "openai")))
      assert.strictEqual(response.provider, "ollama")
      assert.strictEqual(response.text, "from ollama")
      assert.strictEqual((yield* ollama.calls)[0]?.format, "ollama")
    }))

  it.live("stream: an error line before content fails over from Ollama to OpenAI freely (any policy)", () =>
    Effect.gen(function*() {
      const ollama = yield* MockProviderServer.make({ replies: [MockProviderServer.inBandError({ message: "llama runner process has terminated" })] })
      const openai = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from openai") })
      const parts = yield* Stream.runCollect(ChatProvider.stream("hi")).pipe(Effect.provide(layer(ollama, openai, "ollama")))
      assert.strictEqual(text([...parts]), "from openai")
      assert.isUndefined(parts.find((part) => part.type === "restart"))
    }))

  it.live("stream, policy fail: an Ollama cut after content is StreamInterrupted with the partial text; no failover", () =>
    Effect.gen(function*() {
      const ollama = yield* MockProviderServer.make({ replies: [MockProviderServer.cutAfter(2, "one two three four")] })
      const openai = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from openai") })
      const error = yield* Effect.flip(Stream.runCollect(ChatProvider.stream("hi")).pipe(Effect.provide(layer(ollama, openai, "ollama", "fail"))))
      const reason = error._tag === "ProviderError" ? error.reason : undefined
      assert.strictEqual(reason?._tag, "StreamInterrupted")
      assert.strictEqual(reason?._tag === "StreamInterrupted" ? reason.partialText : undefined, "one two ")
      assert.deepStrictEqual(yield* paths(openai), [])
    }))

  for (const policy of ["restart", "continue"] as const) {
    it.live(`stream, policy ${policy}: an Ollama cut after content restarts on OpenAI (neither takes a prefill)`, () =>
      Effect.gen(function*() {
        const ollama = yield* MockProviderServer.make({ replies: [MockProviderServer.cutAfter(2, "one two three four")] })
        const openai = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from openai") })
        const parts = [...yield* Stream.runCollect(ChatProvider.stream("hi")).pipe(Effect.provide(layer(ollama, openai, "ollama", policy)))]
        const restart = parts.findIndex((part) => part.type === "restart")
        assert.isAbove(restart, 0)
        assert.strictEqual(text(parts.slice(0, restart)), "one two ")
        assert.strictEqual(text(parts.slice(restart + 1)), "from openai")
        const finish = parts.at(-1)
        assert.strictEqual(finish?.type === "finish" ? finish.provider : undefined, "openai")
      }))

    it.live(`stream, policy ${policy}: an OpenAI stream without its finish restarts on Ollama's NDJSON`, () =>
      Effect.gen(function*() {
        const ollama = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from ollama native") })
        const openai = yield* MockProviderServer.make({ replies: [MockProviderServer.cutAfter(1, "half of it")] })
        const parts = [...yield* Stream.runCollect(ChatProvider.stream("hi")).pipe(Effect.provide(layer(ollama, openai, "openai", policy)))]
        const restart = parts.findIndex((part) => part.type === "restart")
        assert.isAbove(restart, 0)
        assert.strictEqual(text(parts.slice(restart + 1)), "from ollama native")
        const finish = parts.at(-1)
        assert.strictEqual(finish?.type === "finish" ? finish.provider : undefined, "ollama")
        assert.strictEqual((yield* ollama.calls)[0]?.path, "/api/chat")
      }))
  }

  it.live("stream, policy fail, reverse: an OpenAI 429 before content streams from Ollama", () =>
    Effect.gen(function*() {
      const ollama = yield* MockProviderServer.make({ fallback: MockProviderServer.text("native answer") })
      const openai = yield* MockProviderServer.make({ replies: [MockProviderServer.rateLimited({ retryAfterSeconds: 30 })] })
      const parts = [...yield* Stream.runCollect(ChatProvider.stream("hi")).pipe(Effect.provide(layer(ollama, openai, "openai", "fail")))]
      assert.strictEqual(text(parts), "native answer")
      const finish = parts.at(-1)
      assert.strictEqual(finish?.type === "finish" ? finish.provider : undefined, "ollama")
    }))
})
