// AllProvidersFailed says what happened: its summary names every attempt's reason with the
// provider's message, `decisive` picks the error that decided the call, and
// `ProviderError.catchReason` catches by reason through a router, where Effect's own
// `catchReason` sees only the wrapper.
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider, CircuitBreaker, ProviderError, Router } from "@flexiai/core"
import { TestChatProvider } from "@flexiai/testing"
import { Cause, Duration, Effect, Layer } from "effect"

const failure = (provider: string, model: string, reason: ProviderError.ProviderErrorReason): ProviderError.Attempt => ({
  provider,
  model,
  outcome: "failure",
  reason: reason._tag,
  error: new ProviderError.ProviderError({ provider, model, reason }),
  tries: 1,
  latencyMillis: 5
})

const rateLimited = failure("a", "gpt-4o", new ProviderError.RateLimited({ message: "slow down", retryAfter: Duration.minutes(1) }))
const serverError = failure("b", "llama3", new ProviderError.ServerError({ message: "upstream\n  unavailable", status: 503 }))
const circuitOpen: ProviderError.Attempt = {
  provider: "c",
  model: "m3",
  outcome: "skipped",
  reason: "CircuitOpen",
  error: new ProviderError.CircuitOpen({ provider: "c", key: "c:m3", state: "Open", retryAfter: Duration.seconds(42) }),
  tries: 0,
  latencyMillis: 0
}

describe("AllProvidersFailed", () => {
  // the README's example summary ("Semantics you can rely on", Errors) is the first two attempts here
  it("names each attempt's reason, its detail and the provider's message on one line", () => {
    const error = new ProviderError.AllProvidersFailed({ attempts: [rateLimited, serverError, circuitOpen] })
    assert.strictEqual(
      error.message,
      "all providers failed (3 attempts): a/gpt-4o: RateLimited (retry after 1m; slow down); " +
        "b/llama3: ServerError (HTTP 503; upstream unavailable); c/m3: CircuitOpen (Open, retry in 42s)"
    )
  })

  it("cuts a long provider message and keeps a broken stream's cause", () => {
    const page = `<html>${"x".repeat(1000)}</html>`
    const long = failure("a", "m", new ProviderError.MalformedResponse({ message: page }))
    const cut = failure(
      "b",
      "m",
      new ProviderError.StreamInterrupted({ message: "stream broke: socket closed", partialText: "Hel", cause: "Connection" })
    )
    const message = new ProviderError.AllProvidersFailed({ attempts: [long, cut] }).message
    assert.include(message, `a/m: MalformedResponse (<html>${"x".repeat(193)}…)`)
    assert.notInclude(message, "</html>")
    assert.include(message, "b/m: StreamInterrupted (stream broke: socket closed; cause: Connection)")
  })

  it("decisive: the last attempt that reached a provider, else the last skip", () => {
    assert.strictEqual(new ProviderError.AllProvidersFailed({ attempts: [rateLimited, serverError, circuitOpen] }).decisive, serverError.error)
    assert.strictEqual(new ProviderError.AllProvidersFailed({ attempts: [serverError, rateLimited] }).decisive, rateLimited.error)
    const skippedOnly = new ProviderError.AllProvidersFailed({ attempts: [circuitOpen] })
    assert.strictEqual(skippedOnly.decisive, circuitOpen.error)
    // the deadline cut the last attempt short: it carries no error, the one before it decides
    const cutShort: ProviderError.Attempt = { provider: "d", outcome: "failure", reason: "DeadlineExceeded", tries: 1, latencyMillis: 9 }
    const deadline = new ProviderError.AllProvidersFailed({ attempts: [rateLimited, cutShort], deadlineExceeded: true })
    assert.strictEqual(deadline.decisive, rateLimited.error)
    assert.match(deadline.message, /^deadline exceeded \(2 attempts\): .*; d: DeadlineExceeded$/)
    assert.isUndefined(new ProviderError.AllProvidersFailed({ attempts: [] }).decisive)
    // the decisive error is the standard cause, so Cause.pretty shows it
    assert.strictEqual(skippedOnly.cause, circuitOpen.error)
    const pretty = Cause.pretty(Cause.fail(new ProviderError.AllProvidersFailed({ attempts: [serverError] })))
    assert.include(pretty, "[cause]")
    assert.include(pretty, "b (llama3): ServerError (HTTP 503): upstream")
    assert.strictEqual(ProviderError.decisive(serverError.error as ProviderError.ProviderError), serverError.error)
  })

  it.effect("catchReason matches a direct ProviderError and the decisive reason inside AllProvidersFailed", () =>
    Effect.gen(function*() {
      const direct = yield* Effect.fail(rateLimited.error as ProviderError.ProviderError).pipe(
        ProviderError.catchReason("RateLimited", (reason, error) => Effect.succeed(`${error.provider} ${Duration.format(reason.retryAfter!)}`))
      )
      assert.strictEqual(direct, "a 1m")
      const wrapped = new ProviderError.AllProvidersFailed({ attempts: [serverError, rateLimited] })
      const caught = yield* Effect.fail(wrapped).pipe(ProviderError.catchReason("RateLimited", (_, error) => Effect.succeed(error.provider)))
      assert.strictEqual(caught, "a")
      // not the decisive reason: the failure goes on unchanged
      const passed = yield* Effect.fail(wrapped).pipe(
        ProviderError.catchReason("ServerError", () => Effect.succeed("wrong")),
        Effect.flip
      )
      assert.strictEqual(passed, wrapped)
      // Effect's own catchReason never sees inside the wrapper (why this combinator exists)
      const effects = yield* Effect.fail(wrapped).pipe(
        Effect.catchReason("ProviderError" as never, "RateLimited" as never, () => Effect.succeed("caught")),
        Effect.flip
      )
      assert.strictEqual(effects, wrapped)
    }))

  it.effect("through a router: the provider's message is in the summary and catchReason fires", () =>
    Effect.gen(function*() {
      const response = yield* ChatProvider.chat("hi").pipe(
        Effect.map((answer) => answer.text),
        ProviderError.catchReason("RateLimited", (reason, error) =>
          Effect.succeed(`${error.provider}: retry in ${Duration.format(reason.retryAfter!)}`))
      )
      assert.strictEqual(response, "backup: retry in 1m")
      const error = yield* Effect.flip(ChatProvider.chat("again"))
      assert.strictEqual(error._tag, "AllProvidersFailed")
      assert.include(error.message, "primary/test-model: Authentication (bad key sk-…abcd)")
      // the backup's long Retry-After is remembered: skipped without a call, and the summary says so
      assert.include(error.message, "backup/test-model: CircuitOpen (RateLimited, retry in 1m)")
      assert.strictEqual((error as ProviderError.AllProvidersFailed).decisive?._tag, "ProviderError")
    }).pipe(Effect.provide(
      Router.layer({
        providers: [
          TestChatProvider.layer({
            name: "primary",
            script: [{ fail: new ProviderError.Authentication({ message: "bad key sk-…abcd" }) }, {
              fail: new ProviderError.Authentication({ message: "bad key sk-…abcd" })
            }]
          }),
          TestChatProvider.layer({
            name: "backup",
            script: [{ fail: new ProviderError.RateLimited({ message: "quota window", retryAfter: Duration.minutes(1) }) }]
          })
        ],
        policy: { retry: { maxRetries: 0 } }
      }).pipe(Layer.provide(CircuitBreaker.layerMemory()))
    )))
})
