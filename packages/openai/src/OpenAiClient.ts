/**
 * Client for OpenAI Chat Completions and the OpenAI-compatible family: a thin layer on the kit's
 * `HttpTransport` (which does auth, timeouts, body cap, status mapping and streaming) adding
 * OpenAI's base URL and headers, its error codes, request-id names and paths. It takes `HttpClient` from context,
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
import { Config, Context, Duration, Effect, Layer, type Redacted, Schema, type Scope, type Stream } from "effect"
import type { HttpClient } from "effect/http"
import type * as ProviderError from "@flexiai/core/ProviderError"
import * as KitAuth from "@flexiai/provider/Auth"
import * as HttpTransport from "@flexiai/provider/HttpTransport"
import type * as TokenSource from "@flexiai/provider/TokenSource"
import * as Errors from "./internal/errors.ts"
import { parseCompletion } from "./internal/decode.ts"
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
   * The largest streamed body, in bytes, over the whole stream; past it the stream fails with
   * `MalformedResponse` (before its first content that fails over; after it the router's stream
   * policy decides). Default 256 MiB; `Infinity` switches it off.
   */
  readonly maxStreamBytes?: number | undefined
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

const toDuration = (input: Duration.Input | undefined, fallback: Duration.Duration): Duration.Duration =>
  input === undefined ? fallback : Duration.fromInputUnsafe(input)

/** How `Auth` maps onto the kit's auth (the key is the one in `options`). */
const kitAuth = (options: Options): KitAuth.Auth => {
  if (options.tokenSource !== undefined) return KitAuth.token(options.tokenSource)
  const key = options.apiKey
  if (key === undefined) return KitAuth.none
  const auth = options.auth ?? { type: "bearer" }
  return auth.type === "bearer" ? KitAuth.bearer(key) : auth.type === "header" ? KitAuth.header(auth.name, key) : KitAuth.none
}

const completionDecoding = { decode: parseCompletion, what: "chat completion" } as const

const modelsDecoding = {
  decode: (text: string) => {
    const decoded = decodeModels(text)
    return decoded._tag === "Failure" ? undefined : decoded.value
  },
  what: "model list"
} as const

/** Builds the client from options, reading `HttpClient` from context. @category constructors */
export const make = Effect.fnUntraced(function*(options: Options) {
  const name = options.name ?? "openai"
  const timeouts = {
    firstByte: toDuration(options.timeouts?.firstByte, defaultTimeouts.firstByte),
    idle: toDuration(options.timeouts?.idle, defaultTimeouts.idle),
    total: toDuration(options.timeouts?.total, defaultTimeouts.total)
  }
  const transport = yield* HttpTransport.make({
    name,
    baseUrl: options.apiUrl ?? "https://api.openai.com/v1",
    auth: kitAuth(options),
    headers: {
      ...(options.organization === undefined ? {} : { "OpenAI-Organization": options.organization }),
      ...(options.project === undefined ? {} : { "OpenAI-Project": options.project }),
      ...options.headers
    },
    // a key the auth does not send (beside a token source, or with `auth: none`) is masked all the same
    ...(options.apiKey === undefined ? {} : { secrets: [options.apiKey] }),
    urlParams: options.urlParams,
    timeouts,
    httpSpans: options.httpSpans,
    maxBodyBytes: options.maxBodyBytes,
    maxStreamBytes: options.maxStreamBytes,
    requestIdHeaders: Errors.requestIdHeaders,
    reasonFromResponse: Errors.reasonFromResponse
  })
  const chatPath = options.chatPath
  const pathOf = (body: OpenAiSchema.CreateChatCompletion) => chatPath === undefined ? "/chat/completions" : chatPath(body.model)

  const listModels = options.modelsPath === null ? Effect.succeed([]) : transport.get(options.modelsPath ?? "/models", modelsDecoding).pipe(
    Effect.map(({ parsed }) =>
      parsed.data.map((model): ModelInfo => ({
        id: model.id,
        ...(typeof model.owned_by === "string" ? { ownedBy: model.owned_by } : {})
      }))
    )
  )

  return OpenAiClient.of({
    name,
    defaultModel: options.defaultModel,
    timeouts,
    mask: transport.mask,
    createChatCompletion: (body) =>
      Effect.map(
        transport.sendJson(pathOf(body), body, { ...completionDecoding, model: body.model }),
        // the request id stays lazy: it is read (and masked) only when an error needs it
        (sent) => ({
          completion: sent.parsed,
          get requestId() {
            return sent.requestId
          }
        })
      ),
    streamChatCompletion: (body) => transport.openStream(pathOf(body), body, { model: body.model, accept: "text/event-stream" }),
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
