/**
 * From a resolved config provider to the layer that provides its `ChatProvider`: the one place
 * that knows which config kinds are implemented and how each kind's fields map onto a provider
 * package's options.
 *
 * Kinds without a provider package yet are refused up front (`unavailable`), all of them in one
 * `FlexiConfigError`, so a config naming two of them is fixed in one round — and before any
 * provider is built or any socket opened.
 *
 * Mapping notes that are not obvious from the names:
 * - `timeouts.connect` has no counterpart in the OpenAI client; it becomes the undici dispatcher's
 *   connect timeout, so a provider that sets it gets an HTTP client (connection pool) of its own.
 * - `ollama.host` is the server root (`http://localhost:11434`); the OpenAI-compatible API is
 *   under `/v1`. An explicit `baseUrl` is taken as the `/v1` URL itself.
 * - `azure-openai.deployment` (default: `model`) is what goes into the request URL, so it is the
 *   provider's default model.
 *
 * @since 0.1.0
 */
import { NodeHttpClient } from "@effect/platform-node"
import type { FlexiConfig } from "@flexiai/config"
import { FlexiConfigError } from "@flexiai/config"
import type * as ChatProvider from "@flexiai/core/ChatProvider"
import { OpenAiChat, OpenAiClient, OpenAiCompatible } from "@flexiai/openai"
import { Duration, Layer } from "effect"
import type { HttpClient } from "effect/http"

/** Provider kinds this version can build. @category models */
export const availableKinds = ["openai", "azure-openai", "foundry", "openrouter", "ollama", "openai-compatible"] as const

/** @category models */
export type AvailableKind = typeof availableKinds[number]

type Provider = FlexiConfig.ResolvedProvider

/** Whether FlexiAI can build a provider of this kind yet. @category validation */
export const isAvailable = (kind: string): kind is AvailableKind => (availableKinds as ReadonlyArray<string>).includes(kind)

/**
 * The error for providers whose kind is not implemented yet, or `undefined` when every kind is.
 * `label(provider, index)` says where the provider is (`providers[2]` when the declared position
 * is known; the resolved list is sorted by priority, so its index would point at the wrong entry).
 *
 * @category validation
 */
export const unavailable = (
  providers: ReadonlyArray<Provider>,
  label: (provider: Provider, index: number) => string,
  file?: string | undefined
): FlexiConfigError | undefined => {
  const problems = providers.flatMap((provider, index) =>
    isAvailable(provider.kind) ? [] : [{
      path: label(provider, index),
      message: `(kind ${provider.kind}): provider kind not available yet (available: ${availableKinds.join(", ")})`
    }]
  )
  if (problems.length === 0) return undefined
  return new FlexiConfigError(file === undefined ? { problems } : { problems, file })
}

// The router times every attempt (attemptTimeout, firstTokenTimeout, idleTimeout, deadline), so
// the client adds its own limits only where the config sets them: each limit costs a child fiber
// per call, and two timers for one wait buy nothing.
const clientTimeouts = (provider: Provider): OpenAiClient.Timeouts => ({
  firstByte: provider.timeouts.firstByte ?? Duration.infinity,
  idle: Duration.infinity,
  total: provider.timeouts.total ?? Duration.infinity
})

const trimSlash = (url: string): string => url.replace(/\/+$/, "")

/**
 * The provider's layer, still needing an `HttpClient`, or `undefined` for a kind not available
 * (call `unavailable` first to report those).
 *
 * @category constructors
 */
export const chatLayer = (provider: Provider): Layer.Layer<ChatProvider.ChatProvider, never, HttpClient.HttpClient> | undefined => {
  const timeouts = clientTimeouts(provider)
  switch (provider.kind) {
    case "openai":
      return OpenAiChat.layer({ name: provider.name, defaultModel: provider.model }).pipe(
        Layer.provide(OpenAiClient.layer({
          name: provider.name,
          apiKey: provider.apiKey,
          apiUrl: provider.baseUrl,
          defaultModel: provider.model,
          timeouts
        }))
      )
    case "azure-openai":
      return OpenAiCompatible.layerAzure({
        name: provider.name,
        defaultModel: provider.deployment ?? provider.model,
        endpoint: provider.endpoint,
        apiKey: provider.apiKey,
        bearerToken: provider.bearerToken,
        apiVersion: provider.apiVersion,
        timeouts
      })
    case "foundry":
      return OpenAiCompatible.layerFoundry({
        name: provider.name,
        defaultModel: provider.model,
        endpoint: provider.endpoint,
        apiKey: provider.apiKey,
        apiVersion: provider.apiVersion,
        timeouts
      })
    case "openrouter":
      return OpenAiCompatible.layerOpenRouter({
        name: provider.name,
        defaultModel: provider.model,
        apiKey: provider.apiKey,
        apiUrl: provider.baseUrl,
        referer: provider.appUrl,
        title: provider.appTitle,
        timeouts
      })
    case "ollama":
      return OpenAiCompatible.layerOllama({
        name: provider.name,
        defaultModel: provider.model,
        apiUrl: provider.baseUrl ?? (provider.host === undefined ? undefined : `${trimSlash(provider.host)}/v1`),
        apiKey: provider.apiKey,
        timeouts
      })
    case "openai-compatible":
      return OpenAiCompatible.layerCompatible({
        name: provider.name,
        defaultModel: provider.model,
        apiUrl: provider.baseUrl,
        apiKey: provider.apiKey,
        timeouts
      })
    default:
      return undefined
  }
}

/**
 * The HTTP client a provider needs: the shared one (`undefined`), or, when it sets
 * `timeouts.connect`, an undici client of its own with that connect timeout.
 *
 * @category constructors
 */
export const httpClientLayer = (provider: Provider): Layer.Layer<HttpClient.HttpClient> | undefined =>
  provider.timeouts.connect === undefined
    ? undefined
    : NodeHttpClient.layerUndiciOptions({ connect: { timeout: Duration.toMillis(provider.timeouts.connect) } })
