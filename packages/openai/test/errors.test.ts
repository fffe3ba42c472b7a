import { assert, describe, it } from "@effect/vitest"
import { Duration } from "effect"
import { HttpClientError, HttpClientRequest } from "effect/http"
import * as Errors from "../src/internal/errors.ts"

const now = Date.parse("2026-01-01T00:00:00Z")
const mask = Errors.makeMask(["sk-proj-abcdefghijklmnopqrstuvwxyz0123"])
const body = (error: Record<string, unknown>) => JSON.stringify({ error })
const map = (status: number, text: string, headers: Record<string, string> = {}) =>
  Errors.reasonFromResponse({ status, headers, body: text, nowMillis: now, mask, model: "gpt-x" })

describe("reasonFromResponse", () => {
  const table: ReadonlyArray<readonly [string, number, string, Record<string, string>, string]> = [
    ["429 plain", 429, body({ message: "slow", code: "rate_limit_exceeded" }), {}, "RateLimited"],
    ["429 insufficient_quota", 429, body({ message: "pay", type: "insufficient_quota", code: "insufficient_quota" }), {}, "QuotaExceeded"],
    ["400 context_length_exceeded", 400, body({ message: "too long", code: "context_length_exceeded", param: "messages" }), {}, "ContextLengthExceeded"],
    ["400 content_policy_violation", 400, body({ message: "no", code: "content_policy_violation" }), {}, "ContentFiltered"],
    ["400 content_filter (Azure)", 400, body({ message: "filtered", code: "content_filter" }), {}, "ContentFiltered"],
    ["400 other", 400, body({ message: "bad temperature", param: "temperature", code: "invalid_value" }), {}, "InvalidRequest"],
    ["422", 422, body({ message: "unprocessable" }), {}, "InvalidRequest"],
    ["401", 401, body({ message: "bad key" }), {}, "Authentication"],
    ["403", 403, body({ message: "forbidden" }), {}, "PermissionDenied"],
    ["404", 404, body({ message: "no model", code: "model_not_found" }), {}, "NotFound"],
    ["500", 500, body({ message: "oops" }), {}, "ServerError"],
    ["502 html", 502, "<html>bad gateway</html>", {}, "ServerError"],
    ["504 empty", 504, "", {}, "ServerError"],
    ["503 plain", 503, body({ message: "Service Unavailable" }), {}, "ServerError"],
    ["503 overloaded", 503, body({ message: "The engine is currently overloaded" }), {}, "Overloaded"],
    ["529", 529, body({ message: "busy", type: "overloaded_error" }), {}, "Overloaded"],
    ["OpenRouter numeric code", 429, body({ message: "Rate limit exceeded", code: 429 }), {}, "RateLimited"]
  ]
  for (const [name, status, text, headers, expected] of table) {
    it(`${name} → ${expected}`, () => {
      assert.strictEqual(map(status, text, headers)._tag, expected)
    })
  }

  it("keeps the param of an invalid request and the status of a server error", () => {
    const invalid = map(400, body({ message: "bad", param: "temperature" }))
    assert.strictEqual(invalid._tag === "InvalidRequest" ? invalid.param : undefined, "temperature")
    const server = map(502, "")
    assert.strictEqual(server._tag === "ServerError" ? server.status : undefined, 502)
    assert.strictEqual(server.message, "HTTP 502")
  })

  it("reads retry-after-ms, retry-after seconds and retry-after HTTP-date", () => {
    const retryAfter = (headers: Record<string, string>) => {
      const reason = map(429, body({ message: "slow" }), headers)
      return reason._tag === "RateLimited" && reason.retryAfter !== undefined ? Duration.toMillis(reason.retryAfter) : undefined
    }
    assert.strictEqual(retryAfter({ "retry-after-ms": "1500" }), 1500)
    assert.strictEqual(retryAfter({ "retry-after": "7" }), 7000)
    assert.strictEqual(retryAfter({ "Retry-After": new Date(now + 30_000).toUTCString() }), 30_000)
    assert.strictEqual(retryAfter({ "retry-after": new Date(now - 30_000).toUTCString() }), 0)
    assert.strictEqual(retryAfter({ "retry-after-ms": "250", "retry-after": "9" }), 250)
    assert.strictEqual(retryAfter({}), undefined)
    assert.strictEqual(retryAfter({ "retry-after": "soon" }), undefined)
  })

  it("masks the key and starred key echoes out of provider messages", () => {
    const reason = map(401, body({ message: "Incorrect API key provided: sk-proj-****************0123. Also sk-proj-abcdefghijklmnopqrstuvwxyz0123 and abcdefghijkl" }))
    assert.notInclude(reason.message, "abcdefghijklmnop")
    assert.notInclude(reason.message, "****")
    assert.notInclude(reason.message, "abcdefgh")
    assert.include(reason.message, "Incorrect API key provided: [REDACTED]")
  })

  it("reads the request id under the family's header names", () => {
    assert.strictEqual(Errors.requestIdOf({ "x-request-id": "req_1" }), "req_1")
    assert.strictEqual(Errors.requestIdOf({ "apim-request-id": "apim_2" }), "apim_2")
  })
})

describe("reasonFromHttpClientError", () => {
  const transport = (cause: unknown) =>
    new HttpClientError.HttpClientError({
      reason: new HttpClientError.TransportError({ request: HttpClientRequest.get("http://127.0.0.1:1/v1/models"), cause })
    })

  it("undici's own time limits become Timeout with their phase; other transport errors are Connection", () => {
    const phaseOf = (cause: unknown) => {
      const reason = Errors.reasonFromHttpClientError(transport(cause), mask)
      return reason._tag === "Timeout" ? reason.phase : reason._tag
    }
    assert.strictEqual(phaseOf(Object.assign(new Error("connect"), { code: "UND_ERR_CONNECT_TIMEOUT" })), "connect")
    assert.strictEqual(phaseOf(Object.assign(new Error("headers"), { code: "UND_ERR_HEADERS_TIMEOUT" })), "first-byte")
    // wrapped one level down, as fetch-style clients report it
    assert.strictEqual(phaseOf(new Error("fetch failed", { cause: Object.assign(new Error("body"), { code: "UND_ERR_BODY_TIMEOUT" }) })), "idle")
    assert.strictEqual(phaseOf(Object.assign(new Error("refused"), { code: "ECONNREFUSED" })), "Connection")
    assert.strictEqual(phaseOf(new Error("no code")), "Connection")
  })
})
