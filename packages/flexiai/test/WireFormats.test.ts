// Every bundled wire format in one program: FlexiAI.layer over an OpenAI-compatible provider,
// Anthropic, Gemini, Bedrock and native Ollama, each against its own MockProviderServer on
// 127.0.0.1 (real sockets; OpenAI and Anthropic SSE, Gemini SSE, AWS event-stream frames, NDJSON).
// A chat fails over down the whole chain, one format at a time; a stream cut after content on one
// format follows each stream policy on the next (`continue` really continuing on Anthropic from the
// text the OpenAI provider started); a stream cut on Bedrock restarts on Ollama.
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider } from "@flexiai/core"
import type { StreamPart } from "@flexiai/core"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Effect, Stream } from "effect"
import * as FlexiAI from "../src/FlexiAI.ts"

type Server = MockProviderServer.MockProviderServer["Service"]
type Name = "openai" | "claude" | "gemini" | "bedrock" | "ollama"

interface Servers {
  readonly openai: Server
  readonly claude: Server
  readonly gemini: Server
  readonly bedrock: Server
  readonly ollama: Server
}

const servers = (scripts: Partial<Record<Name, MockProviderServer.Script>>) =>
  Effect.gen(function*() {
    const make = (name: Name) => MockProviderServer.make(scripts[name] ?? { fallback: MockProviderServer.text(`from ${name}`) })
    return {
      openai: yield* make("openai"),
      claude: yield* make("claude"),
      gemini: yield* make("gemini"),
      bedrock: yield* make("bedrock"),
      ollama: yield* make("ollama")
    } satisfies Servers
  })

/** The chain in `order` (first = priority 1); every provider of every kind, one wire format each. */
const layer = (s: Servers, order: ReadonlyArray<Name>, streamPolicy: "fail" | "restart" | "continue" = "fail") => {
  const priority = (name: Name) => order.indexOf(name) + 1
  const all: NonNullable<FlexiAI.Input["providers"]> = [
      { kind: "openai-compatible", name: "openai", model: "gpt-mock", baseUrl: `${s.openai.url}/v1`, priority: priority("openai") },
      { kind: "anthropic", name: "claude", model: "claude-sonnet-4-5", baseUrl: s.claude.url, apiKey: "sk-ant-formats-0123456789", priority: priority("claude") },
      { kind: "gemini", name: "gemini", model: "gemini-2.5-flash", baseUrl: `${s.gemini.url}/v1beta`, apiKey: "AIza-formats-0123456789", priority: priority("gemini") },
      {
        kind: "bedrock",
        name: "bedrock",
        model: "us.amazon.nova-micro-v1:0",
        baseUrl: s.bedrock.url,
        region: "us-east-1",
        accessKeyId: "AKIAFORMATS0123456789",
        secretAccessKey: "formats-secret-0123456789",
        priority: priority("bedrock")
      },
      { kind: "ollama-native", name: "ollama", model: "llama3.2", host: s.ollama.url, priority: priority("ollama") }
  ]
  return FlexiAI.layer({
    providers: all.filter((provider) => order.includes(provider.name as Name)),
    policy: { retry: { maxRetries: 0 }, streamPolicy },
    logging: { level: "none" }
  })
}

const textOf = (parts: ReadonlyArray<StreamPart.StreamPart>) => parts.map((part) => (part.type === "text-delta" ? part.text : "")).join("")
const outcomes = (attempts: ReadonlyArray<{ readonly provider: string; readonly outcome: string; readonly reason?: string | undefined }>) =>
  attempts.map((attempt) => `${attempt.provider}:${attempt.outcome}${attempt.reason === undefined ? "" : `:${attempt.reason}`}`)
const requestsTo = (server: Server) => Effect.map(server.calls, (calls) => calls.length)

describe("all five wire formats in one program (FlexiAI.layer)", () => {
  it.live("chat fails over down the whole chain, each provider failing in its own format", () =>
    Effect.gen(function*() {
      const s = yield* servers({
        openai: { replies: [MockProviderServer.serverError(503)] },
        claude: { replies: [MockProviderServer.overloaded(529)] },
        gemini: { replies: [MockProviderServer.rateLimited({ retryAfterSeconds: 60 })] },
        bedrock: { replies: [MockProviderServer.serverError(500)] }
      })
      const response = yield* ChatProvider.chat("hello").pipe(Effect.provide(layer(s, ["openai", "claude", "gemini", "bedrock", "ollama"])))
      assert.strictEqual(response.provider, "ollama")
      assert.strictEqual(response.text, "from ollama")
      assert.deepStrictEqual(outcomes(response.attempts), [
        "openai:failure:ServerError",
        "claude:failure:Overloaded",
        "gemini:failure:RateLimited",
        "bedrock:failure:ServerError",
        "ollama:success"
      ])
      // each provider was asked exactly once, on its own route
      for (const server of [s.openai, s.claude, s.gemini, s.bedrock, s.ollama]) assert.strictEqual(yield* requestsTo(server), 1)
      assert.strictEqual((yield* s.claude.calls)[0]?.path, "/v1/messages")
      assert.match((yield* s.gemini.calls)[0]?.path ?? "", /^\/v1beta\/models\/gemini-2\.5-flash:generateContent/)
      assert.match((yield* s.bedrock.calls)[0]?.path ?? "", /^\/model\/us\.amazon\.nova-micro-v1%3A0\/converse$/)
      assert.strictEqual((yield* s.ollama.calls)[0]?.path, "/api/chat")
    }))

  it.live("stream, fail: a cut after content on OpenAI fails with the partial text and tries nobody else", () =>
    Effect.gen(function*() {
      const s = yield* servers({ openai: { replies: [MockProviderServer.cutAfter(2, "one two three four")] } })
      const exit = yield* Stream.runCollect(ChatProvider.stream("hi")).pipe(Effect.provide(layer(s, ["openai", "claude", "gemini"], "fail")), Effect.exit)
      assert.isTrue(exit._tag === "Failure")
      assert.strictEqual(yield* requestsTo(s.claude), 0)
      assert.strictEqual(yield* requestsTo(s.gemini), 0)
    }))

  it.live("stream, restart: a cut on OpenAI restarts on Gemini when Anthropic is down first", () =>
    Effect.gen(function*() {
      const s = yield* servers({
        openai: { replies: [MockProviderServer.cutAfter(2, "one two three four")] },
        claude: { replies: [MockProviderServer.overloaded(529)] },
        gemini: { replies: [MockProviderServer.text("the whole answer from gemini")] }
      })
      const parts = yield* Stream.runCollect(ChatProvider.stream("hi")).pipe(Effect.provide(layer(s, ["openai", "claude", "gemini"], "restart")))
      const restart = parts.findIndex((part) => part.type === "restart")
      assert.isAtLeast(restart, 1)
      assert.strictEqual(textOf(parts.slice(restart)), "the whole answer from gemini")
      const finish = parts.find((part) => part.type === "finish")
      assert.strictEqual(finish?.type === "finish" ? finish.provider : undefined, "gemini")
      assert.deepStrictEqual(outcomes(finish?.type === "finish" ? finish.attempts ?? [] : []), [
        "openai:failure:StreamInterrupted",
        "claude:failure:Overloaded",
        "gemini:success"
      ])
    }))

  it.live("stream, continue: Anthropic continues the text OpenAI started; Gemini (no prefill) is passed over for it", () =>
    Effect.gen(function*() {
      const s = yield* servers({
        openai: { replies: [MockProviderServer.cutAfter(2, "one two three four")] },
        claude: { replies: [MockProviderServer.text(" three four")] }
      })
      // gemini first after openai: it cannot continue, so `continue` restarts on it unless a
      // prefill-capable provider comes next; here Anthropic comes next
      const parts = yield* Stream.runCollect(ChatProvider.stream("hi")).pipe(Effect.provide(layer(s, ["openai", "claude", "gemini"], "continue")))
      assert.isDefined(parts.find((part) => part.type === "resume"))
      assert.isUndefined(parts.find((part) => part.type === "restart"))
      assert.strictEqual(textOf(parts), "one two three four")
      const [call] = yield* s.claude.calls
      const messages = (call?.body as { readonly messages: ReadonlyArray<{ readonly role: string; readonly content: unknown }> }).messages
      assert.strictEqual(messages.at(-1)?.role, "assistant")
      assert.deepStrictEqual(messages.at(-1)?.content, [{ type: "text", text: "one two" }])
      assert.strictEqual(yield* requestsTo(s.gemini), 0)
    }))

  it.live("stream, restart: a cut in Bedrock's event-stream restarts on Ollama's NDJSON", () =>
    Effect.gen(function*() {
      const s = yield* servers({
        bedrock: { replies: [MockProviderServer.cutAfter(2, "one two three four")] },
        ollama: { replies: [MockProviderServer.text("all of it from ollama")] }
      })
      const parts = yield* Stream.runCollect(ChatProvider.stream("hi")).pipe(Effect.provide(layer(s, ["bedrock", "ollama", "openai"], "restart")))
      const restart = parts.findIndex((part) => part.type === "restart")
      assert.strictEqual(textOf(parts.slice(0, restart)), "one two ")
      assert.strictEqual(textOf(parts.slice(restart)), "all of it from ollama")
      assert.strictEqual(yield* requestsTo(s.openai), 0)
    }))
})
