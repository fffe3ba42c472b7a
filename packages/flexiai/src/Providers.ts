/**
 * The provider descriptors `flexiai` bundles: one line per provider package. A kind is available
 * exactly when a descriptor for it is listed here; nothing else in `flexiai` names a kind.
 *
 * @since 0.2.0
 */
import { OpenAiKind } from "@flexiai/openai"
import type * as ProviderKind from "@flexiai/provider/ProviderKind"

/** @category descriptors */
export const bundled: ReadonlyArray<ProviderKind.Any> = [
  ...OpenAiKind.kinds
]

/** The bundled descriptors followed by `extra` (the last descriptor of a kind wins). @category descriptors */
export const withExtra = (extra: ReadonlyArray<ProviderKind.Any> | undefined): ReadonlyArray<ProviderKind.Any> =>
  extra === undefined || extra.length === 0 ? bundled : [...bundled, ...extra]
