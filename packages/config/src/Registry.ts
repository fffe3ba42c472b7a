/**
 * What config knows about provider kinds, as one value: the config schema's provider union, the
 * fields that hold secrets, and the standard variables and detections. `builtin` is config's own
 * tables; `make(descriptors)` adds the kinds that provider descriptors (`@flexiai/provider`'s
 * `ProviderKind`) declare, so a provider package outside this repository is configured from a
 * file, filled from its standard variables and detected from the environment without a change
 * here. A descriptor for a kind config already knows replaces that kind.
 *
 * What users get wrong: pass the same descriptors to `FlexiConfig.load` (or `fromObject`) as to
 * the layer that builds the providers (`FlexiAI.layer`'s `providers` option does both).
 *
 * @since 0.2.0
 */
import type * as ProviderKind from "@flexiai/provider/ProviderKind"
import { Schema } from "effect"
import * as ConfigSchema from "./ConfigSchema.ts"
import * as Environment from "./Environment.ts"

/** @category models */
export interface Registry {
  /** The whole config's schema, its provider union extended by the descriptors. */
  readonly schema: typeof ConfigSchema.FlexiConfig
  /** Every kind the schema accepts. */
  readonly kinds: ReadonlyArray<string>
  /** Provider fields that hold secrets, whatever the kind. */
  readonly secretFields: ReadonlySet<string>
  readonly standard: Environment.Standard
}

/** Config's own tables. @category constructors */
export const builtin: Registry = {
  schema: ConfigSchema.FlexiConfig,
  kinds: ConfigSchema.providerKinds,
  secretFields: ConfigSchema.secretFields,
  standard: Environment.builtinStandard
}

const kindOf = (member: Schema.Top): unknown => {
  const fields = (member as unknown as { readonly fields?: { readonly kind?: { readonly literal?: unknown } } }).fields
  return fields?.kind?.literal
}

/** The config schema of one descriptor's entries: `kind`, the common fields, then the kind's own. */
const memberOf = (descriptor: ProviderKind.Any) =>
  Schema.Struct({
    kind: Schema.Literal(descriptor.kind),
    ...ConfigSchema.common,
    ...(descriptor.requiresApiKey ? { apiKey: ConfigSchema.Secret } : {}),
    ...(descriptor.requiresBaseUrl === true ? { baseUrl: ConfigSchema.common.baseUrl.schema } : {}),
    ...descriptor.options.fields
  }).annotate({ description: descriptor.description })

/**
 * Config's tables plus the kinds `descriptors` declare (a later descriptor replaces an earlier one
 * of the same kind, and a descriptor replaces a built-in kind).
 *
 * @category constructors
 */
export const make = (descriptors: ReadonlyArray<ProviderKind.Any>): Registry => {
  if (descriptors.length === 0) return builtin
  const byKind = new Map<string, ProviderKind.Any>()
  for (const descriptor of descriptors) byKind.set(descriptor.kind, descriptor)
  const added = [...byKind.values()]
  const kept = ConfigSchema.Provider.members.filter((member) => !byKind.has(kindOf(member) as string))
  const members = [...kept, ...added.map(memberOf)]
  const provider = Schema.Union(members).annotate({ title: ConfigSchema.providerUnionIdentifier })
  // the decoded type is wider than the built-in one: descriptor kinds are typed by their descriptors
  const schema = ConfigSchema.FlexiConfig.mapFields((fields) => ({
    ...fields,
    providers: Schema.optionalKey(Schema.Array(provider))
  })) as unknown as typeof ConfigSchema.FlexiConfig

  const fieldsByKind = new Map<string, ReadonlyArray<Environment.StandardField>>()
  for (const descriptor of added) {
    fieldsByKind.set(
      descriptor.kind,
      (descriptor.environment?.fields ?? []).map((entry) => ({ field: entry.field, variables: entry.variables, secret: entry.secret ?? false }))
    )
  }
  const fields = (kind: string) => fieldsByKind.get(kind) ?? Environment.builtinStandard.fields(kind)
  const detections = [
    ...Environment.builtinStandard.detections.filter((detection) => !byKind.has(detection.kind)),
    ...added.flatMap((descriptor) => {
      const detection = descriptor.environment?.detection
      return detection === undefined ? [] : [{
        kind: descriptor.kind,
        requires: detection.requires,
        model: detection.model,
        modelFrom: detection.modelFrom,
        defaults: detection.defaults,
        priority: detection.priority
      }]
    })
  ].sort((left, right) => left.priority - right.priority)
  const kinds = [...new Set([...ConfigSchema.providerKinds, ...byKind.keys()])]
  return {
    schema,
    kinds,
    secretFields: new Set([...ConfigSchema.secretFields, ...added.flatMap((descriptor) => descriptor.secretFields)]),
    standard: {
      fields,
      all: kinds.flatMap((kind) => fields(kind)),
      detections
    }
  }
}
