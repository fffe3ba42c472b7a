/**
 * From a resolved config provider to the layer that provides its `ChatProvider`, through the
 * provider descriptors (`Providers.bundled`): the descriptor of the entry's kind builds the layer.
 * No kind is named here.
 *
 * Config accepts only the kinds of the descriptors it is given, so an entry without a descriptor
 * here comes from a `ResolvedConfig` loaded with other descriptors: such entries are refused up
 * front (`unavailable`), all of them in one `FlexiConfigError`, before any provider is built or
 * any socket opened.
 *
 * `timeouts.connect` is not a provider client's: it becomes the undici dispatcher's connect
 * timeout, so a provider that sets it gets an HTTP client (connection pool) of its own here: the
 * kit's `UndiciHttpClient`, like the shared default.
 *
 * @since 0.1.0
 */
import type { FlexiConfig } from "@flexiai/config"
import { FlexiConfigError } from "@flexiai/config"
import type * as ChatProvider from "@flexiai/core/ChatProvider"
import * as ProviderKind from "@flexiai/provider/ProviderKind"
import * as UndiciHttpClient from "@flexiai/provider/UndiciHttpClient"
import type { Layer } from "effect"
import type { HttpClient } from "effect/http"
import * as Providers from "./Providers.ts"

type Provider = FlexiConfig.ResolvedProvider

/** The kinds a registry can build. @category models */
export const availableKinds = (registry: ReadonlyArray<ProviderKind.Any> = Providers.bundled): ReadonlyArray<string> => [
  ...new Set(registry.map((descriptor) => descriptor.kind))
]

/** Whether a descriptor for this kind is registered. @category validation */
export const isAvailable = (kind: string, registry: ReadonlyArray<ProviderKind.Any> = Providers.bundled): boolean =>
  ProviderKind.find(registry, kind) !== undefined

/**
 * The error for providers whose kind has no descriptor, or `undefined` when every kind has one.
 * `label(provider, index)` says where the provider is (`providers[2]` when the declared position
 * is known; the resolved list is sorted by priority, so its index would point at the wrong entry).
 *
 * @category validation
 */
export const unavailable = (
  providers: ReadonlyArray<Provider>,
  label: (provider: Provider, index: number) => string,
  file?: string | undefined,
  registry: ReadonlyArray<ProviderKind.Any> = Providers.bundled
): FlexiConfigError | undefined => {
  const problems = providers.flatMap((provider, index) =>
    isAvailable(provider.kind, registry) ? [] : [{
      path: label(provider, index),
      message: `(kind ${provider.kind}): no registered provider descriptor for this kind (registered: ${availableKinds(registry).join(", ")})`
    }]
  )
  if (problems.length === 0) return undefined
  return new FlexiConfigError(file === undefined ? { problems } : { problems, file })
}

/**
 * The provider's layer, still needing an `HttpClient`, or `undefined` for a kind without a
 * descriptor (call `unavailable` first to report those). The entry's `capabilities` are the
 * kind's defaults for the entry's model with the config's override merged over them.
 *
 * @category constructors
 */
export const chatLayer = (
  provider: Provider,
  registry: ReadonlyArray<ProviderKind.Any> = Providers.bundled
): Layer.Layer<ChatProvider.ChatProvider, never, HttpClient.HttpClient> | undefined => {
  const descriptor = ProviderKind.find(registry, provider.kind)
  if (descriptor === undefined) return undefined
  // config decoded the entry with the kind's fields, so it is the descriptor's entry type
  const entry = { ...provider, capabilities: ProviderKind.capabilitiesOf(descriptor, provider.model, provider.capabilities) }
  return descriptor.layer(entry as never)
}

/**
 * Whether the kind's `listModels` asks the provider (so a health probe can use it); `false` for
 * a kind whose list answers without a call (Foundry), whose health only a chat proves.
 *
 * @category constructors
 */
export const listsModels = (kind: string, registry: ReadonlyArray<ProviderKind.Any> = Providers.bundled): boolean =>
  ProviderKind.find(registry, kind)?.listsModels ?? false

/** An entry's model routes: its own, else its kind's default (`ProviderKind.defaultModels`), else none. @category constructors */
export const modelRoutes = (
  provider: Provider,
  registry: ReadonlyArray<ProviderKind.Any> = Providers.bundled
): Readonly<Record<string, string>> => provider.models ?? ProviderKind.find(registry, provider.kind)?.defaultModels ?? {}

/**
 * The HTTP client a provider needs: the shared one (`undefined`), or, when it sets
 * `timeouts.connect`, an undici client of its own with that connect timeout.
 *
 * @category constructors
 */
export const httpClientLayer = (provider: Provider): Layer.Layer<HttpClient.HttpClient> | undefined =>
  provider.timeouts.connect === undefined
    ? undefined
    : UndiciHttpClient.layerWith({ connectTimeout: provider.timeouts.connect })
