/**
 * The provider descriptor: everything config and `flexiai` need to know about one provider kind,
 * exported by the provider package itself. Config builds its schema, its environment detection,
 * the JSON Schema and the annotated example from the registered descriptors; `flexiai` builds the
 * provider's layer through `layer`. Adding a provider kind is one descriptor and one line in the
 * list of bundled descriptors: no other package changes.
 *
 * What authors get wrong: `options` holds only the kind's own fields; the fields every kind shares
 * (`name`, `priority`, `model`, `baseUrl`, `apiKey`, `timeouts`, `retry`, `breaker`, `enabled`,
 * `capabilities`) are added by config, and `layer` receives them resolved. Every field of `options`
 * that holds a secret must be in `secretFields`, or a `env:`/`file:` reference in it is taken
 * literally.
 *
 * @since 0.2.0
 */
import * as Capabilities from "@flexiai/core/Capabilities"
import type * as ChatProvider from "@flexiai/core/ChatProvider"
import { type Duration, type Layer, type Redacted, Schema } from "effect"
import type { HttpClient } from "effect/http"

/**
 * A secret as written in config: `env:NAME`, `file:PATH`, `keychain:service/account`, or the value
 * itself. Decoded to `Redacted`, so it never prints. A descriptor's secret options use this schema
 * (and list themselves in `secretFields`), so config resolves their references like `apiKey`'s.
 *
 * @category schemas
 */
export const Secret = Schema.RedactedFromValue(Schema.String.annotate({
  // on the encoded side: that is the side the JSON Schema (and the editor) shows
  description: "A secret: env:NAME, file:PATH (relative to this file), keychain:service/account, or the value itself (discouraged)."
}))

/** A provider's time limits after config resolved them; unset ones are left to the provider. @category models */
export interface Timeouts {
  readonly connect?: Duration.Duration | undefined
  readonly firstByte?: Duration.Duration | undefined
  readonly total?: Duration.Duration | undefined
}

/**
 * The fields every provider entry has once config resolved it, whatever its kind.
 *
 * @category models
 */
export interface Common {
  readonly kind: string
  readonly name: string
  readonly model: string
  readonly baseUrl?: string | undefined
  readonly apiKey?: Redacted.Redacted<string> | undefined
  readonly timeouts: Timeouts
  /** The kind's default capabilities with the entry's `capabilities` override merged over them. */
  readonly capabilities: Capabilities.Capabilities
}

/** One resolved entry of a kind whose own options decode to `Options`. @category models */
export type Entry<Options> = Common & Options

/**
 * One entry as config decoded it, before any default is applied: what `check` sees.
 *
 * @category models
 */
export type Written<Options> = {
  readonly kind: string
  readonly name?: string | undefined
  readonly model: string
  readonly baseUrl?: string | undefined
  readonly apiKey?: Redacted.Redacted<string> | undefined
} & Options

/**
 * A provider field that standard environment variables fill in when the entry leaves it out; the
 * first variable that is set wins (`GEMINI_API_KEY`, then `GOOGLE_API_KEY`).
 *
 * @category models
 */
export interface StandardField {
  readonly field: string
  readonly variables: ReadonlyArray<string>
  /** A secret: read as an `env:` reference, so its value is never copied into the config. */
  readonly secret?: boolean | undefined
}

/**
 * How the kind is detected when no source declares a provider: the fields its standard variables
 * must all fill, the model to use, and where it ranks among detected kinds.
 *
 * @category models
 */
export interface Detection {
  /** Fields that must all be filled by standard variables. */
  readonly requires: ReadonlyArray<string>
  readonly model: string
  /** A field used as the model when its variable is set (Azure: the deployment). */
  readonly modelFrom?: string | undefined
  /** Fields given a value when their variables are unset. */
  readonly defaults?: Readonly<Record<string, string>> | undefined
  /** Rank among detected kinds and the detected entry's priority: first-party APIs low, local servers high. */
  readonly priority: number
}

/** The kind's standard environment variables and, if it can be found from them alone, its detection. @category models */
export interface Environment {
  readonly fields: ReadonlyArray<StandardField>
  readonly detection?: Detection | undefined
}

/**
 * The descriptor of one provider kind.
 *
 * `Fields` are the kind's own config fields; `layer` and `check` receive them decoded, beside the
 * common ones. `Kind` is the `kind` literal, so a config written in code is type-checked against
 * the registered descriptors (`flexiai`'s `FlexiAI.layer`). Both are methods, so a descriptor of any kind can sit in one
 * `ReadonlyArray<ProviderKind.Any>`.
 *
 * @category models
 */
export interface ProviderKind<Fields extends Schema.Struct.Fields = Schema.Struct.Fields, Kind extends string = string> {
  /** The `kind` value in config (`"openai"`, `"azure-openai"`, …). */
  readonly kind: Kind
  /** One line for the JSON Schema and the docs. */
  readonly description: string
  /** The kind's own fields, beyond the common ones. */
  readonly options: Schema.Struct<Fields>
  /** Whether `apiKey` must be set (every other common field is optional). */
  readonly requiresApiKey: boolean
  /** Whether `baseUrl` must be set (a kind with no public endpoint). */
  readonly requiresBaseUrl?: boolean | undefined
  /** Fields of `options` that hold secrets (resolved from env:/file:/keychain: references). */
  readonly secretFields: ReadonlyArray<string>
  /** The standard variables the kind reads and how it is detected from them. */
  readonly environment?: Environment | undefined
  /**
   * Values for this kind's entry in the annotated example config (`@flexiai/config`'s
   * `ConfigExample`): at least every required field a placeholder would not satisfy (a URL, an
   * enumeration), plus any optional one worth showing. Fields left out are written as a
   * placeholder (`env:<VARIABLE>` for a secret), optional ones as comments.
   */
  readonly example?: Readonly<Record<string, string | number | boolean>> | undefined
  /** What the kind can do; config may override any of it per provider. */
  readonly capabilities: Capabilities.Capabilities
  /**
   * What the kind can do with one model, where that differs by model (Anthropic: assistant
   * prefill is gone from newer models). Unset: `capabilities` for every model. Config's override
   * is merged over it all the same (see `capabilitiesOf`).
   */
  readonly capabilitiesFor?: ((model: string) => Capabilities.Capabilities) | undefined
  /**
   * Whether `listModels` answers from the provider (so the health probe can use it instead of a
   * one-token chat). A kind whose list is empty without a call says `false`.
   */
  readonly listsModels: boolean
  /**
   * The model routes (`providers[].models`) an entry of this kind gets when its config gives none.
   * Unset: none, so a request naming a model goes to this provider only for its configured
   * `model`. A gateway whose models are all one provider's says `{ "*": "*" }` (Flow).
   */
  readonly defaultModels?: Readonly<Record<string, string>> | undefined
  /**
   * Cross-field checks the options Schema cannot say alone (Azure: `apiKey` or `bearerToken`),
   * run when config decodes the entry: the problem's path (`"apiKey"`, `"a.b"`) and message, or
   * `undefined`.
   */
  check?(entry: Written<Schema.Struct.Type<Fields>>): { readonly path: string; readonly message: string } | undefined
  /** The provider's layer from its resolved entry. */
  layer(entry: Entry<Schema.Struct.Type<Fields>>): Layer.Layer<ChatProvider.ChatProvider, never, HttpClient.HttpClient>
}

/**
 * A descriptor of any kind, as registries hold them. Its `layer` and `check` take the entry its
 * own options decode to, which only its config entry has: callers pass the entry config decoded
 * for this descriptor's kind (`flexiai` and config do), cast to `never`.
 *
 * @category models
 */
export interface Any extends Omit<ProviderKind, "layer" | "check"> {
  check?(entry: never): { readonly path: string; readonly message: string } | undefined
  layer(entry: never): Layer.Layer<ChatProvider.ChatProvider, never, HttpClient.HttpClient>
}

/** Builds a descriptor, inferring its fields from `options` (so `layer` sees them typed). @category constructors */
export const make = <const Fields extends Schema.Struct.Fields, const Kind extends string>(
  descriptor: ProviderKind<Fields, Kind>
): ProviderKind<Fields, Kind> => descriptor

/**
 * The capabilities of an entry of this kind: the kind's for the entry's model
 * (`capabilitiesFor`, else `capabilities`), with the entry's config override merged over them.
 *
 * @category constructors
 */
export const capabilitiesOf = (
  descriptor: Pick<Any, "capabilities" | "capabilitiesFor">,
  model: string,
  overrides: Partial<Capabilities.Capabilities> | undefined
): Capabilities.Capabilities =>
  Capabilities.merge(descriptor.capabilitiesFor?.(model) ?? descriptor.capabilities, overrides)

/**
 * The descriptor for a kind, the last one registered winning (so a user's own descriptor can
 * replace a bundled one).
 *
 * @category constructors
 */
export const find = (registry: ReadonlyArray<Any>, kind: string): Any | undefined => {
  for (let index = registry.length - 1; index >= 0; index--) {
    const descriptor = registry[index]!
    if (descriptor.kind === kind) return descriptor
  }
  return undefined
}
