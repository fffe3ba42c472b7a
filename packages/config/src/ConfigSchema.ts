/**
 * The shape of a FlexiAI config, as an Effect Schema: what a JSON/YAML file, the environment and
 * code may say. Its encoded side is the file format (and the committed JSON Schema); its decoded
 * side has `Duration`s and `Redacted` secrets. Defaults, presets and secret references are not
 * applied here: `FlexiConfig.load` does that after decoding, so the schema stays a faithful
 * description of the file.
 *
 * Config knows no provider kind of its own: `make(descriptors)` builds the provider union from the
 * registered `ProviderKind` descriptors (each provider package exports its own), so adding a
 * provider edits nothing here.
 *
 * What users get wrong: a duration is a number of *milliseconds* or a string with a unit
 * ("5 seconds"); in an environment variable a bare "5" means 5 ms. Unknown keys are errors (typos
 * should not pass silently).
 *
 * @since 0.1.0
 */
import * as CoreCapabilities from "@flexiai/core/Capabilities"
import * as Budget from "@flexiai/core/Budget"
import * as CircuitBreaker from "@flexiai/core/CircuitBreaker"
import * as OptionSchema from "@flexiai/core/OptionSchema"
import * as PricingModule from "@flexiai/core/Pricing"
import * as RouterPolicy from "@flexiai/core/RouterPolicy"
import { BaseUrl, isBaseUrl } from "@flexiai/provider/BaseUrl"
import * as ProviderKind from "@flexiai/provider/ProviderKind"
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
 * warning when it comes from a file) the value itself. Decoded to `Redacted` so it never prints
 * (`@flexiai/provider`'s `ProviderKind.Secret`, which descriptors use for their own secrets).
 *
 * @category schemas
 */
export const Secret = ProviderKind.Secret

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

/**
 * Per-provider rate limits (one entry is one key/account): checked before a request is sent, so a
 * request that would exceed one waits up to `maxWait` or fails over instead of taking a 429.
 *
 * @category schemas
 */
export const RateLimit = Schema.Struct({
  requestsPerMinute: optional(Schema.Int.check(Schema.isGreaterThan(0)).annotate({
    description: "Requests sent to this provider per minute (a fixed window)."
  })),
  tokensPerMinute: optional(Schema.Int.check(Schema.isGreaterThan(0)).annotate({
    description: "Tokens per minute: a request reserves its input estimate plus its maxTokens (or outputReserve)."
  })),
  concurrency: optional(Schema.Int.check(Schema.isGreaterThan(0)).annotate({
    description: "Requests in flight to this provider at once (a stream holds its permit until it ends)."
  })),
  maxWait: optional(Duration.annotate({
    description: "How long a request may wait for a limit before failing over. Default: 0 (fail over at once)."
  })),
  outputReserve: optional(Schema.Int.check(Schema.isGreaterThan(0)).annotate({
    description: "Output tokens reserved against tokensPerMinute for a request without maxTokens. Default: 1024."
  })),
  providerHeaders: optional(Schema.Boolean.annotate({
    description: "Read the provider's own rate-limit headers (x-ratelimit-*, anthropic-ratelimit-*) and send nothing " +
      "there while they say a limit is used up, until its reset. true alone turns this on without limits of its own. Default: true."
  }))
}).annotate({ identifier: "RateLimit" })

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
  level: optional(OptionSchema.option(Schema.Literals(logLevels), "The minimum level of FlexiAI's log lines.", "info")),
  format: optional(OptionSchema.option(Schema.Literals(["pretty", "json", "logfmt"]), "How log lines are written.", "pretty"))
})

/**
 * Shared circuits (`@flexiai/redis`): when present, circuit breaker state and Retry-After
 * cooldowns live in this Redis, shared by every process that names it with the same `prefix`.
 * `url` may hold a password, so it is a secret (`env:NAME` keeps it out of the file).
 *
 * @category schemas
 */
export const Redis = Schema.Struct({
  url: Secret,
  prefix: optional(OptionSchema.option(
    NonEmpty,
    "Prefix of every key and channel, so two deployments on one Redis never share circuits.",
    "flexiai:"
  )),
  storeTimeout: optional(OptionSchema.duration(
    "Longest wait for Redis on any call; past it (or on a connection error) that call and the outage use per-process circuits.",
    "150 millis"
  )),
  username: optional(NonEmpty.annotate({ description: "Redis ACL user. Default: the url's, else none." })),
  password: optional(Secret),
  tls: optional(Schema.Boolean.annotate({ description: "Connect with TLS (also implied by a rediss:// url). Default: false." }))
}).annotate({ description: "Shared circuits: breaker state and Retry-After cooldowns in Redis, shared by every process." })

/**
 * Cost metering (`@flexiai/core/Pricing`, `Metering`): the bundled pricing table with `models`
 * rows laid over it (a row for a bundled id replaces it), and the `metadata` key that tags a
 * request for the totals and budgets.
 *
 * @category schemas
 */
export const Pricing = Schema.Struct({
  enabled: optional(OptionSchema.option(Schema.Boolean, "Cost on every response, usage and cost totals, budgets. false turns metering off.", true)),
  tagKey: optional(OptionSchema.option(NonEmpty, "The request metadata key whose value tags a request (totals per tag, per-tag budgets).", "tag")),
  models: optional(Schema.Array(PricingModule.Price).annotate({
    description: "Price rows (USD per 1M tokens) over the bundled table: a row for a bundled model id replaces it, others are added."
  }))
}).annotate({ description: "Cost metering: the pricing table's overrides and the tag key." })

/**
 * Spending limits (`@flexiai/core/Budget`), enforced before dispatch. With a `redis` section the
 * windows live in Redis, shared by every process on its prefix.
 *
 * @category schemas
 */
export const Budgets = Schema.Struct({
  limits: Schema.Array(Budget.Rule).annotate({ description: "The budgets: each a limit per period for a provider, model and/or tag." }),
  outputCap: optional(OptionSchema.option(
    Schema.Int.check(Schema.isGreaterThan(0)),
    "Output tokens reserved for a request that gives no maxTokens.",
    4096
  )),
  whenUnavailable: optional(OptionSchema.option(
    Schema.Literals(["local", "deny"]),
    "With redis: while Redis is unreachable, count budgets per process (local) or refuse every request (deny).",
    "local"
  ))
}).annotate({ description: "Spending limits per provider (key), model, tag and period, reserved before each request and settled on its real cost." })

/**
 * The response cache (`@flexiai/core/ResponseCache`): exact-match answers around the router, in
 * memory or (with a `redis` section) in Redis, shared by every process on its prefix. Off by default.
 *
 * @category schemas
 */
export const Cache = Schema.Struct({
  enabled: optional(OptionSchema.option(Schema.Boolean, "Serve repeated requests from the response cache.", false)),
  ttl: optional(OptionSchema.option(Duration, "How long an answer is kept.", "5 minutes")),
  maxEntries: optional(OptionSchema.option(
    Schema.Int.check(Schema.isGreaterThan(0)),
    "Memory store: the most answers kept (least recently used go first).",
    1000
  )),
  store: optional(OptionSchema.option(
    Schema.Literals(["memory", "redis"]),
    "Where answers live: this process (memory) or the redis section's Redis, shared by every process.",
    "memory"
  ))
}).annotate({ description: "Response cache: repeated identical requests answered without a provider call." })

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
  name: optional(NonEmpty.annotate({ description: "The provider's name in the router, attempts, errors and status; unique. Default: its kind." })),
  priority: optional(Schema.Int.annotate({ description: "Lower is tried first; equal priorities keep their declared order. Default: 100." })),
  model: NonEmpty.annotate({ description: "The model a request without its own model is sent to." }),
  models: optional(Schema.Record(Schema.String, NonEmpty).annotate({
    description: "Model routing: each name a request may give (an alias such as fast) mapped to the model id this " +
      "provider is sent. The provider serves these names, the ids they map to and its model; a request naming " +
      "another model skips it, one no provider serves is an error. \"*\": \"*\" also accepts any other id as it is."
  })),
  baseUrl: optional(NonEmpty.annotate({ description: "The API's base URL. Default: the provider's own." }).check(isBaseUrl)),
  apiKey: optional(Secret),
  timeouts: optional(Timeouts.annotate({
    description: "This provider's HTTP limits (the router's attemptTimeout, firstTokenTimeout, idleTimeout and deadline bound every call anyway)."
  })),
  retry: optional(Retry.annotate({ description: "This provider's retries. Default: policy.retry." })),
  breaker: optional(Breaker.annotate({ description: "This provider's circuit breaker. Default: the top-level breaker." })),
  enabled: optional(Schema.Boolean.annotate({ description: "false drops the provider at load (its secrets are not resolved). Default: true." })),
  capabilities: optional(Capabilities),
  rateLimit: optional(RateLimit.annotate({ description: "This provider's rate limits (requests, tokens, concurrency). Default: none." }))
}

/**
 * One provider entry whatever its kind: `kind`, the common fields, and the kind's own fields
 * (typed by its descriptor, `unknown` here). Config declares no kind of its own: the kinds are the
 * registered descriptors' (`make`).
 *
 * @category schemas
 */
export const AnyProvider = Schema.Struct({ kind: NonEmpty, ...common })

/** One provider as written, whatever its kind. @category models */
export type ProviderInput = typeof AnyProvider.Encoded & { readonly [field: string]: unknown }

/** One provider after decoding, whatever its kind. @category models */
export type DecodedProvider = typeof AnyProvider.Type & { readonly [field: string]: unknown }

/** Marks the provider union so error messages can say `kind: expected one of …` instead of printing the union. */
export const providerUnionIdentifier = "FlexiAiProvider"

/**
 * The config schema of one kind's entries: `kind`, the common fields, then the descriptor's own
 * options (`apiKey` and `baseUrl` required where it says so), with its cross-field `check`.
 *
 * @category schemas
 */
export const providerEntry = (descriptor: ProviderKind.Any) => {
  const entry = Schema.Struct({
    kind: Schema.Literal(descriptor.kind),
    ...common,
    ...(descriptor.requiresApiKey ? { apiKey: Secret } : {}),
    ...(descriptor.requiresBaseUrl === true ? { baseUrl: BaseUrl } : {}),
    ...descriptor.options.fields
  }).annotate({ description: descriptor.description })
  const check = descriptor.check
  if (check === undefined) return entry
  return entry.check(Schema.makeFilter((decoded) => {
    // the entry was decoded by this very schema: the descriptor's common fields and options
    const problem = check(decoded as unknown as Parameters<typeof check>[0])
    return problem === undefined ? undefined : { path: problem.path.split("."), issue: problem.message }
  }))
}

/** The descriptors by kind, the last of a kind winning, in first-registration order. @category models */
export const byKind = (descriptors: ReadonlyArray<ProviderKind.Any>): ReadonlyMap<string, ProviderKind.Any> => {
  const kinds = new Map<string, ProviderKind.Any>()
  for (const descriptor of descriptors) kinds.set(descriptor.kind, descriptor)
  return kinds
}

// ---------------------------------------------------------------------------
// The whole config
// ---------------------------------------------------------------------------

const configFields = {
  $schema: optional(Schema.String),
  providers: optional(Schema.Array(AnyProvider)),
  policy: optional(Policy),
  breaker: optional(Breaker),
  logging: optional(Logging),
  redis: optional(Redis),
  pricing: optional(Pricing),
  budgets: optional(Budgets),
  cache: optional(Cache)
}

const configAnnotations = {
  title: "FlexiAI configuration",
  description: "Providers, router policy, circuit breaker, logging, shared circuits (Redis), pricing and budgets for FlexiAI."
}

/** The config's shape with any provider entry (for its types; `make` builds the real schema). */
const Shape = Schema.Struct(configFields)

/** A config as written (file, code): durations as numbers or strings, secrets as strings. @category models */
export type Input = Omit<typeof Shape.Encoded, "providers"> & { readonly providers?: ReadonlyArray<ProviderInput> | undefined }

/** A config after decoding, before defaults: `Duration`s and `Redacted` secrets. @category models */
export type Decoded = Omit<typeof Shape.Type, "providers"> & { readonly providers?: ReadonlyArray<DecodedProvider> | undefined }

/** The schema of a whole config file. @category models */
export type FlexiConfigSchema = Schema.Codec<Decoded, Input>

/**
 * A FlexiAI config file whose providers are of the `descriptors`' kinds (a later descriptor
 * replacing an earlier one of the same kind). `$schema` is accepted (and ignored) so a JSON file
 * can point editors at a generated `flexiai.schema.json`.
 *
 * @category schemas
 */
export const make = (descriptors: ReadonlyArray<ProviderKind.Any>): FlexiConfigSchema => {
  const members = [...byKind(descriptors).values()].map(providerEntry)
  const provider = Schema.Union(members).annotate({ title: providerUnionIdentifier })
  // each member is a provider entry with more fields than AnyProvider: the decoded value is a DecodedProvider
  return Schema.Struct({ ...configFields, providers: optional(Schema.Array(provider)) }).annotate(
    configAnnotations
  ) as unknown as FlexiConfigSchema
}
