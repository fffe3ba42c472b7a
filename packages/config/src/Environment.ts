/**
 * The environment as a config source, read through the `ConfigProvider` in context (never
 * `process.env` directly, so tests pass `ConfigProvider.fromEnv({ env })`).
 *
 * Two kinds of variable:
 *
 * 1. FlexiAI's own, `FLEXIAI_` + the config path in CONSTANT_CASE joined by `_`:
 *    `FLEXIAI_POLICY_DEADLINE` is `policy.deadline`, `FLEXIAI_POLICY_RETRY_MAX_RETRIES` is
 *    `policy.retry.maxRetries`, `FLEXIAI_PROVIDERS_0_BASE_URL` is `providers[0].baseUrl` (the
 *    index is the provider's position in the file, before sorting; an index past the file's
 *    list adds a provider). They override the file field by field. A misspelt variable in the
 *    `FLEXIAI_POLICY_`, `FLEXIAI_BREAKER_`, `FLEXIAI_LOGGING_`, `FLEXIAI_REDIS_`, `FLEXIAI_CACHE_`, `FLEXIAI_PROVIDERS_`,
 *    `FLEXIAI_PRICING_` or `FLEXIAI_BUDGETS_` families is an error; other `FLEXIAI_` variables belong to other tools (CLI, gateway) and are left alone.
 *    Lists of structs are indexed the same way: `FLEXIAI_BUDGETS_LIMITS_0_LIMIT_USD` is
 *    `budgets.limits[0].limitUsd`, `FLEXIAI_PRICING_MODELS_1_INPUT` is `pricing.models[1].input`.
 *    A list inside a list item (a price row's `aliases`, `tiers`) has no variable: file or code only.
 * 2. The providers' standard variables (`OPENAI_API_KEY`, `AWS_REGION`, …), as the registered
 *    descriptors declare them. They fill in fields a declared provider leaves out, and when no
 *    provider is declared anywhere they *detect* providers, in priority order.
 *
 * @since 0.1.0
 */
import * as Budget from "@flexiai/core/Budget"
import * as OptionSchema from "@flexiai/core/OptionSchema"
import * as Pricing from "@flexiai/core/Pricing"
import { Config, ConfigProvider, Effect, Option, type Redacted, Schema, SchemaAST } from "effect"
import type * as ProviderKind from "@flexiai/provider/ProviderKind"
import * as ConfigSchema from "./ConfigSchema.ts"

/** How a variable's text becomes a config value. @category models */
export type FieldType = "string" | "enum" | "secret" | "int" | "number" | "boolean" | "duration" | "list"

/** A config field FlexiAI reads from the environment. @category models */
export interface Field {
  readonly path: ReadonlyArray<string>
  readonly type: FieldType
}

const hasCheck = (checks: ReadonlyArray<SchemaAST.Check<unknown>> | undefined, id: string): boolean =>
  checks?.some((check) =>
    (check.annotations?.representation as { readonly id?: unknown } | undefined)?.id === id ||
    (check._tag === "FilterGroup" && hasCheck(check.checks, id))
  ) ?? false

/** How a leaf's variable is read, from the leaf's schema. */
const leafType = (ast: SchemaAST.AST): FieldType | undefined => {
  if (OptionSchema.isDuration(ast)) return "duration"
  switch (ast._tag) {
    case "Declaration":
      // `ConfigSchema.Secret`: a Redacted decoded from a string (the only declaration config has)
      return ast.encoding?.at(-1)?.to._tag === "String" ? "secret" : undefined
    case "Boolean":
      return "boolean"
    case "String":
      return "string"
    case "Number":
      return hasCheck(ast.checks, "effect/schema/isInt") ? "int" : "number"
    case "Literal":
      return "enum"
    case "Union":
      return ast.types.every((member) => member._tag === "Literal") ? "enum" : undefined
    case "Arrays":
      // a list of strings (capabilities.files): comma-separated text
      return ast.elements.length === 0 && ast.rest.length === 1 && ast.rest[0]!._tag === "String" ? "list" : undefined
    default:
      return undefined
  }
}

/**
 * The environment fields of a config struct, found by walking its schema: one per leaf, nested
 * structs joined into the path (`retry.maxRetries`), typed by the leaf's schema (an integer →
 * `int`, a `Duration` → `duration`, literals → `enum`, …). So a field added to a schema, such as
 * `@flexiai/core`'s `RouterPolicy.ResolvedSchema`, has its variable with no change here. A leaf no
 * variable can spell is a bug in the schema and throws when this module loads.
 *
 * @category models
 */
export const fieldsOf = (schema: Schema.Top, path: ReadonlyArray<string>, skip: ReadonlyArray<string> = []): Array<Field> =>
  fieldsAt(schema.ast, path, skip)

const fieldsAt = (ast: SchemaAST.AST, path: ReadonlyArray<string>, skip: ReadonlyArray<string>): Array<Field> => {
  if (ast._tag !== "Objects") throw new Error(`Environment.fieldsOf: ${path.join(".")} is not a struct`)
  return ast.propertySignatures.flatMap((property): Array<Field> => {
    const at = [...path, String(property.name)]
    if (skip.includes(String(property.name))) return []
    if (property.type._tag === "Objects") return fieldsAt(property.type, at, skip)
    const type = leafType(property.type)
    if (type === undefined) throw new Error(`Environment.fieldsOf: no variable type for ${at.join(".")}`)
    return [{ path: at, type }]
  })
}

/** Top-level fields with a `FLEXIAI_` variable: every leaf of `policy`, `breaker`, `logging` and `redis`. @category models */
export const settingsFields: ReadonlyArray<Field> = [
  ...fieldsOf(ConfigSchema.Policy, ["policy"]),
  ...fieldsOf(ConfigSchema.Breaker, ["breaker"]),
  ...fieldsOf(ConfigSchema.Logging, ["logging"]),
  ...fieldsOf(ConfigSchema.Redis, ["redis"]),
  ...fieldsOf(ConfigSchema.Cache, ["cache"]),
  ...fieldsOf(ConfigSchema.Pricing, ["pricing"], ["models"]),
  ...fieldsOf(ConfigSchema.Budgets, ["budgets"], ["limits"])
]

/**
 * Lists of structs with indexed variables (`FLEXIAI_BUDGETS_LIMITS_<index>_<FIELD>`): the list's
 * path and its item's fields. A price row's own lists (`aliases`, `tiers`) are left to the file.
 *
 * @category models
 */
export const listFields: ReadonlyArray<{ readonly path: ReadonlyArray<string>; readonly fields: ReadonlyArray<Field> }> = [
  { path: ["budgets", "limits"], fields: fieldsOf(Budget.Rule, []) },
  { path: ["pricing", "models"], fields: fieldsOf(Pricing.Price, [], ["aliases", "tiers"]) }
]

/**
 * Provider fields with a `FLEXIAI_PROVIDERS_<index>_` variable: every leaf of the common fields
 * (`ConfigSchema.AnyProvider`, `kind` read as a name) and of each descriptor's own options, found by
 * `fieldsOf`. A path two kinds share is read once, as the first kind types it.
 *
 * @category models
 */
export const providerFieldsOf = (descriptors: ReadonlyArray<ProviderKind.Any>): ReadonlyArray<Field> => {
  const fields = new Map<string, Field>()
  const add = (found: ReadonlyArray<Field>) => {
    for (const entry of found) {
      const key = entry.path.join(".")
      if (!fields.has(key)) fields.set(key, entry)
    }
  }
  add(fieldsOf(ConfigSchema.AnyProvider, []).map((entry) => entry.path[0] === "kind" ? { ...entry, type: "enum" } : entry))
  for (const descriptor of descriptors) add(fieldsOf(descriptor.options, []))
  return [...fields.values()]
}

/** `baseUrl` → `BASE_URL`. @category naming */
export const constantCase = (segment: string): string => segment.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()

/** The variable for a config path: `["policy", "deadline"]` → `FLEXIAI_POLICY_DEADLINE`. @category naming */
export const variableName = (path: ReadonlyArray<string | number>): string =>
  ["FLEXIAI", ...path.map((segment) => typeof segment === "number" ? String(segment) : constantCase(segment))].join("_")

/** The variable naming the config file. @category naming */
export const configFileVariable = "FLEXIAI_CONFIG_FILE"

/** Where a config value came from. @category models */
export type Origin =
  | { readonly _tag: "File"; readonly file: string }
  | { readonly _tag: "Env"; readonly variable: string; readonly standard: boolean }
  | { readonly _tag: "Code"; readonly redacted: boolean }

/** One value for one path, from one source. @category models */
export interface Assignment {
  readonly path: ReadonlyArray<string | number>
  readonly value: unknown
  readonly origin: Origin
}

/** A problem found while reading the environment. @category models */
export interface EnvProblem {
  readonly path: string
  readonly message: string
}

const NUMBER = /^-?\d+(?:\.\d+)?$/

/**
 * Turns a variable's text into the value the schema expects. Text that does not parse is kept
 * as text, so the schema reports it at its path (`expected a number`) like any other mistake.
 */
const coerce = (text: string, type: FieldType): unknown => {
  switch (type) {
    case "int":
    case "number":
      return NUMBER.test(text.trim()) ? Number(text.trim()) : text
    case "duration":
      return NUMBER.test(text.trim()) ? Number(text.trim()) : text.trim()
    case "boolean": {
      const normalized = text.trim().toLowerCase()
      if (["true", "1", "yes", "on"].includes(normalized)) return true
      if (["false", "0", "no", "off"].includes(normalized)) return false
      return text
    }
    case "enum":
      return text.trim().toLowerCase()
    case "list":
      return text.split(",").map((item) => item.trim()).filter((item) => item !== "")
    case "string":
    case "secret":
      return text
  }
}

const unreadable = (variable: string): EnvProblem => ({ path: variable, message: "the environment could not be read" })

const readVariable = (name: string, type: FieldType): Effect.Effect<Option.Option<unknown>, EnvProblem> =>
  (type === "secret"
    ? Config.option(Config.Redacted(name))
    : Config.option(Config.String(name)).pipe(Config.map(Option.map((text) => coerce(text, type))))).pipe(
      Effect.mapError(() => unreadable(name))
    )

/** The full names of every variable under a prefix the provider can enumerate (env-style providers can). */
const listVariables = (
  provider: ConfigProvider.ConfigProvider,
  path: ReadonlyArray<string | number>,
  depth: number
): Effect.Effect<Array<string>, ConfigProvider.SourceError> =>
  Effect.gen(function*() {
    const node = yield* provider.load(path)
    if (node === undefined || depth > 12) return []
    const here = node.value === undefined ? [] : [path.join("_")]
    const children = node._tag === "Record"
      ? Array.from(node.keys)
      : node._tag === "Array"
      ? Array.from({ length: node.length }, (_, index) => String(index))
      : []
    const below = yield* Effect.forEach(children, (child) => listVariables(provider, [...path, child], depth + 1))
    return [...here, ...below.flat()]
  })

const checkedFamilies = ["POLICY", "BREAKER", "LOGGING", "REDIS", "PROVIDERS", "CACHE", "PRICING", "BUDGETS"]

/**
 * Reads every `FLEXIAI_` setting and provider field (`providerFields`: `providerFieldsOf` the
 * registered descriptors) from the environment.
 *
 * @category reading
 */
export const readSettings = (providerFields: ReadonlyArray<Field>): Effect.Effect<{
  readonly assignments: ReadonlyArray<Assignment>
  readonly problems: ReadonlyArray<EnvProblem>
}> => Effect.gen(function*() {
  const provider = yield* ConfigProvider.ConfigProvider
  const assignments: Array<Assignment> = []
  const problems: Array<EnvProblem> = []
  const known = new Set<string>([configFileVariable])

  const read = function*(path: ReadonlyArray<string | number>, type: FieldType) {
    const variable = variableName(path)
    known.add(variable)
    const value = yield* readVariable(variable, type).pipe(
      Effect.catch((problem) => Effect.sync(() => problems.push(problem)).pipe(Effect.as(Option.none())))
    )
    if (Option.isSome(value)) {
      assignments.push({ path, value: value.value, origin: { _tag: "Env", variable, standard: false } })
    }
  }

  for (const setting of settingsFields) yield* read(setting.path, setting.type)

  const providersNode = yield* provider.load(["FLEXIAI", "PROVIDERS"]).pipe(Effect.orElseSucceed(() => undefined))
  const count = providersNode?._tag === "Array" ? providersNode.length : 0
  for (let index = 0; index < count; index++) {
    for (const providerField of providerFields) yield* read(["providers", index, ...providerField.path], providerField.type)
  }

  for (const list of listFields) {
    const node = yield* provider.load(["FLEXIAI", ...list.path.map(constantCase)]).pipe(Effect.orElseSucceed(() => undefined))
    const length = node?._tag === "Array" ? node.length : 0
    for (let index = 0; index < length; index++) {
      for (const field of list.fields) yield* read([...list.path, index, ...field.path], field.type)
    }
  }

  const present = yield* listVariables(provider, ["FLEXIAI"], 0).pipe(Effect.orElseSucceed((): Array<string> => []))
  for (const variable of present) {
    const family = variable.split("_")[1] ?? ""
    if (!known.has(variable) && checkedFamilies.includes(family)) {
      problems.push({
        path: variable,
        message: family === "PROVIDERS"
          ? "unknown variable (expected FLEXIAI_PROVIDERS_<index>_<FIELD>, e.g. FLEXIAI_PROVIDERS_0_MODEL)"
          : family === "BUDGETS" && variable.startsWith("FLEXIAI_BUDGETS_LIMITS")
          ? "unknown variable (expected FLEXIAI_BUDGETS_LIMITS_<index>_<FIELD>, e.g. FLEXIAI_BUDGETS_LIMITS_0_LIMIT_USD)"
          : family === "PRICING" && variable.startsWith("FLEXIAI_PRICING_MODELS")
          ? "unknown variable (expected FLEXIAI_PRICING_MODELS_<index>_<FIELD>, e.g. FLEXIAI_PRICING_MODELS_0_INPUT)"
          : "unknown variable"
      })
    }
  }
  return { assignments, problems }
})

// ---------------------------------------------------------------------------
// Standard variables
// ---------------------------------------------------------------------------

/** A provider field that a standard variable fills in; the first variable that is set wins. @category models */
export interface StandardField {
  readonly field: string
  readonly variables: ReadonlyArray<string>
  readonly secret: boolean
}

/** How a provider is detected from standard variables alone (a descriptor's `environment.detection`). @category models */
export interface Detection {
  readonly kind: string
  /** Fields that must all be filled by standard variables. */
  readonly requires: ReadonlyArray<string>
  readonly model: string
  /** Field used as the model when set (Azure: the deployment). */
  readonly modelFrom?: string | undefined
  /** Fields given a value when their variables are unset. */
  readonly defaults?: Readonly<Record<string, string>> | undefined
  /** Rank among detected kinds, and the detected entry's priority. */
  readonly priority: number
}

/**
 * The standard variables of every registered kind and the detections, as one value
 * (`standardOf(descriptors)`).
 *
 * @category models
 */
export interface Standard {
  /** The standard variables of one kind. */
  readonly fields: (kind: string) => ReadonlyArray<StandardField>
  /** Every kind's standard variables. */
  readonly all: ReadonlyArray<StandardField>
  /** In detection order (by priority; equal priorities keep registration order). */
  readonly detections: ReadonlyArray<Detection>
}

/**
 * The standard variables and detections the descriptors declare (the last descriptor of a kind
 * winning).
 *
 * @category models
 */
export const standardOf = (descriptors: ReadonlyArray<ProviderKind.Any>): Standard => {
  const kinds = [...ConfigSchema.byKind(descriptors).values()]
  const byKind = new Map<string, ReadonlyArray<StandardField>>(
    kinds.map((descriptor) => [
      descriptor.kind,
      (descriptor.environment?.fields ?? []).map((entry) => ({
        field: entry.field,
        variables: entry.variables,
        secret: entry.secret ?? false
      }))
    ])
  )
  const detections = kinds.flatMap((descriptor): Array<Detection> => {
    const detection = descriptor.environment?.detection
    return detection === undefined ? [] : [{ kind: descriptor.kind, ...detection }]
  })
  // Array.prototype.sort is stable: equal priorities keep registration order
  detections.sort((left, right) => left.priority - right.priority)
  return {
    fields: (kind) => byKind.get(kind) ?? [],
    all: [...byKind.values()].flat(),
    detections
  }
}

/** The standard variables a detection needs, for messages: `AZURE_OPENAI_API_KEY + AZURE_OPENAI_ENDPOINT`. @category formatting */
export const describeDetection = (detection: Detection, standard: Standard): string =>
  detection.requires
    .map((required) => {
      const variables = standard.fields(detection.kind).find((entry) => entry.field === required)?.variables ?? []
      return variables.join(" or ")
    })
    .join(" + ")

/** Every standard variable, read once. @category models */
export type StandardValues = ReadonlyMap<string, string | Redacted.Redacted<string>>

/**
 * Reads every standard variable that is set. Secrets are `Redacted` from here on.
 *
 * @category reading
 */
export const readStandard = (standard: Standard): Effect.Effect<StandardValues> =>
  Effect.gen(function*() {
    const values = new Map<string, string | Redacted.Redacted<string>>()
    const seen = new Set<string>()
    for (const entry of standard.all) {
      for (const variable of entry.variables) {
        if (seen.has(variable)) continue
        seen.add(variable)
        const value = yield* readVariable(variable, entry.secret ? "secret" : "string").pipe(
          Effect.orElseSucceed(() => Option.none())
        )
        if (Option.isSome(value)) values.set(variable, value.value as string | Redacted.Redacted<string>)
      }
    }
    return values
  })

/**
 * The standard-variable values for one kind's fields: field → (variable, value).
 *
 * @category reading
 */
export const fillsFor = (
  kind: string,
  values: StandardValues,
  standard: Standard
): ReadonlyMap<string, { readonly variable: string; readonly value: string | Redacted.Redacted<string> }> => {
  const fills = new Map<string, { readonly variable: string; readonly value: string | Redacted.Redacted<string> }>()
  for (const entry of standard.fields(kind)) {
    const variable = entry.variables.find((name) => values.has(name))
    const value = variable === undefined ? undefined : values.get(variable)
    if (variable !== undefined && value !== undefined) fills.set(entry.field, { variable, value })
  }
  return fills
}

/**
 * Providers detected from standard variables, in `detections` order, as assignments at
 * `providers[i]`. `partial` lists detections that found some but not all of their variables.
 *
 * @category detection
 */
export const detect = (values: StandardValues, standard: Standard): {
  readonly assignments: ReadonlyArray<Assignment>
  readonly partial: ReadonlyArray<{ readonly kind: string; readonly missing: ReadonlyArray<string> }>
} => {
  const assignments: Array<Assignment> = []
  const partial: Array<{ readonly kind: string; readonly missing: ReadonlyArray<string> }> = []
  let index = 0
  standard.detections.forEach((detection) => {
    const fills = fillsFor(detection.kind, values, standard)
    const missing = detection.requires.filter((required) => !fills.has(required))
    if (missing.length > 0) {
      const found = detection.requires.some((required) => fills.has(required))
      if (found) {
        const variables = standard.fields(detection.kind)
        partial.push({
          kind: detection.kind,
          missing: missing.map((name) => variables.find((entry) => entry.field === name)?.variables.join(" or ") ?? name)
        })
      }
      return
    }
    const at = (path: string, value: unknown, origin: Origin) =>
      assignments.push({ path: ["providers", index, path], value, origin })
    const detected: Origin = { _tag: "Env", variable: describeDetection(detection, standard), standard: true }
    at("kind", detection.kind, detected)
    at("name", detection.kind, detected)
    at("priority", detection.priority, detected)
    const modelFill = detection.modelFrom === undefined ? undefined : fills.get(detection.modelFrom)
    at("model", typeof modelFill?.value === "string" ? modelFill.value : detection.model, detected)
    for (const [fieldName, fill] of fills) {
      at(fieldName, fill.value, { _tag: "Env", variable: fill.variable, standard: true })
    }
    for (const [fieldName, value] of Object.entries(detection.defaults ?? {})) {
      if (!fills.has(fieldName)) at(fieldName, value, detected)
    }
    index++
  })
  return { assignments, partial }
}
