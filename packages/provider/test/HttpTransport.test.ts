import { assert, layer } from "@effect/vitest"
import { Clock, Duration, Effect, Exit, Fiber, Redacted, Stream } from "effect"
import { TestClock } from "effect/testing"
import * as ProviderError from "@flexiai/core/ProviderError"
import * as Loopback from "@flexiai/testing/Loopback"
import * as RecordingTracer from "@flexiai/testing/RecordingTracer"
import { HttpClient } from "effect/http"
import type { IncomingMessage, ServerResponse } from "node:http"
import type { Socket } from "node:net"
import * as Auth from "../src/Auth.ts"
import * as HttpTransport from "../src/HttpTransport.ts"
import * as StatusReasons from "../src/StatusReasons.ts"
import * as TokenSource from "../src/TokenSource.ts"
import * as UndiciHttpClient from "../src/UndiciHttpClient.ts"
import { readFileSync } from "node:fs"

interface Seen {
  readonly method: string
  readonly url: string
  /** Raw header pairs as they arrived on the wire (names in lower case). */
  readonly headers: Record<string, string>
  readonly body: Uint8Array
}

type Reply = (seen: Seen) => { readonly status: number; readonly body: string; readonly headers?: Record<string, string> }

/** A server on 127.0.0.1 that records each request's raw headers and body bytes. */
const serve = (reply: Reply) =>
  Effect.suspend(() => {
    const seen: Array<Seen> = []
    const record = Loopback.bodyThen((request, response, body) => {
      const headers: Record<string, string> = {}
      for (let i = 0; i < request.rawHeaders.length; i += 2) headers[request.rawHeaders[i]!.toLowerCase()] = request.rawHeaders[i + 1]!
      const one: Seen = { method: request.method ?? "", url: request.url ?? "", headers, body: new Uint8Array(body) }
      seen.push(one)
      const answer = reply(one)
      response.writeHead(answer.status, { "content-type": "application/json", ...answer.headers })
      response.end(answer.body)
    })
    return Effect.map(Loopback.serve(record), (server) => ({ ...server, seen }))
  })

/** A server on 127.0.0.1 whose handler writes the response itself (pieces, pauses, no end), once the request is in. */
const writer = (handle: (response: ServerResponse, request: IncomingMessage) => void) =>
  Loopback.serve(Loopback.bodyThen((request, response) => handle(response, request)))

const timeouts: HttpTransport.Timeouts = { firstByte: Duration.seconds(5), idle: Duration.seconds(5), total: Duration.seconds(10) }
const text = { decode: (body: string) => body, what: "text" }
const utf8 = new TextDecoder()

const key = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"
const ok: Reply = () => ({ status: 200, body: "{\"ok\":true}", headers: { "x-request-id": "req_1" } })

/** A server that echoes back the rejected key in its 401 body, as OpenAI does. */
const rejecting: Reply = (seen) => ({
  status: 401,
  body: JSON.stringify({ error: { message: `Incorrect API key provided: ${seen.headers["authorization"] ?? seen.headers["x-api-key"] ?? ""}` } })
})

const transport = (url: string, auth: Auth.Auth, extra: Partial<HttpTransport.Options> = {}) =>
  HttpTransport.make({ name: "test", baseUrl: url, auth, timeouts, ...extra })

const errorText = (exit: Exit.Exit<unknown, ProviderError.ProviderError>): string => {
  assert.isTrue(Exit.isFailure(exit))
  return JSON.stringify(exit) + String(exit)
}

layer(UndiciHttpClient.layer)("HttpTransport", (it) => {
  it.effect("static auth kinds put their header on the wire, and nothing else", () =>
    Effect.gen(function*() {
      const server = yield* serve(ok)
      const none = yield* transport(server.url, Auth.none)
      const bearer = yield* transport(server.url, Auth.bearer(Redacted.make(key)))
      const named = yield* transport(server.url, Auth.header("x-api-key", Redacted.make(key)))
      yield* none.sendJson("/a", { n: 1 }, text)
      yield* bearer.sendJson("/b", { n: 2 }, text)
      const sent = yield* named.sendJson("/c", { n: 3 }, text)
      assert.strictEqual(sent.requestId, "req_1")
      assert.strictEqual(sent.parsed, "{\"ok\":true}")
      const [a, b, c] = server.seen
      assert.isUndefined(a!.headers["authorization"])
      assert.isUndefined(a!.headers["x-api-key"])
      assert.strictEqual(b!.headers["authorization"], `Bearer ${key}`)
      assert.isUndefined(b!.headers["x-api-key"])
      assert.strictEqual(c!.headers["x-api-key"], key)
      assert.isUndefined(c!.headers["authorization"])
      assert.strictEqual(utf8.decode(c!.body), "{\"n\":3}")
      assert.strictEqual(c!.headers["accept"], "application/json")
    }))

  it.effect("a token source's token goes out as a bearer; a 401 refreshes it once and the request is sent again", () =>
    Effect.gen(function*() {
      let fetches = 0
      const source = TokenSource.make(Effect.sync(() => ({ value: Redacted.make(`token-number-${++fetches}-abcdefgh`) })))
      const server = yield* serve((seen) => seen.headers["authorization"] === "Bearer token-number-1-abcdefgh" ? rejecting(seen) : ok(seen))
      const client = yield* transport(server.url, Auth.token(source))
      const sent = yield* client.sendJson("/chat", {}, text)
      assert.strictEqual(sent.parsed, "{\"ok\":true}")
      assert.deepStrictEqual(server.seen.map((seen) => seen.headers["authorization"]), [
        "Bearer token-number-1-abcdefgh",
        "Bearer token-number-2-abcdefgh"
      ])
      assert.strictEqual(fetches, 2)
      // the next call reuses the renewed token: no fetch
      yield* client.sendJson("/chat", {}, text)
      assert.strictEqual(fetches, 2)
      assert.strictEqual(server.seen.length, 3)
    }))

  it.effect("the 401 body is read off before the resend: its response completes and its connection is not torn down", () =>
    Effect.gen(function*() {
      // a 401 with a body larger than the socket buffers: unless the client reads it, the server
      // cannot finish sending it, and the connection stays busy until the client drops it
      const page = JSON.stringify({ error: { message: "expired", padding: "p".repeat(16 * 1024 * 1024) } })
      const rejected: Array<{ readonly response: ServerResponse; readonly socket: Socket }> = []
      const server = yield* writer((response, request) => {
        const stale = request.headers["authorization"] === "Bearer token-number-1-abcdefgh"
        if (stale) rejected.push({ response, socket: request.socket })
        response.writeHead(stale ? 401 : 200, { "content-type": "application/json" })
        response.end(stale ? page : "{\"ok\":true}")
      })
      const tokens = () => {
        let fetches = 0
        return TokenSource.make(Effect.sync(() => ({ value: Redacted.make(`token-number-${++fetches}-abcdefgh`) })))
      }
      const settle = TestClock.withLive(Effect.sleep(Duration.millis(50)))

      const client = yield* transport(server.url, Auth.token(tokens()))
      const sent = yield* client.sendJson("/chat", {}, text)
      assert.strictEqual(sent.parsed, "{\"ok\":true}")
      yield* settle
      assert.isTrue(rejected[0]!.response.writableFinished, "the whole 401 body was read by the client")

      // a stream's response lives in the caller's scope: an unread 401 would be aborted (its
      // socket destroyed) only when that scope closes
      const streaming = yield* transport(server.url, Auth.token(tokens()))
      const body = yield* Effect.scoped(Effect.flatMap(
        streaming.openStream("/stream", {}, { accept: "text/event-stream" }),
        (opened) => Stream.mkString(Stream.decodeText(opened.bytes))
      ))
      assert.strictEqual(body, "{\"ok\":true}")
      yield* settle
      assert.isTrue(rejected[1]!.response.writableFinished, "the stream's 401 body was read too")
      assert.isFalse(rejected[1]!.socket.destroyed, "its connection went back to the pool, not aborted")
    }))

  it.effect("a token still rejected after its one refresh fails as Authentication, with both tokens masked", () =>
    Effect.gen(function*() {
      let fetches = 0
      const source = TokenSource.make(Effect.sync(() => ({ value: Redacted.make(`token-number-${++fetches}-abcdefgh`) })))
      const server = yield* serve(rejecting)
      const client = yield* transport(server.url, Auth.token(source))
      const exit = yield* Effect.exit(client.sendJson("/chat", {}, text))
      assert.strictEqual(server.seen.length, 2)
      assert.strictEqual(fetches, 2)
      const error = yield* Effect.flip(client.sendJson("/chat", {}, text))
      assert.strictEqual(error.reason._tag, "Authentication")
      const shown = errorText(exit) + error.message + client.mask("token-number-1-abcdefgh token-number-2-abcdefgh")
      assert.notInclude(shown, "token-number-1")
      assert.notInclude(shown, "token-number-2")
    }))

  it.effect("after several renewals every recent token stays masked, not only the current one", () =>
    Effect.gen(function*() {
      // every token expires at once, so each call renews; the server echoes every token it saw.
      // The tokens share no 8-character piece, so one token's mask cannot hide another.
      let fetches = 0
      const source = TokenSource.make(
        Effect.map(Clock.currentTimeMillis, (now) => ({ value: Redacted.make("ABCD"[fetches++]!.repeat(24)), expiresAtMillis: now })),
        { renewBefore: Duration.zero }
      )
      const tokens: Array<string> = []
      const server = yield* serve((seen) => {
        tokens.push(seen.headers["authorization"]!.replace("Bearer ", ""))
        return { status: 500, body: JSON.stringify({ error: { message: `tokens seen: ${tokens.join(", ")}` } }) }
      })
      const client = yield* transport(server.url, Auth.token(source))
      let last: Exit.Exit<unknown, ProviderError.ProviderError> | undefined
      for (let call = 0; call < 4; call++) last = yield* Effect.exit(client.sendJson("/chat", {}, text))
      assert.deepStrictEqual(tokens, ["A", "B", "C", "D"].map((letter) => letter.repeat(24)))
      const shown = errorText(last!) + client.mask(tokens.join(" "))
      assert.include(shown, "tokens seen")
      for (const token of tokens) assert.notInclude(shown, token.slice(0, 8), `${token[0]} is masked`)
    }))

  it.effect("a signer sees the exact method, URL, headers and body bytes, and its headers arrive", () =>
    Effect.gen(function*() {
      const server = yield* serve(ok)
      const signed: Array<Auth.SignInput> = []
      const secret = Redacted.make("aws-secret-access-key-0123456789")
      const client = yield* transport(
        server.url,
        Auth.signer((request) => {
          signed.push(request)
          return Effect.succeed({ authorization: `SIG ${request.body.length}`, "x-amz-date": "20260101T000000Z" })
        }, { secrets: [secret], redactedNames: ["x-amz-security-token"] }),
        { urlParams: { "api-version": "1" }, headers: { "x-extra": "yes" } }
      )
      const body = { text: "héllo ✓" }
      yield* client.sendJson("/model/x/invoke", body, text)
      const [request] = signed
      const [wire] = server.seen
      assert.strictEqual(request!.method, "POST")
      assert.strictEqual(request!.url.href, `${server.url}/model/x/invoke?api-version=1`)
      assert.strictEqual(wire!.url, "/model/x/invoke?api-version=1")
      assert.strictEqual(request!.headers["x-extra"], "yes")
      assert.strictEqual(request!.headers["content-type"], "application/json")
      assert.deepStrictEqual(Array.from(request!.body), Array.from(wire!.body))
      assert.strictEqual(utf8.decode(wire!.body), JSON.stringify(body))
      assert.strictEqual(wire!.headers["authorization"], `SIG ${wire!.body.length}`)
      assert.strictEqual(wire!.headers["x-amz-date"], "20260101T000000Z")
      assert.strictEqual(wire!.headers["x-extra"], "yes")
      assert.strictEqual(client.mask("key aws-secret-access-key-0123456789"), "key [REDACTED]")
      // a secret given beside the auth is masked too
      const unsent = yield* transport(server.url, Auth.none, { secrets: [Redacted.make(key)] })
      assert.strictEqual(unsent.mask(`echo ${key}`), "echo [REDACTED]")
    }))

  it.effect("a signer's recentSecrets (renewed keys) are masked as they change, the old ones too", () =>
    Effect.gen(function*() {
      const server = yield* serve(ok)
      let recent: ReadonlyArray<Redacted.Redacted<string>> = [Redacted.make("first-renewed-secret-0123456789")]
      const client = yield* transport(
        server.url,
        Auth.signer(() => Effect.succeed({ authorization: "SIG" }), { recentSecrets: () => recent })
      )
      assert.strictEqual(client.mask("a first-renewed-secret-0123456789"), "a [REDACTED]")
      // a renewal: a new array with the new key first, the old one kept
      recent = [Redacted.make("second-renewed-secret-9876543210"), ...recent]
      assert.strictEqual(client.mask("b second-renewed-secret-9876543210 first-renewed-secret-0123456789"), "b [REDACTED] [REDACTED]")
      // without recentSecrets nothing of the kind is masked (the control)
      const plain = yield* transport(server.url, Auth.signer(() => Effect.succeed({ authorization: "SIG" })))
      assert.include(plain.mask("c second-renewed-secret-9876543210"), "second-renewed-secret")
    }))

  it.effect("a signer's failure fails the request with its reason, before anything is sent", () =>
    Effect.gen(function*() {
      const server = yield* serve(ok)
      const client = yield* transport(
        server.url,
        Auth.signer(() => Effect.fail(new ProviderError.Authentication({ message: "no credentials" })))
      )
      const error = yield* Effect.flip(client.sendJson("/x", {}, text))
      assert.strictEqual(error.reason._tag, "Authentication")
      assert.strictEqual(server.seen.length, 0)
    }))

  it.effect("a key echoed by the provider never appears in the error", () =>
    Effect.gen(function*() {
      const server = yield* serve(rejecting)
      for (const auth of [Auth.bearer(Redacted.make(key)), Auth.header("x-api-key", Redacted.make(key))]) {
        const client = yield* transport(server.url, auth)
        const exit = yield* Effect.exit(client.sendJson("/x", {}, text))
        const shown = errorText(exit)
        assert.include(shown, "Authentication")
        assert.notInclude(shown, key)
        assert.notInclude(shown, key.slice(10, 18))
      }
    }))

  it.effect("the provider's status rows, request-id names and error-body parser are used", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => ({ status: 418, body: "{\"msg\":\"teapot\",\"field\":\"temperature\"}", headers: { "my-id": "m1" } }))
      const client = yield* transport(server.url, Auth.none, {
        statusTable: StatusReasons.extend(StatusReasons.defaults, {
          418: (input) => new ProviderError.InvalidRequest({ message: input.message, ...(input.param === undefined ? {} : { param: input.param }) })
        }),
        requestIdHeaders: ["my-id"],
        errorBody: (body) => {
          const parsed = JSON.parse(body) as { msg: string; field: string }
          return { message: parsed.msg, param: parsed.field }
        }
      })
      const error = yield* Effect.flip(client.sendJson("/x", {}, text))
      assert.strictEqual(error.reason._tag, "InvalidRequest")
      assert.strictEqual(error.requestId, "m1")
      assert.include(error.message, "teapot")
      // without the row, a 418 fails over at once as an UnexpectedStatus
      const plain = yield* transport(server.url, Auth.none)
      const fallback = yield* Effect.flip(plain.sendJson("/x", {}, text))
      assert.strictEqual(fallback.reason._tag, "UnexpectedStatus")
      assert.include(fallback.message, "(HTTP 418)")
    }))

  it.effect("a body past the cap is a MalformedResponse; an undecodable one names what it was", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => ({ status: 200, body: "x".repeat(2000) }))
      const small = yield* transport(server.url, Auth.none, { maxBodyBytes: 1000 })
      const tooBig = yield* Effect.flip(small.sendJson("/x", {}, text))
      assert.strictEqual(tooBig.reason._tag, "MalformedResponse")
      const client = yield* transport(server.url, Auth.none)
      const undecodable = yield* Effect.flip(client.get("/x", { decode: () => undefined, what: "model list" }))
      assert.strictEqual(undecodable.reason._tag, "MalformedResponse")
      assert.include(undecodable.message, "undecodable model list (2000 bytes)")
      assert.strictEqual(server.seen[1]!.method, "GET")
    }))

  it.effect("openStream streams the body's bytes in the caller's scope, with the accept asked for and a lazy request id", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => ({ status: 200, body: "data: 1\n\ndata: 2\n\n", headers: { "request-id": "s1" } }))
      const client = yield* transport(server.url, Auth.bearer(Redacted.make(key)))
      const text = yield* Effect.scoped(Effect.gen(function*() {
        const opened = yield* client.openStream("/stream", { stream: true }, { accept: "text/event-stream" })
        assert.strictEqual(opened.requestId, "s1")
        const chunks = yield* Stream.runCollect(opened.bytes)
        return Array.from(chunks).map((chunk) => utf8.decode(chunk)).join("")
      }))
      assert.strictEqual(text, "data: 1\n\ndata: 2\n\n")
      assert.strictEqual(server.seen[0]!.headers["accept"], "text/event-stream")
      assert.strictEqual(server.seen[0]!.headers["authorization"], `Bearer ${key}`)
    }))

  it.effect("a streamed body past maxStreamBytes fails with MalformedResponse at the read that passes it, never ending as if complete", () =>
    Effect.gen(function*() {
      // eight 1000-byte writes, each its own network read; the cap is 3500 bytes
      const piece = "x".repeat(1000)
      const server = yield* writer((response) => {
        response.writeHead(200, { "content-type": "text/event-stream", "x-request-id": "big" })
        let sent = 0
        const next = () => {
          if (sent === 8) return response.end()
          sent++
          response.write(piece, () => setTimeout(next, 15))
        }
        next()
      })
      const client = yield* transport(server.url, Auth.none, { maxStreamBytes: 3500 })
      const received: Array<number> = []
      const error = yield* Effect.scoped(Effect.gen(function*() {
        const opened = yield* client.openStream("/stream", {}, { accept: "text/event-stream" })
        return yield* Effect.flip(Stream.runForEach(opened.bytes, (chunk) => Effect.sync(() => received.push(chunk.length))))
      }))
      assert.strictEqual(error.reason._tag, "MalformedResponse")
      assert.include(error.message, "3500-byte limit")
      assert.strictEqual(error.requestId, "big")
      const total = received.reduce((sum, length) => sum + length, 0)
      assert.isAtLeast(total, 1000, "what came within the cap was delivered")
      assert.isAtMost(total, 3500, "nothing past the cap was delivered")
      // the default cap lets the same body through whole
      const roomy = yield* transport(server.url, Auth.none)
      const whole = yield* Effect.scoped(Effect.flatMap(
        roomy.openStream("/stream", {}, { accept: "text/event-stream" }),
        (opened) => Stream.runFold(opened.bytes, () => 0, (sum, chunk) => sum + chunk.length)
      ))
      assert.strictEqual(whole, 8000)
    }))

  it.effect("get is bounded by timeouts.total: a body that never ends is a Timeout of phase total", () =>
    Effect.gen(function*() {
      // headers and a first piece of body, then nothing
      const server = yield* Loopback.serve((_request, response) => {
        response.writeHead(200, { "content-type": "application/json" })
        response.write("{\"data\":")
      })
      // the other limits longer, so only the total one can end it
      const client = yield* transport(server.url, Auth.none, {
        timeouts: { firstByte: Duration.minutes(1), idle: Duration.minutes(1), total: Duration.seconds(10) }
      })
      const fiber = yield* Effect.forkChild(Effect.flip(client.get("/models", { decode: (body: string) => body, what: "model list" })))
      yield* TestClock.adjust("11 seconds")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error.reason._tag, "Timeout")
      assert.strictEqual(error.reason._tag === "Timeout" ? error.reason.phase : undefined, "total")
    }))

  it.effect("a key a provider echoes into param, the request id or its message comes back masked, in full or shortened", () =>
    Effect.gen(function*() {
      const echoes = [key, `${key.slice(0, 4)}...${key.slice(-4)}`, `${key.slice(0, 6)}xxxxxxxx${key.slice(-6)}`]
      let index = 0
      const server = yield* serve(() => {
        const echo = echoes[index++ % echoes.length]!
        return {
          status: 400,
          body: JSON.stringify({ message: `bad key ${echo}`, param: `headers.authorization=${echo}` }),
          headers: { "x-request-id": `req-${echo}` }
        }
      })
      const client = yield* transport(server.url, Auth.bearer(Redacted.make(key)), {
        errorBody: (body) => JSON.parse(body) as HttpTransport.ErrorBody
      })
      for (const echo of echoes) {
        const error = yield* Effect.flip(client.sendJson("/chat", {}, text))
        assert.strictEqual(error.reason._tag, "InvalidRequest")
        const param = error.reason._tag === "InvalidRequest" ? error.reason.param : undefined
        assert.strictEqual(param, "headers.authorization=[REDACTED]")
        assert.strictEqual(error.requestId, "req-[REDACTED]")
        for (const text of [error.message, JSON.stringify(error), String(error)]) {
          assert.notInclude(text, echo)
          assert.notInclude(text, key.slice(-4))
        }
      }
    }))

  it.effect("a base URL's query stays a query after the path, and its values are masked like keys", () =>
    Effect.gen(function*() {
      const secret = "sk-in-the-url-0123456789"
      const server = yield* serve((seen) =>
        seen.url.startsWith("/v1/chat")
          ? { status: 401, body: JSON.stringify({ message: `no such key ${secret}` }) }
          : { status: 404, body: "{}" }
      )
      const client = yield* transport(`${server.url}/v1/?code=${secret}`, Auth.none, {
        urlParams: { "api-version": "2024-10-21" },
        errorBody: (body) => JSON.parse(body) as HttpTransport.ErrorBody
      })
      const exit = yield* Effect.exit(client.sendJson("/chat", {}, text))
      assert.strictEqual(server.seen[0]?.url, `/v1/chat?code=${secret}&api-version=2024-10-21`)
      assert.notInclude(errorText(exit), secret)
      assert.include(errorText(exit), "Authentication")
    }))

  it.effect("every request carries the User-Agent naming FlexiAI and the kit's package version", () =>
    Effect.gen(function*() {
      const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
      assert.strictEqual(HttpTransport.userAgent, `flexiai/${version}`)
      const server = yield* serve(ok)
      const client = yield* transport(server.url, Auth.bearer(Redacted.make(key)))
      yield* client.sendJson("/chat", {}, text)
      yield* client.get("/models", text)
      yield* Effect.scoped(Effect.flatMap(client.openStream("/chat", {}, { accept: "text/event-stream" }), (opened) => Stream.runDrain(opened.bytes)))
      assert.deepStrictEqual(server.seen.map((seen) => seen.headers["user-agent"]), Array(3).fill(HttpTransport.userAgent))
    }))

  // Effect's client span records response headers as they came (only names in
  // CurrentRedactedNames are redacted); a server echoing the key into one must not leak it there
  it.effect("with httpSpans, a key echoed into response headers is masked in the span's attributes", () =>
    Effect.gen(function*() {
      const server = yield* serve((seen) => ({
        status: 200,
        body: "{}",
        headers: { "x-echo": seen.headers["authorization"] ?? "", "x-echo-key": key, "x-request-id": `req ${key}` }
      }))
      const { spans, tracer } = RecordingTracer.make()
      const client = yield* transport(server.url, Auth.bearer(Redacted.make(key)), { httpSpans: true })
      const recorded = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        effect.pipe(Effect.withTracer(tracer), Effect.provideService(HttpClient.TracerHeaderFilter, () => true))
      yield* recorded(client.sendJson("/chat", {}, text))
      yield* recorded(Effect.scoped(Effect.flatMap(client.openStream("/chat", {}, { accept: "text/event-stream" }), (opened) => Stream.runDrain(opened.bytes))))
      assert.strictEqual(server.seen[0]!.headers["authorization"], `Bearer ${key}`)
      assert.strictEqual(spans.length, 2)
      for (const span of spans) {
        const attributes = Object.fromEntries(span.attributes)
        // the headers were recorded (the check below is not vacuous), with the key masked out
        assert.strictEqual(attributes["http.response.header.x-echo-key"], "[REDACTED]")
        assert.strictEqual(attributes["http.response.header.x-echo"], "Bearer [REDACTED]")
        assert.strictEqual(attributes["http.response.header.x-request-id"], "req [REDACTED]")
        assert.strictEqual(attributes["http.request.header.authorization"], "<redacted>")
        assert.notInclude(JSON.stringify([...span.attributes, span.events]), key.slice(8, 24))
      }
    }))
})
