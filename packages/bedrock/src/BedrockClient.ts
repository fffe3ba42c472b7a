/**
 * Client for Bedrock Runtime's Converse API: a thin layer on the kit's `HttpTransport` adding the
 * regional endpoint (`https://bedrock-runtime.{region}.amazonaws.com`, or `endpoint` for a VPC
 * endpoint, a proxy or a test server), the auth (SigV4 with AWS keys, or a Bedrock API key as a
 * bearer token), Bedrock's error names and its request-id header. It takes `HttpClient` from
 * context, so apps choose the backend and tests point it at `MockProviderServer`.
 *
 * Credentials, first found wins: `apiKey` (a Bedrock API key), `credentials` (keys or a source of
 * them), then the standard chain over `environment` (`BedrockCredentials.fromChain`:
 * `AWS_BEARER_TOKEN_BEDROCK`, `AWS_ACCESS_KEY_ID`…, the `AWS_PROFILE` profile). The region:
 * `region`, else `AWS_REGION` / `AWS_DEFAULT_REGION`, else `us-east-1`.
 *
 * What users get wrong: the model goes into the URL, URL-encoded (`:` and `/` of inference
 * profiles and ARNs included), and any model id, inference profile id or ARN works the same way;
 * and a Bedrock API key is for one region's endpoint too.
 *
 * @since 0.2.0
 */
import { Context, Duration, Effect, Layer, type Redacted, type Scope } from "effect"
import { HttpClient } from "effect/http"
import type * as ProviderError from "@flexiai/core/ProviderError"
import * as KitAuth from "@flexiai/provider/Auth"
import * as HttpTransport from "@flexiai/provider/HttpTransport"
import * as Mask from "@flexiai/provider/Mask"
import type * as TokenSource from "@flexiai/provider/TokenSource"
import * as Credentials from "./BedrockCredentials.ts"
import { parseResponse } from "./BedrockCodec.ts"
import type * as Wire from "./BedrockSchema.ts"
import * as Signer from "./BedrockSigner.ts"
import * as Errors from "./internal/errors.ts"

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

/**
 * Timeouts. `firstByte`: connecting plus waiting for the response headers; `idle`: the longest
 * silence inside a stream; `total`: a whole non-streamed call. `Duration.infinity` switches one off.
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
  /** Name used in errors (and the default `ChatProvider` name). Default `"bedrock"`. */
  readonly name?: string | undefined
  /** The AWS region. Default `AWS_REGION`, `AWS_DEFAULT_REGION`, else `us-east-1`. */
  readonly region?: string | undefined
  /** Replaces `https://bedrock-runtime.{region}.amazonaws.com` (a VPC endpoint, a proxy, a test server). */
  readonly endpoint?: string | undefined
  /** A Bedrock API key, sent as `Authorization: Bearer` (no SigV4). */
  readonly apiKey?: Redacted.Redacted<string> | undefined
  /** AWS keys, or a source of them (`BedrockCredentials.renewing` for temporary ones). */
  readonly credentials?: Credentials.AwsCredentials | Credentials.CredentialSource | undefined
  /** The profile the chain reads when nothing above is given. Default `AWS_PROFILE`, else `default`. */
  readonly profile?: string | undefined
  /** The variables the chain reads. Default `process.env`. */
  readonly environment?: Credentials.Environment | undefined
  /** How long before their expiry temporary keys are renewed. Default 60 s. */
  readonly renew?: TokenSource.Options | undefined
  /** The auth to use instead of SigV4 or `apiKey` (a gateway's bearer token, `KitAuth.token`). */
  readonly auth?: KitAuth.Auth | undefined
  /** The model used when a request names none. */
  readonly defaultModel?: string | undefined
  readonly timeouts?: Timeouts | undefined
  /** Extra headers on every request. Never put a key here. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Effect's own HTTP span per request. Default `false`. */
  readonly httpSpans?: boolean | undefined
  readonly maxBodyBytes?: number | undefined
  readonly maxStreamBytes?: number | undefined
}

/** Defaults: 60 s to the response headers, 60 s of silence in a stream, 10 min for a call. @category models */
export const defaultTimeouts = {
  firstByte: Duration.seconds(60),
  idle: Duration.seconds(60),
  total: Duration.minutes(10)
} as const

/** The Bedrock Runtime endpoint of a region. @category utils */
export const endpointOf = (region: string): string => `https://bedrock-runtime.${region}.amazonaws.com`

/** The path of a model's Converse call: the id URL-encoded as one path segment. @category utils */
export const pathOf = (model: string, stream: boolean): string =>
  `/model/${encodeURIComponent(model)}/${stream ? "converse-stream" : "converse"}`

/** The `accept` of a ConverseStream call. @category constants */
export const eventStreamType = "application/vnd.amazon.eventstream"

// ---------------------------------------------------------------------------
// service
// ---------------------------------------------------------------------------

/** @category models */
export interface Service {
  readonly name: string
  readonly region: string
  readonly defaultModel: string | undefined
  /** Scrubs every secret the client holds out of a text. */
  readonly mask: Mask.Mask
  /** `POST /model/{model}/converse`: the decoded answer (its `metrics` included) and the request id. */
  readonly converse: (model: string, body: Wire.ConverseRequest) => Effect.Effect<HttpTransport.Sent<Wire.ConverseResponse>, ProviderError.ProviderError>
  /** `POST /model/{model}/converse-stream`: the event-stream body once Bedrock accepted the call. */
  readonly converseStream: (
    model: string,
    body: Wire.ConverseRequest
  ) => Effect.Effect<HttpTransport.ByteStream, ProviderError.ProviderError, Scope.Scope>
}

/** @category services */
export class BedrockClient extends Context.Service<BedrockClient, Service>()("@flexiai/bedrock/BedrockClient") {}

const isSource = (value: Credentials.AwsCredentials | Credentials.CredentialSource): value is Credentials.CredentialSource =>
  "get" in value

/** The kit auth for the options: an API key, given keys, or the chain. @category utils */
export const authOf = (options: Options, region: string): KitAuth.Auth => {
  if (options.auth !== undefined) return options.auth
  if (options.apiKey !== undefined) return KitAuth.bearer(options.apiKey)
  if (options.credentials !== undefined) {
    const source = isSource(options.credentials) ? options.credentials : Credentials.fromStatic(options.credentials)
    return Signer.auth(source, region)
  }
  const resolved = Credentials.fromChain(options.environment ?? process.env, { profile: options.profile }, options.renew)
  return resolved._tag === "ApiKey" ? KitAuth.bearer(resolved.key) : Signer.auth(resolved.source, region)
}

const decodeAnswer: HttpTransport.Decode<Wire.ConverseResponse> = { decode: parseResponse, what: "Converse answer" }

/** Builds the client over a given `HttpClient`. @category constructors */
export const makeWith = (client: HttpClient.HttpClient, options: Options = {}): Service => {
  const name = options.name ?? "bedrock"
  const region = options.region ?? Credentials.regionFromEnvironment(options.environment ?? process.env) ?? "us-east-1"
  const timeouts = options.timeouts ?? {}
  const transport = HttpTransport.makeWith(client, {
    name,
    baseUrl: options.endpoint ?? endpointOf(region),
    auth: authOf(options, region),
    headers: options.headers,
    // beside an `auth` override the key is not sent, but masked all the same
    ...(options.auth !== undefined && options.apiKey !== undefined ? { secrets: [options.apiKey] } : {}),
    timeouts: {
      firstByte: Duration.fromInputUnsafe(timeouts.firstByte ?? defaultTimeouts.firstByte),
      idle: Duration.fromInputUnsafe(timeouts.idle ?? defaultTimeouts.idle),
      total: Duration.fromInputUnsafe(timeouts.total ?? defaultTimeouts.total)
    },
    httpSpans: options.httpSpans,
    maxBodyBytes: options.maxBodyBytes,
    maxStreamBytes: options.maxStreamBytes,
    requestIdHeaders: Errors.requestIdHeaders,
    reasonFromResponse: Errors.reasonFromResponse
  })
  return {
    name,
    region,
    defaultModel: options.defaultModel,
    mask: transport.mask,
    converse: (model, body) => transport.sendJson(pathOf(model, false), body, { ...decodeAnswer, model }),
    converseStream: (model, body) => transport.openStream(pathOf(model, true), body, { model, accept: eventStreamType })
  }
}

/** Builds the client, reading `HttpClient` from context. @category constructors */
export const make = (options: Options = {}): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  HttpClient.HttpClient.useSync((client) => makeWith(client, options))

/** @category layers */
export const layer = (options: Options = {}): Layer.Layer<BedrockClient, never, HttpClient.HttpClient> =>
  Layer.effect(BedrockClient, make(options))
