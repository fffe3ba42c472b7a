/**
 * The ready-made layers: `gemini(options)` and `vertex(options)` give a `ChatProvider` needing only
 * an `HttpClient`, with the client, its auth and the chat mapping wired together; `layerConfig`
 * reads the standard environment variables. The descriptors (`GoogleKind`) build their layers here.
 *
 * Vertex auth, first that is set: `tokenSource` (any renewing source), `accessToken` (a fixed
 * token: tests, short scripts), `tokenCommand` (a command printing a token), `serviceAccount` (a
 * parsed key) or `credentialsFile` (a key file's path, read when the layer is built). The project
 * defaults to the key's `project_id`. A key file that cannot be read fails every call with
 * `Authentication` naming the path (the layer itself cannot fail: config checked the fields).
 *
 * @since 0.1.0
 */
import { Config, Effect, Layer, Redacted, Result } from "effect"
import { HttpClient } from "effect/http"
import type * as ChatProvider from "@flexiai/core/ChatProvider"
import { Authentication } from "@flexiai/core/ProviderError"
import type * as ProviderError from "@flexiai/core/ProviderError"
import * as TokenSource from "@flexiai/provider/TokenSource"
import * as GoogleChat from "./GoogleChat.ts"
import * as GoogleClient from "./GoogleClient.ts"
import * as ServiceAccount from "./ServiceAccount.ts"

type Common = Omit<GoogleClient.Options, "endpoint"> & GoogleChat.Options

/** @category models */
export interface GeminiOptions extends Common {
  readonly apiKey?: Redacted.Redacted<string> | undefined
  /** Default `https://generativelanguage.googleapis.com/v1beta`. */
  readonly baseUrl?: string | undefined
}

/** @category models */
export interface VertexOptions extends Common {
  /** Default: the service account's `project_id`. */
  readonly project?: string | undefined
  /** Default `us-central1`; `global` uses the global endpoint. */
  readonly location?: string | undefined
  /** Default: the location's endpoint (`https://{location}-aiplatform.googleapis.com/v1`). */
  readonly baseUrl?: string | undefined
  readonly tokenSource?: TokenSource.TokenSource<ProviderError.ProviderErrorReason> | undefined
  readonly accessToken?: Redacted.Redacted<string> | undefined
  readonly tokenCommand?: string | undefined
  readonly serviceAccount?: ServiceAccount.ServiceAccountKey | undefined
  readonly credentialsFile?: string | undefined
  /** Replaces the key's `token_uri`. */
  readonly tokenUri?: string | undefined
}

/** A Gemini API provider. @category layers */
export const gemini = (options: GeminiOptions = {}): Layer.Layer<ChatProvider.ChatProvider, never, HttpClient.HttpClient> => {
  const { apiKey, baseUrl, ...rest } = options
  return GoogleChat.layer(rest).pipe(
    Layer.provide(GoogleClient.layer({ ...rest, endpoint: { _tag: "Gemini", apiKey, baseUrl } }))
  )
}

const failing = (reason: Authentication): TokenSource.TokenSource<ProviderError.ProviderErrorReason> =>
  TokenSource.make(Effect.fail(reason))

/** The key a Vertex provider signs with, if it uses one: given, or read from the file now. */
const keyOf = (options: VertexOptions): Result.Result<ServiceAccount.ServiceAccountKey, Authentication> | undefined =>
  options.serviceAccount !== undefined
    ? Result.succeed(options.serviceAccount)
    : options.credentialsFile !== undefined
    ? ServiceAccount.readKeyFile(options.credentialsFile)
    : undefined

/** A Vertex AI provider. @category layers */
export const vertex = (options: VertexOptions): Layer.Layer<ChatProvider.ChatProvider, never, HttpClient.HttpClient> =>
  Layer.unwrap(Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const {
      accessToken,
      baseUrl,
      credentialsFile: _file,
      location,
      project,
      serviceAccount: _key,
      tokenCommand,
      tokenSource,
      tokenUri,
      ...rest
    } = options
    const usesKey = tokenSource === undefined && accessToken === undefined && tokenCommand === undefined
    const key = usesKey ? keyOf(options) : undefined
    const source: TokenSource.TokenSource<ProviderError.ProviderErrorReason> = tokenSource ??
      (accessToken !== undefined
        ? TokenSource.make(Effect.succeed({ value: accessToken }))
        : tokenCommand !== undefined
        ? ServiceAccount.commandTokenSource(tokenCommand)
        : key === undefined
        ? failing(new Authentication({ message: "no Vertex AI credentials: set credentialsFile, accessToken, tokenCommand or tokenSource" }))
        : Result.isFailure(key)
        ? failing(key.failure)
        : ServiceAccount.tokenSource(http, { key: key.success, tokenUri }))
    const keyValue = key !== undefined && Result.isSuccess(key) ? key.success : undefined
    const projectId = project ?? keyValue?.projectId ?? ""
    // no project, no URL: every call fails before a request, saying what to set (a key file that
    // could not be read has said why already)
    const auth = projectId === "" && (key === undefined || Result.isSuccess(key))
      ? failing(new Authentication({ message: "no Vertex AI project: set project, or use a key file that names its project_id" }))
      : source
    return GoogleChat.layer(rest).pipe(
      Layer.provide(GoogleClient.layer({
        ...rest,
        endpoint: {
          _tag: "Vertex",
          project: projectId,
          location,
          baseUrl,
          tokenSource: auth,
          secrets: keyValue === undefined ? undefined : [keyValue.privateKey]
        }
      }))
    )
  }))

/**
 * A Gemini API provider from the environment: `GEMINI_API_KEY`, else `GOOGLE_API_KEY`
 * (required), `GOOGLE_GEMINI_BASE_URL` and `GEMINI_MODEL` when set.
 *
 * @category layers
 */
export const layerConfig = (options: Omit<GeminiOptions, "apiKey"> = {}): Layer.Layer<ChatProvider.ChatProvider, Config.ConfigError, HttpClient.HttpClient> =>
  Layer.unwrap(Effect.map(
    Config.all({
      apiKey: Config.Redacted("GEMINI_API_KEY").pipe(Config.orElse(() => Config.Redacted("GOOGLE_API_KEY"))),
      baseUrl: Config.String("GOOGLE_GEMINI_BASE_URL").pipe(Config.withDefault(undefined)),
      defaultModel: Config.String("GEMINI_MODEL").pipe(Config.withDefault(undefined))
    }),
    (values) =>
      gemini({ ...options, apiKey: values.apiKey, baseUrl: options.baseUrl ?? values.baseUrl, defaultModel: options.defaultModel ?? values.defaultModel })
  ))

/** Re-exported for callers that build a key in code. @category constructors */
export const serviceAccountKey = (key: {
  readonly clientEmail: string
  readonly privateKey: string | Redacted.Redacted<string>
  readonly tokenUri?: string | undefined
  readonly projectId?: string | undefined
  readonly privateKeyId?: string | undefined
}): ServiceAccount.ServiceAccountKey => ({
  ...key,
  privateKey: typeof key.privateKey === "string" ? Redacted.make(key.privateKey) : key.privateKey,
  tokenUri: key.tokenUri ?? ServiceAccount.defaultTokenUri
})
