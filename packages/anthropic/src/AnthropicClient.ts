/**
 * Client for Anthropic Messages: a thin layer on the kit's `HttpTransport` (auth, timeouts, body
 * caps, status mapping, streaming) adding Anthropic's base URL, its `x-api-key` and
 * `anthropic-version` headers, its error envelope and its `request-id` header. It takes
 * `HttpClient` from context, so apps choose the backend and tests point it at
 * `MockProviderServer`.
 *
 * The key is `Redacted` from config to the `x-api-key` header and masked out of every provider
 * message. Gotcha: `apiUrl` is the API root *without* `/v1` (`https://api.anthropic.com`, as
 * `ANTHROPIC_BASE_URL` is for Anthropic's own SDKs); paths are `/v1/messages` and `/v1/models`.
 *
 * @since 0.2.0
 */
import { Config, Context, Duration, Effect, Layer, type Redacted, Schema, type Scope, type Stream } from "effect"
import type { HttpClient } from "effect/http"
import type * as ProviderError from "@flexiai/core/ProviderError"
import * as KitAuth from "@flexiai/provider/Auth"
import * as HttpTransport from "@flexiai/provider/HttpTransport"
import * as AnthropicSchema from "./AnthropicSchema.ts"
import { parseMessage } from "./internal/decode.ts"
import * as Errors from "./internal/errors.ts"

/** The API root. @category constants */
export const defaultApiUrl = "https://api.anthropic.com"

/** The `anthropic-version` header sent unless `version` says otherwise. @category constants */
export const defaultVersion = "2023-06-01"

/**
 * Timeouts: `firstByte` (connect + response headers), `idle` (silence inside a stream), `total`
 * (a whole non-streamed call). `Duration.infinity` switches one off.
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
  /** Name used in errors (and the default `ChatProvider` name). Default `"anthropic"`. */
  readonly name?: string | undefined
  readonly apiKey: Redacted.Redacted<string>
  /** The API root, without `/v1`. Default `https://api.anthropic.com`. */
  readonly apiUrl?: string | undefined
  /** The `anthropic-version` header. Default `2023-06-01`. */
  readonly version?: string | undefined
  /** `anthropic-beta` feature flags, sent comma-separated. */
  readonly betas?: ReadonlyArray<string> | undefined
  /** The model used when a request names none. */
  readonly defaultModel?: string | undefined
  readonly timeouts?: Timeouts | undefined
  /** Extra headers on every request. Never put a key here: use `apiKey`. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Effect's own span per request and trace headers to the provider. Default `false`. */
  readonly httpSpans?: boolean | undefined
  readonly maxBodyBytes?: number | undefined
  readonly maxStreamBytes?: number | undefined
}

/** Defaults: 60 s to the headers, 60 s of silence inside a stream, 10 min for a call. @category models */
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

/** @category services */
export class AnthropicClient extends Context.Service<AnthropicClient, {
  readonly name: string
  readonly defaultModel: string | undefined
  /** Scrubs the key (and anything that looks like a starred key) out of a text. */
  readonly mask: (text: string) => string
  readonly createMessage: (
    body: AnthropicSchema.CreateMessage
  ) => Effect.Effect<HttpTransport.Sent<AnthropicSchema.Message>, ProviderError.ProviderError>
  /** Succeeds once the provider accepted the request (2xx); the bytes are its SSE body, in the caller's scope. */
  readonly streamMessage: (
    body: AnthropicSchema.CreateMessage
  ) => Effect.Effect<{ readonly bytes: Stream.Stream<Uint8Array, ProviderError.ProviderError>; readonly requestId: string | undefined }, ProviderError.ProviderError, Scope.Scope>
  /** `GET /v1/models` (the first page: up to 1000 models). */
  readonly listModels: Effect.Effect<ReadonlyArray<ModelInfo>, ProviderError.ProviderError>
}>()("@flexiai/anthropic/AnthropicClient") {}

const toDuration = (input: Duration.Input | undefined, fallback: Duration.Duration): Duration.Duration =>
  input === undefined ? fallback : Duration.fromInputUnsafe(input)

const decodeModels = Schema.decodeUnknownExit(Schema.fromJsonString(AnthropicSchema.ModelList))

const messageDecoding = { decode: parseMessage, what: "message" } as const
const modelsDecoding = {
  decode: (text: string) => {
    const decoded = decodeModels(text)
    return decoded._tag === "Failure" ? undefined : decoded.value
  },
  what: "model list"
} as const

/** Builds the client from options, reading `HttpClient` from context. @category constructors */
export const make = Effect.fnUntraced(function*(options: Options) {
  const name = options.name ?? "anthropic"
  const transport = yield* HttpTransport.make({
    name,
    baseUrl: options.apiUrl ?? defaultApiUrl,
    auth: KitAuth.header("x-api-key", options.apiKey),
    headers: {
      "anthropic-version": options.version ?? defaultVersion,
      ...(options.betas === undefined || options.betas.length === 0 ? {} : { "anthropic-beta": options.betas.join(",") }),
      ...options.headers
    },
    timeouts: {
      firstByte: toDuration(options.timeouts?.firstByte, defaultTimeouts.firstByte),
      idle: toDuration(options.timeouts?.idle, defaultTimeouts.idle),
      total: toDuration(options.timeouts?.total, defaultTimeouts.total)
    },
    httpSpans: options.httpSpans,
    maxBodyBytes: options.maxBodyBytes,
    maxStreamBytes: options.maxStreamBytes,
    requestIdHeaders: Errors.requestIdHeaders,
    reasonFromResponse: Errors.reasonFromResponse
  })
  return AnthropicClient.of({
    name,
    defaultModel: options.defaultModel,
    mask: transport.mask,
    createMessage: (body) => transport.sendJson("/v1/messages", body, { ...messageDecoding, model: body.model }),
    streamMessage: (body) => transport.openStream("/v1/messages", body, { model: body.model, accept: "text/event-stream" }),
    listModels: Effect.map(
      transport.get("/v1/models?limit=1000", modelsDecoding),
      ({ parsed }) => parsed.data.map((model): ModelInfo => ({ id: model.id, ownedBy: "anthropic" }))
    )
  })
})

/** @category layers */
export const layer = (options: Options): Layer.Layer<AnthropicClient, never, HttpClient.HttpClient> =>
  Layer.effect(AnthropicClient, make(options))

/**
 * Options read from `Config`. The default reads `ANTHROPIC_API_KEY` (required) and, when set,
 * `ANTHROPIC_BASE_URL` and `ANTHROPIC_MODEL`.
 *
 * @category layers
 */
export const layerConfig = (
  config: Config.Wrap<{
    readonly apiKey: Redacted.Redacted<string>
    readonly apiUrl?: string | undefined
    readonly defaultModel?: string | undefined
  }> = {
    apiKey: Config.Redacted("ANTHROPIC_API_KEY"),
    apiUrl: Config.String("ANTHROPIC_BASE_URL").pipe(Config.withDefault(undefined)),
    defaultModel: Config.String("ANTHROPIC_MODEL").pipe(Config.withDefault(undefined))
  },
  options: Omit<Options, "apiKey" | "apiUrl" | "defaultModel"> = {}
): Layer.Layer<AnthropicClient, Config.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(AnthropicClient, Effect.flatMap(Config.unwrap(config), (values) => make({ ...options, ...values })))
