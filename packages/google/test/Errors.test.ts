// Google's error bodies (google.rpc.Status) and stream faults, at the wire: every status the
// issue lists maps to its reason, RetryInfo becomes retryAfter, and a stream never ends as if
// complete when it is not.
import { assert, describe, it } from "@effect/vitest"
import * as Mock from "@flexiai/testing/MockProviderServer"
import { Duration, Effect, Stream } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import type * as ProviderError from "@flexiai/core/ProviderError"
import { reasonOf, request, setup, setupVertex, testDataDir } from "./helpers.ts"

const retryInfoBody = readFileSync(join(testDataDir("fixtures"), "google/vercel__google-429-retry-info.json"), "utf8")

const status = (code: number, name: string, message: string, details: ReadonlyArray<unknown> = []) =>
  Mock.error(code, { message }, { rawBody: JSON.stringify({ error: { code, message, status: name, details } }) })

const reasonOfError = (error: unknown): ProviderError.ProviderErrorReason =>
  (error as { readonly reason: ProviderError.ProviderErrorReason }).reason

describe("HTTP errors", () => {
  const cases: ReadonlyArray<readonly [string, Mock.Reply, string]> = [
    ["429 RESOURCE_EXHAUSTED (recorded, with RetryInfo)", Mock.error(429, { message: "" }, { rawBody: retryInfoBody }), "RateLimited"],
    [
      "429 per-day quota",
      status(429, "RESOURCE_EXHAUSTED", "Quota exceeded", [{
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        violations: [{ quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier" }]
      }]),
      "QuotaExceeded"
    ],
    [
      "400 INVALID_ARGUMENT, token limit",
      status(400, "INVALID_ARGUMENT", "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."),
      "ContextLengthExceeded"
    ],
    ["400 INVALID_ARGUMENT", status(400, "INVALID_ARGUMENT", "Invalid value at 'generation_config.temperature'"), "InvalidRequest"],
    [
      "400 API_KEY_INVALID",
      status(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "API_KEY_INVALID",
        domain: "googleapis.com"
      }]),
      "Authentication"
    ],
    ["401 UNAUTHENTICATED", status(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."), "Authentication"],
    ["403 PERMISSION_DENIED", status(403, "PERMISSION_DENIED", "Permission denied on resource project x."), "PermissionDenied"],
    ["404 NOT_FOUND", status(404, "NOT_FOUND", "models/nope is not found for API version v1beta"), "NotFound"],
    ["500 INTERNAL", status(500, "INTERNAL", "An internal error has occurred."), "ServerError"],
    ["503 UNAVAILABLE", status(503, "UNAVAILABLE", "The service is currently unavailable."), "ServerError"],
    ["503 UNAVAILABLE, overloaded", status(503, "UNAVAILABLE", "The model is overloaded. Please try again later."), "Overloaded"],
    ["an HTML error page", Mock.error(502, { message: "" }, { rawBody: "<html>Bad Gateway</html>" }), "ServerError"],
    ["a reset before headers", Mock.reset(), "Connection"]
  ]
  for (const [name, reply, expected] of cases) {
    it.effect(`${name} → ${expected} (chat and stream, Gemini API and Vertex)`, () =>
      Effect.gen(function*() {
        const gemini = yield* setup({ replies: [reply, reply] })
        // a 401 on Vertex refreshes the token and sends the request once more before it counts
        const vertex = yield* setupVertex({ replies: [reply, reply, reply, reply] })
        for (const { provider } of [gemini, vertex]) {
          assert.strictEqual(reasonOf(yield* Effect.flip(provider.chat(request()))), expected)
          assert.strictEqual(reasonOf(yield* Effect.flip(Stream.runCollect(provider.stream(request())))), expected)
        }
      }).pipe(Effect.scoped))
  }

  it.effect("RetryInfo's delay is the retryAfter; a Retry-After header wins over it", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [
          Mock.error(429, { message: "" }, { rawBody: retryInfoBody }),
          Mock.error(429, { message: "" }, { rawBody: retryInfoBody, headers: { "retry-after": "3" } })
        ]
      })
      const first = reasonOfError(yield* Effect.flip(provider.chat(request())))
      assert.deepStrictEqual(first._tag === "RateLimited" ? first.retryAfter : undefined, Duration.millis(34_400))
      assert.include(first.message, "You exceeded your current quota")
      const second = reasonOfError(yield* Effect.flip(provider.chat(request())))
      assert.deepStrictEqual(second._tag === "RateLimited" ? second.retryAfter : undefined, Duration.seconds(3))
    }).pipe(Effect.scoped))

  it.effect("a 404 names the model", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [status(404, "NOT_FOUND", "not found")] })
      const reason = reasonOfError(yield* Effect.flip(provider.chat(request("x", { model: "gemini-nope" }))))
      assert.strictEqual(reason._tag === "NotFound" ? reason.model : undefined, "gemini-nope")
    }).pipe(Effect.scoped))
})

describe("stream faults", () => {
  it.effect("an error event before any content fails the stream with its reason", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [Mock.inBandError({ message: "Resource has been exhausted", code: 429, type: "RESOURCE_EXHAUSTED" }, { afterChunks: 0 })]
      })
      assert.strictEqual(reasonOf(yield* Effect.flip(Stream.runCollect(provider.stream(request())))), "RateLimited")
    }).pipe(Effect.scoped))

  it.effect("an error event after content fails the stream with its reason, after the text already delivered", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [Mock.inBandError({ message: "internal", code: 500, type: "INTERNAL" }, { afterChunks: 2, text: "one two three" })]
      })
      const received: Array<string> = []
      const error = yield* Effect.flip(Stream.runForEach(provider.stream(request()), (part) =>
        Effect.sync(() => {
          if (part.type === "text-delta") received.push(part.text)
        })))
      assert.deepStrictEqual(received, ["one ", "two "])
      assert.strictEqual(reasonOf(error), "ServerError")
    }).pipe(Effect.scoped))

  it.effect("a stream cut before its finishReason is StreamInterrupted with the partial text", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [Mock.cutAfter(2, "alpha beta gamma delta")] })
      const reason = reasonOfError(yield* Effect.flip(Stream.runCollect(provider.stream(request()))))
      assert.strictEqual(reason._tag, "StreamInterrupted")
      assert.strictEqual(reason._tag === "StreamInterrupted" ? reason.partialText : "", "alpha beta ")
    }).pipe(Effect.scoped))

  it.effect("a body that ends cleanly without a finishReason is StreamInterrupted, not a complete answer", () =>
    Effect.gen(function*() {
      const chunk = (text: string) => `data: ${JSON.stringify({ candidates: [{ content: { role: "model", parts: [{ text }] } }] })}\r\n\r\n`
      const { provider } = yield* setup({
        replies: [Mock.raw([chunk("Hello"), chunk(" wor")], { headers: { "content-type": "text/event-stream" } })]
      })
      const reason = reasonOfError(yield* Effect.flip(Stream.runCollect(provider.stream(request()))))
      assert.strictEqual(reason._tag, "StreamInterrupted")
      assert.strictEqual(reason._tag === "StreamInterrupted" ? reason.partialText : "", "Hello wor")
    }).pipe(Effect.scoped))

  it.effect("a malformed event fails the stream (MalformedResponse)", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [Mock.malformedEvent("one two three", 1)] })
      assert.strictEqual(reasonOf(yield* Effect.flip(Stream.runCollect(provider.stream(request())))), "MalformedResponse")
    }).pipe(Effect.scoped))

  it.live("a stream that stalls is cut by the idle timeout", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [Mock.stallAfter(1)] }, { timeouts: { idle: "200 millis" } })
      const reason = reasonOfError(yield* Effect.flip(Stream.runCollect(provider.stream(request()))))
      assert.strictEqual(reason._tag, "Timeout")
    }).pipe(Effect.scoped), { timeout: 10_000 })
})
