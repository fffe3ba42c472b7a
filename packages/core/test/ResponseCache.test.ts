// ResponseCache's memory store (TTL under TestClock, LRU eviction), its key (every field and the
// tenant change it), and the middleware: an error is not kept, bypass neither reads nor writes,
// entries hold no secret.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Stream } from "effect"
import { TestClock } from "effect/testing"
import { createHash } from "node:crypto"
import * as ResponseCache from "../src/ResponseCache.ts"
import type { ChatRequest } from "../src/ChatRequest.ts"
import * as ChatProvider from "../src/ChatProvider.ts"
import type * as ChatResponse from "../src/ChatResponse.ts"
import * as Middleware from "../src/Middleware.ts"
import * as ProviderError from "../src/ProviderError.ts"
import type * as RouterEvent from "../src/RouterEvent.ts"
import type * as StreamPart from "../src/StreamPart.ts"

const request: ChatRequest = { messages: [{ role: "user", content: "hi" }] }
const keyOptions = { tagKey: "tag", identity: "chain" }

describe("ResponseCache", () => {
  it.effect("memory store: an entry past its TTL is a miss; the least recently used goes first", () =>
    Effect.gen(function*() {
      const store = ResponseCache.makeMemoryStore(2)
      yield* store.set("a", "1", Duration.seconds(10))
      yield* TestClock.adjust("9 seconds")
      assert.strictEqual(yield* store.get("a"), "1")
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* store.get("a"), undefined)
      yield* store.set("a", "1", Duration.minutes(1))
      yield* store.set("b", "2", Duration.minutes(1))
      yield* store.get("a")
      yield* store.set("c", "3", Duration.minutes(1))
      assert.strictEqual(yield* store.get("b"), undefined)
      assert.strictEqual(yield* store.get("a"), "1")
    }))

  it.effect("the key changes with every field and the tenant, not with other metadata", () =>
    Effect.gen(function*() {
      const base = yield* ResponseCache.key(request, "chat", keyOptions)
      const variants: ReadonlyArray<ChatRequest> = [
        { ...request, model: "m" },
        { ...request, temperature: 1 },
        { ...request, maxTokens: 5 },
        { ...request, topP: 0.5 },
        { ...request, stop: ["x"] },
        { ...request, seed: 1 },
        { ...request, tools: [{ name: "t", parameters: {} }] },
        { ...request, responseFormat: { type: "json_object" } },
        { ...request, user: "u" },
        { ...request, providerOptions: { openai: { prompt_cache_key: "k" } } },
        { ...request, metadata: { tag: "team-b" } },
        { messages: [{ role: "user", content: "hello" }] }
      ]
      for (const variant of variants) assert.notStrictEqual(yield* ResponseCache.key(variant, "chat", keyOptions), base)
      assert.strictEqual(yield* ResponseCache.key({ ...request, metadata: { trace: "x" } }, "chat", keyOptions), base)
      assert.notStrictEqual(yield* ResponseCache.key(request, "stream", keyOptions), base)
      assert.notStrictEqual(yield* ResponseCache.key(request, "chat", { ...keyOptions, identity: "other" }), base)
    }))
})

// ---------------------------------------------------------------------------
// the middleware over a scripted provider
// ---------------------------------------------------------------------------

const secret = "sk-canary-0123456789"

const answerParts: ReadonlyArray<StreamPart.StreamPart> = [
  { type: "text-delta", text: "hel" },
  { type: "text-delta", text: "lo" },
  { type: "finish", finishReason: "stop", provider: "p", model: "m", usage: { promptTokens: 3, completionTokens: 2, totalTokens: 5 } }
]

const scripted = (mode: { fail?: boolean; cut?: boolean } = {}) => {
  const state = { chats: 0, streams: 0 }
  const provider = ChatProvider.ChatProvider.of({
    name: "p",
    defaultModel: "m",
    capabilities: { streaming: true, tools: true, images: true, jsonSchema: true, assistantPrefill: false },
    chat: () =>
      Effect.suspend(() => {
        state.chats++
        return mode.fail
          ? Effect.fail(ProviderError.make("p", new ProviderError.ServerError({ message: "boom", status: 500 })))
          : Effect.succeed({
            id: "r1",
            text: "hello",
            toolCalls: [],
            finishReason: "stop" as const,
            provider: "p",
            model: "m",
            latencyMillis: 1,
            attempts: [],
            cost: { totalUsd: 2, inputUsd: 1, cachedInputUsd: 0, cacheWriteUsd: 0, outputUsd: 1, reasoningUsd: 0, model: "m" }
          } as ChatResponse.ChatResponse)
      }),
    stream: () =>
      Stream.suspend(() => {
        state.streams++
        return mode.cut
          ? Stream.fromIterable(answerParts.slice(0, 2))
          : mode.fail
          ? Stream.concat(Stream.fromIterable(answerParts.slice(0, 1)), Stream.fail(ProviderError.make("p", new ProviderError.Connection({ message: "reset" }))))
          : Stream.fromIterable(answerParts)
      })
  })
  return { state, provider }
}

const setup = (mode: { fail?: boolean; cut?: boolean } = {}) => {
  const { provider, state } = scripted(mode)
  const entries = new Map<string, string>()
  const memory = ResponseCache.makeMemoryStore(100)
  const store: ResponseCache.Store = {
    get: memory.get,
    set: (key, value, ttl) => Effect.andThen(Effect.sync(() => entries.set(key, value)), memory.set(key, value, ttl))
  }
  const events: Array<RouterEvent.RouterEvent> = []
  const cached = Middleware.apply(provider, [
    ResponseCache.middleware({ store, ttl: Duration.minutes(1), identity: "chain", emit: (event) => events.push(event) })
  ])
  return { cached, state, entries, events, memory }
}

const withSecret: ChatRequest = { messages: [{ role: "user", content: "hi" }], providerOptions: { openai: { api_key: secret } } }

describe("ResponseCache.middleware", () => {
  it.effect("a hit: no provider call, no cost, marked, only a cache-hit event; a miss: cache-miss then cache-store", () =>
    Effect.gen(function*() {
      const { cached, events, state } = setup()
      const first = yield* cached.chat(request)
      const second = yield* cached.chat(request)
      assert.strictEqual(state.chats, 1)
      assert.strictEqual(second.text, first.text)
      assert.strictEqual(second.cost, undefined)
      assert.deepStrictEqual(second.attempts, [])
      assert.deepStrictEqual(second.providerMetadata, { flexiai: { cache: "hit" } })
      assert.deepStrictEqual(events.map((event) => event.type), ["cache-miss", "cache-store", "cache-hit"])
    }))

  it.effect("a stream is replayed as the same parts; the finish part marked", () =>
    Effect.gen(function*() {
      const { cached, state } = setup()
      const first = yield* Stream.runCollect(cached.stream(request))
      const second = yield* Stream.runCollect(cached.stream(request))
      assert.strictEqual(state.streams, 1)
      assert.deepStrictEqual(first, answerParts)
      assert.deepStrictEqual(second.slice(0, 2), answerParts.slice(0, 2))
      const finish = second[2]!
      assert.strictEqual(finish.type === "finish" && finish.finishReason, "stop")
      assert.deepStrictEqual(finish.type === "finish" && finish.providerMetadata, { flexiai: { cache: "hit" } })
    }))

  it.effect("an error, a stream without a finish, a failed stream and a stream stopped early are not kept", () =>
    Effect.gen(function*() {
      const failing = setup({ fail: true })
      yield* Effect.flip(failing.cached.chat(request))
      yield* Effect.flip(failing.cached.chat(request))
      assert.strictEqual(failing.state.chats, 2)
      yield* Effect.flip(Stream.runDrain(failing.cached.stream(request)))
      yield* Effect.flip(Stream.runDrain(failing.cached.stream(request)))
      assert.strictEqual(failing.state.streams, 2)
      assert.strictEqual(failing.entries.size, 0)
      const cut = setup({ cut: true })
      yield* Stream.runDrain(cut.cached.stream(request))
      yield* Stream.runDrain(cut.cached.stream(request))
      assert.strictEqual(cut.state.streams, 2)
      const early = setup()
      yield* Stream.runDrain(Stream.take(early.cached.stream(request), 1))
      yield* Stream.runDrain(Stream.take(early.cached.stream(request), 1))
      assert.strictEqual(early.state.streams, 2)
      assert.strictEqual(early.entries.size, 0)
    }))

  it.effect("bypass neither reads nor writes; refresh writes without reading", () =>
    Effect.gen(function*() {
      const { cached, entries, state } = setup()
      yield* ResponseCache.bypass(cached.chat(request))
      assert.strictEqual(entries.size, 0)
      assert.strictEqual(state.chats, 1)
      yield* cached.chat(request) // a miss, kept
      yield* ResponseCache.bypass(cached.chat(request)) // not read
      assert.strictEqual(state.chats, 3)
      yield* cached.chat(request) // a hit
      assert.strictEqual(state.chats, 3)
      yield* ResponseCache.refresh(cached.chat(request)) // not read, kept again
      assert.strictEqual(state.chats, 4)
      yield* cached.chat(request)
      assert.strictEqual(state.chats, 4)
    }))

  it.effect("a corrupt entry is a miss, not a failure", () =>
    Effect.gen(function*() {
      const { cached, memory, state } = setup()
      const cacheKey = yield* ResponseCache.key(request, "chat", keyOptions)
      yield* memory.set(cacheKey, "{not json", Duration.minutes(1))
      const answer = yield* cached.chat(request)
      assert.strictEqual(answer.text, "hello")
      assert.strictEqual(state.chats, 1)
      yield* memory.set(cacheKey, JSON.stringify({ kind: "chat", response: { id: 1 } }), Duration.minutes(1))
      yield* cached.chat(request)
      assert.strictEqual(state.chats, 2)
    }))

  it.effect("canary: entries and events hold no secret from the request", () =>
    Effect.gen(function*() {
      const { cached, entries, events } = setup()
      yield* cached.chat(withSecret)
      yield* Stream.runDrain(cached.stream(withSecret))
      assert.strictEqual(entries.size, 2)
      for (const value of entries.values()) assert.notInclude(value, secret)
      for (const key of entries.keys()) assert.notInclude(key, secret)
      assert.notInclude(JSON.stringify(events), secret)
    }))
})

describe("ResponseCache key hash", () => {
  it.effect("a given SHA-256 gives the same key as Web Crypto's", () =>
    Effect.gen(function*() {
      const options = { tagKey: "tag", identity: "chain" }
      const viaWebCrypto = yield* ResponseCache.key(request, "chat", options)
      const viaNode = yield* ResponseCache.key(request, "chat", { ...options, sha256: (text) => createHash("sha256").update(text).digest("hex") })
      assert.match(viaWebCrypto, /^[0-9a-f]{64}$/)
      assert.strictEqual(viaNode, viaWebCrypto)
    }))
})
