// Middleware: order (first outermost), request transforms on chat and stream, wrapping the stream's
// parts, a middleware's own typed error reaching the caller as it is (no provider called), and a
// ChatProvider again for a router.
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider, CircuitBreaker, Middleware, Router } from "@flexiai/core"
import type { ChatRequest, StreamPart } from "@flexiai/core"
import { TestChatProvider } from "@flexiai/testing"
import { Context, Data, Effect, Exit, Layer, Stream } from "effect"

class Refused extends Data.TaggedError("Refused")<{ readonly why: string }> {}

const request: ChatRequest.ChatRequest = { messages: [{ role: "user", content: "hello" }] }

const lastUser = (request: ChatRequest.ChatRequest) => String(request.messages.at(-1)?.content ?? "")

const recorded = Effect.gen(function*() {
  const { calls, layer } = yield* TestChatProvider.recorded({ name: "a", script: () => ({ reply: "answer text" }) })
  const context = yield* Layer.build(layer)
  return { calls, provider: Context.get(context, ChatProvider.ChatProvider) }
})

const suffix = (name: string): Middleware.Middleware => ({
  name,
  request: (request) =>
    Effect.succeed({
      ...request,
      messages: [...request.messages.slice(0, -1), { role: "user", content: `${lastUser(request)} ${name}` }] as unknown as ChatRequest.ChatRequest["messages"]
    })
})

describe("Middleware", () => {
  it.effect("the first middleware is the outermost: its transform runs first", () =>
    Effect.gen(function*() {
      const { calls, provider } = yield* recorded
      const wrapped = Middleware.apply(provider, [suffix("first"), suffix("second")])
      yield* wrapped.chat(request)
      yield* Stream.runDrain(wrapped.stream(request))
      const sent = (yield* calls).map((call) => lastUser(call.request))
      assert.deepStrictEqual(sent, ["hello first second", "hello first second"])
    }))

  it.effect("chat and stream wrappers act on the answer", () =>
    Effect.gen(function*() {
      const { provider } = yield* recorded
      const shout: Middleware.Middleware = {
        name: "shout",
        chat: (next, request) => Effect.map(next(request), (response) => ({ ...response, text: response.text.toUpperCase() })),
        stream: (next, request) =>
          Stream.map(next(request), (part): StreamPart.StreamPart =>
            part.type === "text-delta" ? { ...part, text: part.text.toUpperCase() } : part)
      }
      const wrapped = Middleware.apply(provider, [shout])
      assert.strictEqual((yield* wrapped.chat(request)).text, "ANSWER TEXT")
      const parts = yield* Stream.runCollect(wrapped.stream(request))
      assert.strictEqual(parts.flatMap((part) => part.type === "text-delta" ? [part.text] : []).join(""), "ANSWER TEXT")
    }))

  it.effect("a failing middleware fails with its own typed error, before any call", () =>
    Effect.gen(function*() {
      const { calls, provider } = yield* recorded
      const refuse: Middleware.Middleware<Refused> = {
        name: "refuse",
        request: (request) =>
          lastUser(request).includes("secret") ? Effect.fail(new Refused({ why: "secret in prompt" })) : Effect.succeed(request)
      }
      const wrapped = Middleware.apply(provider, [refuse])
      const refused: Exit.Exit<unknown, Refused | unknown> = yield* Effect.exit(
        wrapped.chat({ messages: [{ role: "user", content: "my secret" }] }).pipe(
          Effect.catchTag("Refused", (error) => Effect.fail(`caught: ${error.why}`))
        )
      )
      assert.deepStrictEqual(refused, Exit.fail("caught: secret in prompt"))
      const streamed = yield* Effect.exit(Stream.runDrain(wrapped.stream({ messages: [{ role: "user", content: "secret" }] })))
      assert.isTrue(Exit.isFailure(streamed))
      assert.strictEqual((yield* calls).length, 0)
    }))

  it.effect("Middleware.layer around a router: a ChatProvider again, the Router service kept", () =>
    Effect.gen(function*() {
      const { calls, layer } = yield* TestChatProvider.recorded({ name: "a", script: () => ({ reply: "ok" }) })
      const context = yield* Layer.build(
        Middleware.layer(Router.layer({ providers: [layer] }), [suffix("tagged")]).pipe(
          Layer.provide(CircuitBreaker.layerMemory())
        )
      )
      yield* Context.get(context, ChatProvider.ChatProvider).chat(request)
      assert.deepStrictEqual(yield* Context.get(context, Router.Router).order, ["a"])
      assert.deepStrictEqual((yield* calls).map((call) => lastUser(call.request)), ["hello tagged"])
    }))
})
