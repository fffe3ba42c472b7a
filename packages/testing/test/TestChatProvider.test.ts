import { assert, describe, it } from "@effect/vitest"
import { ChatProvider, ProviderError } from "@flexiai/core"
import type { ChatRequest, StreamPart } from "@flexiai/core"
import { Cause, Duration, Effect, Exit, Fiber, Ref, Stream } from "effect"
import { TestClock } from "effect/testing"
import { TestChatProvider } from "../src/index.ts"

const ask = (text: string, model?: string): ChatRequest.ChatRequest => ({
  messages: [{ role: "user", content: text }],
  ...(model === undefined ? {} : { model })
})

const isDone = <A, E>(fiber: Fiber.Fiber<A, E>): Effect.Effect<boolean> =>
  Effect.sync(() => fiber.pollUnsafe() !== undefined)

const reasonOf = (error: ProviderError.ChatError): ProviderError.ProviderErrorReason => {
  if (error._tag !== "ProviderError") throw new Error(`expected a ProviderError, got ${error._tag}`)
  return error.reason
}

// Runs a stream in the background, keeping every part it emits, so a test can look between clock moves.
const collectInBackground = Effect.fnUntraced(function*<E>(stream: Stream.Stream<StreamPart.StreamPart, E>) {
  const received = yield* Ref.make<ReadonlyArray<StreamPart.StreamPart>>([])
  const fiber = yield* Effect.forkChild(
    Stream.runForEach(stream, (part) => Ref.update(received, (parts) => [...parts, part]))
  )
  return { fiber, received: Ref.get(received) }
})

const texts = (parts: ReadonlyArray<StreamPart.StreamPart>): ReadonlyArray<string> =>
  parts.flatMap((part) => part.type === "text-delta" ? [part.text] : [])

describe("TestChatProvider", () => {
  it.effect("plays a scripted sequence across calls", () =>
    Effect.gen(function*() {
      const { provider } = yield* TestChatProvider.make({
        name: "primary",
        script: [
          { reply: "first" },
          { fail: TestChatProvider.rateLimited("2 seconds") },
          { reply: "third", model: "model-x" }
        ]
      })
      const first = yield* provider.chat(ask("hi"))
      assert.strictEqual(first.text, "first")
      assert.strictEqual(first.id, "primary-0")
      assert.strictEqual(first.provider, "primary")
      assert.strictEqual(first.model, "test-model")
      assert.strictEqual(first.finishReason, "stop")
      assert.deepStrictEqual(first.usage, { promptTokens: 1, completionTokens: 1, totalTokens: 2 })
      assert.deepStrictEqual(first.attempts, [])

      const error = yield* Effect.flip(provider.chat(ask("hi", "asked-model")))
      assert.strictEqual(error._tag, "ProviderError")
      assert.strictEqual(error._tag === "ProviderError" ? error.provider : undefined, "primary")
      assert.strictEqual(error._tag === "ProviderError" ? error.model : undefined, "asked-model")
      const reason = reasonOf(error)
      assert.strictEqual(reason._tag, "RateLimited")
      assert.deepStrictEqual(reason._tag === "RateLimited" ? reason.retryAfter : undefined, Duration.seconds(2))

      const third = yield* provider.chat(ask("hi", "asked-model"))
      assert.strictEqual(third.text, "third")
      assert.strictEqual(third.id, "primary-2")
      assert.strictEqual(third.model, "model-x")
    }))

  it.effect("asks a function script for each call's step", () =>
    Effect.gen(function*() {
      const { provider } = yield* TestChatProvider.make({
        name: "echo",
        script: ({ index, request }) =>
          index === 1
            ? { fail: TestChatProvider.serverError(503) }
            : { reply: `#${index}: ${String(request.messages[0]?.content)}` }
      })
      assert.strictEqual((yield* provider.chat(ask("ping"))).text, "#0: ping")
      const reason = reasonOf(yield* Effect.flip(provider.chat(ask("ping"))))
      assert.strictEqual(reason._tag === "ServerError" ? reason.status : undefined, 503)
      const parts = yield* Stream.runCollect(provider.stream(ask("pong")))
      assert.deepStrictEqual(texts(parts), ["#2:", " pong"])
    }))

  it.effect("records each call's method, index, request and start time", () =>
    Effect.gen(function*() {
      const { calls, layer } = yield* TestChatProvider.recorded({ name: "primary", script: [{ reply: "ok" }] })
      const run = Effect.gen(function*() {
        const provider = yield* ChatProvider.ChatProvider
        yield* provider.chat(ask("one"))
        yield* TestClock.adjust("3 seconds")
        const stream = provider.stream(ask("two", "m2"))
        // a stream is a call when it runs, not when it is created
        assert.strictEqual((yield* calls).length, 1)
        yield* TestClock.adjust("1 second")
        yield* Stream.runDrain(stream)
      })
      yield* Effect.provide(run, layer)
      assert.deepStrictEqual(yield* calls, [
        { method: "chat", index: 0, request: ask("one"), startedAtMillis: 0 },
        { method: "stream", index: 1, request: ask("two", "m2"), startedAtMillis: 4000 }
      ])
    }))

  it.effect("a delayed reply waits for the clock", () =>
    Effect.gen(function*() {
      const { provider } = yield* TestChatProvider.make({ name: "slow", script: [{ reply: "late", delay: "5 seconds" }] })
      const fiber = yield* Effect.forkChild(provider.chat(ask("hi")))
      yield* TestClock.adjust("4999 millis")
      assert.isFalse(yield* isDone(fiber))
      yield* TestClock.adjust("1 millis")
      const response = yield* Fiber.join(fiber)
      assert.strictEqual(response.text, "late")
      assert.strictEqual(response.latencyMillis, 5000)
    }))

  it.effect("a delayed failure waits for the clock too", () =>
    Effect.gen(function*() {
      const { provider } = yield* TestChatProvider.make({
        name: "slow",
        script: [{ fail: TestChatProvider.overloaded(), delay: "2 seconds" }]
      })
      const fiber = yield* Effect.forkChild(Effect.flip(provider.chat(ask("hi"))))
      yield* TestClock.adjust("1 second")
      assert.isFalse(yield* isDone(fiber))
      yield* TestClock.adjust("1 second")
      assert.strictEqual(reasonOf(yield* Fiber.join(fiber))._tag, "Overloaded")
    }))

  describe("stream", () => {
    it.effect("splits the reply into words and ends with exactly one finish part", () =>
      Effect.gen(function*() {
        const { provider } = yield* TestChatProvider.make({ name: "primary", script: [{ reply: "Hello big  world" }] })
        const parts = yield* Stream.runCollect(provider.stream(ask("say hello")))
        assert.deepStrictEqual(texts(parts), ["Hello", " big", "  world"])
        assert.strictEqual(parts.filter((part) => part.type === "finish").length, 1)
        assert.deepStrictEqual(parts.at(-1), {
          type: "finish",
          finishReason: "stop",
          usage: { promptTokens: 2, completionTokens: 3, totalTokens: 5 },
          provider: "primary",
          model: "test-model"
        })
      }))

    it.effect("uses scripted chunks, finish reason and usage", () =>
      Effect.gen(function*() {
        const usage = { promptTokens: 10, completionTokens: 20, totalTokens: 30 }
        const { provider } = yield* TestChatProvider.make({
          name: "primary",
          script: [{ reply: "abcdef", chunks: ["ab", "cde", "f"], finishReason: "length", usage }]
        })
        const parts = yield* Stream.runCollect(provider.stream(ask("hi")))
        assert.deepStrictEqual(texts(parts), ["ab", "cde", "f"])
        const finish = parts.at(-1)
        assert.strictEqual(finish?.type === "finish" ? finish.finishReason : undefined, "length")
        assert.deepStrictEqual(finish?.type === "finish" ? finish.usage : undefined, usage)
      }))

    it.effect("paces parts with delay and chunkDelay", () =>
      Effect.gen(function*() {
        const { provider } = yield* TestChatProvider.make({
          name: "primary",
          script: [{ reply: "a b c", delay: "1 second", chunkDelay: "100 millis" }]
        })
        const { fiber, received } = yield* collectInBackground(provider.stream(ask("hi")))
        yield* TestClock.adjust("999 millis")
        assert.deepStrictEqual(yield* received, [])
        yield* TestClock.adjust("1 millis")
        assert.deepStrictEqual(texts(yield* received), ["a"])
        yield* TestClock.adjust("100 millis")
        assert.deepStrictEqual(texts(yield* received), ["a", " b"])
        yield* TestClock.adjust("100 millis")
        yield* Fiber.join(fiber)
        assert.deepStrictEqual(texts(yield* received), ["a", " b", " c"])
        assert.strictEqual((yield* received).at(-1)?.type, "finish")
      }))

    it.effect("emits tool calls after the text, then finishes with tool_calls", () =>
      Effect.gen(function*() {
        const toolCall = { id: "call_1", name: "weather", arguments: "{\"city\":\"Oslo\"}" }
        const { provider } = yield* TestChatProvider.make({
          name: "primary",
          script: [{ reply: "Checking", toolCalls: [toolCall] }]
        })
        const parts = yield* Stream.runCollect(provider.stream(ask("weather?")))
        assert.deepStrictEqual(parts.map((part) => part.type), ["text-delta", "tool-call-delta", "tool-call", "finish"])
        assert.deepStrictEqual(parts[1], {
          type: "tool-call-delta",
          index: 0,
          id: "call_1",
          name: "weather",
          argumentsDelta: toolCall.arguments
        })
        assert.deepStrictEqual(parts[2], { type: "tool-call", index: 0, toolCall })
        const finish = parts[3]
        assert.strictEqual(finish?.type === "finish" ? finish.finishReason : undefined, "tool_calls")

        const response = yield* provider.chat(ask("weather?"))
        assert.deepStrictEqual(response.toolCalls, [toolCall])
        assert.strictEqual(response.finishReason, "tool_calls")
      }))

    it.effect("cutAfter emits exactly N text parts, then fails with the reason", () =>
      Effect.gen(function*() {
        const { provider } = yield* TestChatProvider.make({
          name: "flaky",
          script: [
            { reply: "one two three four", cutAfter: 2, cutWith: TestChatProvider.serverError(502) },
            { reply: "one two three", cutAfter: 1 }
          ]
        })
        const { fiber, received } = yield* collectInBackground(provider.stream(ask("count")))
        const exit = yield* Fiber.await(fiber)
        assert.deepStrictEqual(yield* received, [{ type: "text-delta", text: "one" }, {
          type: "text-delta",
          text: " two"
        }])
        assert.isTrue(Exit.isFailure(exit))
        const error = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
        assert.instanceOf(error, ProviderError.ProviderError)
        const reason = error instanceof ProviderError.ProviderError ? error.reason : undefined
        assert.strictEqual(reason?._tag === "ServerError" ? reason.status : undefined, 502)

        // default reason: a Connection cut; chat fails with it
        const chatError = reasonOf(yield* Effect.flip(provider.chat(ask("count"))))
        assert.strictEqual(chatError._tag, "Connection")
        assert.strictEqual(chatError.message, "stream cut")
      }))

    it.effect("streams scripted reasoning before the text, the last delta signed; chat returns it as one block", () =>
      Effect.gen(function*() {
        const { provider } = yield* TestChatProvider.make({
          name: "thinker",
          script: [{ reply: "yes", reasoning: ["let me ", "think"], reasoningSignature: "sig-1" }]
        })
        const parts = [...yield* Stream.runCollect(provider.stream(ask("well?")))]
        assert.deepStrictEqual(parts.slice(0, 3), [
          { type: "reasoning-delta", text: "let me " },
          { type: "reasoning-delta", text: "think", signature: "sig-1" },
          { type: "text-delta", text: "yes" }
        ])
        assert.strictEqual(parts.at(-1)?.type, "finish")
        const response = yield* provider.chat(ask("well?"))
        assert.deepStrictEqual(response.reasoning, [{ text: "let me think", signature: "sig-1" }])
        assert.strictEqual(response.text, "yes")
        // no reasoning scripted: no reasoning key at all
        const plain = yield* TestChatProvider.make({ name: "plain", script: [{ reply: "yes" }] })
        assert.isFalse("reasoning" in (yield* plain.provider.chat(ask("well?"))))
      }))

    it.effect("cutAfter counts reasoning chunks first, then text", () =>
      Effect.gen(function*() {
        const { provider } = yield* TestChatProvider.make({
          name: "flaky",
          script: [{ reply: "one two", reasoning: ["a", "b"], cutAfter: 3 }]
        })
        const { fiber, received } = yield* collectInBackground(provider.stream(ask("count")))
        const exit = yield* Fiber.await(fiber)
        assert.isTrue(Exit.isFailure(exit))
        assert.deepStrictEqual(yield* received, [
          { type: "reasoning-delta", text: "a" },
          { type: "reasoning-delta", text: "b" },
          { type: "text-delta", text: "one" }
        ])
      }))

    it.effect("stallAfter emits N parts then never completes until interrupted", () =>
      Effect.gen(function*() {
        const { provider } = yield* TestChatProvider.make({
          name: "stuck",
          script: [{ reply: "one two three", stallAfter: 1, chunkDelay: "1 second" }]
        })
        const { fiber, received } = yield* collectInBackground(provider.stream(ask("go")))
        yield* TestClock.adjust("1 hour")
        assert.deepStrictEqual(texts(yield* received), ["one"])
        assert.isFalse(yield* isDone(fiber))
        yield* Fiber.interrupt(fiber)
        const exit = fiber.pollUnsafe()
        assert.isTrue(exit !== undefined && Exit.hasInterrupts(exit))

        // the router's idle timeout is what ends it
        const timedOut = yield* Effect.forkChild(
          provider.stream(ask("go")).pipe(Stream.timeout("30 seconds"), Stream.runCollect)
        )
        yield* TestClock.adjust("30 seconds")
        assert.isFalse(yield* isDone(timedOut))
        yield* TestClock.adjust("31 seconds")
        assert.deepStrictEqual(texts(yield* Fiber.join(timedOut)), ["one"])
      }))

    it.effect("errorBeforeContent and fail end the stream before any part", () =>
      Effect.gen(function*() {
        const { provider } = yield* TestChatProvider.make({
          name: "broken",
          script: [
            { reply: "never seen", errorBeforeContent: TestChatProvider.overloaded(), delay: "1 second" },
            { fail: TestChatProvider.authentication() }
          ]
        })
        const first = yield* collectInBackground(provider.stream(ask("hi")))
        yield* TestClock.adjust("1 second")
        const firstExit = yield* Fiber.await(first.fiber)
        assert.deepStrictEqual(yield* first.received, [])
        assert.isTrue(Exit.isFailure(firstExit))

        const error = yield* Effect.flip(Stream.runCollect(provider.stream(ask("hi"))))
        assert.strictEqual(reasonOf(error)._tag, "Authentication")
      }))
  })

  it.effect("hang never answers, for chat and stream", () =>
    Effect.gen(function*() {
      const { provider } = yield* TestChatProvider.make({ name: "silent", script: [{ hang: true }] })
      const chat = yield* Effect.forkChild(provider.chat(ask("hi")))
      const stream = yield* collectInBackground(provider.stream(ask("hi")))
      yield* TestClock.adjust("1 day")
      assert.isFalse(yield* isDone(chat))
      assert.isFalse(yield* isDone(stream.fiber))
      assert.deepStrictEqual(yield* stream.received, [])

      const timedOut = yield* Effect.forkChild(Effect.flip(Effect.timeout(provider.chat(ask("hi")), "10 seconds")))
      yield* TestClock.adjust("10 seconds")
      assert.isTrue(Cause.isTimeoutError(yield* Fiber.join(timedOut)))
    }))

  describe("exhausted script", () => {
    it.effect("repeats the last step by default", () =>
      Effect.gen(function*() {
        const { provider } = yield* TestChatProvider.make({ name: "p", script: [{ reply: "a" }, { reply: "b" }] })
        const answers = yield* Effect.forEach([1, 2, 3, 4], () => provider.chat(ask("hi")))
        assert.deepStrictEqual(answers.map((answer) => answer.text), ["a", "b", "b", "b"])
      }))

    it.effect("dies on an extra call with whenExhausted: fail", () =>
      Effect.gen(function*() {
        const { provider } = yield* TestChatProvider.make({
          name: "p",
          script: [{ reply: "a" }],
          whenExhausted: "fail"
        })
        assert.strictEqual((yield* provider.chat(ask("hi"))).text, "a")
        const exit = yield* Effect.exit(provider.chat(ask("hi")))
        assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause))
        const defect = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
        assert.include(defect instanceof Error ? defect.message : "", "script exhausted at call 1")
      }))
  })

  describe("prefill", () => {
    const prefilled = (prefill: string): ChatRequest.ChatRequest => ({
      messages: [{ role: "user", content: "greet" }, { role: "assistant", content: prefill }]
    })

    it.effect("continues after the prefill text", () =>
      Effect.gen(function*() {
        const { provider } = yield* TestChatProvider.make({ name: "p", script: [{ reply: "Hello big world" }] })
        assert.strictEqual((yield* provider.chat(prefilled("Hello b"))).text, "ig world")
        const parts = yield* Stream.runCollect(provider.stream(prefilled("Hello")))
        assert.deepStrictEqual(texts(parts), [" big", " world"])
      }))

    it.effect("returns the whole reply when it does not start with the prefill", () =>
      Effect.gen(function*() {
        const { provider } = yield* TestChatProvider.make({ name: "p", script: [{ reply: "Hello big world" }] })
        assert.strictEqual((yield* provider.chat(prefilled("Goodbye"))).text, "Hello big world")
      }))

    it.effect("a cut counts the continuation's chunks", () =>
      Effect.gen(function*() {
        const { provider } = yield* TestChatProvider.make({
          name: "p",
          script: [{ reply: "one two three four", cutAfter: 1 }]
        })
        const { fiber, received } = yield* collectInBackground(provider.stream(prefilled("one two")))
        yield* Fiber.await(fiber)
        assert.deepStrictEqual(texts(yield* received), [" three"])
      }))
  })

  it.effect("layer provides the service with its name, default model and capabilities", () =>
    Effect.gen(function*() {
      const provider = yield* ChatProvider.ChatProvider
      assert.strictEqual(provider.name, "custom")
      assert.strictEqual(provider.defaultModel, "tiny-1")
      assert.deepStrictEqual(provider.capabilities, { ...ChatProvider.allCapabilities, assistantPrefill: false })
      const response = yield* ChatProvider.chat("hi")
      assert.strictEqual(response.model, "tiny-1")
      assert.strictEqual(response.text, "ok")
    }).pipe(Effect.provide(TestChatProvider.layer({
      name: "custom",
      defaultModel: "tiny-1",
      capabilities: { assistantPrefill: false },
      script: [{ reply: "ok" }]
    }))))

  it.effect("chunks that do not join to the reply are a defect", () =>
    Effect.gen(function*() {
      const { provider } = yield* TestChatProvider.make({ name: "p", script: [{ reply: "abc", chunks: ["a", "b"] }] })
      const exit = yield* Effect.exit(Stream.runCollect(provider.stream(ask("hi"))))
      assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause))
    }))
})
