// HttpTransport's lean path (non-streamed JSON over the kit's own UndiciHttpClient, live clock):
// it is taken exactly where it applies, and every answer it gives (success, status mapping, caps,
// timeouts, connection failures, interruption) equals the generic path's for the same server.
import { assert, describe, it } from "@effect/vitest"
import { Cause, Deferred, Duration, Effect, Exit, Fiber, Redacted, References } from "effect"
import { identity } from "effect/Function"
import { HttpClient } from "effect/http"
import { TestClock } from "effect/testing"
import type * as ProviderError from "@flexiai/core/ProviderError"
import * as Loopback from "@flexiai/testing/Loopback"
import type { IncomingMessage, ServerResponse } from "node:http"
import { Agent, Dispatcher } from "undici"
import * as Auth from "../src/Auth.ts"
import * as HttpTransport from "../src/HttpTransport.ts"
import * as TokenSource from "../src/TokenSource.ts"
import * as UndiciHttpClient from "../src/UndiciHttpClient.ts"

/** A server on 127.0.0.1 whose handler answers each request itself, once its body is in. */
const serve = (handle: (request: IncomingMessage, response: ServerResponse) => void) =>
  Loopback.serve(Loopback.bodyThen((request, response) => handle(request, response)))

/** Sends through an Agent and records which handler each request came with (which path sent it). */
class Recording extends Dispatcher {
  readonly agent = new Agent()
  readonly handlers: Array<string> = []
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.handlers.push(handler.constructor.name)
    return this.agent.dispatch(options, handler)
  }
  override close(): Promise<void> {
    return this.agent.close()
  }
  override destroy(): Promise<void> {
    return this.agent.destroy()
  }
}

const recording = Effect.acquireRelease(Effect.sync(() => new Recording()), (dispatcher) => Effect.promise(() => dispatcher.destroy()))

const key = "sk-lean-0123456789abcdefghijklmnopqrstuvwxyz"
const timeouts: HttpTransport.Timeouts = { firstByte: Duration.seconds(5), idle: Duration.seconds(5), total: Duration.seconds(10) }
const text = { decode: (body: string) => body, what: "text" }

/** The same options through the lean path (the kit's client itself) and the generic one (the client wrapped). */
const both = (dispatcher: Dispatcher, options: HttpTransport.Options) => {
  const client = UndiciHttpClient.make(dispatcher)
  return {
    lean: HttpTransport.makeWith(client, options),
    generic: HttpTransport.makeWith(HttpClient.mapRequest(client, identity), options)
  }
}

/** What a caller can see of a failure. */
const seen = (exit: Exit.Exit<HttpTransport.Sent<string>, ProviderError.ProviderError>): Readonly<Record<string, unknown>> =>
  Exit.match(exit, {
    onSuccess: (sent) => ({ ok: sent.parsed, requestId: sent.requestId }),
    onFailure: (cause) => {
      const error = Cause.findErrorOption(cause)
      if (error._tag === "None") return { defect: String(cause) }
      const { reason } = error.value
      return {
        provider: error.value.provider,
        model: error.value.model,
        requestId: error.value.requestId,
        reason: reason._tag,
        message: reason.message,
        ...(reason._tag === "Timeout" ? { phase: reason.phase } : {}),
        ...("status" in reason ? { status: reason.status } : {})
      }
    }
  })

/** Runs the call on both paths against the same server; both answers, which must be equal. */
const compare = (
  dispatcher: Recording,
  options: HttpTransport.Options,
  call: (transport: HttpTransport.HttpTransport) => Effect.Effect<HttpTransport.Sent<string>, ProviderError.ProviderError>
) =>
  Effect.gen(function*() {
    const { generic, lean } = both(dispatcher, options)
    const before = dispatcher.handlers.length
    const fromLean = seen(yield* Effect.exit(call(lean)))
    const fromGeneric = seen(yield* Effect.exit(call(generic)))
    assert.deepStrictEqual(dispatcher.handlers.slice(before), ["TextExchange", "Exchange"], "one call on each path")
    assert.deepStrictEqual(fromLean, fromGeneric)
    return fromLean
  })

const optionsFor = (url: string, extra: Partial<HttpTransport.Options> = {}): HttpTransport.Options => ({
  name: "lean",
  baseUrl: url,
  auth: Auth.bearer(Redacted.make(key)),
  timeouts,
  ...extra
})

describe("HttpTransport lean path", () => {
  it.live("a 2xx answer: the same request on the wire (method, path, query, headers, body) and the same result", () =>
    Effect.gen(function*() {
      const requests: Array<{ method: string; url: string; headers: Record<string, string>; body: string }> = []
      const server = yield* Loopback.serve(Loopback.bodyThen((request, response, body) => {
        const headers: Record<string, string> = {}
        for (let i = 0; i < request.rawHeaders.length; i += 2) headers[request.rawHeaders[i]!.toLowerCase()] = request.rawHeaders[i + 1]!
        requests.push({ method: request.method ?? "", url: request.url ?? "", headers, body: body.toString() })
        response.writeHead(200, { "content-type": "application/json", "x-request-id": "req_lean" })
        response.end("{\"ok\":true}")
      }))
      const dispatcher = yield* recording
      const result = yield* compare(
        dispatcher,
        optionsFor(`${server.url}/v1?tenant=t1`, { headers: { "X-Title": "FlexiAI tests" }, urlParams: { "api-version": "2025-01-01" } }),
        (transport) => transport.sendJson("/chat/completions", { model: "m", n: 1 }, text)
      )
      assert.deepStrictEqual(result, { ok: "{\"ok\":true}", requestId: "req_lean" })
      const [lean, generic] = requests
      assert.deepStrictEqual(lean, generic)
      assert.strictEqual(lean!.url, "/v1/chat/completions?tenant=t1&api-version=2025-01-01")
      assert.strictEqual(lean!.headers["authorization"], `Bearer ${key}`)
      assert.strictEqual(lean!.headers["x-title"], "FlexiAI tests")
      assert.strictEqual(lean!.headers["content-type"], "application/json")
      assert.strictEqual(lean!.headers["content-length"], String(lean!.body.length))
      assert.strictEqual(lean!.body, "{\"model\":\"m\",\"n\":1}")
    }))

  it.live("non-2xx answers map the same way: status rows, Retry-After, a 3xx that is not followed, an echoed key masked", () =>
    Effect.gen(function*() {
      const server = yield* serve((request, response) => {
        switch (request.url) {
          case "/429":
            response.writeHead(429, { "retry-after": "7", "x-request-id": "req_429" })
            return response.end(JSON.stringify({ error: { message: "slow down" } }))
          case "/301":
            response.writeHead(301, { location: "https://elsewhere.example/v1" })
            return response.end()
          case "/401":
            response.writeHead(401, { "content-type": "application/json" })
            return response.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${request.headers["authorization"]}` } }))
          default:
            response.writeHead(418)
            return response.end("short and stout")
        }
      })
      const dispatcher = yield* recording
      const options = optionsFor(server.url, { errorBody: (body) => {
        try {
          return { message: (JSON.parse(body) as { error: { message: string } }).error.message }
        } catch {
          return undefined
        }
      } })
      const limited = yield* compare(dispatcher, options, (transport) => transport.sendJson("/429", {}, { ...text, model: "m" }))
      assert.strictEqual(limited["reason"], "RateLimited")
      assert.strictEqual(limited["requestId"], "req_429")
      const moved = yield* compare(dispatcher, options, (transport) => transport.sendJson("/301", {}, text))
      assert.include(String(moved["message"]), "elsewhere.example")
      const rejected = yield* compare(dispatcher, options, (transport) => transport.sendJson("/401", {}, text))
      assert.strictEqual(rejected["reason"], "Authentication")
      assert.notInclude(JSON.stringify(rejected), key.slice(8))
      const teapot = yield* compare(dispatcher, options, (transport) => transport.sendJson("/418", {}, text))
      assert.include(String(teapot["message"]), "418")
    }))

  it.live("body caps: an announced length past the cap, a chunked body that passes it, and an error page past it", () =>
    Effect.gen(function*() {
      const server = yield* serve((request, response) => {
        if (request.url === "/announced") {
          response.writeHead(200, { "content-length": "5000" })
          return response.end("y".repeat(5000))
        }
        if (request.url === "/error-page") {
          response.writeHead(503)
          return response.end("z".repeat(5000))
        }
        // no content-length: chunked, 1,000 bytes a piece
        response.writeHead(200)
        for (let i = 0; i < 5; i++) response.write("x".repeat(1000))
        response.end()
      })
      const dispatcher = yield* recording
      const options = optionsFor(server.url, { maxBodyBytes: 2500 })
      const announced = yield* compare(dispatcher, options, (transport) => transport.sendJson("/announced", {}, text))
      assert.strictEqual(announced["reason"], "MalformedResponse")
      assert.include(String(announced["message"]), "5000")
      const chunked = yield* compare(dispatcher, options, (transport) => transport.sendJson("/chunked", {}, text))
      assert.strictEqual(chunked["reason"], "MalformedResponse")
      const page = yield* compare(dispatcher, options, (transport) => transport.sendJson("/error-page", {}, text))
      assert.strictEqual(page["reason"], "ServerError")
      const undecodable = yield* compare(dispatcher, optionsFor(server.url), (transport) =>
        transport.sendJson("/chunked", {}, { decode: (): string | undefined => undefined, what: "chat completion" }))
      assert.include(String(undecodable["message"]), "undecodable chat completion (5000 bytes)")
    }))

  it.live("a refused connection and a body that breaks off are the same Connection and MalformedResponse errors", () =>
    Effect.gen(function*() {
      const server = yield* serve((_request, response) => {
        response.writeHead(200, { "content-length": "100" })
        response.write("{\"partial\":")
        setTimeout(() => response.destroy(), 20)
      })
      const dispatcher = yield* recording
      const broken = yield* compare(dispatcher, optionsFor(server.url), (transport) => transport.sendJson("/x", {}, text))
      assert.strictEqual(broken["reason"], "MalformedResponse")
      // a port nothing listens on: the one this server had, once it is closed
      const closed = yield* serve(() => undefined)
      closed.close()
      const refused = yield* compare(dispatcher, optionsFor(closed.url), (transport) => transport.sendJson("/x", {}, text))
      assert.strictEqual(refused["reason"], "Connection")
      assert.include(String(refused["message"]), "ECONNREFUSED")
    }))

  it.live("first-byte and total limits on the live clock end the call with the same Timeout, and the request is aborted", () =>
    Effect.gen(function*() {
      let aborted = 0
      const server = yield* serve((request, response) => {
        response.on("close", () => {
          if (!response.writableFinished) aborted++
        })
        // /silent never answers; /slow sends its head and a piece of body, then nothing
        if (request.url === "/slow") {
          response.writeHead(200)
          response.write("{")
        }
      })
      const dispatcher = yield* recording
      const options = optionsFor(server.url, {
        timeouts: { firstByte: Duration.millis(150), idle: Duration.seconds(5), total: Duration.millis(400) }
      })
      const silent = yield* compare(dispatcher, options, (transport) => transport.sendJson("/silent", {}, text))
      assert.strictEqual(silent["phase"], "first-byte")
      const slow = yield* compare(dispatcher, options, (transport) => transport.sendJson("/slow", {}, text))
      assert.strictEqual(slow["phase"], "total")
      yield* Effect.sleep(Duration.millis(100))
      assert.strictEqual(aborted, 4)
    }))

  it.live("interrupting the caller aborts the request at once", () =>
    Effect.gen(function*() {
      const closed = yield* Deferred.make<boolean>()
      const arrived = yield* Deferred.make<void>()
      const server = yield* serve((_request, response) => {
        response.on("close", () => Deferred.doneUnsafe(closed, Effect.succeed(!response.writableFinished)))
        Deferred.doneUnsafe(arrived, Effect.void)
      })
      const dispatcher = yield* recording
      const { lean } = both(dispatcher, optionsFor(server.url))
      const fiber = yield* Effect.forkChild(lean.sendJson("/hang", {}, text))
      yield* Deferred.await(arrived)
      yield* Fiber.interrupt(fiber)
      assert.isTrue(yield* Deferred.await(closed))
      assert.deepStrictEqual(dispatcher.handlers, ["TextExchange"])
    }))

  it.effect("the generic path is taken where the lean one would not give the same answer", () =>
    Effect.gen(function*() {
      const server = yield* serve((_request, response) => {
        response.writeHead(200)
        response.end("{}")
      })
      const dispatcher = yield* recording
      const client = UndiciHttpClient.make(dispatcher)
      const source = TokenSource.make(Effect.succeed({ value: Redacted.make("token-0123456789abcdef") }))
      const run = (transport: HttpTransport.HttpTransport) => Effect.asVoid(transport.sendJson("/x", {}, text))
      // a TestClock (this test's), then live with each option the lean path leaves to the generic one
      yield* run(HttpTransport.makeWith(client, optionsFor(server.url)))
      yield* TestClock.withLive(Effect.gen(function*() {
        yield* run(HttpTransport.makeWith(client, optionsFor(server.url, { auth: Auth.token(source) })))
        yield* run(HttpTransport.makeWith(client, optionsFor(server.url, { httpSpans: true })))
        // Debug logging writes the bodies, which the generic path does
        yield* run(HttpTransport.makeWith(client, optionsFor(server.url))).pipe(Effect.provideService(References.MinimumLogLevel, "Debug"))
        yield* run(HttpTransport.makeWith(client, optionsFor(server.url)))
      }))
      assert.deepStrictEqual(dispatcher.handlers, ["Exchange", "Exchange", "Exchange", "Exchange", "TextExchange"])
    }))
})
