/**
 * The shape of a FlexiAI config, as an Effect Schema: what a JSON/YAML file, the environment and
 * code may say. Its encoded side is the file format (and the committed JSON Schema); its decoded
 * side has `Duration`s and `Redacted` secrets. Defaults, presets and secret references are not
 * applied here: `FlexiConfig.load` does that after decoding, so the schema stays a faithful
 * description of the file.
 *
 * What users get wrong: a duration is a number of *milliseconds* or a string with a unit
 * ("5 seconds"); a bare "5" means 5 ms. Unknown keys are errors (typos should not pass silently).
 *
 * @since 0.1.0
 */
import * as CoreCapabilities from "@flexiai/core/Capabilities"
import * as CircuitBreaker from "@flexiai/core/CircuitBreaker"
import * as OptionSchema from "@flexiai/core/OptionSchema"
import * as RouterPolicy from "@flexiai/core/RouterPolicy"
import { BaseUrl } from "@flexiai/provider/BaseUrl"
import { Schema, Struct } from "effect"
import { defaultPreset } from "./Presets.ts"

// ---------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------

/**
 * The message every duration field reports (defined with the duration schema in core).
 *
 * @category schemas
 */
export const durationExpected = OptionSchema.durationExpected

/**
 * A duration as written in config: milliseconds, or a string such as `"5 seconds"` / `"500 millis"`
 * (`@flexiai/core/OptionSchema`'s, which the policy and breaker schemas use too).
 *
 * @category schemas
 */
export const Duration = OptionSchema.Duration

/**
 * A secret as written in config: `env:NAME`, `file:PATH`, `keychain:service/account`, or (with a
 * warning when it comes from a file) the value itself. Decoded to `Redacted` so it never prints.
 *
 * @category schemas
 */
export const Secret = Schema.RedactedFromValue(Schema.String).annotate({
  description: "A secret: env:NAME, file:PATH (relative to this file), keychain:service/account, or the value itself (discouraged)."
})

const NonEmpty = Schema.NonEmptyString
const optional = Schema.optionalKey

// ---------------------------------------------------------------------------
// Policy pieces (the schemas @flexiai/core describes them with)
// ---------------------------------------------------------------------------

/** `RouterPolicy.RetrySchema`. @category schemas */
export const Retry = RouterPolicy.RetrySchema

/** `CircuitBreaker.OptionsSchema`. @category schemas */
export const Breaker = CircuitBreaker.OptionsSchema

/** Per-provider HTTP time limits. @category schemas */
export const Timeouts = Schema.Struct({
  connect: optional(Duration),
  firstByte: optional(Duration),
  total: optional(Duration)
})

/** @category models */
export const presetNames = ["fast", "balanced", "reliable"] as const

/** @category models */
export type PresetName = typeof presetNames[number]

/** A preset plus any field of `RouterPolicy.PolicySchema`, which overrides the preset. @category schemas */
export const Policy = Schema.Struct({
  preset: optional(
    OptionSchema.option(
      Schema.Literals(presetNames),
      "The named policy the other fields are laid over: fast (interactive), balanced, reliable (batch).",
      defaultPreset
    )
  ),
  ...RouterPolicy.PolicySchema.fields
})

/** @category models */
export const logLevels = ["all", "trace", "debug", "info", "warn", "error", "fatal", "none"] as const

/** @category schemas */
export const Logging = Schema.Struct({
  level: optional(Schema.Literals(logLevels)),
  format: optional(Schema.Literals(["pretty", "json", "logfmt"]))
})

// ---------------------------------------------------------------------------
// Providers
// ---------------------------------------------------------------------------

/**
 * Per-provider overrides of what its kind declares it can do: any field of
 * `@flexiai/core/Capabilities`, each optional (derived from that Schema, so the two never drift).
 * Merged over the kind's defaults; the router checks requests against the result, and `continue`
 * needs `assistantPrefill: true`.
 *
 * @category schemas
 */
export const Capabilities = CoreCapabilities.Capabilities.mapFields(Struct.map(Schema.optionalKey)).annotate({
  identifier: "Capabilities",
  description: "Overrides of what the provider kind declares it can do (flags) and which parameter values it takes (limits)."
})

/** Fields every provider kind accepts. @category schemas */
export const common = {
  name: optional(NonEmpty),
  priority: optional(Schema.Int),
  model: NonEmpty,
  baseUrl: optional(BaseUrl),
  apiKey: optional(Secret),
  timeouts: optional(Timeouts),
  retry: optional(Retry),
  breaker: optional(Breaker),
  enabled: optional(Schema.Boolean),
  capabilities: optional(Capabilities)
}

/** @category schemas */
export const OpenAi = Schema.Struct({ kind: Schema.Literal("openai"), ...common, apiKey: Secret })

/**
 * Azure OpenAI: `endpoint` is the resource URL, `deployment` defaults to `model`. Authenticates
 * with `apiKey` or an Entra ID `bearerToken`.
 *
 * @category schemas
 */
export const AzureOpenAi = Schema.Struct({
  kind: Schema.Literal("azure-openai"),
  ...common,
  endpoint: NonEmpty,
  deployment: optional(NonEmpty),
  apiVersion: optional(NonEmpty),
  bearerToken: optional(Secret)
}).check(Schema.makeFilter((provider) =>
  provider.apiKey === undefined && provider.bearerToken === undefined
    ? { path: ["apiKey"], issue: "missing (set apiKey or bearerToken)" }
    : undefined
))

/** Azure AI Foundry (models served behind an Azure AI endpoint). @category schemas */
export const Foundry = Schema.Struct({
  kind: Schema.Literal("foundry"),
  ...common,
  apiKey: Secret,
  endpoint: NonEmpty,
  apiVersion: optional(NonEmpty)
})

/** @category schemas */
export const OpenRouter = Schema.Struct({
  kind: Schema.Literal("openrouter"),
  ...common,
  apiKey: Secret,
  appUrl: optional(NonEmpty),
  appTitle: optional(NonEmpty)
})

/** Ollama's native API; `host` defaults to http://localhost:11434 in the provider. @category schemas */
export const Ollama = Schema.Struct({ kind: Schema.Literal("ollama"), ...common, host: optional(NonEmpty) })

/** Any server that speaks OpenAI Chat Completions (vLLM, LM Studio, a proxy). @category schemas */
export const OpenAiCompatible = Schema.Struct({ kind: Schema.Literal("openai-compatible"), ...common, baseUrl: NonEmpty })

/** @category schemas */
export const Anthropic = Schema.Struct({
  kind: Schema.Literal("anthropic"),
  ...common,
  apiKey: Secret,
  apiVersion: optional(NonEmpty)
})

/** @category schemas */
export const Gemini = Schema.Struct({ kind: Schema.Literal("gemini"), ...common, apiKey: Secret })

/** Vertex AI: service-account JSON in `credentialsFile`. @category schemas */
export const Vertex = Schema.Struct({
  kind: Schema.Literal("vertex"),
  ...common,
  project: NonEmpty,
  location: optional(NonEmpty),
  credentialsFile: NonEmpty
})

/** @category schemas */
export const Bedrock = Schema.Struct({
  kind: Schema.Literal("bedrock"),
  ...common,
  region: NonEmpty,
  accessKeyId: Secret,
  secretAccessKey: Secret,
  sessionToken: optional(Secret)
})

/** The enterprise gateway; `model` is `provider:modelId`. @category schemas */
export const Flow = Schema.Struct({
  kind: Schema.Literal("flow"),
  ...common,
  baseUrl: NonEmpty,
  tenant: NonEmpty,
  clientId: NonEmpty,
  clientSecret: Secret
})

/** @category models */
export const providerKinds = [
  "openai",
  "azure-openai",
  "foundry",
  "openrouter",
  "ollama",
  "openai-compatible",
  "anthropic",
  "gemini",
  "vertex",
  "bedrock",
  "flow"
] as const

/** @category models */
export type ProviderKind = typeof providerKinds[number]

/** Marks the provider union so error messages can say `kind: expected one of …` instead of printing the union. */
export const providerUnionIdentifier = "FlexiAiProvider"

/** One provider, discriminated on `kind`. @category schemas */
export const Provider = Schema.Union([
  OpenAi,
  AzureOpenAi,
  Foundry,
  OpenRouter,
  Ollama,
  OpenAiCompatible,
  Anthropic,
  Gemini,
  Vertex,
  Bedrock,
  Flow
]).annotate({ title: providerUnionIdentifier })

/** Provider fields that hold secrets, whatever the kind. @category models */
export const secretFields: ReadonlySet<string> = new Set([
  "apiKey",
  "bearerToken",
  "clientSecret",
  "accessKeyId",
  "secretAccessKey",
  "sessionToken"
])

// ---------------------------------------------------------------------------
// The whole config
// ---------------------------------------------------------------------------

/**
 * A FlexiAI config file. `$schema` is accepted (and ignored) so a JSON file can point editors at
 * `flexiai.schema.json`.
 *
 * @category schemas
 */
export const FlexiConfig = Schema.Struct({
  $schema: optional(Schema.String),
  providers: optional(Schema.Array(Provider)),
  policy: optional(Policy),
  breaker: optional(Breaker),
  logging: optional(Logging)
}).annotate({
  title: "FlexiAI configuration",
  description: "Providers, router policy, circuit breaker and logging for FlexiAI."
})

/** A config as written (file, code): durations as numbers or strings, secrets as strings. @category models */
export type Input = typeof FlexiConfig.Encoded

/** A config after decoding, before defaults: `Duration`s and `Redacted` secrets. @category models */
export type Decoded = typeof FlexiConfig.Type

/** One provider as written. @category models */
export type ProviderInput = typeof Provider.Encoded

/** One provider after decoding. @category models */
export type DecodedProvider = typeof Provider.Type
