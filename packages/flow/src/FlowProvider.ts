/**
 * Flow, the enterprise LLM gateway, as one `ChatProvider`: models are `provider:modelId` ids
 * (`azure-openai:gpt-4o`, `google:gemini-2.5-pro`, `bedrock:anthropic.claude-…`,
 * `azure-foundry:DeepSeek-R1`); a request goes to that upstream's route under the gateway's URL in
 * the upstream's own wire format, through the openai, google and bedrock packages' clients and
 * codecs (no copies), authenticated with the gateway's client-credentials token (`FlowToken`) and
 * carrying the gateway's tenant and app headers.
 *
 * Decisions: every path is configuration (`defaultRoutes`; the gateway's exact paths are not
 * public). `failover` lists other `provider:modelId`s tried in order when the requested one fails
 * with an error that fails over (a Flow provider failing over between its own upstreams); the
 * router's chain does the same across providers. A `NotFound` from an upstream is reworded to
 * name the tenant (the gateway answers 404 for a model not enabled for it).
 *
 * @since 0.3.0
 */
import { Duration, Effect, Layer, Stream } from "effect"
import { HttpClient } from "effect/http"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import * as ProviderError from "@flexiai/core/ProviderError"
import type * as StreamPart from "@flexiai/core/StreamPart"
import * as KitAuth from "@flexiai/provider/Auth"
import * as HttpTransport from "@flexiai/provider/HttpTransport"
import * as OpenAiChat from "@flexiai/openai/OpenAiChat"
import * as OpenAiClient from "@flexiai/openai/OpenAiClient"
import * as GoogleChat from "@flexiai/google/GoogleChat"
import * as GoogleClient from "@flexiai/google/GoogleClient"
import * as BedrockChat from "@flexiai/bedrock/BedrockChat"
import * as BedrockClient from "@flexiai/bedrock/BedrockClient"
import * as FlowModels from "./FlowModels.ts"
import * as FlowToken from "./FlowToken.ts"

/** The upstreams behind the gateway. @category models */
export const upstreams = ["azure-openai", "google", "bedrock", "azure-foundry"] as const
/** @category models */
export type Upstream = typeof upstreams[number]

/** One upstream's routes under the gateway URL. @category models */
export interface Route {
  /** The upstream's base path: the codec's own paths are appended to it. */
  readonly base: string
  /** The upstream's model list. */
  readonly models: string
}

/** The documented default paths (README table). @category constants */
export const defaultRoutes: { readonly token: string } & Readonly<Record<Upstream, Route>> = {
  token: "/oauth2/token",
  "azure-openai": { base: "/azure-openai/openai", models: "/azure-openai/models" },
  google: { base: "/google/v1beta", models: "/google/models" },
  bedrock: { base: "/bedrock", models: "/bedrock/models" },
  "azure-foundry": { base: "/azure-foundry/models", models: "/azure-foundry/model-list" }
}

/** The gateway's headers. @category constants */
export const tenantHeader = "x-flow-tenant"
/** @category constants */
export const appHeader = "x-flow-app-id"

/** @category models */
export interface Options extends FlowToken.Credentials {
  /** Default `"flow"`. */
  readonly name?: string | undefined
  /** The gateway's URL (no trailing slash needed). */
  readonly baseUrl: string
  /** The token endpoint's path under `baseUrl`, or a full URL. Default `defaultRoutes.token`. */
  readonly tokenPath?: string | undefined
  readonly routes?: Partial<Record<Upstream, Partial<Route>>> | undefined
  /** The upstreams enabled for this tenant. Default all four. */
  readonly upstreams?: ReadonlyArray<Upstream> | undefined
  /** A `provider:modelId`. */
  readonly defaultModel?: string | undefined
  /** Other `provider:modelId`s tried in order when the requested one fails over. */
  readonly failover?: ReadonlyArray<string> | undefined
  /** How long a model list is fresh. Default 5 minutes. */
  readonly modelsTtl?: Duration.Input | undefined
  readonly timeouts?: { readonly firstByte?: Duration.Input | undefined; readonly idle?: Duration.Input | undefined; readonly total?: Duration.Input | undefined } | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** What the provider declares to the router. Default `OpenAiChat.defaultCapabilities` (the gateway's common ground). */
  readonly capabilities?: ChatProvider.Capabilities | undefined
}

/** Splits `provider:modelId`, or says why not. @category utils */
export const parseModelId = (id: string): { readonly upstream: Upstream; readonly model: string } | undefined => {
  const at = id.indexOf(":")
  if (at <= 0) return undefined
  const upstream = id.slice(0, at)
  const model = id.slice(at + 1)
  return (upstreams as ReadonlyArray<string>).includes(upstream) && model !== ""
    ? { upstream: upstream as Upstream, model }
    : undefined
}

const join = (base: string, path: string): string => /^https?:\/\//.test(path) ? path : `${base.replace(/\/+$/, "")}${path}`

/** The service: the `ChatProvider` plus the model list with its staleness. @category models */
export interface Service {
  readonly provider: ChatProvider.ChatProvider["Service"]
  readonly models: FlowModels.FlowModels
}

/** Builds the provider, reading `HttpClient` from context. @category constructors */
export const makeService = Effect.fnUntraced(function*(options: Options) {
  const http = yield* HttpClient.HttpClient
  const name = options.name ?? "flow"
  const tokens = FlowToken.tokenSource(http, { ...options, tokenUrl: join(options.baseUrl, options.tokenPath ?? defaultRoutes.token) })
  const auth = KitAuth.token(tokens)
  const headers = { ...options.headers, [tenantHeader]: options.tenant, ...(options.appId === undefined ? {} : { [appHeader]: options.appId }) }
  const enabled = options.upstreams ?? upstreams
  const routeOf = (upstream: Upstream): Route => ({ ...defaultRoutes[upstream], ...options.routes?.[upstream] })
  const timeouts = options.timeouts

  const build = (upstream: Upstream): Effect.Effect<ChatProvider.ChatProvider["Service"]> => {
    const baseUrl = join(options.baseUrl, routeOf(upstream).base)
    const upstreamName = `${name}/${upstream}`
    switch (upstream) {
      case "azure-openai":
      case "azure-foundry":
        return Effect.flatMap(
          OpenAiClient.make({
            name: upstreamName,
            apiUrl: baseUrl,
            tokenSource: tokens,
            // not sent (the token is): masked out of the upstream's messages
            apiKey: options.clientSecret,
            headers,
            timeouts,
            modelsPath: null,
            ...(upstream === "azure-openai" ? { chatPath: (model: string) => `/deployments/${encodeURIComponent(model)}/chat/completions` } : {})
          }).pipe(Effect.provideService(HttpClient.HttpClient, http)),
          (client) => OpenAiChat.make({ name: upstreamName }).pipe(Effect.provideService(OpenAiClient.OpenAiClient, client))
        )
      case "google":
        return Effect.flatMap(
          GoogleClient.make({ name: upstreamName, endpoint: { _tag: "Gemini", baseUrl, auth, apiKey: options.clientSecret }, headers, timeouts }).pipe(
            Effect.provideService(HttpClient.HttpClient, http)
          ),
          (client) => GoogleChat.make({ name: upstreamName }).pipe(Effect.provideService(GoogleClient.GoogleClient, client))
        )
      case "bedrock":
        return BedrockChat.make({ name: upstreamName }).pipe(
          Effect.provideService(BedrockClient.BedrockClient, BedrockClient.makeWith(http, { name: upstreamName, endpoint: baseUrl, auth, apiKey: options.clientSecret, headers, timeouts, region: "us-east-1" }))
        )
    }
  }

  const providers = new Map<Upstream, ChatProvider.ChatProvider["Service"]>()
  for (const upstream of enabled) providers.set(upstream, yield* build(upstream))

  const gateway = HttpTransport.makeWith(http, {
    name,
    baseUrl: options.baseUrl,
    auth,
    headers,
    secrets: [options.clientSecret],
    timeouts: {
      firstByte: Duration.fromInputUnsafe(timeouts?.firstByte ?? Duration.seconds(30)),
      idle: Duration.fromInputUnsafe(timeouts?.idle ?? Duration.seconds(30)),
      total: Duration.fromInputUnsafe(timeouts?.total ?? Duration.seconds(60))
    }
  })
  const models = yield* FlowModels.make({
    name,
    upstreams: enabled,
    ttl: options.modelsTtl,
    fetch: (upstream) => gateway.get(routeOf(upstream as Upstream).models, FlowModels.decoding)
  })

  const defaultModel = options.defaultModel ?? "azure-openai:gpt-4o"
  const notEnabled = (id: string, error: ProviderError.ChatError): ProviderError.ChatError =>
    error._tag !== "ProviderError"
      ? error
      : error.reason._tag === "NotFound"
      ? ProviderError.make(name, new ProviderError.NotFound({ message: `model ${id} is not enabled for tenant "${options.tenant}" on the Flow gateway`, model: id }), { model: id })
      : new ProviderError.ProviderError({ ...error, provider: name })

  const target = (id: string) => {
    const parsed = parseModelId(id)
    const provider = parsed === undefined ? undefined : providers.get(parsed.upstream)
    if (parsed === undefined || provider === undefined) {
      return Effect.fail(ProviderError.make(name, new ProviderError.NotFound({
        message: parsed === undefined
          ? `Flow model ids are provider:modelId (${upstreams.join(", ")}), not "${id}"`
          : `upstream ${parsed.upstream} is not enabled for tenant "${options.tenant}"`,
        model: id
      }), { model: id }))
    }
    return Effect.succeed({ provider, model: parsed.model })
  }

  const candidates = (request: ChatRequest.ChatRequest): ReadonlyArray<string> => {
    const first = request.model ?? defaultModel
    return [first, ...(options.failover ?? []).filter((id) => id !== first)]
  }

  const chatOne = (request: ChatRequest.ChatRequest, id: string) =>
    Effect.flatMap(target(id), ({ model, provider }) =>
      Effect.mapError(provider.chat({ ...request, model }), (error) => notEnabled(id, error)))

  const chat = (request: ChatRequest.ChatRequest) => {
    const [first, ...rest] = candidates(request)
    return rest.reduce(
      (attempt, id) => Effect.catchIf(attempt, (error) => ProviderError.classify(error).failsOver, () => chatOne(request, id)),
      chatOne(request, first!)
    )
  }

  // a stream fails over only before its first part: once parts went out, a switch would repeat them
  const streamOne = (request: ChatRequest.ChatRequest, id: string): Stream.Stream<StreamPart.StreamPart, ProviderError.ChatError> =>
    Stream.unwrap(Effect.map(target(id), ({ model, provider }) =>
      Stream.mapError(provider.stream({ ...request, model }), (error) => notEnabled(id, error))))

  const stream = (request: ChatRequest.ChatRequest): Stream.Stream<StreamPart.StreamPart, ProviderError.ChatError> => {
    const [first, ...rest] = candidates(request)
    return rest.reduce(
      (attempt, id) =>
        Stream.suspend(() => {
          let started = false
          return Stream.catch(Stream.tap(attempt, () => Effect.sync(() => { started = true })), (error) =>
            !started && ProviderError.classify(error).failsOver ? streamOne(request, id) : Stream.fail(error))
        }),
      streamOne(request, first!)
    )
  }

  const provider = ChatProvider.ChatProvider.of({
    name,
    defaultModel,
    capabilities: options.capabilities ?? OpenAiChat.defaultCapabilities,
    chat,
    stream,
    listModels: Effect.map(models.list, (listed) =>
      listed.models.map((model) => ({
        id: model.id,
        ownedBy: model.upstream,
        ...(model.contextWindow === undefined ? {} : { contextWindow: model.contextWindow }),
        ...(model.capabilities === undefined ? {} : { capabilities: model.capabilities })
      })))
  })
  return { provider, models } satisfies Service
})

/** The provider alone. @category constructors */
export const make = (options: Options) => Effect.map(makeService(options), (service) => service.provider)

/** A `ChatProvider` for Flow. @category layers */
export const layer = (options: Options): Layer.Layer<ChatProvider.ChatProvider, never, HttpClient.HttpClient> =>
  Layer.effect(ChatProvider.ChatProvider, Effect.map(makeService(options), (service) => service.provider))
