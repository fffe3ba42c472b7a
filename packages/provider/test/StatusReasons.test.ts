import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Authentication } from "@flexiai/core/ProviderError"
import { Duration, Effect } from "effect"
import { HttpClient, HttpClientError, HttpClientRequest } from "effect/http"
import { createServer } from "node:net"
import * as Mask from "../src/Mask.ts"
import * as StatusReasons from "../src/StatusReasons.ts"

const now = Date.parse("2026-01-01T00:00:00Z")
const map = (status: number, headers: Record<string, string> = {}, message = `HTTP ${status}`) =>
  StatusReasons.reasonFor(StatusReasons.defaults, { status, headers, message, nowMillis: now, model: "m" })

describe("StatusReasons.defaults", () => {
  it("maps the known statuses", () => {
    const table: ReadonlyArray<readonly [number, string]> = [
      [400, "InvalidRequest"],
      [413, "InvalidRequest"],
      [422, "InvalidRequest"],
      [401, "Authentication"],
      [402, "QuotaExceeded"],
      [403, "PermissionDenied"],
      [404, "NotFound"],
      [408, "ServerError"],
      [409, "ServerError"],
      [429, "RateLimited"],
      [500, "ServerError"],
      [503, "ServerError"],
      [529, "Overloaded"]
    ]
    for (const [status, tag] of table) assert.strictEqual(map(status)._tag, tag, `HTTP ${status}`)
  })

  it("an unknown status fails over at once, not retried and never InvalidRequest (a 418, a 499, a 1xx)", () => {
    for (const status of [418, 451, 499, 102, 600]) {
      const reason = map(status)
      assert.strictEqual(reason._tag, "UnexpectedStatus", `HTTP ${status}`)
      assert.strictEqual(reason._tag === "UnexpectedStatus" ? reason.status : 0, status)
      assert.isTrue(reason.failsOver, `HTTP ${status}`)
      assert.isFalse(reason.isRetryable, `HTTP ${status}`)
      assert.isTrue(reason.countsAgainstHealth, `HTTP ${status}`)
    }
    // a 5xx without a row of its own stays a retried ServerError
    for (const status of [501, 502, 504, 520]) {
      const reason = map(status)
      assert.strictEqual(reason._tag, "ServerError", `HTTP ${status}`)
      assert.isTrue(reason.isRetryable, `HTTP ${status}`)
    }
  })

  it("402 is QuotaExceeded and fails over", () => {
    const reason = map(402, {}, "Insufficient credits")
    assert.strictEqual(reason._tag, "QuotaExceeded")
    assert.isTrue(reason.failsOver)
    assert.isFalse(reason.isRetryable)
  })

  it("a 3xx fails over at once naming the Location host, not its path or query", () => {
    const reason = map(301, { location: "https://login.example.com/oauth?sig=secret" })
    assert.strictEqual(reason._tag, "UnexpectedStatus")
    assert.isTrue(reason.failsOver)
    assert.isFalse(reason.isRetryable)
    assert.include(reason.message, "login.example.com")
    assert.notInclude(reason.message, "sig=secret")
    assert.include(map(307, {})._tag === "UnexpectedStatus" ? map(307, {}).message : "", "no Location")
    assert.include(map(302, { Location: "/v2/chat" }).message, "the same host")
  })

  it("503 saying overloaded (in the message or the error code) is Overloaded with its retry-after", () => {
    const reason = map(503, { "retry-after": "3" }, "The engine is currently overloaded")
    assert.strictEqual(reason._tag, "Overloaded")
    assert.strictEqual(reason._tag === "Overloaded" ? Duration.toMillis(reason.retryAfter!) : 0, 3000)
    const byCode = StatusReasons.reasonFor(StatusReasons.defaults, {
      status: 503,
      headers: {},
      message: "busy",
      nowMillis: now,
      detail: "overloaded_error"
    })
    assert.strictEqual(byCode._tag, "Overloaded")
  })

  it("extend adds and overrides rows, keeping the others", () => {
    const table = StatusReasons.extend(StatusReasons.defaults, {
      418: (input) => new Authentication({ message: input.message }),
      404: StatusReasons.unknownStatus
    })
    assert.strictEqual(StatusReasons.reasonFor(table, { status: 418, headers: {}, message: "x", nowMillis: now })._tag, "Authentication")
    assert.strictEqual(StatusReasons.reasonFor(table, { status: 404, headers: {}, message: "x", nowMillis: now })._tag, "UnexpectedStatus")
    assert.strictEqual(StatusReasons.reasonFor(table, { status: 401, headers: {}, message: "x", nowMillis: now })._tag, "Authentication")
    // the defaults themselves are untouched
    assert.strictEqual(map(404)._tag, "NotFound")
  })
})

describe("StatusReasons.parseRetryAfter", () => {
  it("reads retry-after-ms, seconds and an HTTP-date", () => {
    const millis = (headers: Record<string, string>) => {
      const duration = StatusReasons.parseRetryAfter(headers, now)
      return duration === undefined ? undefined : Duration.toMillis(duration)
    }
    assert.strictEqual(millis({ "retry-after-ms": "1500" }), 1500)
    assert.strictEqual(millis({ "retry-after": "7" }), 7000)
    assert.strictEqual(millis({ "Retry-After": new Date(now + 30_000).toUTCString() }), 30_000)
    assert.strictEqual(millis({ "retry-after": new Date(now - 30_000).toUTCString() }), 0)
    assert.strictEqual(millis({ "retry-after": "soon" }), undefined)
  })
})

describe("StatusReasons.reasonFromHttpClientError", () => {
  const request = HttpClientRequest.get("http://127.0.0.1/")
  const transport = (cause: unknown) =>
    new HttpClientError.HttpClientError({ reason: new HttpClientError.TransportError({ request, cause }) })
  const mask = Mask.make(["sk-0123456789abcdef"])

  it("a connection error carries its cause code and message", () => {
    const refused = StatusReasons.reasonFromHttpClientError(
      transport(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" })),
      mask
    )
    assert.strictEqual(refused._tag, "Connection")
    assert.include(refused.message, "ECONNREFUSED")
    const dns = StatusReasons.reasonFromHttpClientError(
      transport(new TypeError("fetch failed", { cause: Object.assign(new Error("getaddrinfo ENOTFOUND api.nowhere"), { code: "ENOTFOUND" }) })),
      mask
    )
    assert.include(dns.message, "ENOTFOUND")
    const tls = StatusReasons.reasonFromHttpClientError(
      transport(Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" })),
      mask
    )
    assert.include(tls.message, "DEPTH_ZERO_SELF_SIGNED_CERT")
    assert.include(tls.message, "self-signed certificate")
  })

  it("undici's own time limits are timeouts of their phase", () => {
    const reason = StatusReasons.reasonFromHttpClientError(transport({ code: "UND_ERR_HEADERS_TIMEOUT" }), mask)
    assert.strictEqual(reason._tag === "Timeout" ? reason.phase : reason._tag, "first-byte")
  })

  it("masks secrets in the cause", () => {
    const reason = StatusReasons.reasonFromHttpClientError(transport(new Error("bad header sk-0123456789abcdef")), mask)
    assert.notInclude(reason.message, "sk-0123456789abcdef")
  })

  it.effect("a refused connection over real sockets names ECONNREFUSED", () =>
    Effect.gen(function*() {
      // a port that was just free: listen, note it, close
      const port = yield* Effect.promise(() =>
        new Promise<number>((resolve) => {
          const server = createServer().listen(0, "127.0.0.1", () => {
            const address = server.address()
            server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
          })
        })
      )
      const error = yield* HttpClient.get(`http://127.0.0.1:${port}/`).pipe(Effect.flip)
      const reason = StatusReasons.reasonFromHttpClientError(error, mask)
      assert.strictEqual(reason._tag, "Connection")
      assert.include(reason.message, "ECONNREFUSED")
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))
})
