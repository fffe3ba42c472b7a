/**
 * The HTTP transport every provider builds its client on: base URL, auth (`Auth`), headers,
 * timeouts, status → reason mapping, body caps (streamed bodies too), Debug-only body logging,
 * scoped streaming and the provider's request id. It takes `HttpClient` from context, so apps choose the backend and tests
 * point it at `MockProviderServer`. A provider supplies only what differs: its extra status rows,
 * its request-id header names, how its error bodies read.
 *
 * Every failure leaves as a `ProviderError` with a classified reason and the provider's request
 * id; every secret given to it (keys, a token source's recent tokens, a signer's secrets) is masked
 * out of provider messages. Gotcha: `timeouts.firstByte` covers connecting *and* waiting for the
 * response headers; a slow stream after its headers is caught by `timeouts.idle` instead.
 *
 * This is the hot path of every call: combinators rather than generators, headers built once for
 * static auth, the log level read once per call, the request id read only when asked for. Over
 * the kit's own `UndiciHttpClient`, non-streamed JSON calls take a lean path straight to undici
 * (see `leanPath` for when, and why it gives the same answers).
 *
 * @since 0.2.0
 */
import { Clock, Context, Duration, Effect, type Fiber, LogLevel, Option, Redacted, References, type Scope, Stream, Tracer } from "effect"
import { constTrue, identity } from "effect/Function"
import { Headers, HttpBody, HttpClient, HttpClientError, HttpClientRequest, HttpClientResponse, UrlParams } from "effect/http"
import type { Dispatcher } from "undici"
import * as ProviderError from "@flexiai/core/ProviderError"
import { Connection, MalformedResponse, Timeout } from "@flexiai/core/ProviderError"
import * as TimeLimit from "@flexiai/core/TimeLimit"
import type * as Auth from "./Auth.ts"
import * as BaseUrl from "./BaseUrl.ts"
import * as BodyLimit from "./BodyLimit.ts"
import * as MaskingTracer from "./internal/maskingTracer.ts"
import { idleTimeout as idleTimeoutOf } from "./Idle.ts"
import * as Mask from "./Mask.ts"
import * as RateLimitHeaders from "./RateLimitHeaders.ts"
import * as StatusReasons from "./StatusReasons.ts"
import type * as TokenSource from "./TokenSource.ts"
import * as UndiciHttpClient from "./UndiciHttpClient.ts"

type Reason = ProviderError.ProviderErrorReason

/** What a provider's error mapping sees of a non-2xx response. `mask` scrubs its message. @category models */
export interface ErrorResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: string
  readonly nowMillis: number
  readonly mask: Mask.Mask
  readonly model?: string | undefined
}

/** The parts of an error body the default mapping reads. @category models */
export interface ErrorBody {
  readonly message?: string | undefined
  readonly param?: string | undefined
  /** The provider's error code and type, for rows that look at them. */
  readonly detail?: string | undefined
}

/** @category models */
export interface Timeouts {
  readonly firstByte: Duration.Duration
  readonly idle: Duration.Duration
  readonly total: Duration.Duration
}

/** @category models */
export interface Options {
  /** The provider's name in errors. */
  readonly name: string
  /**
   * Paths are appended to it (trailing slashes dropped). A query string in it is kept as query
   * parameters after the path, and its values and any `user:password@` are masked like keys
   * (config refuses such URLs: `BaseUrl`).
   */
  readonly baseUrl: string
  /** Default `none`. */
  readonly auth?: Auth.Auth | undefined
  /** Headers on every request (the provider's own, attribution). Values of 20+ characters are masked too. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** More secrets to mask out of provider messages (a key the auth does not send, a client secret). */
  readonly secrets?: ReadonlyArray<Redacted.Redacted<string> | string> | undefined
  /** Query parameters on every request (Azure's `api-version`). */
  readonly urlParams?: Readonly<Record<string, string>> | undefined
  /** `Duration.infinity` switches a limit off. */
  readonly timeouts: Timeouts
  /** Effect's own span per request and trace headers to the provider. Default `false`. */
  readonly httpSpans?: boolean | undefined
  /** The largest non-streamed body read, in bytes. Default `BodyLimit.defaultMaxBytes` (32 MiB). */
  readonly maxBodyBytes?: number | undefined
  /**
   * The largest streamed body, in bytes, counted over the whole stream; past it the stream fails
   * with `MalformedResponse`. Default `BodyLimit.defaultMaxStreamBytes` (256 MiB); `Infinity`: no cap.
   */
  readonly maxStreamBytes?: number | undefined
  /** Default `StatusReasons.defaults`; extend it with `StatusReasons.extend`. */
  readonly statusTable?: StatusReasons.Table | undefined
  /** Where the provider puts its request id, in lower case, first match wins. Default `["x-request-id", "request-id"]`. */
  readonly requestIdHeaders?: ReadonlyArray<string> | undefined
  /** Reads the message (and param, code) out of an error body, for the default mapping. Default: none, the body's start is the message. */
  readonly errorBody?: ((body: string) => ErrorBody | undefined) | undefined
  /** Replaces the default mapping of a non-2xx response (for providers whose body codes decide before the status). */
  readonly reasonFromResponse?: ((response: ErrorResponse) => Reason) | undefined
}

/** The provider's request id. Read it once the response is needed: it is looked up on first access. @category models */
export interface Sent<A> {
  readonly parsed: A
  readonly requestId: string | undefined
}

/** An accepted streaming call: its body's bytes, and the provider's request id. @category models */
export interface ByteStream {
  readonly bytes: Stream.Stream<Uint8Array, ProviderError.ProviderError>
  readonly requestId: string | undefined
}

/** How a body becomes a value: `undefined` means undecodable (a `MalformedResponse` naming `what`). @category models */
export interface Decode<A> {
  readonly decode: (text: string) => A | undefined
  /** Names the body in the error: `undecodable ${what} (n bytes)`. */
  readonly what: string
}

/** @category models */
export interface HttpTransport {
  readonly name: string
  readonly timeouts: Timeouts
  /** Scrubs every secret the transport was given (and anything that looks like a starred key) out of a text. */
  readonly mask: Mask.Mask
  /** A `ProviderError` of this provider. */
  readonly fail: (reason: Reason, extra?: { readonly model?: string | undefined; readonly requestId?: string | undefined }) => ProviderError.ProviderError
  /** POSTs `body` as JSON and reads the answer within the body cap and `timeouts.total`. */
  readonly sendJson: <A>(
    path: string,
    body: unknown,
    options: Decode<A> & { readonly model?: string | undefined }
  ) => Effect.Effect<Sent<A>, ProviderError.ProviderError>
  /**
   * POSTs `body` as JSON; succeeds once the provider accepted it (2xx). The response lives in the
   * caller's scope: closing the scope ends the request. `timeouts.idle` per read, no whole-stream
   * time limit; the body is capped at `maxStreamBytes` (a `MalformedResponse` past it).
   */
  readonly openStream: (
    path: string,
    body: unknown,
    options: { readonly model?: string | undefined; readonly accept: string }
  ) => Effect.Effect<ByteStream, ProviderError.ProviderError, Scope.Scope>
  /** GETs `path` and reads the answer within the body cap and `timeouts.total`. */
  readonly get: <A>(path: string, options: Decode<A>) => Effect.Effect<Sent<A>, ProviderError.ProviderError>
}

const maxLoggedBody = 16_384

/**
 * The `User-Agent` every provider request carries, naming FlexiAI and its version (providers use
 * it in their logs and support answers). A provider's `headers` may replace it. The version is
 * the kit's package version; a test holds the two equal.
 *
 * @category constants
 */
export const userAgent = "flexiai/0.1.0"

const encoder = new TextEncoder()
const emptyBytes = new Uint8Array(0)

const defaultRequestIdHeaders = ["x-request-id", "request-id"]

/** The mapping used when the provider gives none: the status table over the (masked) error message. */
const tableReason = (table: StatusReasons.Table, errorBody: ((body: string) => ErrorBody | undefined) | undefined) =>
(response: ErrorResponse): Reason => {
  const fields = errorBody?.(response.body)
  const fallback = response.body.trim() === "" ? `HTTP ${response.status}` : `HTTP ${response.status}: ${response.body.slice(0, 200)}`
  return StatusReasons.reasonFor(table, {
    status: response.status,
    headers: response.headers,
    message: response.mask(fields?.message ?? fallback),
    nowMillis: response.nowMillis,
    model: response.model,
    // the provider names the field it blamed in its own words: an echoed key can be there too
    param: fields?.param === undefined ? undefined : response.mask(fields.param),
    detail: fields?.detail
  })
}

/** Builds the transport, reading `HttpClient` from context. @category constructors */
export const make = (options: Options): Effect.Effect<HttpTransport, never, HttpClient.HttpClient> =>
  HttpClient.HttpClient.useSync((client) => makeWith(client, options))

/** Builds the transport over a given client. @category constructors */
export const makeWith = (client: HttpClient.HttpClient, options: Options): HttpTransport => {
  const name = options.name
  const { base: baseUrl, params: baseParams } = BaseUrl.split(options.baseUrl)
  const auth: Auth.Auth = options.auth ?? { _tag: "None" }
  const timeouts = options.timeouts
  const maxBodyBytes = options.maxBodyBytes ?? BodyLimit.defaultMaxBytes
  const maxStreamBytes = options.maxStreamBytes ?? BodyLimit.defaultMaxStreamBytes
  const urlParams = baseParams.length === 0
    ? options.urlParams
    : { ...Object.fromEntries(baseParams), ...options.urlParams }
  const reasonOfResponse = options.reasonFromResponse ??
    tableReason(options.statusTable ?? StatusReasons.defaults, options.errorBody)

  const staticMask = Mask.make([
    ...(auth._tag === "Header" || auth._tag === "Bearer" ? [auth.key] : auth._tag === "Signer" ? auth.secrets : []),
    ...Object.values(options.headers ?? {}).filter((value) => value.length >= 20),
    ...BaseUrl.secretsOf(options.baseUrl),
    ...(options.secrets ?? [])
  ])
  // a token source's tokens are masked, the replaced ones too (a late error of a request sent
  // with one): the source keeps the latest it handed out, and the mask is rebuilt when that changes
  // (a signer's renewed keys likewise, through its `recentSecrets`)
  let tokenMask: { readonly recent: ReadonlyArray<Redacted.Redacted<string>>; readonly mask: Mask.Mask } | undefined
  const tokenMaskOf = (recentOf: () => ReadonlyArray<Redacted.Redacted<string>>): Mask.Mask => {
    const recent = recentOf()
    if (tokenMask?.recent !== recent) tokenMask = { recent, mask: Mask.make(recent) }
    return tokenMask.mask
  }
  const recentSecrets = auth._tag === "Token"
    ? (auth.source as TokenSource.TokenSource<Reason>).recent
    : auth._tag === "Signer"
    ? auth.recentSecrets
    : undefined
  const mask: Mask.Mask = recentSecrets === undefined ? staticMask : (text: string) => tokenMaskOf(recentSecrets)(staticMask(text))
  const bearerOf = (token: Redacted.Redacted<string>): string => `Bearer ${Redacted.value(token)}`

  const idNames = options.requestIdHeaders ?? defaultRequestIdHeaders
  // direct lookups in lower case, no scan of the header map; masked, as a server (or a proxy in
  // front of it) that echoes a request header into its id header would hand the key back here
  const requestIdOf = (headers: Readonly<Record<string, string | undefined>>): string | undefined => {
    for (let i = 0; i < idNames.length; i++) {
      const value = headers[idNames[i]!]
      if (value !== undefined) return mask(value)
    }
    return undefined
  }

  const redactedNames = auth._tag === "Header"
    ? ["authorization", "cookie", "set-cookie", "x-api-key", auth.name.toLowerCase()]
    : auth._tag === "Signer"
    ? ["authorization", "cookie", "set-cookie", "x-api-key", ...auth.redactedNames.map((header) => header.toLowerCase())]
    : undefined

  // Static auth: every request carries the same headers, built once here rather than by a
  // `mapRequest` per request (each header set there copies the header map again).
  const baseHeaders = Headers.fromInput({
    "user-agent": userAgent,
    ...(auth._tag === "Bearer" ? { authorization: `Bearer ${Redacted.value(auth.key)}` } : {}),
    ...(auth._tag === "Header" ? { [auth.name]: Redacted.value(auth.key) } : {}),
    ...options.headers
  })
  const jsonHeaders = Headers.set(baseHeaders, "accept", "application/json")
  const acceptHeaders = new Map<string, Headers.Headers>([["application/json", jsonHeaders]])
  const headersAccepting = (accept: string): Headers.Headers => {
    let headers = acceptHeaders.get(accept)
    if (headers === undefined) {
      headers = Headers.set(baseHeaders, "accept", accept)
      acceptHeaders.set(accept, headers)
    }
    return headers
  }

  // A JSON POST is built in one step (`makeWith`), with the content type already in its headers:
  // the same request `HttpClientRequest.make` gives (same headers in the same order), without the
  // five intermediate requests and three header copies its option-by-option `modify` makes.
  const withJsonType = new Map<Headers.Headers, Headers.Headers>()
  const requestTo = (method: "GET" | "POST", path: string, headers: Headers.Headers, body: string | undefined) => {
    if (body === undefined || urlParams !== undefined) {
      return HttpClientRequest.make(method)(`${baseUrl}${path}`, {
        headers,
        ...(urlParams === undefined ? {} : { urlParams }),
        ...(body === undefined ? {} : { body: HttpBody.text(body, "application/json") })
      })
    }
    let typed = withJsonType.get(headers)
    if (typed === undefined) {
      typed = Headers.set(headers, "content-type", "application/json")
      withJsonType.set(headers, typed)
    }
    const bytes = HttpBody.text(body, "application/json")
    return HttpClientRequest.makeWith(
      method,
      `${baseUrl}${path}`,
      UrlParams.empty,
      Option.none(),
      Headers.set(typed, "content-length", String(bytes.contentLength)),
      bytes
    )
  }

  // What every request runs with: no HTTP span unless asked for, and secret headers redacted
  // wherever effect prints request headers. One context, merged per request.
  const overrides = Context.empty().pipe(
    options.httpSpans === true ? identity : Context.add(HttpClient.TracerDisabledWhen, constTrue),
    redactedNames === undefined ? identity : Context.add(Headers.CurrentRedactedNames, redactedNames)
  )
  const noOverrides = options.httpSpans === true && redactedNames === undefined
  // With spans on, the client span's attributes (response headers among them, which header-name
  // redaction does not cover) go through the mask: see internal/maskingTracer.ts
  const maskingTracerOf = options.httpSpans === true ? MaskingTracer.cached(mask) : undefined

  const fail = (reason: Reason, extra: { readonly model?: string | undefined; readonly requestId?: string | undefined } = {}) =>
    ProviderError.make(name, reason, extra)

  /** The error for a limit that ran out (built only then: an error with its stack is not free). */
  const timedOut = (
    phase: "first-byte" | "total" | "idle",
    limit: Duration.Duration,
    message: string,
    extra: { readonly model?: string | undefined; readonly requestId?: string | undefined }
  ) => fail(new Timeout({ message: `${message} ${Duration.format(limit)}`, phase, afterMillis: Duration.toMillis(limit) }), extra)

  // Streams go through a scoped client: the response lives in the stream's scope. Effect's
  // unscoped client instead wraps every response to abort the request when its body ends, which
  // costs an uninterruptible region, a FinalizationRegistry entry and two more stream layers per
  // request (and a step on every read), all on the way to the first token.
  const scopedClient = HttpClient.withScope(client)

  /** The request a signer signs and the wire carries: URL with its query, body as bytes. */
  const signed = (
    sign: Auth.Signer,
    method: "GET" | "POST",
    path: string,
    headers: Headers.Headers,
    body: string | undefined
  ): Effect.Effect<HttpClientRequest.HttpClientRequest, Reason> => {
    const url = new URL(`${baseUrl}${path}`)
    if (urlParams !== undefined) for (const [key, value] of Object.entries(urlParams)) url.searchParams.append(key, value)
    const bytes = body === undefined ? emptyBytes : encoder.encode(body)
    const wireHeaders: Record<string, string> = { ...headers }
    if (body !== undefined) wireHeaders["content-type"] = "application/json"
    return Effect.map(sign({ method, url, headers: wireHeaders, body: bytes }), (added) =>
      HttpClientRequest.make(method)(url, {
        headers: Headers.setAll(headers, added),
        ...(body === undefined ? {} : { body: HttpBody.uint8Array(bytes, "application/json") })
      }))
  }

  /** Sends a request and waits for the response headers, within `firstByte`. */
  const execute = <R>(
    method: "GET" | "POST",
    path: string,
    headers: Headers.Headers,
    body: string | undefined,
    model: string | undefined,
    via: HttpClient.HttpClient.With<HttpClientError.HttpClientError, R>
  ) => {
    const send = (request: HttpClientRequest.HttpClientRequest) => {
      const sent = maskingTracerOf === undefined
        ? via.execute(request)
        : Effect.withFiber((fiber) => Effect.withTracer(via.execute(request), maskingTracerOf(fiber.getRef(Tracer.Tracer))))
      return (noOverrides ? sent : Effect.provideContext(sent, overrides)).pipe(
        Effect.mapError((error) => fail(StatusReasons.reasonFromHttpClientError(error, mask), { model }))
      )
    }
    const authError = (reason: Reason) => fail(reason, { model })
    let sending: Effect.Effect<HttpClientResponse.HttpClientResponse, ProviderError.ProviderError, R>
    switch (auth._tag) {
      case "Token": {
        const request = requestTo(method, path, headers, body)
        const source = auth.source
        const withToken = (token: Redacted.Redacted<string>) => send(HttpClientRequest.setHeader(request, "authorization", bearerOf(token)))
        sending = Effect.flatMap(
          Effect.mapError(source.get, authError),
          (token) =>
            Effect.flatMap(withToken(token), (response) =>
              response.status === 401
                // the token may have been revoked or rotated early: one renewal and one more try,
                // after the 401's body is read off (within the body cap, under `firstByte` like
                // the rest), so its connection goes back to the pool instead of staying busy
                ? Effect.andThen(
                  Effect.ignore(BodyLimit.readText(response, maxBodyBytes)),
                  Effect.flatMap(Effect.mapError(source.refresh(token), authError), withToken)
                )
                : Effect.succeed(response))
        )
        break
      }
      case "Signer": {
        sending = Effect.flatMap(Effect.mapError(signed(auth.sign, method, path, headers, body), authError), send)
        break
      }
      default:
        sending = send(requestTo(method, path, headers, body))
    }
    return TimeLimit.within(sending, timeouts.firstByte, () =>
      timedOut("first-byte", timeouts.firstByte, "no response headers within", { model }))
  }

  /** Fails with the mapped reason of a response that is not 2xx. */
  /** The error of a non-2xx answer (both paths): its mapped reason and its request id. */
  const statusError = (
    status: number,
    headers: Record<string, string>,
    body: string,
    nowMillis: number,
    model: string | undefined
  ) => fail(reasonOfResponse({ status, headers, body, nowMillis, mask, model }), { model, requestId: requestIdOf(headers) })

  const failStatus = (response: HttpClientResponse.HttpClientResponse, model: string | undefined) => {
    const headers: Record<string, string> = { ...response.headers }
    // an error page is read within the body cap too; past it (or unreadable) it is mapped by status alone
    return Effect.flatMap(
      Effect.zip(BodyLimit.readText(response, maxBodyBytes).pipe(Effect.orElseSucceed(() => "")), Clock.currentTimeMillis),
      ([body, nowMillis]) => Effect.fail(statusError(response.status, headers, body, nowMillis, model))
    )
  }

  /** A 2xx body decoded (both paths): the value with its lazy request id, or `MalformedResponse`. */
  const decodedBody = <A>(
    text: string,
    decoding: Decode<A>,
    model: string | undefined,
    requestIdNow: () => string | undefined
  ): Effect.Effect<Sent<A>, ProviderError.ProviderError> => {
    const parsed = decoding.decode(text)
    return parsed === undefined
      ? Effect.fail(
        fail(new MalformedResponse({ message: `undecodable ${decoding.what} (${text.length} bytes)` }), {
          model,
          requestId: requestIdNow()
        })
      )
      : Effect.succeed<Sent<A>>({
        parsed,
        get requestId() {
          return requestIdNow()
        }
      })
  }

  const checkStatus = (response: HttpClientResponse.HttpClientResponse, model: string | undefined) =>
    response.status >= 200 && response.status < 300 ? Effect.succeed(response) : failStatus(response, model)

  // Wire bodies are logged at Debug only (they hold prompts and answers), with every secret masked;
  // the level is read once per call so other levels pay nothing for them.
  const debugEnabled = (fiber: Fiber.Fiber<unknown, unknown>) =>
    !LogLevel.isGreaterThan(fiber.getRef(References.MinimumLogLevel), "Debug")
  const requestLine = (path: string, json: string) =>
    Effect.logDebug("provider http request").pipe(Effect.annotateLogs({ provider: name, path, body: mask(json) }))

  /** Reads a 2xx body within the cap and decodes it; logs it at Debug when `debug`. */
  const readBody = <A>(
    response: HttpClientResponse.HttpClientResponse,
    decoding: Decode<A>,
    model: string | undefined,
    debug: boolean
  ): Effect.Effect<Sent<A>, ProviderError.ProviderError> => {
    // looked up (and masked) when something reads it, as for streams: a successful call usually
    // never does, and the response's header map is built anew on each access
    let requestId: string | undefined | null = null
    const requestIdNow = () => requestId === null ? (requestId = requestIdOf(response.headers)) : requestId
    return Effect.matchEffect(BodyLimit.readText(response, maxBodyBytes), {
      onFailure: (error) =>
        Effect.fail(
          fail(error._tag === "MalformedResponse" ? error : StatusReasons.reasonFromHttpClientError(error, mask), {
            model,
            requestId: requestIdNow()
          })
        ),
      onSuccess: (text) => {
        const result = decodedBody(text, decoding, model, requestIdNow)
        return debug
          ? Effect.andThen(
            Effect.logDebug("provider http response").pipe(Effect.annotateLogs({
              provider: name,
              status: response.status,
              requestId: requestIdNow(),
              body: mask(text.length > maxLoggedBody ? `${text.slice(0, maxLoggedBody)}… (${text.length} bytes)` : text)
            })),
            result
          )
          : result
      }
    })
  }

  // Combinators rather than a generator: this runs on every call, and each step counts there.
  const sendJsonGeneric = <A>(
    path: string,
    json: string,
    decoding: Decode<A>,
    model: string | undefined,
    debug: boolean,
    listener: RateLimitHeaders.Listener | undefined
  ) => {
    const executed = execute("POST", path, jsonHeaders, json, model, client)
    const call = Effect.flatMap(
      listener === undefined ? executed : Effect.map(executed, (response) => {
        listener(response.headers)
        return response
      }),
      (response) => response.status < 200 || response.status >= 300 ? failStatus(response, model) : readBody(response, decoding, model, debug)
    )
    return TimeLimit.within(
      debug ? Effect.andThen(requestLine(path, json), call) : call,
      timeouts.total,
      () => timedOut("total", timeouts.total, "no complete answer within", { model })
    )
  }

  const lean = leanPath(client, options, auth, baseUrl, urlParams, jsonHeaders)

  /**
   * The same call as `sendJsonGeneric`, in one callback (see `leanPath`): the response's status,
   * headers and text go through the same mapping, and the first-byte and total limits are two
   * deadlines on `TimeLimit`'s shared timer instead of two fibers.
   */
  const sendJsonLean = <A>(
    path: string,
    json: string,
    decoding: Decode<A>,
    model: string | undefined,
    via: Lean,
    listener: RateLimitHeaders.Listener | undefined
  ): Effect.Effect<Sent<A>, ProviderError.ProviderError> =>
    Effect.callback<Sent<A>, ProviderError.ProviderError>((resume) => {
      const now = Date.now()
      let headDeadline: TimeLimit.Deadline | undefined
      let endDeadline: TimeLimit.Deadline | undefined
      let cancel: (() => void) | undefined
      const finish = (effect: Effect.Effect<Sent<A>, ProviderError.ProviderError>) => {
        if (headDeadline !== undefined) TimeLimit.disarmUnsafe(headDeadline)
        if (endDeadline !== undefined) TimeLimit.disarmUnsafe(endDeadline)
        resume(effect)
      }
      const expire = (error: () => ProviderError.ProviderError) => () => {
        cancel?.()
        finish(Effect.fail(error()))
      }
      // an enclosing total that ends no later makes the first-byte limit moot, as with `within`
      if (via.totalMillis < Infinity) {
        endDeadline = TimeLimit.armUnsafe(
          now + via.totalMillis,
          expire(() => timedOut("total", timeouts.total, "no complete answer within", { model }))
        )
      }
      if (via.firstByteMillis < via.totalMillis) {
        headDeadline = TimeLimit.armUnsafe(
          now + via.firstByteMillis,
          expire(() => timedOut("first-byte", timeouts.firstByte, "no response headers within", { model }))
        )
      }
      cancel = UndiciHttpClient.sendText(via.dispatcher, {
        origin: via.origin,
        path: via.pathOf(path),
        method: "POST",
        headers: via.headers,
        body: json,
        maxBodyBytes,
        onHead: () => {
          if (headDeadline !== undefined) TimeLimit.disarmUnsafe(headDeadline)
        }
      }, (result) => {
        if (listener !== undefined && result.status !== 0) listener({ ...Headers.fromInput(result.headers) })
        finish(leanOutcome(result, path, json, decoding, model))
      })
      return Effect.sync(() => {
        if (headDeadline !== undefined) TimeLimit.disarmUnsafe(headDeadline)
        if (endDeadline !== undefined) TimeLimit.disarmUnsafe(endDeadline)
        cancel!()
      })
    })

  /** What a lean call's result means: the mapping `execute`, `failStatus` and `readBody` apply. */
  const leanOutcome = <A>(
    result: UndiciHttpClient.TextResult,
    path: string,
    json: string,
    decoding: Decode<A>,
    model: string | undefined
  ): Effect.Effect<Sent<A>, ProviderError.ProviderError> => {
    const { status } = result
    let requestId: string | undefined | null = null
    const requestIdNow = () => requestId === null ? (requestId = requestIdOf(Headers.fromInput(result.headers))) : requestId
    if (status === 0) {
      // before the head: as `execute` maps the client's transport error
      const request = requestTo("POST", path, jsonHeaders, json)
      const cause = result._tag === "Failed" ? result.cause : undefined
      return Effect.fail(fail(StatusReasons.reasonFromHttpClientError(transportError(request, cause), mask), { model }))
    }
    if (status < 200 || status >= 300) {
      // past the cap or broken off, an error page is mapped by its status alone (as `failStatus`)
      const body = result._tag === "Complete" ? result.text : ""
      return Effect.fail(statusError(status, { ...Headers.fromInput(result.headers) }, body, Date.now(), model))
    }
    switch (result._tag) {
      case "TooLarge":
        return Effect.fail(fail(BodyLimit.tooLarge(maxBodyBytes, result.length), { model, requestId: requestIdNow() }))
      case "Failed": {
        const request = requestTo("POST", path, jsonHeaders, json)
        return Effect.fail(
          fail(StatusReasons.reasonFromHttpClientError(decodeError(request, status, result.cause), mask), {
            model,
            requestId: requestIdNow()
          })
        )
      }
      case "Complete":
        return decodedBody(result.text, decoding, model, requestIdNow)
    }
  }

  const sendJson = <A>(path: string, body: unknown, decoding: Decode<A> & { readonly model?: string | undefined }) =>
    Effect.withFiber<Sent<A>, ProviderError.ProviderError>((fiber) => {
      const model = decoding.model
      const json = JSON.stringify(body)
      const debug = debugEnabled(fiber)
      // set only around a rate-limited provider's calls (FlexiAI's limiter): one lookup otherwise
      const listener = fiber.getRef(RateLimitHeaders.Listener)
      // bodies are logged, and virtual time drives the limits, on the generic path only
      return lean !== undefined && !debug && TimeLimit.isLiveClock(fiber)
        ? sendJsonLean(path, json, decoding, model, lean, listener)
        : sendJsonGeneric(path, json, decoding, model, debug, listener)
    })

  const openStream = (path: string, body: unknown, streamOptions: { readonly model?: string | undefined; readonly accept: string }) =>
    Effect.withFiber((fiber) => {
      const model = streamOptions.model
      const json = JSON.stringify(body)
      const listener = fiber.getRef(RateLimitHeaders.Listener)
      const executed = execute("POST", path, headersAccepting(streamOptions.accept), json, model, scopedClient)
      const accepted = Effect.map(
        Effect.flatMap(
          listener === undefined ? executed : Effect.map(executed, (response) => {
        listener(response.headers)
        return response
      }),
          (response) => checkStatus(response, model)
        ),
        (response): ByteStream => {
          // Read when something asks for it (an error, the caller): the response's header map is
          // built anew on each access, which costs more than the rest of this step.
          let requestId: string | undefined | null = null
          const requestIdNow = () => requestId === null ? (requestId = requestIdOf(response.headers)) : requestId
          // built only when the timeout fires: an error object (with its stack) per request is not free
          const idleTimeout = () => timedOut("idle", timeouts.idle, "no data for", { model, requestId: requestIdNow() })
          const tooLarge = () => fail(BodyLimit.streamTooLarge(maxStreamBytes), { model, requestId: requestIdNow() })
          const bytes = response.stream.pipe(
            // a body that breaks off is a network failure, whatever the backend calls it (undici: DecodeError)
            Stream.mapError((error) =>
              fail(new Connection({ message: mask(`the response body broke off: ${error.reason.message}`) }), {
                model,
                requestId: requestIdNow()
              })
            ),
            // a body that never ends (or loops) must not grow the decoder's state without bound
            (body) => BodyLimit.capStream(body, maxStreamBytes, tooLarge),
            // timed per network read, not per event: a read carries many events
            (body) => Duration.isFinite(timeouts.idle) ? idleTimeoutOf(body, timeouts.idle, idleTimeout) : body
          )
          return {
            bytes,
            get requestId() {
              return requestIdNow()
            }
          }
        }
      )
      return debugEnabled(fiber) ? Effect.andThen(requestLine(path, json), accepted) : accepted
    })

  // bounded by `timeouts.total` like `sendJson`, so a provider's listing needs no limit of its own
  const get = <A>(path: string, decoding: Decode<A>) =>
    TimeLimit.within(
      Effect.withFiber((fiber) =>
        Effect.flatMap(
          Effect.flatMap(execute("GET", path, jsonHeaders, undefined, undefined, client), (response) => checkStatus(response, undefined)),
          (response) => readBody(response, decoding, undefined, debugEnabled(fiber))
        )
      ),
      timeouts.total,
      () => timedOut("total", timeouts.total, "no complete answer within", {})
    )

  return { name, timeouts, mask, fail, sendJson, openStream, get }
}

// ---------------------------------------------------------------------------
// the lean path
// ---------------------------------------------------------------------------

/** What a lean call needs, worked out once per transport. */
interface Lean {
  readonly dispatcher: Dispatcher
  readonly origin: string
  readonly pathOf: (path: string) => string
  /** The generic path's headers for a JSON POST, as a plain record (content-length: undici's). */
  readonly headers: Readonly<Record<string, string>>
  readonly firstByteMillis: number
  readonly totalMillis: number
}

// setTimeout's ceiling, as `TimeLimit` keeps it: longer limits take the generic path
const maxTimerMillis = 2 ** 31 - 1

const leanMillis = (limit: Duration.Duration): number | undefined => {
  if (!Duration.isFinite(limit)) return Infinity
  const millis = Duration.toMillis(limit)
  return millis > 0 && millis <= maxTimerMillis ? millis : undefined
}

/**
 * Non-streamed JSON calls over the kit's own `UndiciHttpClient` skip Effect's `HttpClient`
 * machinery: no `HttpClientRequest`, no URL parse, no abort controller and response tracking
 * per call, no context merged per call, and no fiber per time limit. Measured (`pnpm
 * bench:layers`, 16 calls in flight) that machinery was most of what the provider layer added
 * over the client. The lean path applies only where it can give the same answer: the client is
 * exactly `UndiciHttpClient`'s (not wrapped: wrappers must see every request), auth is static
 * (token renewal and signing stay generic), no HTTP spans are asked for, the base URL parses and
 * the limits fit a timer; per call, the clock is live and Debug logging is off. Everything else
 * takes the generic path, whose mapping it shares (a test holds the two paths' answers equal).
 */
const leanPath = (
  client: HttpClient.HttpClient,
  options: Options,
  auth: Auth.Auth,
  baseUrl: string,
  urlParams: Readonly<Record<string, string>> | undefined,
  jsonHeaders: Headers.Headers
): Lean | undefined => {
  const dispatcher = UndiciHttpClient.dispatcherOf(client)
  if (dispatcher === undefined || options.httpSpans === true) return undefined
  if (auth._tag !== "None" && auth._tag !== "Header" && auth._tag !== "Bearer") return undefined
  const firstByteMillis = leanMillis(options.timeouts.firstByte)
  const totalMillis = leanMillis(options.timeouts.total)
  if (firstByteMillis === undefined || totalMillis === undefined) return undefined
  let origin: string
  try {
    origin = new URL(baseUrl).origin
  } catch {
    return undefined
  }
  // a provider has a few paths (one per model at most): each is parsed once, as the generic
  // path's `HttpClientRequest` would on every call
  const paths = new Map<string, string>()
  const pathOf = (path: string): string => {
    let wire = paths.get(path)
    if (wire === undefined) {
      const url = new URL(`${baseUrl}${path}`)
      if (urlParams !== undefined) for (const [key, value] of Object.entries(urlParams)) url.searchParams.append(key, value)
      wire = url.pathname + url.search
      if (paths.size < 1024) paths.set(path, wire)
    }
    return wire
  }
  return {
    dispatcher,
    origin,
    pathOf,
    headers: { ...Headers.set(jsonHeaders, "content-type", "application/json") },
    firstByteMillis,
    totalMillis
  }
}

const transportError = (request: HttpClientRequest.HttpClientRequest, cause: unknown) =>
  new HttpClientError.HttpClientError({
    reason: new HttpClientError.TransportError({ request, ...(cause === undefined ? {} : { cause }) })
  })

// the error `UndiciHttpClient` reports for a body that broke off, with a response of that status
const decodeError = (request: HttpClientRequest.HttpClientRequest, status: number, cause: unknown) =>
  new HttpClientError.HttpClientError({
    reason: new HttpClientError.DecodeError({
      request,
      response: HttpClientResponse.fromWeb(request, new Response(null, { status })),
      cause
    })
  })
