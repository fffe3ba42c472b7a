/**
 * Client for Ollama's native API: a thin layer on the kit's `HttpTransport` (auth, timeouts, body
 * caps, status mapping, streaming) adding Ollama's base URL, its `{ "error": "..." }` bodies and
 * paths: `POST /api/chat` (whole or NDJSON), `GET /api/tags` (the pulled models) and
 * `POST /api/show` (one model's details). It takes `HttpClient` from context, so apps choose the
 * backend and tests point it at `MockProviderServer`.
 *
 * A local Ollama needs no key. Hosted Ollama (https://ollama.com, `OLLAMA_API_KEY`) takes a bearer
 * key: give it as `apiKey`; it stays `Redacted` and is masked out of every provider message.
 *
 * Gotcha: the base URL is the server root (`http://localhost:11434`), without `/api`; a host
 * without a scheme (`127.0.0.1:11434`, as `OLLAMA_HOST` is often written) gets `http://`.
 *
 * @since 0.1.0
 */
import { Config, Context, Duration, Effect, Layer, type Redacted, Schema, type Scope } from "effect"
import type { HttpClient } from "effect/http"
import type * as ProviderError from "@flexiai/core/ProviderError"
import * as KitAuth from "@flexiai/provider/Auth"
import * as HttpTransport from "@flexiai/provider/HttpTransport"
import { parseChunk } from "./internal/decode.ts"
import * as Errors from "./internal/errors.ts"
import * as OllamaCodec from "./OllamaCodec.ts"
import * as OllamaSchema from "./OllamaSchema.ts"

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

/**
 * Timeouts. `firstByte`: connecting plus waiting for the response headers (a model being loaded
 * into memory counts here: give it room); `idle`: the longest silence inside a stream; `total`: a
 * whole non-streamed call.
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
  /** Name used in errors (and the default `ChatProvider` name). Default `"ollama"`. */
  readonly name?: string | undefined
  /** The server root. Default `http://localhost:11434`; a host without a scheme gets `http://`. */
  readonly host?: string | undefined
  /** A bearer key, for hosted Ollama (ollama.com) or a proxy in front of one. Default: none. */
  readonly apiKey?: Redacted.Redacted<string> | undefined
  /** The model used when a request names none. */
  readonly defaultModel?: string | undefined
  readonly timeouts?: Timeouts | undefined
  /** Extra headers on every request. Never put a key here: use `apiKey`. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Effect's own span per request and trace headers to the server. Default `false`. */
  readonly httpSpans?: boolean | undefined
  /** The largest non-streamed body read, in bytes. Default 32 MiB. */
  readonly maxBodyBytes?: number | undefined
  /** The largest streamed body, in bytes. Default 256 MiB; `Infinity` switches it off. */
  readonly maxStreamBytes?: number | undefined
}

/**
 * Defaults: 5 min to the response headers (a cold model loads first), 60 s of silence inside a
 * stream, 10 min for a call. `Duration.infinity` switches a limit off.
 *
 * @category models
 */
export const defaultTimeouts = {
  firstByte: Duration.minutes(5),
  idle: Duration.seconds(60),
  total: Duration.minutes(10)
} as const

/** The default server root. @category constants */
export const defaultHost = "http://localhost:11434"

/**
 * `host` as a base URL: `http://` added when it has no scheme, trailing slashes dropped.
 *
 * @category utils
 */
export const hostUrl = (host: string): string => (/^[a-z][a-z0-9+.-]*:\/\//i.test(host) ? host : `http://${host}`).replace(/\/+$/, "")

/** A model the server has pulled (`/api/tags`). @category models */
export interface ModelInfo {
  readonly id: string
  readonly ownedBy?: string | undefined
  readonly family?: string | undefined
  readonly parameterSize?: string | undefined
  readonly sizeBytes?: number | undefined
}

// ---------------------------------------------------------------------------
// service
// ---------------------------------------------------------------------------

/** @category services */
export class OllamaClient extends Context.Service<OllamaClient, {
  readonly name: string
  readonly defaultModel: string | undefined
  /** Scrubs the key (and anything that looks like a starred key) out of a text. */
  readonly mask: (text: string) => string
  /** `POST /api/chat` with `stream: false`: the whole answer. */
  readonly chat: (body: OllamaSchema.ChatRequest) => Effect.Effect<HttpTransport.Sent<OllamaSchema.ChatChunk>, ProviderError.ProviderError>
  /** `POST /api/chat` streamed: succeeds once the server accepted it; the bytes are NDJSON. Lives in the caller's scope. */
  readonly streamChat: (body: OllamaSchema.ChatRequest) => Effect.Effect<HttpTransport.ByteStream, ProviderError.ProviderError, Scope.Scope>
  /** `GET /api/tags`: the models the server has pulled. */
  readonly listModels: Effect.Effect<ReadonlyArray<ModelInfo>, ProviderError.ProviderError>
  /** `POST /api/show`: one model's context length, capabilities and details (`NotFound` when it is not pulled). */
  readonly show: (model: string) => Effect.Effect<OllamaCodec.ModelDetails, ProviderError.ProviderError>
}>()("@flexiai/ollama/OllamaClient") {}

const toDuration = (input: Duration.Input | undefined, fallback: Duration.Duration): Duration.Duration =>
  input === undefined ? fallback : Duration.fromInputUnsafe(input)

const schemaDecoding = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, what: string) => {
  const decode = Schema.decodeUnknownExit(Schema.fromJsonString(schema))
  return {
    decode: (text: string): S["Type"] | undefined => {
      const decoded = decode(text)
      return decoded._tag === "Failure" ? undefined : decoded.value
    },
    what
  }
}

const answerDecoding = { decode: parseChunk, what: "chat answer" } as const
const modelsDecoding = schemaDecoding(OllamaSchema.ModelList, "model list")
const showDecoding = schemaDecoding(OllamaSchema.ShowResponse, "model details")

/** Builds the client from options, reading `HttpClient` from context. @category constructors */
export const make = Effect.fnUntraced(function*(options: Options = {}) {
  const name = options.name ?? "ollama"
  const timeouts = {
    firstByte: toDuration(options.timeouts?.firstByte, defaultTimeouts.firstByte),
    idle: toDuration(options.timeouts?.idle, defaultTimeouts.idle),
    total: toDuration(options.timeouts?.total, defaultTimeouts.total)
  }
  const transport = yield* HttpTransport.make({
    name,
    baseUrl: hostUrl(options.host ?? defaultHost),
    auth: options.apiKey === undefined ? KitAuth.none : KitAuth.bearer(options.apiKey),
    headers: options.headers,
    timeouts,
    httpSpans: options.httpSpans,
    maxBodyBytes: options.maxBodyBytes,
    maxStreamBytes: options.maxStreamBytes,
    reasonFromResponse: Errors.reasonFromResponse
  })

  const listModels = Effect.map(transport.get("/api/tags", modelsDecoding), ({ parsed }) =>
    parsed.models.map((model): ModelInfo => ({
      id: model.name,
      ...(model.details?.family === undefined ? {} : { family: model.details.family }),
      ...(model.details?.parameter_size === undefined ? {} : { parameterSize: model.details.parameter_size }),
      ...(model.size === undefined ? {} : { sizeBytes: model.size })
    })))

  return OllamaClient.of({
    name,
    defaultModel: options.defaultModel,
    mask: transport.mask,
    chat: (body) => transport.sendJson("/api/chat", body, { ...answerDecoding, model: body.model }),
    streamChat: (body) => transport.openStream("/api/chat", body, { model: body.model, accept: "application/x-ndjson" }),
    listModels,
    show: (model) =>
      Effect.map(transport.sendJson("/api/show", { model }, { ...showDecoding, model }), ({ parsed }) => OllamaCodec.details(model, parsed))
  })
})

/** The models the server has pulled. @category accessors */
export const listModels: Effect.Effect<ReadonlyArray<ModelInfo>, ProviderError.ProviderError, OllamaClient> = OllamaClient.use((client) =>
  client.listModels
)

/** One model's details (`/api/show`). @category accessors */
export const show = (model: string): Effect.Effect<OllamaCodec.ModelDetails, ProviderError.ProviderError, OllamaClient> =>
  OllamaClient.use((client) => client.show(model))

// ---------------------------------------------------------------------------
// layers
// ---------------------------------------------------------------------------

/** @category layers */
export const layer = (options: Options = {}): Layer.Layer<OllamaClient, never, HttpClient.HttpClient> =>
  Layer.effect(OllamaClient, make(options))

/**
 * Options read from `Config`. The default reads, when set, `OLLAMA_HOST`, `OLLAMA_API_KEY` and
 * `OLLAMA_MODEL`.
 *
 * @category layers
 */
export const layerConfig = (
  config: Config.Wrap<{
    readonly host?: string | undefined
    readonly apiKey?: Redacted.Redacted<string> | undefined
    readonly defaultModel?: string | undefined
  }> = {
    host: Config.String("OLLAMA_HOST").pipe(Config.withDefault(undefined)),
    apiKey: Config.Redacted("OLLAMA_API_KEY").pipe(Config.withDefault(undefined)),
    defaultModel: Config.String("OLLAMA_MODEL").pipe(Config.withDefault(undefined))
  },
  options: Omit<Options, "host" | "apiKey" | "defaultModel"> = {}
): Layer.Layer<OllamaClient, Config.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(OllamaClient, Effect.flatMap(Config.unwrap(config), (values) => make({ ...options, ...values })))
