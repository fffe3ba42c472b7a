// Failover across two wire formats in one program: FlexiAI.layer with an OpenAI-compatible
// provider and an Anthropic provider, each against its own MockProviderServer on 127.0.0.1 (real
// sockets, real SSE in each format). Chat fails over both ways; a stream cut after content on the
// OpenAI side follows each stream policy, and `continue` really continues on Anthropic from the
// text the OpenAI provider started: the prefill goes out as a trailing assistant message, and the
// consumer's text is the join of both.
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider } from "@flexiai/core"
import type { StreamPart } from "@flexiai/core"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Effect, Redacted, Stream } from "effect"
import * as FlexiAI from "../src/FlexiAI.ts"

type Server = MockProviderServer.MockProviderServer["Service"]

const anthropicKey = "sk-ant-api03-failover-0123456789abcdefghij"

const layer = (
  openai: Server,
  anthropic: Server,
  options: {
    readonly streamPolicy?: "fail" | "restart" | "continue"
    readonly anthropicFirst?: boolean
    readonly anthropicModel?: string
  } = {}
) =>
  FlexiAI.layer({
    providers: [
      { kind: "openai-compatible", name: "openai", model: "gpt-mock", baseUrl: `${openai.url}/v1`, priority: options.anthropicFirst ? 2 : 1 },
      {
        kind: "anthropic",
        name: "claude",
        model: options.anthropicModel ?? "claude-sonnet-4-5",
        baseUrl: anthropic.url,
        apiKey: Redacted.make(anthropicKey),
        priority: options.anthropicFirst ? 1 : 2
      }
    ],
    policy: { retry: { maxRetries: 0 }, streamPolicy: options.streamPolicy ?? "fail" },
    logging: { level: "none" }
  })

const textOf = (parts: ReadonlyArray<StreamPart.StreamPart>) =>
  parts.map((part) => (part.type === "text-delta" ? part.text : "")).join("")

const anthropicBodies = (server: Server) =>
  Effect.map(server.calls, (calls) =>
    calls.filter((call) => call.path === "/v1/messages").map((call) => call.body as { readonly messages: ReadonlyArray<unknown> }))

describe("failover between an OpenAI-compatible provider and Anthropic (FlexiAI.layer)", () => {
  it.live("chat: a failing OpenAI provider fails over to Anthropic", () =>
    Effect.gen(function*() {
      const openai = yield* MockProviderServer.make({ replies: [MockProviderServer.serverError(500)] })
      const anthropic = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from claude") })
      const response = yield* ChatProvider.chat("hello").pipe(Effect.provide(layer(openai, anthropic)))
      assert.strictEqual(response.provider, "claude")
      assert.strictEqual(response.text, "from claude")
      assert.deepStrictEqual(response.attempts.map((attempt) => [attempt.provider, attempt.outcome]), [["openai", "failure"], ["claude", "success"]])
      const [call] = yield* anthropic.calls
      assert.strictEqual(call?.path, "/v1/messages")
      assert.strictEqual(call?.headers["x-api-key"], `****${anthropicKey.slice(-4)}`)
    }))

  it.live("chat: an overloaded Anthropic (529) fails over to the OpenAI provider", () =>
    Effect.gen(function*() {
      const openai = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from openai") })
      const anthropic = yield* MockProviderServer.make({ replies: [MockProviderServer.overloaded(529)] })
      const response = yield* ChatProvider.chat("hello").pipe(Effect.provide(layer(openai, anthropic, { anthropicFirst: true })))
      assert.strictEqual(response.provider, "openai")
      assert.strictEqual(response.attempts[0]?.provider, "claude")
      assert.strictEqual(response.attempts[0]?.reason, "Overloaded")
    }))

  it.live("stream: an error before any content fails over freely, whatever the policy", () =>
    Effect.gen(function*() {
      const openai = yield* MockProviderServer.make({ replies: [MockProviderServer.cutAfter(0)] })
      const anthropic = yield* MockProviderServer.make({ fallback: MockProviderServer.text("whole answer") })
      const parts = yield* Stream.runCollect(ChatProvider.stream("hi")).pipe(Effect.provide(layer(openai, anthropic)))
      assert.strictEqual(textOf(parts), "whole answer")
      assert.isUndefined(parts.find((part) => part.type === "restart" || part.type === "resume"))
      const finish = parts.at(-1)
      assert.strictEqual(finish?.type === "finish" ? finish.provider : undefined, "claude")
    }))

  it.live("stream policy fail: a cut after content is StreamInterrupted with the partial text, Anthropic not called", () =>
    Effect.gen(function*() {
      const openai = yield* MockProviderServer.make({ replies: [MockProviderServer.cutAfter(2, "one two three four")] })
      const anthropic = yield* MockProviderServer.make({ fallback: MockProviderServer.text("never") })
      const error = yield* Effect.flip(Stream.runCollect(ChatProvider.stream("hi")).pipe(Effect.provide(layer(openai, anthropic))))
      const reason = error._tag === "ProviderError" ? error.reason : undefined
      assert.strictEqual(reason?._tag, "StreamInterrupted")
      assert.strictEqual(reason?._tag === "StreamInterrupted" ? reason.partialText : undefined, "one two ")
      assert.lengthOf(yield* anthropicBodies(anthropic), 0)
    }))

  it.live("stream policy restart: a restart part, then Anthropic's complete answer", () =>
    Effect.gen(function*() {
      const openai = yield* MockProviderServer.make({ replies: [MockProviderServer.cutAfter(2, "one two three four")] })
      const anthropic = yield* MockProviderServer.make({ fallback: MockProviderServer.text("a fresh answer") })
      const parts = yield* Stream.runCollect(ChatProvider.stream("hi")).pipe(Effect.provide(layer(openai, anthropic, { streamPolicy: "restart" })))
      const restart = parts.findIndex((part) => part.type === "restart")
      assert.isAtLeast(restart, 0)
      assert.strictEqual(textOf(parts.slice(0, restart)), "one two ")
      assert.strictEqual(textOf(parts.slice(restart + 1)), "a fresh answer")
      const [body] = yield* anthropicBodies(anthropic)
      // no prefill on a restart: the conversation as the caller sent it
      assert.deepStrictEqual(body?.messages, [{ role: "user", content: [{ type: "text", text: "hi" }] }])
    }))

  it.live("stream policy continue: Anthropic continues from the OpenAI provider's text, sent as a trailing assistant prefill", () =>
    Effect.gen(function*() {
      const openai = yield* MockProviderServer.make({ replies: [MockProviderServer.cutAfter(2, "one two three four")] })
      // the continuation repeats the space the prefill's trailing whitespace was cut at, as Claude does
      const anthropic = yield* MockProviderServer.make({ fallback: MockProviderServer.text(" three four") })
      const parts = yield* Stream.runCollect(ChatProvider.stream("count to four")).pipe(
        Effect.provide(layer(openai, anthropic, { streamPolicy: "continue" }))
      )
      const resume = parts.find((part) => part.type === "resume")
      assert.strictEqual(resume?.type === "resume" ? resume.provider : undefined, "claude")
      assert.isUndefined(parts.find((part) => part.type === "restart"))
      assert.strictEqual(textOf(parts), "one two three four")
      const finish = parts.at(-1)
      assert.strictEqual(finish?.type === "finish" ? finish.provider : undefined, "claude")
      const [body] = yield* anthropicBodies(anthropic)
      // Anthropic refuses a prefill ending in whitespace: "one two " goes out as "one two"
      assert.deepStrictEqual(body?.messages, [
        { role: "user", content: [{ type: "text", text: "count to four" }] },
        { role: "assistant", content: [{ type: "text", text: "one two" }] }
      ])
    }))

  it.live("stream policy continue on a model without prefill (Claude 4.6+): restarts instead", () =>
    Effect.gen(function*() {
      const openai = yield* MockProviderServer.make({ replies: [MockProviderServer.cutAfter(2, "one two three four")] })
      const anthropic = yield* MockProviderServer.make({ fallback: MockProviderServer.text("a fresh answer") })
      const parts = yield* Stream.runCollect(ChatProvider.stream("hi")).pipe(
        Effect.provide(layer(openai, anthropic, { streamPolicy: "continue", anthropicModel: "claude-opus-4-6" }))
      )
      assert.isUndefined(parts.find((part) => part.type === "resume"))
      const restart = parts.findIndex((part) => part.type === "restart")
      assert.isAtLeast(restart, 0)
      assert.strictEqual(textOf(parts.slice(restart + 1)), "a fresh answer")
      const [body] = yield* anthropicBodies(anthropic)
      assert.strictEqual(body?.messages.length, 1)
    }))
})
