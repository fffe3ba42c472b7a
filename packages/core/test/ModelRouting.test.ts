// Model routing: a provider that declares its models serves only those names (aliases mapped to
// its own ids, the ids themselves, its default model); a request's model goes only to the
// providers that serve it, each sent its own id, and a model nobody serves is NotFound before any
// call. A router whose providers declare nothing sends every model as it is (as before).
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider, ChatRequest, CircuitBreaker, ProviderError, Router } from "@flexiai/core"
import { TestChatProvider } from "@flexiai/testing"
import { Context, Effect, Layer, Stream } from "effect"

const ask = (model?: string): ChatRequest.ChatRequest => ({
  ...(model === undefined ? {} : { model }),
  messages: [{ role: "user", content: "hello" }]
})

interface Entry {
  readonly name: string
  readonly defaultModel: string
  readonly models?: Readonly<Record<string, string>>
  readonly fail?: boolean
}

const setup = (entries: ReadonlyArray<Entry>) =>
  Effect.gen(function*() {
    const recorded = yield* Effect.forEach(entries, (entry) =>
      TestChatProvider.recorded({
        name: entry.name,
        defaultModel: entry.defaultModel,
        script: [entry.fail === true ? { fail: TestChatProvider.serverError(503) } : { reply: `from ${entry.name}` }]
      }))
    const context = yield* Layer.build(
      Router.layer({
        providers: recorded.map((built, index) => ({ layer: built.layer, priority: index, models: entries[index]!.models })),
        policy: { retry: { maxRetries: 0 } }
      }).pipe(Layer.provideMerge(CircuitBreaker.layerMemory({ jitter: 0 })))
    )
    const router = Context.get(context, ChatProvider.ChatProvider)
    const sent = (index: number) =>
      Effect.map(recorded[index]!.calls, (calls) => calls.map((call) => call.request.model ?? "(default)"))
    return { router, sent }
  })

describe("model routing", () => {
  it.effect("an alias goes to the providers that map it, each sent its own id, in priority order", () =>
    Effect.gen(function*() {
      const { router, sent } = yield* setup([
        { name: "a", defaultModel: "gpt-4o-mini", models: { fast: "gpt-4o-mini", smart: "gpt-4o" }, fail: true },
        { name: "b", defaultModel: "llama3.2", models: {} },
        { name: "c", defaultModel: "mini-prod", models: { fast: "mini-prod" } }
      ])
      const answer = yield* router.chat(ask("fast"))
      assert.strictEqual(answer.text, "from c") // a failed over; b does not serve "fast"
      assert.deepStrictEqual(yield* sent(0), ["gpt-4o-mini"])
      assert.deepStrictEqual(yield* sent(1), [])
      assert.deepStrictEqual(yield* sent(2), ["mini-prod"])
      assert.deepStrictEqual(answer.attempts.map((attempt) => `${attempt.provider}/${attempt.model}`), ["a/gpt-4o-mini", "c/mini-prod"])
    }))

  it.effect("a raw id goes only to the providers configured for it (default model or a mapped id)", () =>
    Effect.gen(function*() {
      const { router, sent } = yield* setup([
        { name: "a", defaultModel: "gpt-4o-mini", models: { smart: "gpt-4o" } },
        { name: "b", defaultModel: "llama3.2", models: {} }
      ])
      assert.strictEqual((yield* router.chat(ask("llama3.2"))).text, "from b")
      assert.strictEqual((yield* router.chat(ask("gpt-4o"))).text, "from a")
      assert.deepStrictEqual(yield* sent(0), ["gpt-4o"])
      assert.deepStrictEqual(yield* sent(1), ["llama3.2"])
    }))

  it.effect("no model: every provider, each its default", () =>
    Effect.gen(function*() {
      const { router, sent } = yield* setup([
        { name: "a", defaultModel: "gpt-4o-mini", models: {}, fail: true },
        { name: "b", defaultModel: "llama3.2", models: {} }
      ])
      assert.strictEqual((yield* router.chat(ask())).text, "from b")
      assert.deepStrictEqual(yield* sent(0), ["(default)"])
      assert.deepStrictEqual(yield* sent(1), ["(default)"])
    }))

  it.effect("a model no provider serves is NotFound naming the served ones, and no provider is called (chat and stream)", () =>
    Effect.gen(function*() {
      const { router, sent } = yield* setup([
        { name: "a", defaultModel: "gpt-4o-mini", models: { fast: "gpt-4o-mini" } },
        { name: "b", defaultModel: "llama3.2", models: {} }
      ])
      for (const run of [router.chat(ask("gpt-4o-typo")), Stream.runDrain(router.stream(ask("gpt-4o-typo")))]) {
        const error = yield* Effect.flip(run)
        assert.strictEqual(error._tag, "ProviderError")
        const reason = (error as ProviderError.ProviderError).reason
        assert.strictEqual(reason._tag, "NotFound")
        assert.include(reason.message, `no provider serves model "gpt-4o-typo"`)
        assert.include(reason.message, "fast, gpt-4o-mini, llama3.2")
      }
      assert.deepStrictEqual(yield* sent(0), [])
      assert.deepStrictEqual(yield* sent(1), [])
    }))

  it.effect(`"*" accepts any other id as it is; a provider that declares nothing takes every model`, () =>
    Effect.gen(function*() {
      const { router, sent } = yield* setup([
        { name: "a", defaultModel: "gpt-4o-mini", models: { fast: "gpt-4o-mini" }, fail: true },
        { name: "any", defaultModel: "x", models: { "*": "*", fast: "x-fast" } },
        { name: "open", defaultModel: "y" }
      ])
      const answer = yield* router.chat(ask("vendor/some-model"))
      assert.strictEqual(answer.text, "from any")
      assert.strictEqual((yield* router.chat(ask("fast"))).text, "from any") // a fails, any gets its own id
      assert.deepStrictEqual(yield* sent(0), ["gpt-4o-mini"])
      assert.deepStrictEqual(yield* sent(1), ["vendor/some-model", "x-fast"])
      assert.deepStrictEqual(yield* sent(2), [])
    }))

  it.effect("a stream is routed the same way, and a restart keeps to the providers that serve the model", () =>
    Effect.gen(function*() {
      const { router, sent } = yield* setup([
        { name: "a", defaultModel: "m-a", models: { fast: "m-a" }, fail: true },
        { name: "b", defaultModel: "m-b", models: {} },
        { name: "c", defaultModel: "m-c", models: { fast: "m-c" } }
      ])
      yield* Stream.runDrain(router.stream(ask("fast")))
      assert.deepStrictEqual(yield* sent(0), ["m-a"])
      assert.deepStrictEqual(yield* sent(1), [])
      assert.deepStrictEqual(yield* sent(2), ["m-c"])
    }))
})
