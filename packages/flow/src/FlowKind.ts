/**
 * The `flow` descriptor: the Flow gateway from config and environment. Config and `flexiai` know
 * the kind only through it.
 *
 * Mapping notes: `baseUrl` (the gateway's URL) is required; `model` is a `provider:modelId`.
 * `clientSecret` is a secret field (`env:`/`file:`/`keychain:` references); `apiKey` is not used.
 * Detection needs `FLOW_BASE_URL`, `FLOW_CLIENT_ID`, `FLOW_CLIENT_SECRET` and `FLOW_TENANT`.
 *
 * @since 0.3.0
 */
import * as ProviderKind from "@flexiai/provider/ProviderKind"
import * as OpenAiChat from "@flexiai/openai/OpenAiChat"
import { Schema } from "effect"
import * as FlowProvider from "./FlowProvider.ts"

const optional = Schema.optionalKey
const Path = Schema.NonEmptyString

const list = (value: string | undefined): ReadonlyArray<string> =>
  value === undefined ? [] : value.split(",").map((item) => item.trim()).filter((item) => item !== "")

const route = (base: string | undefined, models: string | undefined) => ({
  ...(base === undefined ? {} : { base }),
  ...(models === undefined ? {} : { models })
})

/** The gateway's common ground (the router checks requests against it). @category models */
export const capabilities = OpenAiChat.defaultCapabilities

/** @category descriptors */
export const flow = ProviderKind.make({
  kind: "flow",
  description: "The Flow enterprise gateway (Azure OpenAI, Gemini, Bedrock, Azure AI Foundry behind one tenant); model is provider:modelId, baseUrl is the gateway's URL.",
  options: Schema.Struct({
    tenant: Schema.NonEmptyString.annotate({ description: "The tenant the client credentials belong to (sent to the token endpoint and as x-flow-tenant)." }),
    clientId: Schema.NonEmptyString.annotate({ description: "The client id of the client credentials." }),
    clientSecret: ProviderKind.Secret,
    appId: optional(Schema.NonEmptyString.annotate({ description: "The app or agent id (sent to the token endpoint and as x-flow-app-id)." })),
    tokenPath: optional(Path.annotate({ description: "The token endpoint's path under baseUrl (or a full URL). Default /oauth2/token." })),
    upstreams: optional(Schema.NonEmptyString.annotate({ description: `The upstreams enabled for the tenant, comma-separated (${FlowProvider.upstreams.join(",")}). Default all four.` })),
    azureOpenAiPath: optional(Path.annotate({ description: `Azure OpenAI's base path under baseUrl. Default ${FlowProvider.defaultRoutes["azure-openai"].base}.` })),
    azureOpenAiModelsPath: optional(Path.annotate({ description: `Azure OpenAI's model list path under baseUrl. Default ${FlowProvider.defaultRoutes["azure-openai"].models}.` })),
    googlePath: optional(Path.annotate({ description: `Gemini's base path under baseUrl. Default ${FlowProvider.defaultRoutes["google"].base}.` })),
    googleModelsPath: optional(Path.annotate({ description: `Gemini's model list path under baseUrl. Default ${FlowProvider.defaultRoutes["google"].models}.` })),
    bedrockPath: optional(Path.annotate({ description: `Bedrock's base path under baseUrl. Default ${FlowProvider.defaultRoutes["bedrock"].base}.` })),
    bedrockModelsPath: optional(Path.annotate({ description: `Bedrock's model list path under baseUrl. Default ${FlowProvider.defaultRoutes["bedrock"].models}.` })),
    foundryPath: optional(Path.annotate({ description: `Azure AI Foundry's base path under baseUrl. Default ${FlowProvider.defaultRoutes["azure-foundry"].base}.` })),
    foundryModelsPath: optional(Path.annotate({ description: `Azure AI Foundry's model list path under baseUrl. Default ${FlowProvider.defaultRoutes["azure-foundry"].models}.` })),
    failover: optional(Schema.NonEmptyString.annotate({ description: "provider:modelIds tried in order when the requested model fails over (between the gateway's own upstreams), comma-separated." })),
    modelsTtlSeconds: optional(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).annotate({ description: "How long a model list is fresh, seconds. 0: the default, 300." }))
  }),
  example: {
    model: "azure-openai:gpt-4o",
    baseUrl: "https://flow.example.com",
    tenant: "acme",
    clientId: "my-client",
    upstreams: "azure-openai,google,bedrock,azure-foundry",
    failover: "azure-foundry:gpt-4o"
  },
  requiresApiKey: false,
  requiresBaseUrl: true,
  secretFields: ["clientSecret"],
  environment: {
    fields: [
      { field: "baseUrl", variables: ["FLOW_BASE_URL"] },
      { field: "tenant", variables: ["FLOW_TENANT"] },
      { field: "clientId", variables: ["FLOW_CLIENT_ID"] },
      { field: "clientSecret", variables: ["FLOW_CLIENT_SECRET"], secret: true },
      { field: "appId", variables: ["FLOW_APP_ID"] }
    ],
    detection: { requires: ["baseUrl", "tenant", "clientId", "clientSecret"], model: "azure-openai:gpt-4o", priority: 40 }
  },
  capabilities,
  listsModels: true,
  // every `provider:modelId` the gateway lists is this provider's: a request naming one comes here
  defaultModels: { "*": "*" },
  check: (entry) => {
    if (FlowProvider.parseModelId(entry.model) === undefined) {
      return { path: "model", message: `a Flow model is provider:modelId (${FlowProvider.upstreams.join(", ")}), not "${entry.model}"` }
    }
    const unknown = list(entry.upstreams).filter((name) => !(FlowProvider.upstreams as ReadonlyArray<string>).includes(name))
    if (unknown.length > 0) return { path: "upstreams", message: `unknown upstream ${unknown.join(", ")} (known: ${FlowProvider.upstreams.join(", ")})` }
    const bad = list(entry.failover).filter((id) => FlowProvider.parseModelId(id) === undefined)
    return bad.length > 0 ? { path: "failover", message: `not provider:modelId: ${bad.join(", ")}` } : undefined
  },
  layer: (entry) =>
    FlowProvider.layer({
        name: entry.name,
        baseUrl: entry.baseUrl ?? "",
        tenant: entry.tenant,
        clientId: entry.clientId,
        clientSecret: entry.clientSecret,
        appId: entry.appId,
        tokenPath: entry.tokenPath,
        upstreams: entry.upstreams === undefined ? undefined : list(entry.upstreams) as ReadonlyArray<FlowProvider.Upstream>,
        routes: {
          "azure-openai": route(entry.azureOpenAiPath, entry.azureOpenAiModelsPath),
          google: route(entry.googlePath, entry.googleModelsPath),
          bedrock: route(entry.bedrockPath, entry.bedrockModelsPath),
          "azure-foundry": route(entry.foundryPath, entry.foundryModelsPath)
        },
        failover: entry.failover === undefined ? undefined : list(entry.failover),
        modelsTtl: entry.modelsTtlSeconds === undefined || entry.modelsTtlSeconds === 0 ? undefined : `${entry.modelsTtlSeconds} seconds`,
        defaultModel: entry.model,
        capabilities: entry.capabilities,
        timeouts: { firstByte: entry.timeouts.firstByte, total: entry.timeouts.total }
      })
})

/** The package's kinds, in the order `flexiai` registers them. @category descriptors */
export const kinds = [flow] as const
