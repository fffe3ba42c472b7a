/**
 * What config knows about provider kinds, as one value built from the registered provider
 * descriptors (`@flexiai/provider`'s `ProviderKind`, one exported by each provider package): the
 * config schema's provider union, the fields that hold secrets, the `FLEXIAI_PROVIDERS_*` fields
 * and the standard variables and detections. Config declares no kind of its own, so a provider
 * package, inside this repository or outside it, is configured from a file, filled from its
 * standard variables and detected from the environment without a change here.
 *
 * What users get wrong: pass the same descriptors to `FlexiConfig.load` (or `fromObject`) as to
 * the layer that builds the providers (`flexiai`'s `FlexiAI.layer` does both with its bundled
 * descriptors and its `providers` option).
 *
 * @since 0.2.0
 */
import type * as ProviderKind from "@flexiai/provider/ProviderKind"
import * as ConfigSchema from "./ConfigSchema.ts"
import * as Environment from "./Environment.ts"

/** @category models */
export interface Registry {
  /** The descriptors, one per kind (the last registered of a kind), in first-registration order. */
  readonly descriptors: ReadonlyArray<ProviderKind.Any>
  /** The whole config's schema, its provider union made of the descriptors' entries. */
  readonly schema: ConfigSchema.FlexiConfigSchema
  /** Every kind the schema accepts. */
  readonly kinds: ReadonlyArray<string>
  /** Provider fields that hold secrets, whatever the kind: `apiKey` and each descriptor's `secretFields`. */
  readonly secretFields: ReadonlySet<string>
  /** The provider fields with a `FLEXIAI_PROVIDERS_<index>_` variable. */
  readonly providerFields: ReadonlyArray<Environment.Field>
  readonly standard: Environment.Standard
}

// `FlexiAI.layer` passes the same (module-level) array on every build: build its tables once
const cache = new WeakMap<ReadonlyArray<ProviderKind.Any>, Registry>()

/**
 * The registry of `descriptors` (a later descriptor replaces an earlier one of the same kind).
 *
 * @category constructors
 */
export const make = (descriptors: ReadonlyArray<ProviderKind.Any>): Registry => {
  const cached = cache.get(descriptors)
  if (cached !== undefined) return cached
  const kept = [...ConfigSchema.byKind(descriptors).values()]
  const registry: Registry = {
    descriptors: kept,
    schema: ConfigSchema.make(kept),
    kinds: kept.map((descriptor) => descriptor.kind),
    secretFields: new Set(["apiKey", ...kept.flatMap((descriptor) => descriptor.secretFields)]),
    providerFields: Environment.providerFieldsOf(kept),
    standard: Environment.standardOf(kept)
  }
  cache.set(descriptors, registry)
  return registry
}
