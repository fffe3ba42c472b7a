/**
 * The provider descriptors `flexiai` bundles: one line per provider package. A kind is available
 * exactly when a descriptor for it is listed here; nothing else in `flexiai` names a kind.
 *
 * @since 0.2.0
 */
import { AnthropicKind } from "@flexiai/anthropic"
import { ConfigExample, FlexiConfig } from "@flexiai/config"
import { BedrockKind } from "@flexiai/bedrock"
import { FlowKind } from "@flexiai/flow"
import { GoogleKind } from "@flexiai/google"
import { OllamaKind } from "@flexiai/ollama"
import { OpenAiKind } from "@flexiai/openai"
import type * as ProviderKind from "@flexiai/provider/ProviderKind"
import type * as JsonSchema from "effect/JsonSchema"

/** @category descriptors */
export const bundled = [
  ...OpenAiKind.kinds,
  ...AnthropicKind.kinds,
  ...GoogleKind.kinds,
  ...BedrockKind.kinds,
  ...OllamaKind.kinds,
  ...FlowKind.kinds
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

/**
 * The config's JSON Schema for the bundled kinds and `extra`: what flexiai commits as
 * `flexiai.schema.json` (`pnpm --filter flexiai gen:schema`).
 *
 * @category documentation
 */
export const jsonSchema = (extra?: ReadonlyArray<ProviderKind.Any>): JsonSchema.JsonSchema =>
  FlexiConfig.jsonSchema({ providers: withExtra(extra) })

/**
 * The annotated example config for the bundled kinds and `extra` (`@flexiai/config`'s
 * `ConfigExample`), pointing editors at the JSON Schema at `schemaPath`: what flexiai commits as
 * `examples/flexiai.config.yaml`.
 *
 * @category documentation
 */
export const exampleConfig = (schemaPath: string, extra?: ReadonlyArray<ProviderKind.Any>): string =>
  ConfigExample.yaml({ providers: withExtra(extra), schemaPath })
