/**
 * The OpenAI-compatible family as ready-made layers on the Chat Completions codec: Azure OpenAI,
 * Azure AI Foundry (model inference), OpenRouter, Ollama's `/v1`, and any compatible base URL.
 * Each is a preset (client options + chat options, pure data) and a layer built from it that
 * provides `ChatProvider` and needs only an `HttpClient`.
 *
 * What users get wrong: on Azure the request's `model` is the *deployment* name (it goes into the
 * URL); Azure's GA `api-version` 2024-10-21 has no `stream_options`, so streamed usage is asked for
 * only on the versions that take it (`2024-08-01-preview` and later previews, later GA versions,
 * `v1`/`preview`; `quirks.streamUsage` overrides); Foundry rejects unknown body fields unless you
 * send `extra-parameters: pass-through` (a header you can add with `headers`), and sends usage in
 * its last stream chunk without being asked; Ollama's `/v1` takes images as base64 only and
 * ignores `tool_choice` (see `OpenAiCodec.Quirks`).
 *
 * @since 0.1.0
 */
import type { Redacted } from "effect"
import { Layer } from "effect"
import type { HttpClient } from "effect/http"
import type * as ChatProvider from "@flexiai/core/ChatProvider"
import type * as ProviderError from "@flexiai/core/ProviderError"
import type * as TokenSource from "@flexiai/provider/TokenSource"
import * as OpenAiChat from "./OpenAiChat.ts"
import * as OpenAiClient from "./OpenAiClient.ts"
import { definedQuirks } from "./OpenAiCodec.ts"

/** Client and chat options for one family member. @category models */
export interface Preset {
  readonly client: OpenAiClient.Options
  readonly chat: OpenAiChat.Options
}

/** Options every member shares. @category models */
export interface CommonOptions {
  /** The `ChatProvider` name (circuits and attempts are keyed by it). */
  readonly name?: string | undefined
  readonly defaultModel?: string | undefined
  readonly timeouts?: OpenAiClient.Timeouts | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly quirks?: OpenAiChat.Quirks | undefined
  readonly capabilities?: OpenAiChat.Options["capabilities"]
  readonly onMalformedEvent?: "skip" | "fail" | undefined
  /** Effect's own HTTP span per request, and trace headers to the provider (see `OpenAiClient.Options`). Default `false`. */
  readonly httpSpans?: boolean | undefined
}

const chatOptions = (options: CommonOptions, name: string, quirks: OpenAiChat.Quirks): OpenAiChat.Options => ({
  name: options.name ?? name,
  defaultModel: options.defaultModel,
  capabilities: options.capabilities,
  onMalformedEvent: options.onMalformedEvent,
  quirks: { ...quirks, ...definedQuirks(options.quirks) }
})

const toLayer = (preset: Preset): Layer.Layer<ChatProvider.ChatProvider, never, HttpClient.HttpClient> =>
  OpenAiChat.layer(preset.chat).pipe(Layer.provide(OpenAiClient.layer(preset.client)))

// ---------------------------------------------------------------------------
// Azure OpenAI
// ---------------------------------------------------------------------------

/** @category models */
export interface AzureOptions extends CommonOptions {
  /** `https://{resource}.openai.azure.com` (without `/openai`). */
  readonly endpoint: string
  /** Sent as the `api-key` header. */
  readonly apiKey?: Redacted.Redacted<string> | undefined
  /** A Microsoft Entra ID token, sent as `Authorization: Bearer` (instead of `apiKey`). */
  readonly bearerToken?: Redacted.Redacted<string> | undefined
  /**
   * Microsoft Entra ID tokens that are renewed (scope `https://cognitiveservices.azure.com/.default`),
   * sent as `Authorization: Bearer`; taken over `bearerToken` and `apiKey`. A 401 refreshes the
   * token once and sends the request again before the failure counts.
   */
  readonly tokenSource?: TokenSource.TokenSource<ProviderError.ProviderErrorReason> | undefined
  /** Default `2024-10-21` (GA). */
  readonly apiVersion?: string | undefined
}

/**
 * Azure OpenAI: `POST {endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…`
 * (https://learn.microsoft.com/azure/ai-services/openai/reference). The model is the deployment.
 *
 * @category presets
 */
export const azure = (options: AzureOptions): Preset => ({
  client: {
    name: options.name ?? "azure",
    apiUrl: `${options.endpoint.replace(/\/+$/, "")}/openai`,
    apiKey: options.bearerToken ?? options.apiKey,
    ...(options.tokenSource === undefined ? {} : { tokenSource: options.tokenSource }),
    auth: options.bearerToken !== undefined
      ? { type: "bearer" }
      : options.apiKey !== undefined
      ? { type: "header", name: "api-key" }
      : { type: "none" },
    chatPath: (deployment) => `/deployments/${encodeURIComponent(deployment)}/chat/completions`,
    urlParams: { "api-version": options.apiVersion ?? "2024-10-21" },
    defaultModel: options.defaultModel,
    timeouts: options.timeouts,
    httpSpans: options.httpSpans,
    headers: options.headers,
    modelsPath: "/models"
  },
  // 2024-10-21 has max_completion_tokens and strict (json_schema and tools) but no stream_options nor metadata
  chat: chatOptions(options, "azure", {
    maxTokensField: "max_completion_tokens",
    streamUsage: azureStreamUsage(options.apiVersion ?? "2024-10-21"),
    metadata: false,
    user: true,
    // system content may be text parts; no developer role in 2024-10-21
    developerRole: false
  })
})

/**
 * Whether an Azure OpenAI `api-version` takes `stream_options` (streamed usage): the previews from
 * 2024-08-01-preview on, dated GA versions after 2024-10-21 (which has none), and the undated
 * `v1`/`preview`/`latest` surfaces
 * (https://learn.microsoft.com/azure/ai-foundry/openai/api-version-lifecycle).
 *
 * @category presets
 */
export const azureStreamUsage = (apiVersion: string): boolean => {
  if (apiVersion === "v1" || apiVersion === "preview" || apiVersion === "latest") return true
  const dated = /^(\d{4}-\d{2}-\d{2})(-preview)?$/.exec(apiVersion)
  if (dated === null) return false
  return dated[2] === undefined ? dated[1]! > "2024-10-21" : dated[1]! >= "2024-08-01"
}

/** @category layers */
export const layerAzure = (options: AzureOptions) => toLayer(azure(options))

// ---------------------------------------------------------------------------
// Azure AI Foundry (model inference)
// ---------------------------------------------------------------------------

/** @category models */
export interface FoundryOptions extends CommonOptions {
  /** `https://{resource}.services.ai.azure.com/models`. */
  readonly endpoint: string
  readonly apiKey?: Redacted.Redacted<string> | undefined
  readonly bearerToken?: Redacted.Redacted<string> | undefined
  /** Default `2024-05-01-preview`. */
  readonly apiVersion?: string | undefined
}

/**
 * Azure AI Foundry model inference: `POST {endpoint}/chat/completions?api-version=…`, the model
 * deployment in the body's `model`
 * (https://learn.microsoft.com/rest/api/aifoundry/model-inference/get-chat-completions).
 *
 * @category presets
 */
export const foundry = (options: FoundryOptions): Preset => ({
  client: {
    name: options.name ?? "foundry",
    apiUrl: options.endpoint,
    apiKey: options.bearerToken ?? options.apiKey,
    auth: options.bearerToken !== undefined
      ? { type: "bearer" }
      : options.apiKey !== undefined
      ? { type: "header", name: "api-key" }
      : { type: "none" },
    urlParams: { "api-version": options.apiVersion ?? "2024-05-01-preview" },
    defaultModel: options.defaultModel,
    timeouts: options.timeouts,
    httpSpans: options.httpSpans,
    headers: options.headers,
    modelsPath: null
  },
  // ChatCompletionsOptions knows max_tokens and neither user, metadata nor stream_options (its
  // stream chunks carry usage unasked); strict on json_schema but not on tools; an assistant
  // message's content must be a string when present
  chat: {
    ...chatOptions(options, "foundry", {
      maxTokensField: "max_tokens",
      emptyAssistantContent: "omit",
      streamUsage: false,
      usageInStream: true,
      metadata: false,
      user: false,
      strictTools: false,
      // its request messages are system, user, assistant and tool, system content a string
      developerRole: false,
      systemContentParts: false
    }),
    capabilities: { ...foundryCapabilities, ...options.capabilities }
  }
})

/**
 * What Foundry's model inference takes beyond Chat Completions' defaults: temperature 0–1
 * (`ChatCompletionsOptions.temperature`, test-data/specs/foundry/AIFoundryAzureAI.json), so the
 * router skips it for a hotter request instead of taking its 400.
 *
 * @category presets
 */
export const foundryCapabilities: NonNullable<OpenAiChat.Options["capabilities"]> = { temperature: { min: 0, max: 1 } }

/** @category layers */
export const layerFoundry = (options: FoundryOptions) => toLayer(foundry(options))

// ---------------------------------------------------------------------------
// OpenRouter
// ---------------------------------------------------------------------------

/** @category models */
export interface OpenRouterOptions extends CommonOptions {
  readonly apiKey: Redacted.Redacted<string>
  /** Default `https://openrouter.ai/api/v1`. */
  readonly apiUrl?: string | undefined
  /** Your site, sent as `HTTP-Referer` (OpenRouter attribution). */
  readonly referer?: string | undefined
  /** Your app's name, sent as `X-OpenRouter-Title` and as the older `X-Title`. */
  readonly title?: string | undefined
}

/**
 * OpenRouter (https://openrouter.ai/docs/api-reference/overview): bearer auth, attribution
 * headers, numeric error codes, errors that can arrive as a chunk inside a 200 stream, and
 * reasoning as `reasoning_details` (signed blocks), read into `reasoning` and given back on the
 * next turn's assistant message.
 *
 * @category presets
 */
export const openRouter = (options: OpenRouterOptions): Preset => ({
  client: {
    name: options.name ?? "openrouter",
    apiUrl: options.apiUrl ?? "https://openrouter.ai/api/v1",
    apiKey: options.apiKey,
    defaultModel: options.defaultModel,
    timeouts: options.timeouts,
    httpSpans: options.httpSpans,
    headers: {
      ...(options.referer === undefined ? {} : { "HTTP-Referer": options.referer }),
      // X-OpenRouter-Title is the name OpenRouter documents today
      // (https://openrouter.ai/docs/features/app-attribution); X-Title is the name it had, which
      // clients and reports still rely on: both are sent, so attribution works either way
      ...(options.title === undefined ? {} : { "X-OpenRouter-Title": options.title, "X-Title": options.title }),
      ...options.headers
    }
  },
  // reasoning goes back as the `reasoning_details` it came as, signatures included
  // ChatRequest takes metadata (string values) and strict on json_schema and tools
  chat: chatOptions(options, "openrouter", {
    maxTokensField: "max_tokens",
    streamUsage: true,
    metadata: true,
    user: true,
    reasoningEcho: "reasoning_details"
    // ChatDeveloperMessage and system content as text parts are in its spec: OpenAI's defaults
  })
})

/** @category layers */
export const layerOpenRouter = (options: OpenRouterOptions) => toLayer(openRouter(options))

// ---------------------------------------------------------------------------
// Ollama (/v1) and any compatible server
// ---------------------------------------------------------------------------

/** @category models */
export interface OllamaOptions extends CommonOptions {
  /** Default `http://localhost:11434/v1`. */
  readonly apiUrl?: string | undefined
  /** Ollama needs none; a proxy in front of it may. */
  readonly apiKey?: Redacted.Redacted<string> | undefined
}

/** Ollama's OpenAI-compatible API (https://github.com/ollama/ollama/blob/main/docs/openai.md). @category presets */
export const ollama = (options: OllamaOptions = {}): Preset => ({
  client: {
    name: options.name ?? "ollama",
    apiUrl: options.apiUrl ?? "http://localhost:11434/v1",
    apiKey: options.apiKey,
    defaultModel: options.defaultModel ?? "llama3.2",
    timeouts: options.timeouts,
    httpSpans: options.httpSpans,
    headers: options.headers
  },
  // /v1 takes images as base64 only and ignores tool_choice (docs/openai.md: "image_url: Base64
  // encoded image, image URL not supported"; tool_choice is not in its supported list)
  // no file (document) parts: /v1 has no `file` content part
  chat: chatOptions({ ...options, capabilities: { files: [], ...options.capabilities } }, "ollama", {
    maxTokensField: "max_tokens",
    streamUsage: true,
    metadata: false,
    user: false,
    imageUrls: false,
    toolChoice: false,
    strictJsonSchema: false,
    strictTools: false,
    developerRole: false,
    systemContentParts: false
  })
})

/** @category layers */
export const layerOllama = (options: OllamaOptions = {}) => toLayer(ollama(options))

/** @category models */
export interface CompatibleOptions extends CommonOptions {
  readonly apiUrl: string
  readonly apiKey?: Redacted.Redacted<string> | undefined
  readonly auth?: OpenAiClient.Auth | undefined
  readonly urlParams?: Readonly<Record<string, string>> | undefined
  readonly modelsPath?: string | null | undefined
}

/** Any OpenAI-compatible base URL (vLLM, LM Studio, Groq, DeepSeek, Together, …). @category presets */
export const compatible = (options: CompatibleOptions): Preset => ({
  client: {
    name: options.name ?? "openai-compatible",
    apiUrl: options.apiUrl,
    apiKey: options.apiKey,
    auth: options.auth,
    urlParams: options.urlParams,
    defaultModel: options.defaultModel,
    timeouts: options.timeouts,
    httpSpans: options.httpSpans,
    headers: options.headers,
    modelsPath: options.modelsPath
  },
  // an unknown server may reject strict: sent only when the request sets it
  chat: chatOptions(options, "openai-compatible", {
    maxTokensField: "max_tokens",
    streamUsage: true,
    metadata: false,
    user: true,
    strictJsonSchema: false,
    strictTools: false,
    developerRole: false,
    systemContentParts: false
  })
})

/** @category layers */
export const layerCompatible = (options: CompatibleOptions) => toLayer(compatible(options))
