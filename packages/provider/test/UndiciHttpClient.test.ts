import { NodeHttpClient } from "@effect/platform-node"
import { assert, layer } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Fiber, Layer, Option, Scope, Stream } from "effect"
import { HttpBody, HttpClient, HttpClientRequest } from "effect/http"
import * as Pull from "effect/Pull"
import { TestClock } from "effect/testing"
import * as Loopback from "@flexiai/testing/Loopback"
import type { ServerResponse } from "node:http"
import { Agent } from "undici"
import * as UndiciHttpClient from "../src/UndiciHttpClient.ts"

/** A node:http server on 127.0.0.1 for one test, closed with the test's scope. */
const serve = Loopback.serve

/** Resolves when the server sees the request's socket side go away before the response ended. */
const watchClose = (response: ServerResponse, closed: Deferred.Deferred<boolean>) =>
  response.on("close", () => Deferred.doneUnsafe(closed, Effect.succeed(!response.writableFinished)))

const utf8 = new TextDecoder()
const client = Effect.service(HttpClient.HttpClient)

// The same behaviour from ours and from Effect's undici client, the reference it must match
// (reasons, causes, interruption, scopes), so the code above the client stays unchanged.
const clients = [
  ["UndiciHttpClient", UndiciHttpClient.layer],
  ["reference: NodeHttpClient.layerUndici", NodeHttpClient.layerUndici]
] as const

for (const [name, clientLayer] of clients) layer(clientLayer)(name, (it) => {
  it.effect("sends a JSON request and reads the JSON response and its headers", () =>
    Effect.gen(function*() {
      const server = yield* serve((request, response) => {
        const parts: Array<Buffer> = []
        request.on("data", (part: Buffer) => parts.push(part))
        request.on("end", () => {
          const body = Buffer.concat(parts).toString()
          response.writeHead(201, { "content-type": "application/json", "x-echo-method": request.method ?? "" })
          response.end(JSON.stringify({ got: JSON.parse(body), auth: request.headers["authorization"] ?? null }))
        })
      })
      const http = yield* client
      const response = yield* http.execute(
        HttpClientRequest.post(`${server.url}/v1/echo`).pipe(
          HttpClientRequest.setHeader("authorization", "Bearer k"),
          HttpClientRequest.bodyJsonUnsafe({ hello: "world" })
        )
      )
      assert.strictEqual(response.status, 201)
      assert.strictEqual(response.headers["x-echo-method"], "POST")
      assert.strictEqual(response.url, `${server.url}/v1/echo`)
      assert.deepStrictEqual(yield* response.json, { got: { hello: "world" }, auth: "Bearer k" })
      // text shares the body already read
      assert.strictEqual(yield* response.text, JSON.stringify({ got: { hello: "world" }, auth: "Bearer k" }))
    }))

  it.effect("reads a large body whole, past the point where a stream reader would be paused", () =>
    Effect.gen(function*() {
      const big = "x".repeat(1024 * 1024)
      const server = yield* serve((_, response) => {
        response.writeHead(200, { "content-type": "text/plain" })
        response.end(big)
      })
      const http = yield* client
      const text = yield* Effect.flatMap(http.get(server.url), (response) => response.text)
      assert.strictEqual(text.length, big.length)
    }))

  it.effect("streams a body incrementally: the first bytes arrive before the server has ended", () =>
    Effect.gen(function*() {
      const finish = yield* Deferred.make<void>()
      const server = yield* serve((_, response) => {
        response.writeHead(200, { "content-type": "text/plain" })
        response.write("one ")
        Effect.runFork(Effect.map(Deferred.await(finish), () => response.end("two")))
      })
      const http = HttpClient.withScope(yield* client)
      const response = yield* http.get(server.url)
      const pull = yield* Stream.toPull(response.stream)
      const first = yield* pull
      assert.strictEqual(first.map((bytes) => utf8.decode(bytes)).join(""), "one ")
      yield* Deferred.succeed(finish, undefined)
      let rest = ""
      while (true) {
        const next = yield* Effect.exit(pull)
        if (Exit.isFailure(next)) {
          assert.isTrue(Pull.isDoneCause(next.cause), "the stream ends, it does not fail")
          break
        }
        rest += next.value.map((bytes) => utf8.decode(bytes)).join("")
      }
      assert.strictEqual(rest, "two")
    }))

  it.effect("interrupting the fiber mid-body closes the request on the server", () =>
    Effect.gen(function*() {
      const closed = yield* Deferred.make<boolean>()
      const firstRead = yield* Deferred.make<void>()
      const server = yield* serve((_, response) => {
        watchClose(response, closed)
        response.writeHead(200, { "content-type": "text/event-stream" })
        response.write("data: first\n\n") // then held open
      })
      const http = yield* client
      const fiber = yield* Effect.forkChild(
        Effect.flatMap(http.get(server.url), (response) =>
          Stream.runForEach(response.stream, () => Deferred.succeed(firstRead, undefined)))
      )
      yield* Deferred.await(firstRead)
      yield* Fiber.interrupt(fiber)
      assert.isTrue(yield* Deferred.await(closed), "the server saw the client go away before the end")
    }))

  it.effect("interrupting the fiber before the response head aborts the request", () =>
    Effect.gen(function*() {
      const closed = yield* Deferred.make<boolean>()
      const received = yield* Deferred.make<void>()
      const server = yield* serve((_, response) => {
        watchClose(response, closed)
        Deferred.doneUnsafe(received, Effect.void) // and never answer
      })
      const http = yield* client
      const fiber = yield* Effect.forkChild(http.get(server.url))
      yield* Deferred.await(received)
      yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.hasInterrupts(yield* Fiber.await(fiber)))
      assert.isTrue(yield* Deferred.await(closed))
    }))

  it.effect("a timeout composed outside aborts the request", () =>
    Effect.gen(function*() {
      const closed = yield* Deferred.make<boolean>()
      const received = yield* Deferred.make<void>()
      const server = yield* serve((_, response) => {
        watchClose(response, closed)
        Deferred.doneUnsafe(received, Effect.void)
      })
      const http = yield* client
      const fiber = yield* Effect.forkChild(Effect.exit(Effect.timeout(http.get(server.url), "1 second")))
      yield* Deferred.await(received)
      yield* TestClock.adjust("1 second")
      const exit = yield* Fiber.join(fiber)
      assert.isTrue(Exit.isFailure(exit) && Cause.pretty(exit.cause).includes("TimeoutError"))
      assert.isTrue(yield* Deferred.await(closed))
    }))

  it.effect("closing the scope of a scoped request ends its streamed response", () =>
    Effect.gen(function*() {
      const closed = yield* Deferred.make<boolean>()
      const server = yield* serve((_, response) => {
        watchClose(response, closed)
        response.writeHead(200, { "content-type": "text/event-stream" })
        response.write("data: first\n\n")
      })
      const http = HttpClient.withScope(yield* client)
      const scope = yield* Scope.make()
      const response = yield* Scope.provide(http.get(server.url), scope)
      assert.strictEqual(response.status, 200)
      assert.isFalse(Option.isSome(yield* Deferred.poll(closed)), "still open while the scope is")
      yield* Scope.close(scope, Exit.succeed(undefined))
      assert.isTrue(yield* Deferred.await(closed))
    }))

  it.effect("a refused connection is a TransportError carrying ECONNREFUSED", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const server = yield* Scope.provide(serve(() => undefined), scope)
      yield* Scope.close(scope, Exit.succeed(undefined)) // the port is free now
      const http = yield* client
      const error = yield* Effect.flip(http.get(server.url))
      assert.strictEqual(error.reason._tag, "TransportError")
      const cause = error.reason.cause as { readonly code?: string } | undefined
      assert.strictEqual(cause?.code, "ECONNREFUSED")
    }))

  it.effect("a connection lost mid-body is a DecodeError carrying undici's error, as with Effect's undici client", () =>
    Effect.gen(function*() {
      const server = yield* serve((_, response) => {
        response.writeHead(200, { "content-type": "text/event-stream" })
        response.write("data: first\n\n", () => response.socket?.destroy())
      })
      const http = HttpClient.withScope(yield* client)
      const response = yield* http.get(server.url)
      const error = yield* Effect.flip(Stream.runDrain(response.stream))
      assert.strictEqual(error.reason._tag, "DecodeError")
      assert.strictEqual(error.reason._tag === "DecodeError" && error.reason.response, response)
      assert.instanceOf(error.reason.cause, Error)
    }))

  it.effect("a body that is not JSON fails json with a DecodeError", () =>
    Effect.gen(function*() {
      const server = yield* serve((_, response) => {
        response.writeHead(200, { "content-type": "application/json" })
        response.end("{not json")
      })
      const http = yield* client
      const error = yield* Effect.flip(Effect.flatMap(http.get(server.url), (response) => response.json))
      assert.strictEqual(error.reason._tag, "DecodeError")
      assert.instanceOf(error.reason.cause, SyntaxError)
    }))

})

/** A server answering with the request's body as it came. */
const echo = serve((request, response) => {
  const parts: Array<Buffer> = []
  request.on("data", (part: Buffer) => parts.push(part))
  request.on("end", () => response.end(Buffer.concat(parts)))
})

layer(UndiciHttpClient.layer)("UndiciHttpClient only", (it) => {
  it.effect("sends raw string and streamed request bodies", () =>
    Effect.gen(function*() {
      const server = yield* echo
      const http = yield* client
      const send = (body: HttpBody.HttpBody) =>
        Effect.flatMap(http.execute(HttpClientRequest.post(server.url).pipe(HttpClientRequest.setBody(body))), (response) => response.text)
      assert.strictEqual(yield* send(HttpBody.raw("plain string")), "plain string")
      const encoder = new TextEncoder()
      assert.strictEqual(yield* send(HttpBody.stream(Stream.make(encoder.encode("one "), encoder.encode("two")))), "one two")
    }))

  it.effect("refuses FormData bodies with a TransportError that says so, before any request", () =>
    Effect.gen(function*() {
      let requests = 0
      const server = yield* serve((_, response) => {
        requests++
        response.end()
      })
      const http = yield* client
      const error = yield* Effect.flip(http.execute(HttpClientRequest.post(server.url).pipe(HttpClientRequest.bodyFormData(new FormData()))))
      assert.strictEqual(error.reason._tag, "TransportError")
      assert.include(error.reason.description ?? "", "FormData")
      assert.strictEqual(requests, 0)
    }))

  it.effect("with a given dispatcher, the layer leaves it open", () =>
    Effect.gen(function*() {
      const server = yield* serve((_, response) => response.end("ok"))
      const agent = new Agent()
      const text = yield* Effect.flatMap(Effect.service(HttpClient.HttpClient), (http) =>
        Effect.flatMap(http.get(server.url), (response) => response.text)).pipe(
          Effect.provide(Layer.fresh(UndiciHttpClient.layerWith({ dispatcher: agent })))
        )
      assert.strictEqual(text, "ok")
      assert.isFalse(agent.closed)
      yield* Effect.promise(() => agent.close())
    }))
})
