/**
 * An Effect `HttpClient` over undici's `Dispatcher.dispatch`, built for the chat and stream hot
 * paths: one handler object per request, no Node `Readable` for the body, response headers mapped
 * only when read. It is built with `HttpClient.make`, so `HttpClient.withScope`, interruption (the
 * fiber's interruption aborts the socket request), URL errors, spans and trace headers behave as
 * with Effect's own clients, and failures are the same `HttpClientError` reasons as
 * `NodeHttpClient.layerUndici`'s: `TransportError` with undici's error as its `cause` before the
 * response head, `DecodeError` while reading the body.
 *
 * `sendText` is a leaner way in for the kit's own transport: one request, its whole body as text
 * within a cap, no fiber or `HttpClientRequest`, sent through the dispatcher of a client built here.
 *
 * What users get wrong:
 * - Timeouts are not here: compose `Effect.timeout` (or our `TimeLimit`) outside, as with Effect's
 *   clients (undici's own header and body timeouts are turned off). `connectTimeout` is the one
 *   limit undici applies itself.
 * - A response body that is never read, nor interrupted, nor scoped keeps its connection until the
 *   response is garbage-collected (Effect's `HttpClient.make` registers it for that). Read it, or
 *   use `HttpClient.withScope`.
 * - Request bodies are bytes, text or a `Stream`; `FormData` bodies and protocol upgrades are not
 *   supported (use `NodeHttpClient.layerUndici` for those): they fail with a `TransportError` that
 *   says so.
 *
 * @since 0.1.0
 */
import { Cause, Channel, Duration, Effect, Layer, Option, Scope, Stream } from "effect"
import type * as Arr from "effect/Array"
import { Cookies, Headers, HttpClient, HttpClientError, HttpClientRequest, HttpClientResponse, HttpIncomingMessage } from "effect/http"
import { UrlParams } from "effect/http"
import { format } from "effect/Formatter"
import * as Inspectable from "effect/Inspectable"
import { pipeArguments } from "effect/Pipeable"
import type * as Pull from "effect/Pull"
import type * as Schema from "effect/Schema"
import { Readable } from "node:stream"
import { Agent, type Dispatcher } from "undici"
import { concat } from "./internal/bytes.ts"

/**
 * `dispatcher`: send through this one (not closed with the layer); otherwise the layer makes an
 * `Agent` from `agent` and `connectTimeout` and closes it when released.
 *
 * @category models
 */
export interface Options {
  readonly dispatcher?: Dispatcher | undefined
  readonly connectTimeout?: Duration.Input | undefined
  readonly agent?: Agent.Options | undefined
}

/**
 * An `HttpClient` sending through `dispatcher`.
 *
 * @category constructors
 */
export const make = (dispatcher: Dispatcher): HttpClient.HttpClient => {
  const client = HttpClient.make((request, url, signal) => {
    const body = requestBody(request)
    if (body instanceof Unsupported) return Effect.fail(transportError(request, undefined, body.description))
    const exchange = new Exchange(request, url.hash === "" ? url.href : url.href.split("#")[0]!, signal)
    return Effect.callback<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((resume) => {
      exchange.resumeHead = resume
      try {
        dispatcher.dispatch({
          origin: url.origin,
          path: url.pathname + url.search,
          method: request.method,
          headers: request.headers,
          body,
          // timeouts are composed outside, as with Effect's undici client
          headersTimeout: 3_600_000,
          bodyTimeout: 0
        }, exchange)
      } catch (cause) {
        exchange.detach()
        exchange.resumeHead = undefined
        resume(Effect.fail(transportError(request, cause)))
      }
      return Effect.sync(() => exchange.abort(interrupted()))
    })
  })
  dispatchers.set(client, dispatcher)
  return client
}

// The clients `make` built, with their dispatchers: `dispatcherOf` answers only for these (a
// client wrapped by `HttpClient.mapRequest` and the like is another object, and is not here).
const dispatchers = new WeakMap<HttpClient.HttpClient, Dispatcher>()

/**
 * The dispatcher of a client built by `make` (or the layers), `undefined` for any other client,
 * wrapped ones included. The kit's `HttpTransport` sends non-streamed JSON calls straight through
 * it with `sendText` when it gets one.
 *
 * @category utils
 */
export const dispatcherOf = (client: HttpClient.HttpClient): Dispatcher | undefined => dispatchers.get(client)

/** Response headers as undici hands them over: names in lower case, repeated ones as arrays. @category models */
export type RawHeaders = Readonly<Record<string, string | ReadonlyArray<string> | undefined>>

/** One request for `sendText`. @category models */
export interface TextRequest {
  readonly origin: string
  /** Path and query. */
  readonly path: string
  readonly method: "GET" | "POST"
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | null
  /** The largest body read; past it (announced or counted) the answer is `TooLarge`. */
  readonly maxBodyBytes: number
  /** Called once, when the response head is in. */
  readonly onHead?: (() => void) | undefined
}

/**
 * How a `sendText` request ended, reported once. `status` is 0 when it failed before the head.
 *
 * @category models
 */
export type TextResult =
  | { readonly _tag: "Complete"; readonly status: number; readonly headers: RawHeaders; readonly text: string }
  | {
    readonly _tag: "TooLarge"
    readonly status: number
    readonly headers: RawHeaders
    /** The announced `content-length`, if that is how it was known. */
    readonly length: number | undefined
  }
  | { readonly _tag: "Failed"; readonly status: number; readonly headers: RawHeaders; readonly cause: unknown }

/**
 * Sends one request and reads its whole body as UTF-8 text, calling `done` once with how it
 * ended; the returned function cancels it (the request is aborted and `done` is not called).
 * No fiber, no `HttpClientRequest`, no response object: the leanest call undici allows, for the
 * transport's non-streamed JSON calls, which need the status, the headers and the text, and
 * time the call themselves (`TimeLimit.armUnsafe`). Nothing follows redirects (a 3xx is an answer
 * like any other), as with the client itself.
 *
 * @category utils
 */
export const sendText = (dispatcher: Dispatcher, request: TextRequest, done: (result: TextResult) => void): () => void => {
  const exchange = new TextExchange(request.maxBodyBytes, request.onHead, done)
  try {
    dispatcher.dispatch({
      origin: request.origin,
      path: request.path,
      method: request.method,
      headers: request.headers,
      body: request.body,
      headersTimeout: 3_600_000,
      bodyTimeout: 0
    }, exchange)
  } catch (cause) {
    exchange.settle({ _tag: "Failed", status: 0, headers: {}, cause })
  }
  return exchange.cancel
}

/**
 * The client as a layer, with its own `Agent` (closed with the layer) unless `options.dispatcher`
 * is given.
 *
 * @category layers
 */
export const layerWith = (options: Options = {}): Layer.Layer<HttpClient.HttpClient> =>
  Layer.effect(HttpClient.HttpClient)(
    options.dispatcher !== undefined
      ? Effect.succeed(make(options.dispatcher))
      : Effect.map(
        Effect.acquireRelease(
          Effect.sync(() =>
            new Agent({
              ...options.agent,
              ...(options.connectTimeout === undefined ? {} : { connectTimeout: Duration.toMillis(options.connectTimeout) })
            })
          ),
          (agent) => Effect.promise(() => agent.destroy())
        ),
        make
      )
  )

/**
 * The client with a default `Agent` of its own.
 *
 * @category layers
 */
export const layer: Layer.Layer<HttpClient.HttpClient> = layerWith()

// ---------------------------------------------------------------------------
// internal
// ---------------------------------------------------------------------------

type Body = Exclude<Dispatcher.DispatchOptions["body"], undefined>

/** Why a request cannot be sent (a class, so a raw string body is never mistaken for it). */
class Unsupported {
  readonly description: string
  constructor(description: string) {
    this.description = description
  }
}

/** The body undici sends, or why it cannot be sent. */
const requestBody = (request: HttpClientRequest.HttpClientRequest): Body | Unsupported => {
  if (request.headers["upgrade"] !== undefined) return new Unsupported("UndiciHttpClient does not do protocol upgrades")
  const body = request.body
  switch (body._tag) {
    case "Empty":
      return null
    case "Uint8Array":
      return body.body
    case "Raw":
      return body.body as Body
    case "Stream":
      return Readable.from(Stream.toAsyncIterable(body.stream))
    case "FormData":
      return new Unsupported("UndiciHttpClient does not send FormData bodies")
  }
}

const transportError = (request: HttpClientRequest.HttpClientRequest, cause: unknown, description?: string) =>
  new HttpClientError.HttpClientError({
    reason: new HttpClientError.TransportError({
      request,
      ...(cause === undefined ? {} : { cause }),
      ...(description === undefined ? {} : { description })
    })
  })

const interrupted = () => new Error("The request was interrupted")
const closed = () => new Error("The response body was closed before its end")

/** Above this many buffered body bytes undici is paused until the reader catches up. */
const highWaterMark = 64 * 1024

const State = { Head: 0, Body: 1, Ended: 2, Failed: 3 } as const
type State = (typeof State)[keyof typeof State]

/**
 * One request in flight: undici's handler (it calls the `on*` methods) and the response body's
 * buffer. Body bytes are kept as undici hands them over and given to the reader in one array per
 * pull, so a network read costs one push and no copy.
 */
class Exchange implements Dispatcher.DispatchHandler {
  readonly request: HttpClientRequest.HttpClientRequest
  readonly url: string
  readonly signal: AbortSignal
  resumeHead: ((effect: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>) => void) | undefined
  state: State = State.Head
  controller: Dispatcher.DispatchController | undefined = undefined
  abortReason: Error | undefined = undefined
  failure: unknown = undefined
  status = 0
  rawHeaders: Record<string, string | Array<string> | undefined> = {}
  chunks: Array<Uint8Array> = []
  buffered = 0
  wake: (() => void) | undefined = undefined
  response: UndiciResponse | undefined = undefined
  /** Set while the whole body is read: nothing to pause for, it is all kept anyway. */
  collecting = false

  constructor(request: HttpClientRequest.HttpClientRequest, url: string, signal: AbortSignal) {
    this.request = request
    this.url = url
    this.signal = signal
    // `HttpClient.make` aborts this signal on interruption (unscoped requests), when the body of an
    // unscoped response is done with, and when a `withScope` scope closes
    signal.addEventListener("abort", this)
  }

  /** The signal's listener (an object, so no closure per request). */
  handleEvent(): void {
    this.abort(this.signal.reason instanceof Error ? this.signal.reason : interrupted())
  }

  detach(): void {
    this.signal.removeEventListener("abort", this)
  }

  abort(reason: Error): void {
    if (this.state === State.Ended || this.state === State.Failed) return
    this.abortReason ??= reason
    this.controller?.abort(reason)
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller
    if (this.abortReason !== undefined) controller.abort(this.abortReason)
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | Array<string> | undefined>
  ): void {
    if (statusCode < 200) return
    this.status = statusCode
    this.rawHeaders = headers
    this.state = State.Body
    this.response = new UndiciResponse(this)
    const resume = this.resumeHead!
    this.resumeHead = undefined
    resume(Effect.succeed(this.response))
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Uint8Array): void {
    this.chunks.push(chunk)
    this.buffered += chunk.byteLength
    if (this.collecting) return
    if (this.buffered > highWaterMark) controller.pause()
    this.notify()
  }

  onResponseEnd(): void {
    this.state = State.Ended
    this.detach()
    this.notify()
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    const before = this.state
    this.state = State.Failed
    this.failure = error
    this.detach()
    if (before === State.Head) {
      const resume = this.resumeHead
      this.resumeHead = undefined
      resume?.(Effect.fail(transportError(this.request, error)))
    } else {
      this.notify()
    }
  }

  notify(): void {
    const wake = this.wake
    if (wake !== undefined) {
      this.wake = undefined
      wake()
    }
  }

  /** Hands out what is buffered and lets undici go on if it was paused. */
  take(): Arr.NonEmptyArray<Uint8Array> {
    const chunks = this.chunks as Arr.NonEmptyArray<Uint8Array>
    this.chunks = []
    this.buffered = 0
    if (this.controller?.paused === true) this.controller.resume()
    return chunks
  }

  decodeError(cause: unknown): HttpClientError.HttpClientError {
    return new HttpClientError.HttpClientError({
      reason: new HttpClientError.DecodeError({ request: this.request, response: this.response!, cause })
    })
  }

  /** Waits until there are bytes (unless the whole body is being collected), the end or a failure. */
  readonly waitForData: Effect.Effect<void> = Effect.callback<void>((resume) => {
    if ((this.chunks.length > 0 && !this.collecting) || this.state !== State.Body) return resume(Effect.void)
    this.wake = () => resume(Effect.void)
  })

  /** One pull of the body stream: the buffered chunks, or the end, or the failure. */
  readonly pull: Pull.Pull<Arr.NonEmptyReadonlyArray<Uint8Array>, HttpClientError.HttpClientError> = Effect.suspend(() => {
    if (this.chunks.length > 0) return Effect.succeed(this.take())
    if (this.state === State.Ended) return Cause.done()
    if (this.state === State.Failed) return Effect.fail(this.decodeError(this.failure))
    return Effect.flatMap(this.waitForData, () => this.pull)
  })

  /** The whole body, once (text, json and arrayBuffer share it). */
  bytes: Effect.Effect<Uint8Array, HttpClientError.HttpClientError> | undefined = undefined
  readAll(): Effect.Effect<Uint8Array, HttpClientError.HttpClientError> {
    return this.bytes ?? Effect.suspend(() => {
      if (this.bytes !== undefined) return this.bytes
      if (this.state === State.Ended) {
        this.bytes = Effect.succeed(concat(this.chunks))
        this.chunks = []
        this.buffered = 0
        return this.bytes
      }
      if (this.state === State.Failed) return Effect.fail(this.decodeError(this.failure))
      this.collecting = true
      if (this.controller?.paused === true) this.controller.resume()
      return Effect.flatMap(this.waitForData, () => this.readAll())
    })
  }
}

const tooLargeAbort = () => new Error("The response body passed its size cap")

/** `sendText`'s handler: the whole body, within its cap, then one report. */
class TextExchange implements Dispatcher.DispatchHandler {
  readonly maxBytes: number
  readonly onHead: (() => void) | undefined
  readonly done: (result: TextResult) => void
  controller: Dispatcher.DispatchController | undefined = undefined
  settled = false
  cancelled = false
  status = 0
  headers: RawHeaders = {}
  chunks: Array<Uint8Array> = []
  length = 0

  constructor(maxBytes: number, onHead: (() => void) | undefined, done: (result: TextResult) => void) {
    this.maxBytes = maxBytes
    this.onHead = onHead
    this.done = done
  }

  settle(result: TextResult): void {
    if (this.settled) return
    this.settled = true
    this.chunks = []
    this.done(result)
  }

  /** Ends the request without a report (the caller has its answer already). */
  readonly cancel = (): void => {
    if (this.settled) return
    this.settled = true
    this.cancelled = true
    this.controller?.abort(interrupted())
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller
    if (this.cancelled) controller.abort(interrupted())
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | Array<string> | undefined>
  ): void {
    if (statusCode < 200 || this.settled) return
    this.status = statusCode
    this.headers = headers
    this.onHead?.()
    const announced = headers["content-length"]
    if (typeof announced === "string") {
      const length = Number(announced)
      if (Number.isFinite(length) && length > this.maxBytes) {
        this.settle({ _tag: "TooLarge", status: statusCode, headers, length })
        controller.abort(tooLargeAbort())
      }
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Uint8Array): void {
    if (this.settled) return
    this.length += chunk.byteLength
    if (this.length > this.maxBytes) {
      this.settle({ _tag: "TooLarge", status: this.status, headers: this.headers, length: undefined })
      controller.abort(tooLargeAbort())
      return
    }
    this.chunks.push(chunk)
  }

  onResponseEnd(): void {
    if (this.settled) return
    const text = utf8.decode(concat(this.chunks, this.length))
    this.settle({ _tag: "Complete", status: this.status, headers: this.headers, text })
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.settle({ _tag: "Failed", status: this.status, headers: this.headers, cause: error })
  }
}

const utf8 = new TextDecoder()

class UndiciResponse implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: typeof HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [HttpIncomingMessage.TypeId]: typeof HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  readonly exchange: Exchange
  constructor(exchange: Exchange) {
    this.exchange = exchange
  }

  get request(): HttpClientRequest.HttpClientRequest {
    return this.exchange.request
  }
  get url(): string {
    return this.exchange.url
  }
  get status(): number {
    return this.exchange.status
  }

  private cachedHeaders: Headers.Headers | undefined = undefined
  get headers(): Headers.Headers {
    return this.cachedHeaders ??= Headers.fromInput(this.exchange.rawHeaders)
  }

  private cachedCookies: Cookies.Cookies | undefined = undefined
  get cookies(): Cookies.Cookies {
    if (this.cachedCookies !== undefined) return this.cachedCookies
    const header = this.exchange.rawHeaders["set-cookie"]
    return this.cachedCookies = header === undefined ? Cookies.empty : Cookies.fromSetCookie(header)
  }

  get remoteAddress(): Option.Option<string> {
    return Option.none()
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.HttpClientError> {
    const exchange = this.exchange
    // the request ends with the stream's scope: read to its end, failed, or closed early
    return Stream.fromChannel(Channel.fromTransform((_, scope) =>
      Effect.as(
        Scope.addFinalizer(
          scope,
          // the error (and its stack) only for a body closed before its end: a stream read to
          // its end, as nearly all are, has nothing to abort
          Effect.sync(() => {
            if (exchange.state === State.Head || exchange.state === State.Body) exchange.abort(closed())
          })
        ),
        exchange.pull
      )
    ))
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.HttpClientError> {
    return Effect.map(this.exchange.readAll(), (bytes) =>
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
        ? bytes.buffer
        : bytes.slice().buffer)
  }

  get text(): Effect.Effect<string, HttpClientError.HttpClientError> {
    return Effect.map(this.exchange.readAll(), (bytes) => utf8.decode(bytes))
  }

  get json(): Effect.Effect<Schema.Json, HttpClientError.HttpClientError> {
    return Effect.flatMap(this.text, (text) => {
      try {
        return Effect.succeed(text === "" ? null : JSON.parse(text) as Schema.Json)
      } catch (cause) {
        return Effect.fail(this.exchange.decodeError(cause))
      }
    })
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.HttpClientError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        // a leading "?" is form data; URLSearchParams would drop it as a query prefix
        try: () => UrlParams.fromInput(new URLSearchParams(text.replace(/^\?/, "%3F"))),
        catch: (cause) => this.exchange.decodeError(cause)
      }))
  }

  get formData(): Effect.Effect<FormData, HttpClientError.HttpClientError> {
    return Effect.flatMap(this.exchange.readAll(), (bytes) =>
      Effect.tryPromise({
        try: () => new globalThis.Response(bytes as Uint8Array<ArrayBuffer>, { headers: this.headers }).formData(),
        catch: (cause) => this.exchange.decodeError(cause)
      }))
  }

  get upgrade(): HttpClientResponse.HttpClientResponse["upgrade"] {
    return Effect.fail(transportError(this.exchange.request, undefined, "UndiciHttpClient does not do protocol upgrades"))
  }

  toJSON(): unknown {
    return HttpIncomingMessage.inspect(this, {
      _id: "effect/http/HttpClientResponse",
      request: this.exchange.request.toJSON(),
      status: this.status
    })
  }
  toString(): string {
    return format(this.toJSON())
  }
  [Inspectable.NodeInspectSymbol](): unknown {
    return this.toJSON()
  }
  pipe() {
    // oxlint-disable-next-line prefer-rest-params
    return pipeArguments(this, arguments)
  }
}
