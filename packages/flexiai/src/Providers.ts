/**
 * The provider descriptors `flexiai` bundles: one line per provider package. A kind is available
 * exactly when a descriptor for it is listed here; nothing else in `flexiai` names a kind.
 *
 * @since 0.2.0
 */
import { OpenAiKind } from "@flexiai/openai"
import type * as ProviderKind from "@flexiai/provider/ProviderKind"

/** @category descriptors */
export const bundled = [
  ...OpenAiKind.kinds
] as const

/** Any bundled descriptor, with its kind literal and options typed. @category models */
export type Bundled = typeof bundled[number]

/** The bundled descriptors followed by `extra` (the last descriptor of a kind wins). @category descriptors */
export const withExtra = (extra: ReadonlyArray<ProviderKind.Any> | undefined): ReadonlyArray<ProviderKind.Any> => {
  if (extra === undefined || extra.length === 0) return bundled
  // one array per `extra` array, so config's registry (cached per array) is built once for it
  const cached = withExtraCache.get(extra)
  if (cached !== undefined) return cached
  const all = [...bundled, ...extra]
  withExtraCache.set(extra, all)
  return all
}

const withExtraCache = new WeakMap<ReadonlyArray<ProviderKind.Any>, ReadonlyArray<ProviderKind.Any>>()
