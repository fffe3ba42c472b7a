// Every error the issue names, end to end: a status and Anthropic's error envelope from
// MockProviderServer, mapped by the real client to the typed reason (retry delay included).
import { assert, describe, it } from "@effect/vitest"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Duration, Effect, Stream } from "effect"
import * as Errors from "../src/internal/errors.ts"
import { reasonOf, request, setup } from "./helpers.ts"

const cases: ReadonlyArray<readonly [string, MockProviderServer.Reply, string]> = [
  ["400 invalid_request_error", MockProviderServer.error(400, { message: "max_tokens: must be positive" }), "InvalidRequest"],
  [
    "400 prompt too long",
    MockProviderServer.error(400, { message: "prompt is too long: 211000 tokens > 200000 maximum", type: "invalid_request_error" }),
    "ContextLengthExceeded"
  ],
  ["401 authentication_error", MockProviderServer.error(401, { message: "invalid x-api-key" }), "Authentication"],
  ["403 permission_error", MockProviderServer.error(403, { message: "Your API key does not have permission" }), "PermissionDenied"],
  ["404 not_found_error", MockProviderServer.error(404, { message: "model: claude-nope" }), "NotFound"],
  ["413 request_too_large", MockProviderServer.error(413, { message: "Request exceeds the maximum allowed number of bytes" }), "InvalidRequest"],
  ["429 rate_limit_error", MockProviderServer.rateLimited({ retryAfterSeconds: 7 }), "RateLimited"],
  ["500 api_error", MockProviderServer.serverError(500), "ServerError"],
  ["502", MockProviderServer.serverError(502), "ServerError"],
  ["529 overloaded_error", MockProviderServer.overloaded(529), "Overloaded"]
]

describe("HTTP errors", () => {
  for (const [name, reply, tag] of cases) {
    it.effect(`${name} is ${tag} (chat and stream)`, () =>
      Effect.gen(function*() {
        const { provider } = yield* setup({ replies: [reply, reply] })
        const chat = reasonOf(yield* Effect.flip(provider.chat(request())))
        assert.strictEqual(chat._tag, tag)
        const stream = reasonOf(yield* Effect.flip(Stream.runDrain(provider.stream(request()))))
        assert.strictEqual(stream._tag, tag)
      }))
  }

  it.effect("429 with retry-after: RateLimited carries the delay", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.rateLimited({ retryAfterSeconds: 7 })] })
      const reason = reasonOf(yield* Effect.flip(provider.chat(request())))
      assert.strictEqual(reason._tag, "RateLimited")
      assert.deepStrictEqual(reason._tag === "RateLimited" ? reason.retryAfter : undefined, Duration.seconds(7))
    }))

  it.effect("the request id is Anthropic's request-id header", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [MockProviderServer.error(500, { message: "boom" }, { headers: { "request-id": "req_011CAnthropic" } })]
      })
      const error = yield* Effect.flip(provider.chat(request()))
      assert.strictEqual(error._tag === "ProviderError" ? error.requestId : undefined, "req_011CAnthropic")
    }))

  it.effect("the provider's message is kept, the key masked out of it", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [MockProviderServer.error(401, { message: "invalid x-api-key: sk-ant-api03-test-0123456789abcdefghijklmnop" })]
      })
      const error = yield* Effect.flip(provider.chat(request()))
      const reason = reasonOf(error)
      assert.include(reason._tag === "Authentication" ? reason.message : "", "invalid x-api-key")
      assert.notInclude(JSON.stringify(error), "0123456789abcdefghijklmnop")
    }))
})

describe("in-band errors (event: error in a 200 stream)", () => {
  for (
    const [type, tag] of [
      ["overloaded_error", "Overloaded"],
      ["api_error", "ServerError"],
      ["rate_limit_error", "RateLimited"],
      ["invalid_request_error", "InvalidRequest"]
    ] as const
  ) {
    it.effect(`${type} before any content is ${tag}`, () =>
      Effect.gen(function*() {
        const { provider } = yield* setup({ replies: [MockProviderServer.inBandError({ message: "bad luck", type }, { afterChunks: 0 })] })
        const reason = reasonOf(yield* Effect.flip(Stream.runDrain(provider.stream(request()))))
        assert.strictEqual(reason._tag, tag)
      }))
  }
})

describe("the error table (pure)", () => {
  const map = (status: number | undefined, type: string | undefined, message = "m") =>
    Errors.reasonFromError({
      status,
      headers: {},
      error: { ...(type === undefined ? {} : { type }), message },
      fallbackMessage: "f",
      nowMillis: 0,
      mask: (text) => text
    })._tag

  it("an overloaded_error is Overloaded whatever status carried it", () => {
    assert.strictEqual(map(529, "overloaded_error"), "Overloaded")
    assert.strictEqual(map(500, "overloaded_error"), "Overloaded")
    assert.strictEqual(map(undefined, "overloaded_error"), "Overloaded")
  })

  it("context-window wording on a 400 is ContextLengthExceeded, not InvalidRequest", () => {
    assert.strictEqual(map(400, "invalid_request_error", "prompt is too long: 300000 tokens > 200000 maximum"), "ContextLengthExceeded")
    assert.strictEqual(map(400, "invalid_request_error", "input length and `max_tokens` exceed context limit: 1 + 2 > 3"), "ContextLengthExceeded")
    assert.strictEqual(map(400, "invalid_request_error", "temperature: out of range"), "InvalidRequest")
  })

  it("an error body that is not Anthropic's envelope falls back to the status", () => {
    assert.strictEqual(
      Errors.reasonFromResponse({ status: 503, headers: {}, body: "<html>gateway</html>", nowMillis: 0, mask: (text) => text })._tag,
      "ServerError"
    )
    assert.deepStrictEqual(Errors.errorObjectOf("{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\",\"message\":\"x\"}}"), {
      type: "not_found_error",
      message: "x"
    })
  })
})
