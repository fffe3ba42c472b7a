/**
 * Loading a FlexiAI config: code, environment, a JSON/YAML file and defaults, merged field by
 * field in that order of precedence, validated in one pass, and resolved into a `ResolvedConfig`
 * with `Duration`s, `Redacted` secrets, the router policy filled in from its preset, and
 * providers sorted by priority.
 *
 * - `load(options)` reads everything (file, `FLEXIAI_*` and standard variables via the
 *   `ConfigProvider` in context, secret references) and needs `FileSystem` and `Path`
 *   (`NodeServices.layer` from `@effect/platform-node`).
 * - `fromObject(input)` takes explicit values only: no file, no environment, secrets literal.
 *
 * What users get wrong: the standard variables (`OPENAI_API_KEY`, …) rank *below* the file for a
 * provider the file declares (they only fill in what it leaves out), while `FLEXIAI_*`
 * variables rank above it. Providers are merged across sources by position, not by name.
 *
 * @since 0.1.0
 */
import { Config, Context, Duration, Effect, FileSystem, Layer, Logger, type LogLevel, Option, Path, Redacted, References, Schema } from "effect"
import type * as JsonSchema from "effect/JsonSchema"
import type * as Budget from "@flexiai/core/Budget"
import type * as Pricing from "@flexiai/core/Pricing"
import * as CircuitBreaker from "@flexiai/core/CircuitBreaker"
import * as RouterPolicy from "@flexiai/core/RouterPolicy"
import type * as ProviderKind from "@flexiai/provider/ProviderKind"
import * as ConfigFile from "./ConfigFile.ts"
import * as ConfigSchema from "./ConfigSchema.ts"
import * as Environment from "./Environment.ts"
import * as Registry from "./Registry.ts"
import { FlexiConfigError, formatPath, type Problem, problemsFromIssue } from "./FlexiConfigError.ts"
import * as Presets from "./Presets.ts"
import * as Secrets from "./Secrets.ts"

export { FlexiConfigError } from "./FlexiConfigError.ts"

/** The config file schema for the given provider descriptors (see `ConfigSchema.make`). @category schemas */
export const schema = (providers: ReadonlyArray<ProviderKind.Any>): ConfigSchema.FlexiConfigSchema =>
  Registry.make(providers).schema

// ---------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------

/** `T` with `apiKey` (and `redis.url`, `redis.password`) also accepting a `Redacted` (code may hold one already). */
type WithRedacted<T> = T extends ReadonlyArray<infer Element> ? ReadonlyArray<WithRedacted<Element>>
  : T extends object ? {
      readonly [K in keyof T]: K extends "apiKey" | "url" | "password" ? T[K] | Redacted.Redacted<string> : WithRedacted<T[K]>
    }
  : T

type DeepPartial<T> = T extends ReadonlyArray<infer Element> ? ReadonlyArray<DeepPartial<Element>>
  : T extends object ? { readonly [K in keyof T]?: DeepPartial<T[K]> | undefined }
  : T

/** A kind's own options as written in code: a secret option may also be a `Redacted` already. */
type OptionsInput<Fields extends Schema.Struct.Fields> = {
  readonly [K in keyof Schema.Struct.Encoded<Fields>]: K extends keyof Schema.Struct.Type<Fields>
    ? Schema.Struct.Type<Fields>[K] extends Redacted.Redacted<string> | undefined
      ? Schema.Struct.Encoded<Fields>[K] | Redacted.Redacted<string>
    : Schema.Struct.Encoded<Fields>[K]
    : Schema.Struct.Encoded<Fields>[K]
}

/**
 * One provider entry written in code, for the descriptor `Kind`: its `kind` literal, the common
 * fields and the descriptor's own options, typed.
 *
 * @category models
 */
export type ProviderInputOf<Kind extends ProviderKind.Any> = Kind extends ProviderKind.ProviderKind<infer Fields, infer Name>
  ? { readonly kind: Name } & Omit<WithRedacted<typeof ConfigSchema.AnyProvider.Encoded>, "kind"> & OptionsInput<Fields>
  : never

/**
 * A whole config given in code whose providers are of the descriptors' kinds (`flexiai`'s
 * `FlexiAI.layer` takes `InputOf` its bundled descriptors and the ones you add).
 *
 * @category models
 */
export type InputOf<Kind extends ProviderKind.Any> =
  & Omit<WithRedacted<ConfigSchema.Input>, "providers">
  & { readonly providers?: ReadonlyArray<ProviderInputOf<Kind>> | undefined }

/** A whole config given in code, whatever its kinds (the descriptors passed beside it decide). @category models */
export type Input = WithRedacted<ConfigSchema.Input>

/** Values given in code on top of the environment and file: any field, providers by position. @category models */
export type Overrides = DeepPartial<Input>

/** Per-provider time limits (unset ones are left to the provider). @category models */
export interface ResolvedTimeouts {
  readonly connect?: Duration.Duration | undefined
  readonly firstByte?: Duration.Duration | undefined
  readonly total?: Duration.Duration | undefined
}

/**
 * One provider, every common field filled in: `retry` falls back to the policy's, `breaker` to
 * the top-level breaker. The kind's own fields are as its descriptor's options decoded them
 * (optional ones stay optional: the provider has defaults).
 *
 * @category models
 */
export interface ResolvedProvider {
  readonly kind: string
  readonly name: string
  readonly priority: number
  readonly model: string
  /** Model routing: request model names → this provider's model ids (see `ConfigSchema.common`). */
  readonly models?: Readonly<Record<string, string>> | undefined
  readonly baseUrl?: string | undefined
  readonly apiKey?: Redacted.Redacted<string> | undefined
  readonly enabled?: boolean | undefined
  /** The entry's overrides of its kind's capabilities, as written. */
  readonly capabilities?: typeof ConfigSchema.Capabilities.Type | undefined
  readonly retry: RouterPolicy.Resolved["retry"]
  readonly breaker: Presets.ResolvedBreaker
  readonly timeouts: ResolvedTimeouts
  /** The entry's rate limits, as written (`undefined`: none, and no wrapper). */
  readonly rateLimit?: typeof ConfigSchema.RateLimit.Type | undefined
  /** The kind's own fields. */
  readonly [field: string]: unknown
}

/** @category models */
export type LogFormat = "pretty" | "json" | "logfmt"

/** @category models */
export interface ResolvedLogging {
  readonly level: LogLevel.LogLevel
  readonly format: LogFormat
}

/**
 * Shared circuits in Redis (`ConfigSchema.Redis`), defaults filled in. `url` and `password` stay
 * `Redacted`: a url may carry credentials.
 *
 * @category models
 */
export interface ResolvedRedis {
  readonly url: Redacted.Redacted<string>
  readonly prefix: string
  readonly storeTimeout: Duration.Duration
  readonly username?: string | undefined
  readonly password?: Redacted.Redacted<string> | undefined
  readonly tls: boolean
}

/** Cost metering, defaults filled in (`ConfigSchema.Pricing`). @category models */
export interface ResolvedPricing {
  readonly enabled: boolean
  readonly tagKey: string
  /** Rows over the bundled table (`@flexiai/core/PriceTable`). */
  readonly models: ReadonlyArray<Pricing.Price>
}

/** Budgets, defaults filled in (`ConfigSchema.Budgets`). @category models */
export interface ResolvedBudgets {
  readonly limits: ReadonlyArray<Budget.Rule>
  readonly outputCap: number
  readonly whenUnavailable: "local" | "deny"
}

/** The response cache, defaults filled in (`ConfigSchema.Cache`). @category models */
export interface ResolvedCache {
  readonly enabled: boolean
  readonly ttl: Duration.Duration
  readonly maxEntries: number
  readonly store: "memory" | "redis"
}

/** A loaded config. @category models */
export interface ResolvedConfig {
  /** Enabled providers, by priority (lower first; equal priorities keep their declared order). */
  readonly providers: ReadonlyArray<ResolvedProvider>
  readonly preset: ConfigSchema.PresetName
  readonly policy: RouterPolicy.Resolved
  readonly breaker: Presets.ResolvedBreaker
  readonly logging: ResolvedLogging
  /** Shared circuits in Redis; `undefined`: circuits are per process. */
  readonly redis: ResolvedRedis | undefined
  readonly pricing: ResolvedPricing
  /** `undefined`: no budgets. */
  readonly budgets: ResolvedBudgets | undefined
  /** The response cache (`enabled: false` by default). */
  readonly cache: ResolvedCache
  /** The config file read, if any (absolute path). */
  readonly file: string | undefined
  /**
   * True when no source declared a provider and the list was detected from the providers'
   * standard variables. A consumer may then leave out a detected provider it cannot serve (with a
   * warning) instead of refusing the whole config: the user never asked for it by name.
   */
  readonly detected: boolean
}

/** Priority of a provider that names none: after detected (10–90) and typical hand-set ones. @category models */
export const defaultPriority = 100

// ---------------------------------------------------------------------------
// Merging sources
// ---------------------------------------------------------------------------

type Path = ReadonlyArray<string | number>

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !Redacted.isRedacted(value)

/** The secret fields of the `redis` section. */
const redisSecretFields = ["url", "password"] as const

const isSecretPath = (path: Path, registry: Registry.Registry): boolean =>
  (path.length === 3 && path[0] === "providers" && typeof path[1] === "number" &&
    typeof path[2] === "string" && registry.secretFields.has(path[2])) ||
  (path.length === 2 && path[0] === "redis" && (redisSecretFields as ReadonlyArray<unknown>).includes(path[1]))

/** A Redis url that carries a password (`redis://user:secret@host`), which is worth a warning inline. */
const hasCredentials = (url: string): boolean => /^[a-z]+:\/\/[^/@]*:[^/@]*@/i.test(url)

/** A source's values as one assignment per leaf; secret strings are wrapped as they are read. */
const flatten = (
  value: unknown,
  origin: Environment.Origin,
  registry: Registry.Registry,
  path: Path = []
): Array<Environment.Assignment> => {
  if (Array.isArray(value)) return value.flatMap((element, index) => flatten(element, origin, registry, [...path, index]))
  if (isPlainObject(value)) {
    return Object.entries(value).flatMap(([key, element]) =>
      element === undefined ? [] : flatten(element, origin, registry, [...path, key])
    )
  }
  if (isSecretPath(path, registry) && typeof value === "string") return [{ path, value: Redacted.make(value), origin }]
  const leafOrigin: Environment.Origin = origin._tag === "Code" && Redacted.isRedacted(value)
    ? { _tag: "Code", redacted: true }
    : origin
  return [{ path, value, origin: leafOrigin }]
}

interface Tree {
  readonly root: Record<string, unknown>
  readonly origins: Map<string, Environment.Origin>
}

const emptyTree = (): Tree => ({ root: {}, origins: new Map() })

/** Applies assignments in order, so a later one wins over an earlier one at the same path. */
const assign = (tree: Tree, assignments: ReadonlyArray<Environment.Assignment>): void => {
  for (const { origin, path, value } of assignments) {
    let container: Record<string | number, unknown> = tree.root
    path.forEach((segment, position) => {
      if (position === path.length - 1) {
        container[segment] = value
        return
      }
      const next = path[position + 1]
      const existing = container[segment]
      const fits = typeof next === "number" ? Array.isArray(existing) : isPlainObject(existing)
      if (!fits) container[segment] = typeof next === "number" ? [] : {}
      container = container[segment] as Record<string | number, unknown>
    })
    tree.origins.set(formatPath(path), origin)
  }
}

const providersOf = (tree: Tree): Array<unknown> => {
  const providers = tree.root["providers"]
  return Array.isArray(providers) ? providers : []
}

/** Standard variables fill in what a declared provider leaves out. */
const fillFromStandard = (tree: Tree, values: Environment.StandardValues, registry: Registry.Registry): void => {
  providersOf(tree).forEach((provider, index) => {
    if (!isPlainObject(provider)) return
    const kind = provider["kind"]
    if (typeof kind !== "string" || !registry.kinds.includes(kind)) return
    for (const [fieldName, fill] of Environment.fillsFor(kind, values, registry.standard)) {
      if (provider[fieldName] !== undefined) continue
      assign(tree, [{
        path: ["providers", index, fieldName],
        value: fill.value,
        origin: { _tag: "Env", variable: fill.variable, standard: true }
      }])
    }
  })
}

// ---------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------

const resolveSecrets = (
  tree: Tree,
  file: ConfigFile.Loaded | undefined,
  registry: Registry.Registry
): Effect.Effect<Array<Problem>, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const problems: Array<Problem> = []
    const resolveField = function*(owner: Record<string, unknown>, at: Path, fieldName: string) {
      const value = owner[fieldName]
      if (!Redacted.isRedacted(value)) return
      const formatted = formatPath(at)
      const origin = tree.origins.get(formatted)
      // Standard variables and Redacted values from code are values, never references.
      if (origin === undefined || (origin._tag === "Env" && origin.standard) || (origin._tag === "Code" && origin.redacted)) {
        return
      }
      const text = Redacted.value(value as Redacted.Redacted<string>)
      const reference = Secrets.parse(text)
      if (typeof reference === "string") {
        problems.push({ path: formatted, message: reference })
        return
      }
      if (reference === undefined) {
        // a Redis url without credentials is no secret: no warning for writing it inline
        const secret = at[0] !== "redis" || fieldName !== "url" || hasCredentials(text)
        if (origin._tag === "File" && secret) {
          yield* Effect.logWarning(
            `${formatted} holds a secret inline in ${origin.file}; prefer env:NAME, file:PATH or keychain:service/account`
          )
        }
        return
      }
      const baseDirectory = origin._tag === "File" && file !== undefined ? file.directory : path.resolve(".")
      const resolved = yield* Secrets.resolve(reference, { baseDirectory }).pipe(
        Effect.catch((message) => Effect.sync(() => problems.push({ path: formatted, message })).pipe(Effect.as(undefined)))
      )
      owner[fieldName] = resolved ?? Redacted.make("")
    }
    const providers = providersOf(tree)
    for (const [index, provider] of providers.entries()) {
      // A disabled provider is often disabled because its credentials are not on this machine.
      if (!isPlainObject(provider) || provider["enabled"] === false) continue
      for (const fieldName of registry.secretFields) yield* resolveField(provider, ["providers", index, fieldName], fieldName)
    }
    const redis = tree.root["redis"]
    if (isPlainObject(redis)) {
      for (const fieldName of redisSecretFields) yield* resolveField(redis, ["redis", fieldName], fieldName)
    }
    return problems
  })

// ---------------------------------------------------------------------------
// Decoding and resolving
// ---------------------------------------------------------------------------

/**
 * The decoder sees plain strings for secrets (the schema's encoded side). They live only in this
 * throwaway copy, and issues are formatted without their input, so no value escapes.
 */
const unwrapSecrets = (value: unknown): unknown => {
  if (Redacted.isRedacted(value)) return Redacted.value(value as Redacted.Redacted<unknown>)
  if (Array.isArray(value)) return value.map(unwrapSecrets)
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([key, element]) => [key, unwrapSecrets(element)]))
  return value
}

const withOrigin = (tree: Tree) => (problem: Problem): Problem => {
  const origin = tree.origins.get(problem.path)
  return origin?._tag === "Env" ? { ...problem, message: `${problem.message} (from ${origin.variable})` } : problem
}

const logLevels: Readonly<Record<typeof ConfigSchema.logLevels[number], LogLevel.LogLevel>> = {
  all: "All",
  trace: "Trace",
  debug: "Debug",
  info: "Info",
  warn: "Warn",
  error: "Error",
  fatal: "Fatal",
  none: "None"
}

const noProvidersMessage = (registry: Registry.Registry) =>
  "no provider configured, and none detected from the environment; declare providers in a config file or set one of: " +
  registry.standard.detections.map((detection) => Environment.describeDetection(detection, registry.standard)).join(", ")

const decodeOptions = { errors: "all", onExcessProperty: "error" } as const

/** Validates and resolves a merged tree, adding the problems found earlier; fails with all of them. */
const finish = (
  tree: Tree,
  earlier: ReadonlyArray<Problem>,
  file: string | undefined,
  registry: Registry.Registry,
  detected = false
): Effect.Effect<ResolvedConfig, FlexiConfigError> =>
  Effect.gen(function*() {
    const fail = (problems: ReadonlyArray<Problem>) =>
      Effect.fail(new FlexiConfigError(file === undefined ? { problems } : { problems, file }))
    const decoded = yield* Schema.decodeUnknownEffect(registry.schema)(unwrapSecrets(tree.root), decodeOptions)
      .pipe(Effect.catch((error) => fail([...earlier, ...problemsFromIssue(error.issue).map(withOrigin(tree))])))
    const problems = [...earlier]
    const declared = decoded.providers ?? []
    const seen = new Map<string, number>()
    declared.forEach((provider, index) => {
      const name = provider.name ?? provider.kind
      const first = seen.get(name)
      if (first === undefined) seen.set(name, index)
      else {
        problems.push({
          path: formatPath(["providers", index, "name"]),
          message: `duplicate provider name "${name}" (also providers[${first}]); give each provider a distinct name`
        })
      }
    })
    const enabled = declared.filter((provider) => provider.enabled !== false)
    const budgetNames = new Map<string, number>()
    decoded.budgets?.limits.forEach((rule, index) => {
      const first = budgetNames.get(rule.name)
      if (first === undefined) budgetNames.set(rule.name, index)
      else {
        problems.push({
          path: formatPath(["budgets", "limits", index, "name"]),
          message: `duplicate budget name "${rule.name}" (also budgets.limits[${first}]); give each budget a distinct name`
        })
      }
    })
    if (decoded.cache?.store === "redis" && decoded.redis === undefined) {
      problems.push({
        path: "cache.store",
        message: "cache.store is redis but there is no redis section: add redis.url, or use store: memory"
      })
    }
    if (declared.length === 0) problems.push({ path: "providers", message: noProvidersMessage(registry) })
    else if (enabled.length === 0) problems.push({ path: "providers", message: "every provider is disabled" })
    if (problems.length > 0) return yield* fail(problems)

    const preset = decoded.policy?.preset ?? Presets.defaultPreset
    const { preset: _preset, ...policyOverrides } = decoded.policy ?? {}
    const policy = RouterPolicy.resolve(policyOverrides, Presets.presets[preset])
    const breaker = CircuitBreaker.resolve(decoded.breaker, Presets.breakerDefaults)
    const providers = enabled
      .map((provider): ResolvedProvider => ({
        ...provider,
        name: provider.name ?? provider.kind,
        priority: provider.priority ?? defaultPriority,
        retry: RouterPolicy.resolve({ retry: provider.retry }, policy).retry,
        breaker: CircuitBreaker.resolve(provider.breaker, breaker),
        timeouts: { ...provider.timeouts }
      }) as ResolvedProvider)
      // Array.prototype.sort is stable: equal priorities keep their declared order.
      .sort((left, right) => left.priority - right.priority)
    return {
      providers,
      preset,
      policy,
      breaker,
      logging: {
        level: logLevels[decoded.logging?.level ?? "info"],
        format: decoded.logging?.format ?? "pretty"
      },
      redis: decoded.redis === undefined ? undefined : {
        url: decoded.redis.url,
        prefix: decoded.redis.prefix ?? "flexiai:",
        storeTimeout: decoded.redis.storeTimeout ?? Duration.millis(150),
        ...(decoded.redis.username === undefined ? {} : { username: decoded.redis.username }),
        ...(decoded.redis.password === undefined ? {} : { password: decoded.redis.password }),
        tls: decoded.redis.tls ?? false
      },
      pricing: {
        enabled: decoded.pricing?.enabled ?? true,
        tagKey: decoded.pricing?.tagKey ?? "tag",
        models: decoded.pricing?.models ?? []
      },
      budgets: decoded.budgets === undefined ? undefined : {
        limits: decoded.budgets.limits,
        outputCap: decoded.budgets.outputCap ?? 4096,
        whenUnavailable: decoded.budgets.whenUnavailable ?? "local"
      },
      cache: {
        enabled: decoded.cache?.enabled ?? false,
        ttl: decoded.cache?.ttl ?? Duration.minutes(5),
        maxEntries: decoded.cache?.maxEntries ?? 1000,
        store: decoded.cache?.store ?? "memory"
      },
      file,
      detected
    }
  })

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/** @category models */
export interface LoadOptions {
  /**
   * The config file. Default: `FLEXIAI_CONFIG_FILE`, else the first of `flexiai.config.yaml`,
   * `flexiai.config.yml`, `flexiai.config.json` in the working directory, else none.
   * `false` reads no file.
   */
  readonly file?: string | false | undefined
  /** Values that win over every other source. */
  readonly overrides?: Overrides | undefined
  /**
   * The provider descriptors (`@flexiai/provider`'s `ProviderKind`) whose kinds the config may
   * name: their kinds are accepted, their secret fields resolved, their standard variables read
   * and their detection tried. Config knows no kind without them. `flexiai`'s `FlexiAI.layerConfig`
   * passes its bundled descriptors and yours.
   */
  readonly providers?: ReadonlyArray<ProviderKind.Any> | undefined
}

/**
 * Loads the config from code (`overrides`) > environment > file > defaults.
 *
 * @example
 * ```ts
 * import { NodeServices } from "@effect/platform-node"
 * const config = yield* FlexiConfig.load({ overrides: { policy: { deadline: "30 seconds" } } })
 * // ... Effect.provide(NodeServices.layer)
 * ```
 *
 * @category loading
 */
export const load = (
  options: LoadOptions = {}
): Effect.Effect<ResolvedConfig, FlexiConfigError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const registry = Registry.make(options.providers ?? [])
    const path = yield* Path.Path
    const fromVariable = options.file === undefined ? yield* readConfigFileVariable : undefined
    const fileName = options.file === false
      ? undefined
      : options.file ?? fromVariable ?? (yield* ConfigFile.discover(path.resolve(".")))
    const file = fileName === undefined ? undefined : yield* ConfigFile.read(fileName)

    const settings = yield* Environment.readSettings(registry.providerFields)
    const standard = yield* Environment.readStandard(registry.standard)
    const tree = emptyTree()
    if (file !== undefined) assign(tree, flatten(file.contents, { _tag: "File", file: file.path }, registry))
    assign(tree, settings.assignments)
    if (options.overrides !== undefined) assign(tree, flatten(options.overrides, { _tag: "Code", redacted: false }, registry))

    const detected = providersOf(tree).length === 0
    if (!detected) {
      fillFromStandard(tree, standard, registry)
    } else {
      const detected = Environment.detect(standard, registry.standard)
      for (const { kind, missing } of detected.partial) {
        yield* Effect.logWarning(`${kind} not detected: ${missing.join(", ")} not set`)
      }
      assign(tree, detected.assignments)
    }

    const secretProblems = yield* resolveSecrets(tree, file, registry)
    return yield* finish(tree, [...settings.problems, ...secretProblems], file?.path, registry, detected)
  })

const readConfigFileVariable: Effect.Effect<string | undefined> = Config.option(
  Config.String(Environment.configFileVariable)
).pipe(Effect.map(Option.getOrUndefined), Effect.orElseSucceed(() => undefined))

/**
 * A config from explicit values only: no file, no environment, no detection; secrets are taken
 * as they are (no `env:`/`file:`/`keychain:` resolution).
 *
 * @category loading
 */
export const fromObject = (
  input: Input,
  options: { readonly providers?: ReadonlyArray<ProviderKind.Any> | undefined } = {}
): Effect.Effect<ResolvedConfig, FlexiConfigError> =>
  Effect.suspend(() => {
    const registry = Registry.make(options.providers ?? [])
    const tree = emptyTree()
    assign(tree, flatten(input, { _tag: "Code", redacted: true }, registry))
    return finish(tree, [], undefined, registry)
  })

/**
 * The config's JSON Schema (draft 2020-12) for the given provider descriptors, for editors and
 * validators. `flexiai` commits this for its bundled descriptors as `flexiai/flexiai.schema.json`
 * (`pnpm --filter flexiai gen:schema`).
 *
 * @category schemas
 */
export const jsonSchema = (
  options: { readonly providers?: ReadonlyArray<ProviderKind.Any> | undefined } = {}
): JsonSchema.JsonSchema => {
  const document = Schema.toJsonSchemaDocument(Registry.make(options.providers ?? []).schema, { onExcessProperty: "error" })
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://flexiai.dev/schemas/flexiai.schema.json",
    ...document.schema,
    ...(Object.keys(document.definitions).length > 0 ? { $defs: document.definitions } : {})
  }
}

/** The loaded config as a service. @category services */
export class FlexiConfig extends Context.Service<FlexiConfig, ResolvedConfig>()("@flexiai/config/FlexiConfig") {}

/** Provides `FlexiConfig` from `load(options)`. @category layers */
export const layer = (
  options: LoadOptions = {}
): Layer.Layer<FlexiConfig, FlexiConfigError, FileSystem.FileSystem | Path.Path> => Layer.effect(FlexiConfig, load(options))

/** Provides `FlexiConfig` from `fromObject(input)`. @category layers */
export const layerFromObject = (input: Input): Layer.Layer<FlexiConfig, FlexiConfigError> =>
  Layer.effect(FlexiConfig, fromObject(input))

// Effect's `consoleJson` and `consoleLogFmt` always write to `console.log`; like its default logger
// and `consolePretty`, these honour `Logger.LogToStderr`, so a program that logs to stderr keeps
// FlexiAI's lines there too.
const toConsole = (format: Logger.Logger<unknown, string>): Logger.Logger<unknown, void> => {
  const out = Logger.withConsoleLog(format)
  const err = Logger.withConsoleError(format)
  return Logger.make((options) => options.fiber.getRef(Logger.LogToStderr) ? err.log(options) : out.log(options))
}

/**
 * The console logger for a config's `format`: Effect's `consolePretty()`, or its JSON or logfmt
 * formatter, written to the console (`console.error` where `Logger.LogToStderr` is set).
 *
 * @category constructors
 */
export const loggerFor = (format: LogFormat): Logger.Logger<unknown, void> =>
  format === "json" ? toConsole(Logger.formatJson) : format === "logfmt" ? toConsole(Logger.formatLogFmt) : Logger.consolePretty()

/**
 * Installs the config's logging for a whole program: the console logger for `format` (replacing
 * the program's loggers) and the minimum level.
 *
 * `FlexiAI.layer` does not use this: it applies `logging` to FlexiAI's own lines only and leaves
 * the app's loggers and level alone. Provide this only to make the config the app's logging too.
 *
 * @category layers
 */
export const layerLogger = (logging: ResolvedLogging): Layer.Layer<never> =>
  Layer.merge(Logger.layer([loggerFor(logging.format)]), Layer.succeed(References.MinimumLogLevel, logging.level))
