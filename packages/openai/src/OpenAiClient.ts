/**
 * Transport for OpenAI Chat Completions and the OpenAI-compatible family: base URL, auth,
 * endpoint paths, timeouts, SSE framing and error mapping. It takes `HttpClient` from context,
 * so apps choose the backend (`NodeHttpClient.layerUndici` from `@effect/platform-node`, or
 * `FetchHttpClient.layer`) and tests point it at `MockProviderServer`.
 *
 * Every failure leaves as a `ProviderError` with a classified reason and the provider's request
 * id. The key is `Redacted` from config to header and masked out of every provider message (a 401
 * from OpenAI echoes part of it). Gotcha: `timeouts.firstByte` covers connecting *and* waiting for
 * the response headers; a slow stream after its headers is caught by `timeouts.idle` instead.
 *
 * @since 0.1.0
 */
import { Clock, Config, Context, Duration, Effect, type Fiber, Layer, LogLevel, Redacted, References, Schema, type Scope, Stream } from "effect"
import { constTrue, identity } from "effect/Function"
import { Headers, HttpBody, HttpClient, HttpClientRequest } from "effect/http"
import type { HttpClientError, HttpClientResponse } from "effect/http"
import * as ProviderError from "@flexiai/core/ProviderError"
import * as TimeLimit from "@flexiai/core/TimeLimit"
import { Connection, MalformedResponse, Timeout } from "@flexiai/core/ProviderError"
import * as BodyLimit from "@flexiai/provider/BodyLimit"
import * as TokenSource from "@flexiai/provider/TokenSource"
import * as Errors from "./internal/errors.ts"
import { parseCompletion } from "./internal/decode.ts"
import { idleTimeout as idleTimeoutOf } from "@flexiai/provider/Idle"
import * as OpenAiSchema from "./OpenAiSchema.ts"

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

/** How the key is sent: `Authorization: Bearer`, a named header (Azure's `api-key`), or not at all. @category models */
export type Auth =
  | { readonly type: "bearer" }
  | { readonly type: "header"; readonly name: string }
  | { readonly type: "none" }

/**
 * Timeouts. `firstByte`: connecting plus waiting for the response headers (`Timeout{phase:
 * "first-byte"}`); `idle`: the longest silence inside a streamed body (`"idle"`); `total`: a whole
 * non-streamed call (`"total"`). A stream has no whole-stream limit: a long answer is not a fault.
 *
 * @category models
 */
export interface Timeouts {
  readonly firstByte?: Duration.Input | undefined
  readonly idle?: Duration.Input | undefined
  readonly total?: Duration.Input | undefined
}

/** @category models */
export interface Options {
  /** Name used in errors (and the default `ChatProvider` name). Default `"openai"`. */
  readonly name?: string | undefined
  readonly apiKey?: Redacted.Redacted<string> | undefined
  /** Default `https://api.openai.com/v1`. */
  readonly apiUrl?: string | undefined
  /** Sent as `OpenAI-Organization`. */
  readonly organization?: string | undefined
  /** Sent as `OpenAI-Project`. */
  readonly project?: string | undefined
  /** The model used when a request names none. */
  readonly defaultModel?: string | undefined
  readonly timeouts?: Timeouts | undefined
  /** Extra headers on every request (attribution, routing). Never put a key here: use `apiKey`. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Default bearer. */
  readonly auth?: Auth | undefined
  /** The chat path for a model, relative to `apiUrl`. Default `/chat/completions`. */
  readonly chatPath?: ((model: string) => string) | undefined
  /** Query parameters on every request (Azure's `api-version`). */
  readonly urlParams?: Readonly<Record<string, string>> | undefined
  /** The model-list path, or `null` when the API has none. Default `/models`. */
  readonly modelsPath?: string | null | undefined
  /**
   * Let Effect's `HttpClient` open its own span per request (with the URL as attributes) and send
   * `traceparent`/`b3` headers to the provider. Default `false`: the provider's span
   * (`OpenAiChat.chat`) already covers the request, the extra span cost about a third of the
   * library's own time per call, and a third-party API has no use for our trace ids.
   */
  readonly httpSpans?: boolean | undefined
  /**
   * The largest non-streamed body read (a chat completion, the model list), in bytes; past it the
   * call fails with `MalformedResponse`, which fails over. Default 32 MiB.
   */
  readonly maxBodyBytes?: number | undefined
  /**
   * A renewed bearer token instead of a static `apiKey` (Azure Entra, a gateway's client
   * credentials): sent as `Authorization: Bearer`, cached and renewed by the source, and on a 401
   * refreshed once and the request sent again before the failure counts. Its tokens are masked
   * like the key.
   */
  readonly tokenSource?: TokenSource.TokenSource<ProviderError.ProviderErrorReason> | undefined
}

/**
 * Defaults: 60 s to the response headers, 60 s of silence inside a stream, 10 min for a call.
 * `Duration.infinity` (or `"Infinity"`) switches a limit off, for when the caller enforces its own
 * (FlexiAI's router does, per attempt).
 *
 * @category models
 */
export const defaultTimeouts = {
  firstByte: Duration.seconds(60),
  idle: Duration.seconds(60),
  total: Duration.minutes(10)
} as const

/** A model the provider lists. @category models */
export interface ModelInfo {
  readonly id: string
  readonly ownedBy?: string | undefined
}

/** An accepted streaming call: its body's bytes (SSE), and the provider's request id. @category models */
export interface EventStream {
  readonly bytes: Stream.Stream<Uint8Array, ProviderError.ProviderError>
  readonly requestId: string | undefined
}

// ---------------------------------------------------------------------------
// service
// ---------------------------------------------------------------------------

/** @category services */
export class OpenAiClient extends Context.Service<OpenAiClient, {
  readonly name: string
  readonly defaultModel: string | undefined
  readonly timeouts: { readonly firstByte: Duration.Duration; readonly idle: Duration.Duration; readonly total: Duration.Duration }
  /** Scrubs the key (and anything that looks like a starred key) out of a text. */
  readonly mask: (text: string) => string
  readonly createChatCompletion: (
    body: OpenAiSchema.CreateChatCompletion
  ) => Effect.Effect<{ readonly completion: OpenAiSchema.ChatCompletion; readonly requestId: string | undefined }, ProviderError.ProviderError>
  /**
   * Succeeds once the provider accepted the request (2xx); the events carry the body. The
   * response lives in the caller's scope: closing the scope ends the request.
   */
  readonly streamChatCompletion: (
    body: OpenAiSchema.CreateChatCompletion
  ) => Effect.Effect<EventStream, ProviderError.ProviderError, Scope.Scope>
  readonly listModels: Effect.Effect<ReadonlyArray<ModelInfo>, ProviderError.ProviderError>
}>()("@flexiai/openai/OpenAiClient") {}

const decodeModels = Schema.decodeUnknownExit(Schema.fromJsonString(OpenAiSchema.ModelList))

const maxLoggedBody = 16_384


const toDuration = (input: Duration.Input | undefined, fallback: Duration.Duration): Duration.Duration =>
  input === undefined ? fallback : Duration.fromInputUnsafe(input)

const headerRecord = (response: HttpClientResponse.HttpClientResponse): Record<string, string> => ({ ...response.headers })

/** Builds the client from options, reading `HttpClient` from context. @category constructors */
export const make = Effect.fnUntraced(function*(options: Options) {
  const httpClient = yield* HttpClient.HttpClient
  const name = options.name ?? "openai"
  const apiUrl = (options.apiUrl ?? "https://api.openai.com/v1").replace(/\/+$/, "")
  const auth: Auth = options.auth ??
    (options.apiKey === undefined && options.tokenSource === undefined ? { type: "none" } : { type: "bearer" })
  const staticMask = Errors.makeMask([
    ...(options.apiKey === undefined ? [] : [options.apiKey]),
    ...Object.values(options.headers ?? {}).filter((value) => value.length >= 20)
  ])
  const tokenSource = options.tokenSource
  // the token a request last went out with, masked too (one mask per token, built when it changes)
  let tokenMask: { readonly token: string; readonly mask: (text: string) => string } | undefined
  const mask = tokenSource === undefined
    ? staticMask
    : (text: string) => tokenMask === undefined ? staticMask(text) : tokenMask.mask(staticMask(text))
  const useToken = (token: Redacted.Redacted<string>): string => {
    const value = Redacted.value(token)
    if (tokenMask?.token !== value) tokenMask = { token: value, mask: Errors.makeMask([value]) }
    return `Bearer ${value}`
  }
  const timeouts = {
    firstByte: toDuration(options.timeouts?.firstByte, defaultTimeouts.firstByte),
    idle: toDuration(options.timeouts?.idle, defaultTimeouts.idle),
    total: toDuration(options.timeouts?.total, defaultTimeouts.total)
  }
  // the api-key header is a secret too
  const redactedNames = auth.type === "header"
    ? ["authorization", "cookie", "set-cookie", "x-api-key", auth.name.toLowerCase()]
    : undefined

  // Every request carries the same headers: built once here rather than by a `mapRequest` per
  // request (each header set there copies the header map again).
  const baseHeaders = Headers.fromInput({
    ...(options.apiKey !== undefined && auth.type === "bearer" ? { authorization: `Bearer ${Redacted.value(options.apiKey)}` } : {}),
    ...(options.apiKey !== undefined && auth.type === "header" ? { [auth.name]: Redacted.value(options.apiKey) } : {}),
    ...(options.organization === undefined ? {} : { "OpenAI-Organization": options.organization }),
    ...(options.project === undefined ? {} : { "OpenAI-Project": options.project }),
    ...options.headers
  })
  const urlParams = options.urlParams
  const maxBodyBytes = options.maxBodyBytes ?? BodyLimit.defaultMaxBytes
  // the two header sets a request can have, built once
  const jsonHeaders = Headers.set(baseHeaders, "accept", "application/json")
  const sseHeaders = Headers.set(baseHeaders, "accept", "text/event-stream")
  const requestTo = (method: "GET" | "POST", path: string, headers: Headers.Headers, body?: HttpBody.HttpBody) =>
    HttpClientRequest.make(method)(`${apiUrl}${path}`, {
      headers,
      ...(urlParams === undefined ? {} : { urlParams }),
      ...(body === undefined ? {} : { body })
    })
  const client = httpClient
  // What every request runs with: no HTTP span unless asked for, and the api-key header redacted
  // wherever effect prints request headers. One context, merged per request.
  const overrides = Context.empty().pipe(
    options.httpSpans === true ? identity : Context.add(HttpClient.TracerDisabledWhen, constTrue),
    redactedNames === undefined ? identity : Context.add(Headers.CurrentRedactedNames, redactedNames)
  )
  const noOverrides = options.httpSpans === true && redactedNames === undefined

  const fail = (reason: ProviderError.ProviderErrorReason, extra: { readonly model?: string | undefined; readonly requestId?: string | undefined } = {}) =>
    ProviderError.make(name, reason, extra)

  // Streams go through a scoped client: the response lives in the stream's scope. Effect's
  // unscoped client instead wraps every response to abort the request when its body ends, which
  // costs an uninterruptible region, a FinalizationRegistry entry and two more stream layers per
  // request (and a step on every read), all on the way to the first token.
  const scopedClient = HttpClient.withScope(client)

  /** Sends a request and waits for the response headers, within `firstByte`. */
  const execute = <R>(
    request: HttpClientRequest.HttpClientRequest,
    model: string | undefined,
    via: HttpClient.HttpClient.With<HttpClientError.HttpClientError, R>
  ) => {
    const send = (request: HttpClientRequest.HttpClientRequest) => {
      const sent = via.execute(request)
      return (noOverrides ? sent : Effect.provideContext(sent, overrides)).pipe(
        Effect.mapError((error) => fail(Errors.reasonFromHttpClientError(error, mask), { model }))
      )
    }
    const withToken = (token: Redacted.Redacted<string>) => send(HttpClientRequest.setHeader(request, "authorization", useToken(token)))
    const tokenError = (reason: ProviderError.ProviderErrorReason) => fail(reason, { model })
    const sending = tokenSource === undefined ? send(request) : Effect.flatMap(
      Effect.mapError(tokenSource.get, tokenError),
      (token) =>
        Effect.flatMap(withToken(token), (response) =>
          response.status === 401
            // the token may have been revoked or rotated early: one renewal and one more try
            ? Effect.flatMap(Effect.mapError(tokenSource.refresh(token), tokenError), withToken)
            : Effect.succeed(response))
    )
    return sending.pipe(
      (sending) =>
        TimeLimit.within(sending, timeouts.firstByte, () =>
          fail(
            new Timeout({
              message: `no response headers within ${Duration.format(timeouts.firstByte)}`,
              phase: "first-byte",
              afterMillis: Duration.toMillis(timeouts.firstByte)
            }),
            { model }
          ))
    )
  }

  /** Fails with the mapped reason of a response that is not 2xx. */
  const failStatus = (response: HttpClientResponse.HttpClientResponse, model: string | undefined) =>
    Effect.gen(function*() {
      const headers = headerRecord(response)
      // an error page is read within the body cap too; past it (or unreadable) it is mapped by status alone
      const body = yield* BodyLimit.readText(response, maxBodyBytes).pipe(Effect.orElseSucceed(() => ""))
      const nowMillis = yield* Clock.currentTimeMillis
      return yield* fail(
        Errors.reasonFromResponse({ status: response.status, headers, body, nowMillis, mask, model }),
        { model, requestId: Errors.requestIdOf(headers) }
      )
    })

  /** Fails with the mapped reason when the status is not 2xx. */
  const checkStatus = (response: HttpClientResponse.HttpClientResponse, model: string | undefined) =>
    response.status >= 200 && response.status < 300 ? Effect.succeed(response) : failStatus(response, model)

  const chatRequest = (body: OpenAiSchema.CreateChatCompletion, headers: Headers.Headers) =>
    requestTo(
      "POST",
      options.chatPath === undefined ? "/chat/completions" : options.chatPath(body.model),
      headers,
      HttpBody.text(JSON.stringify(body), "application/json")
    )

  // Wire bodies are logged at Debug only (they hold prompts and answers), with anything that looks
  // like the key masked; the level is read once per call so other levels pay nothing for them.
  const debugEnabled = (fiber: Fiber.Fiber<unknown, unknown>) =>
    !LogLevel.isGreaterThan(fiber.getRef(References.MinimumLogLevel), "Debug")
  const requestLine = (body: OpenAiSchema.CreateChatCompletion) =>
    Effect.logDebug("provider http request").pipe(Effect.annotateLogs({
      provider: name,
      path: options.chatPath === undefined ? "/chat/completions" : options.chatPath(body.model),
      body: mask(JSON.stringify(body))
    }))

  // Combinators rather than a generator: this runs on every call, and each step counts there.
  const createChatCompletion = (body: OpenAiSchema.CreateChatCompletion) =>
    Effect.withFiber((fiber) => {
      const debug = debugEnabled(fiber)
      const model = body.model
      const call = Effect.flatMap(execute(chatRequest(body, jsonHeaders), model, client), (response) => {
        if (response.status < 200 || response.status >= 300) return failStatus(response, model)
        const requestId = Errors.requestIdOf(response.headers)
        return Effect.matchEffect(BodyLimit.readText(response, maxBodyBytes), {
          onFailure: (error) =>
            Effect.fail(fail(error._tag === "MalformedResponse" ? error : Errors.reasonFromHttpClientError(error, mask), { model, requestId })),
          onSuccess: (text) => {
            const completion = parseCompletion(text)
            const result = completion === undefined
              ? Effect.fail(fail(new MalformedResponse({ message: `undecodable chat completion (${text.length} bytes)` }), { model, requestId }))
              : Effect.succeed({ completion, requestId })
            return debug
              ? Effect.andThen(
                Effect.logDebug("provider http response").pipe(Effect.annotateLogs({
                  provider: name,
                  status: response.status,
                  requestId,
                  body: mask(text.length > maxLoggedBody ? `${text.slice(0, maxLoggedBody)}… (${text.length} bytes)` : text)
                })),
                result
              )
              : result
          }
        })
      })
      return debug ? Effect.andThen(requestLine(body), call) : call
    })

  const streamChatCompletion = (body: OpenAiSchema.CreateChatCompletion) =>
    Effect.withFiber((fiber) => {
      const model = body.model
      const accepted = Effect.map(
        Effect.flatMap(execute(chatRequest(body, sseHeaders), model, scopedClient), (response) => checkStatus(response, model)),
        (response): EventStream => {
          // Read when something asks for it (an error, the caller): the response's header map is
          // built anew on each access, which costs more than the rest of this step.
          let requestId: string | undefined | null = null
          const requestIdNow = () => requestId === null ? (requestId = Errors.requestIdOf(response.headers)) : requestId
          // built only when the timeout fires: an error object (with its stack) per request is not free
          const idleTimeout = () =>
            fail(
              new Timeout({
                message: `no data for ${Duration.format(timeouts.idle)}`,
                phase: "idle",
                afterMillis: Duration.toMillis(timeouts.idle)
              }),
              { model, requestId: requestIdNow() }
            )
          const bytes = response.stream.pipe(
            // a body that breaks off is a network failure, whatever the backend calls it (undici: DecodeError)
            Stream.mapError((error) =>
              fail(new Connection({ message: mask(`the response body broke off: ${error.reason.message}`) }), {
                model,
                requestId: requestIdNow()
              })
            ),
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
      return debugEnabled(fiber) ? Effect.andThen(requestLine(body), accepted) : accepted
    })

  const listModels = Effect.gen(function*() {
    if (options.modelsPath === null) return []
    const response = yield* execute(requestTo("GET", options.modelsPath ?? "/models", jsonHeaders), undefined, client)
      .pipe(Effect.flatMap((response) => checkStatus(response, undefined)))
    const requestId = Errors.requestIdOf(response.headers)
    const text = yield* BodyLimit.readText(response, maxBodyBytes).pipe(
      Effect.mapError((error) =>
        fail(error._tag === "MalformedResponse" ? error : Errors.reasonFromHttpClientError(error, mask), { requestId })
      )
    )
    const decoded = decodeModels(text)
    if (decoded._tag === "Failure") {
      return yield* fail(new MalformedResponse({ message: `undecodable model list (${text.length} bytes)` }), { requestId })
    }
    return decoded.value.data.map((model): ModelInfo => ({
      id: model.id,
      ...(typeof model.owned_by === "string" ? { ownedBy: model.owned_by } : {})
    }))
  }).pipe(
    Effect.timeoutOrElse({
      duration: timeouts.total,
      orElse: () => Effect.fail(fail(new Timeout({ message: "model list took too long", phase: "total" })))
    })
  )

  return OpenAiClient.of({
    name,
    defaultModel: options.defaultModel,
    timeouts,
    mask,
    createChatCompletion: (body) =>
      TimeLimit.within(createChatCompletion(body), timeouts.total, () =>
        fail(
          new Timeout({
            message: `no complete answer within ${Duration.format(timeouts.total)}`,
            phase: "total",
            afterMillis: Duration.toMillis(timeouts.total)
          }),
          { model: body.model }
        )),
    streamChatCompletion,
    listModels
  })
})

/** The models the provider lists (`GET /models`; empty where the API has no list). @category accessors */
export const listModels: Effect.Effect<ReadonlyArray<ModelInfo>, ProviderError.ProviderError, OpenAiClient> = OpenAiClient.use((client) =>
  client.listModels
)

// ---------------------------------------------------------------------------
// layers
// ---------------------------------------------------------------------------

/** @category layers */
export const layer = (options: Options): Layer.Layer<OpenAiClient, never, HttpClient.HttpClient> =>
  Layer.effect(OpenAiClient, make(options))

/**
 * Options read from `Config`. The default reads `OPENAI_API_KEY` (required) and, when set,
 * `OPENAI_BASE_URL`, `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`, `OPENAI_MODEL`.
 *
 * @category layers
 */
export const layerConfig = (
  config: Config.Wrap<{
    readonly apiKey: Redacted.Redacted<string>
    readonly apiUrl?: string | undefined
    readonly organization?: string | undefined
    readonly project?: string | undefined
    readonly defaultModel?: string | undefined
  }> = {
    apiKey: Config.Redacted("OPENAI_API_KEY"),
    apiUrl: Config.String("OPENAI_BASE_URL").pipe(Config.withDefault(undefined)),
    organization: Config.String("OPENAI_ORG_ID").pipe(Config.withDefault(undefined)),
    project: Config.String("OPENAI_PROJECT_ID").pipe(Config.withDefault(undefined)),
    defaultModel: Config.String("OPENAI_MODEL").pipe(Config.withDefault(undefined))
  },
  options: Omit<Options, "apiKey" | "apiUrl" | "organization" | "project" | "defaultModel"> = {}
): Layer.Layer<OpenAiClient, Config.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(
    OpenAiClient,
    Effect.flatMap(Config.unwrap(config), (values) => make({ ...options, ...values }))
  )
