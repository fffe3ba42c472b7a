/**
 * The descriptors of the OpenAI family: `openai`, `azure-openai`, `foundry`, `openrouter`,
 * `ollama-openai` (with `ollama`, its old name) and `openai-compatible`. Each says which config fields its kind takes, which of them
 * are secrets, which standard variables fill them in, and how a resolved entry becomes an
 * `OpenAiChat`/`OpenAiCompatible` layer. Config and `flexiai` know the family only through these.
 *
 * Mapping notes that are not obvious from the names:
 * - `ollama-openai.host` is the server root (`http://localhost:11434`); the OpenAI-compatible API is
 *   under `/v1`. An explicit `baseUrl` is taken as the `/v1` URL itself.
 * - `azure-openai.deployment` (default: `model`) is what goes into the request URL, so it is the
 *   provider's default model.
 * - The router times every attempt, so the client gets only the limits an entry sets: each limit
 *   costs a child fiber per call, and two timers for one wait buy nothing. `timeouts.connect` is
 *   not the client's: `flexiai` gives such an entry an HTTP client of its own.
 *
 * @since 0.2.0
 */
import type * as Capabilities from "@flexiai/core/Capabilities"
import { isBaseUrl } from "@flexiai/provider/BaseUrl"
import * as ProviderKind from "@flexiai/provider/ProviderKind"
import { Duration, Layer, Schema } from "effect"
import * as OpenAiChat from "./OpenAiChat.ts"
import * as OpenAiClient from "./OpenAiClient.ts"
import * as OpenAiCompatible from "./OpenAiCompatible.ts"

const NonEmpty = Schema.NonEmptyString
const optional = Schema.optionalKey

/** What Chat Completions can do: `OpenAiChat.defaultCapabilities`, the one statement of it. @category models */
export const capabilities: Capabilities.Capabilities = OpenAiChat.defaultCapabilities

const clientTimeouts = (entry: ProviderKind.Common): OpenAiClient.Timeouts => ({
  firstByte: entry.timeouts.firstByte ?? Duration.infinity,
  idle: Duration.infinity,
  total: entry.timeouts.total ?? Duration.infinity
})

// OLLAMA_HOST is often written without a scheme (`127.0.0.1:11434`, as Ollama's own CLI accepts)
const hostUrl = (host: string): string => (/^[a-z][a-z0-9+.-]*:\/\//i.test(host) ? host : `http://${host}`).replace(/\/+$/, "")

/**
 * `strictSchemas`, the option every kind of the family takes: whether a `json_schema` response
 * format or a tool whose schema qualifies (closed objects, every property required) is sent with
 * `strict: true` when the request leaves `strict` unset. Unset: the provider's own default.
 */
const strictSchemas = optional(Schema.Boolean.annotate({
  description: "Send strict: true on json_schema formats and tools whose schema qualifies, when the request leaves strict unset. " +
    "Default: the provider's (on for OpenAI, Azure OpenAI and OpenRouter, json_schema only on Foundry, off on Ollama and other servers)."
}))

/** The quirks `strictSchemas` sets (`tools: false` for a kind whose API has no strict on tools). */
const strictQuirks = (strict: boolean | undefined, tools = true): OpenAiChat.Quirks | undefined =>
  strict === undefined ? undefined : { strictJsonSchema: strict, ...(tools ? { strictTools: strict } : {}) }

/** OpenAI's own API. @category descriptors */
export const openai = ProviderKind.make({
  kind: "openai",
  description: "OpenAI Chat Completions (api.openai.com, or baseUrl).",
  options: Schema.Struct({ strictSchemas }),
  requiresApiKey: true,
  secretFields: [],
  environment: {
    fields: [
      { field: "apiKey", variables: ["OPENAI_API_KEY"], secret: true },
      { field: "baseUrl", variables: ["OPENAI_BASE_URL"] }
    ],
    detection: { requires: ["apiKey"], model: "gpt-4o-mini", priority: 10 }
  },
  capabilities,
  listsModels: true,
  layer: (entry) =>
    OpenAiChat.layer({ name: entry.name, defaultModel: entry.model, capabilities: entry.capabilities, quirks: strictQuirks(entry.strictSchemas) }).pipe(
      Layer.provide(OpenAiClient.layer({
        name: entry.name,
        apiKey: entry.apiKey,
        apiUrl: entry.baseUrl,
        defaultModel: entry.model,
        timeouts: clientTimeouts(entry)
      }))
    )
})

/**
 * Azure OpenAI: `endpoint` is the resource URL, `deployment` defaults to `model`. Authenticates
 * with `apiKey` or an Entra ID `bearerToken`.
 *
 * @category descriptors
 */
export const azureOpenAi = ProviderKind.make({
  kind: "azure-openai",
  description: "Azure OpenAI: endpoint is the resource URL, deployment defaults to model; apiKey or an Entra ID bearerToken.",
  options: Schema.Struct({
    endpoint: NonEmpty.annotate({ description: "The resource URL, https://<resource>.openai.azure.com." }).check(isBaseUrl),
    deployment: optional(NonEmpty.annotate({ description: "The deployment requests go to. Default: model." })),
    apiVersion: optional(NonEmpty.annotate({ description: "The api-version query parameter. Default: the provider's." })),
    bearerToken: optional(ProviderKind.Secret),
    strictSchemas
  }),
  example: { endpoint: "https://my-resource.openai.azure.com", deployment: "gpt-4o-mini-prod", apiKey: "env:AZURE_OPENAI_API_KEY" },
  requiresApiKey: false,
  secretFields: ["bearerToken"],
  environment: {
    fields: [
      { field: "apiKey", variables: ["AZURE_OPENAI_API_KEY"], secret: true },
      { field: "endpoint", variables: ["AZURE_OPENAI_ENDPOINT"] },
      { field: "deployment", variables: ["AZURE_OPENAI_DEPLOYMENT"] },
      { field: "apiVersion", variables: ["OPENAI_API_VERSION"] }
    ],
    detection: { requires: ["apiKey", "endpoint"], model: "gpt-4o-mini", modelFrom: "deployment", priority: 40 }
  },
  capabilities,
  listsModels: true,
  check: (entry) =>
    entry.apiKey === undefined && entry.bearerToken === undefined
      ? { path: "apiKey", message: "missing (set apiKey or bearerToken)" }
      : undefined,
  layer: (entry) =>
    OpenAiCompatible.layerAzure({
      name: entry.name,
      defaultModel: entry.deployment ?? entry.model,
      endpoint: entry.endpoint,
      apiKey: entry.apiKey,
      bearerToken: entry.bearerToken,
      apiVersion: entry.apiVersion,
      capabilities: entry.capabilities,
      quirks: strictQuirks(entry.strictSchemas),
      timeouts: clientTimeouts(entry)
    })
})

/** Azure AI Foundry (models served behind an Azure AI endpoint); it has no model list. @category descriptors */
export const foundry = ProviderKind.make({
  kind: "foundry",
  description: "Azure AI Foundry: models served behind an Azure AI endpoint.",
  options: Schema.Struct({
    endpoint: NonEmpty.annotate({ description: "The Azure AI endpoint, https://<resource>.services.ai.azure.com/models." }).check(
      isBaseUrl
    ),
    apiVersion: optional(NonEmpty.annotate({ description: "The api-version query parameter. Default: the provider's." })),
    strictSchemas
  }),
  example: { model: "Phi-4", endpoint: "https://my-resource.services.ai.azure.com/models" },
  requiresApiKey: true,
  secretFields: [],
  // temperature 0–1: `OpenAiCompatible.foundryCapabilities`, the one statement of it
  capabilities: { ...capabilities, ...OpenAiCompatible.foundryCapabilities },
  // its listModels answers [] without a call: only a chat proves it is up
  listsModels: false,
  layer: (entry) =>
    OpenAiCompatible.layerFoundry({
      name: entry.name,
      defaultModel: entry.model,
      endpoint: entry.endpoint,
      apiKey: entry.apiKey,
      apiVersion: entry.apiVersion,
      capabilities: entry.capabilities,
      // its tools have no strict field: json_schema only
      quirks: strictQuirks(entry.strictSchemas, false),
      timeouts: clientTimeouts(entry)
    })
})

/** OpenRouter; `appUrl` and `appTitle` become its attribution headers. @category descriptors */
export const openRouter = ProviderKind.make({
  kind: "openrouter",
  description: "OpenRouter; appUrl and appTitle become its attribution headers.",
  options: Schema.Struct({
    appUrl: optional(NonEmpty.annotate({ description: "Your app's URL, sent as the HTTP-Referer attribution header." })),
    appTitle: optional(NonEmpty.annotate({ description: "Your app's name, sent as the attribution title header." })),
    strictSchemas
  }),
  requiresApiKey: true,
  secretFields: [],
  environment: {
    fields: [{ field: "apiKey", variables: ["OPENROUTER_API_KEY"], secret: true }],
    detection: { requires: ["apiKey"], model: "openai/gpt-4o-mini", priority: 70 }
  },
  capabilities,
  listsModels: true,
  layer: (entry) =>
    OpenAiCompatible.layerOpenRouter({
      name: entry.name,
      defaultModel: entry.model,
      // requiresApiKey: config has checked it is set
      apiKey: entry.apiKey!,
      apiUrl: entry.baseUrl,
      referer: entry.appUrl,
      title: entry.appTitle,
      capabilities: entry.capabilities,
      quirks: strictQuirks(entry.strictSchemas),
      timeouts: clientTimeouts(entry)
    })
})

/**
 * Ollama through its OpenAI-compatible /v1; `host` defaults to http://localhost:11434. Not
 * detected from `OLLAMA_HOST` (that picks `ollama-native`, `@flexiai/ollama`); an entry that names
 * this kind still takes its `host` from `OLLAMA_HOST` when it leaves it out.
 *
 * @category descriptors
 */
export const ollamaOpenAi = ProviderKind.make({
  kind: "ollama-openai",
  description: "Ollama through its OpenAI-compatible /v1; host defaults to http://localhost:11434. (Native /api/chat: ollama-native.)",
  options: Schema.Struct({
    host: optional(NonEmpty.annotate({ description: "The server root (the API is under /v1). Default: http://localhost:11434." })),
    strictSchemas
  }),
  example: { model: "llama3.2", host: "http://localhost:11434" },
  requiresApiKey: false,
  secretFields: [],
  environment: { fields: [{ field: "host", variables: ["OLLAMA_HOST"] }] },
  // no file (document) parts through /v1 (`OpenAiCompatible.ollama`)
  capabilities: { ...capabilities, files: [] },
  listsModels: true,
  layer: (entry) =>
    OpenAiCompatible.layerOllama({
      name: entry.name,
      defaultModel: entry.model,
      apiUrl: entry.baseUrl ?? (entry.host === undefined ? undefined : `${hostUrl(entry.host)}/v1`),
      apiKey: entry.apiKey,
      capabilities: entry.capabilities,
      quirks: strictQuirks(entry.strictSchemas),
      timeouts: clientTimeouts(entry)
    })
})

/**
 * `ollama`: the old name of `ollama-openai` (deprecated, still accepted). The same descriptor under
 * the old `kind`, so config files that say `kind: ollama` keep decoding to the same provider; an
 * entry's default name stays `ollama`.
 *
 * @category descriptors
 */
export const ollama = ProviderKind.make({
  ...ollamaOpenAi,
  kind: "ollama",
  description: "Deprecated: the old name of ollama-openai (Ollama's OpenAI-compatible /v1). Use ollama-openai, or ollama-native for /api/chat."
})

/** Any server that speaks OpenAI Chat Completions (vLLM, LM Studio, a proxy). @category descriptors */
export const openAiCompatible = ProviderKind.make({
  kind: "openai-compatible",
  description: "Any server that speaks OpenAI Chat Completions (vLLM, LM Studio, a proxy); baseUrl is required.",
  options: Schema.Struct({ strictSchemas }),
  requiresApiKey: false,
  requiresBaseUrl: true,
  secretFields: [],
  example: { model: "qwen2.5-7b-instruct", baseUrl: "http://localhost:8000/v1" },
  capabilities,
  listsModels: true,
  layer: (entry) =>
    OpenAiCompatible.layerCompatible({
      name: entry.name,
      defaultModel: entry.model,
      // requiresBaseUrl: config has checked it is set
      apiUrl: entry.baseUrl!,
      apiKey: entry.apiKey,
      capabilities: entry.capabilities,
      quirks: strictQuirks(entry.strictSchemas),
      timeouts: clientTimeouts(entry)
    })
})

/** The whole family, in the order `flexiai` registers it. @category descriptors */
export const kinds = [openai, azureOpenAi, foundry, openRouter, ollamaOpenAi, ollama, openAiCompatible] as const
