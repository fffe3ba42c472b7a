/**
 * The client for Gemini's `generateContent` and `streamGenerateContent?alt=sse`, on the kit's
 * `HttpTransport`, in one of two shapes with one body:
 *
 * - Gemini API (`gemini`): `{baseUrl}/models/{model}:generateContent`, base URL
 *   `https://generativelanguage.googleapis.com/v1beta`, the key in the `x-goog-api-key` header
 *   (never a `?key=` query string, which ends up in access logs and proxies).
 * - Vertex AI (`vertex`): `{baseUrl}/projects/{project}/locations/{location}/publishers/google/models/{model}:…`,
 *   base URL `https://{location}-aiplatform.googleapis.com/v1` (`https://aiplatform.googleapis.com/v1`
 *   for the `global` location), an OAuth bearer token from a `TokenSource` (a service account's
 *   key, a command, or any source), renewed by the kit.
 *
 * It takes `HttpClient` from context, as every provider client does. Every failure leaves as a
 * `ProviderError` (`internal/errors.ts` reads Google's error bodies); keys and tokens are masked
 * out of every provider message.
 *
 * @since 0.1.0
 */
import { Context, Duration, Effect, Layer, type Redacted, type Scope } from "effect"
import type { HttpClient } from "effect/http"
import type * as ProviderError from "@flexiai/core/ProviderError"
import * as KitAuth from "@flexiai/provider/Auth"
import * as HttpTransport from "@flexiai/provider/HttpTransport"
import type * as TokenSource from "@flexiai/provider/TokenSource"
import type * as GoogleSchema from "./GoogleSchema.ts"
import { parseModelList, parseResponse } from "./internal/decode.ts"
import * as Errors from "./internal/errors.ts"

/** The Gemini API's base URL. @category constants */
export const geminiBaseUrl = "https://generativelanguage.googleapis.com/v1beta"

/** Vertex AI's base URL for a location (`global`: the global endpoint). @category constants */
export const vertexBaseUrl = (location: string): string =>
  location === "global" ? "https://aiplatform.googleapis.com/v1" : `https://${location}-aiplatform.googleapis.com/v1`

/** @category models */
export interface Timeouts {
  readonly firstByte?: Duration.Input | undefined
  readonly idle?: Duration.Input | undefined
  readonly total?: Duration.Input | undefined
}

/** Defaults: 60 s to the headers, 60 s of silence in a stream, 10 min for a call. @category models */
export const defaultTimeouts = { firstByte: Duration.seconds(60), idle: Duration.seconds(60), total: Duration.minutes(10) } as const

/** Which API, and how it authenticates. @category models */
export type Endpoint =
  | {
    readonly _tag: "Gemini"
    readonly apiKey?: Redacted.Redacted<string> | undefined
    /** Default `geminiBaseUrl`. */
    readonly baseUrl?: string | undefined
    /** The auth to use instead of `apiKey` (a gateway's bearer token, `KitAuth.token`). */
    readonly auth?: KitAuth.Auth | undefined
  }
  | {
    readonly _tag: "Vertex"
    readonly project: string
    /** Default `us-central1`. */
    readonly location?: string | undefined
    /** Default `vertexBaseUrl(location)`. */
    readonly baseUrl?: string | undefined
    readonly tokenSource: TokenSource.TokenSource<ProviderError.ProviderErrorReason>
    /** More secrets to mask (a service account's private key). */
    readonly secrets?: ReadonlyArray<Redacted.Redacted<string>> | undefined
  }

/** @category models */
export interface Options {
  /** The name in errors. Default `"gemini"` or `"vertex"`. */
  readonly name?: string | undefined
  readonly endpoint: Endpoint
  readonly defaultModel?: string | undefined
  readonly timeouts?: Timeouts | undefined
  /** Extra headers on every request. Never put a key here. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly httpSpans?: boolean | undefined
  readonly maxBodyBytes?: number | undefined
  readonly maxStreamBytes?: number | undefined
}

/** A model the Gemini API lists. @category models */
export interface ModelInfo {
  readonly id: string
  readonly ownedBy?: string | undefined
}

/** @category services */
export class GoogleClient extends Context.Service<GoogleClient, {
  readonly name: string
  /** `gemini` or `vertex`: the `providerOptions` key beside the provider's name. */
  readonly kind: "gemini" | "vertex"
  readonly defaultModel: string | undefined
  readonly mask: (text: string) => string
  readonly generateContent: (
    model: string,
    body: GoogleSchema.GenerateContentRequest
  ) => Effect.Effect<{ readonly response: GoogleSchema.GenerateContentResponse; readonly requestId: string | undefined }, ProviderError.ProviderError>
  /** Succeeds once the provider accepted the request; the bytes are SSE. Lives in the caller's scope. */
  readonly streamGenerateContent: (
    model: string,
    body: GoogleSchema.GenerateContentRequest
  ) => Effect.Effect<HttpTransport.ByteStream, ProviderError.ProviderError, Scope.Scope>
  /** The models that answer `generateContent` (Gemini API only; Vertex has no such list here). */
  readonly listModels: Effect.Effect<ReadonlyArray<ModelInfo>, ProviderError.ProviderError> | undefined
}>()("@flexiai/google/GoogleClient") {}

/** The model's resource path on the Gemini API (`gemini-2.5-flash`, `models/…` or `tunedModels/…`). */
export const geminiModelPath = (model: string): string => model.includes("/") ? `/${model}` : `/models/${model}`

/** The model's resource path on Vertex AI (a publisher model's name, or a full `projects/…` resource). */
export const vertexModelPath = (project: string, location: string, model: string): string =>
  model.startsWith("projects/")
    ? `/${model}`
    : model.startsWith("publishers/")
    ? `/projects/${project}/locations/${location}/${model}`
    : `/projects/${project}/locations/${location}/publishers/google/models/${model}`

const responseDecoding = { decode: parseResponse, what: "generateContent response" } as const
const modelsDecoding = { decode: parseModelList, what: "model list" } as const

const toDuration = (input: Duration.Input | undefined, fallback: Duration.Duration): Duration.Duration =>
  input === undefined ? fallback : Duration.fromInputUnsafe(input)

/** Builds the client, reading `HttpClient` from context. @category constructors */
export const make = Effect.fnUntraced(function*(options: Options) {
  const endpoint = options.endpoint
  const kind = endpoint._tag === "Gemini" ? "gemini" as const : "vertex" as const
  const name = options.name ?? kind
  const timeouts = {
    firstByte: toDuration(options.timeouts?.firstByte, defaultTimeouts.firstByte),
    idle: toDuration(options.timeouts?.idle, defaultTimeouts.idle),
    total: toDuration(options.timeouts?.total, defaultTimeouts.total)
  }
  const location = endpoint._tag === "Vertex" ? endpoint.location ?? "us-central1" : ""
  const transport = yield* HttpTransport.make({
    name,
    baseUrl: endpoint.baseUrl ?? (endpoint._tag === "Gemini" ? geminiBaseUrl : vertexBaseUrl(location)),
    auth: endpoint._tag === "Gemini"
      ? endpoint.auth ?? (endpoint.apiKey === undefined ? KitAuth.none : KitAuth.header("x-goog-api-key", endpoint.apiKey))
      : KitAuth.token(endpoint.tokenSource),
    headers: options.headers,
    // beside an `auth` override the key is not sent, but masked all the same
    secrets: endpoint._tag === "Vertex" ? endpoint.secrets : endpoint.auth !== undefined && endpoint.apiKey !== undefined ? [endpoint.apiKey] : undefined,
    timeouts,
    httpSpans: options.httpSpans,
    maxBodyBytes: options.maxBodyBytes,
    maxStreamBytes: options.maxStreamBytes,
    requestIdHeaders: Errors.requestIdHeaders,
    reasonFromResponse: Errors.reasonFromResponse
  })
  const modelPath = endpoint._tag === "Gemini"
    ? geminiModelPath
    : (model: string) => vertexModelPath(endpoint.project, location, model)

  // a page of 1000 covers every model Gemini has; the token is followed a few times all the same
  const listPage = (token: string | undefined, acc: ReadonlyArray<ModelInfo>, pages: number): Effect.Effect<ReadonlyArray<ModelInfo>, ProviderError.ProviderError> =>
    Effect.flatMap(
      transport.get(`/models?pageSize=1000${token === undefined ? "" : `&pageToken=${encodeURIComponent(token)}`}`, modelsDecoding),
      ({ parsed }) => {
        const models = [...acc]
        for (const entry of parsed.models ?? []) {
          if (typeof entry.name !== "string") continue
          const methods = entry.supportedGenerationMethods
          if (Array.isArray(methods) && !methods.includes("generateContent")) continue
          models.push({ id: entry.name.replace(/^models\//, ""), ownedBy: "google" })
        }
        const next = parsed.nextPageToken
        return typeof next === "string" && next !== "" && pages < 10 ? listPage(next, models, pages + 1) : Effect.succeed(models)
      }
    )

  return GoogleClient.of({
    name,
    kind,
    defaultModel: options.defaultModel,
    mask: transport.mask,
    generateContent: (model, body) =>
      Effect.map(transport.sendJson(`${modelPath(model)}:generateContent`, body, { ...responseDecoding, model }), (sent) => ({
        response: sent.parsed,
        get requestId() {
          return sent.requestId
        }
      })),
    streamGenerateContent: (model, body) =>
      transport.openStream(`${modelPath(model)}:streamGenerateContent?alt=sse`, body, { model, accept: "text/event-stream" }),
    listModels: endpoint._tag === "Gemini" ? listPage(undefined, [], 1) : undefined
  })
})

/** @category layers */
export const layer = (options: Options): Layer.Layer<GoogleClient, never, HttpClient.HttpClient> => Layer.effect(GoogleClient, make(options))
