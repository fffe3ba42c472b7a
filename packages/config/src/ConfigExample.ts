/**
 * The annotated example config, written from the same sources as the config's schema: the
 * `policy`, `breaker` and `logging` schemas (every field with its description and default, from
 * their JSON Schema) and the registered provider descriptors (one entry per kind, with its own
 * fields, its standard variables and how it is detected). So the example can never describe a
 * field, default or kind the schema does not have: `flexiai` commits it for its bundled kinds as
 * `examples/flexiai.config.yaml` and a test holds it equal to what this writes.
 *
 * What it is not: a recommended config. Every entry is there to show its kind; delete the ones you
 * do not use.
 *
 * @since 0.2.0
 */
import type * as ProviderKind from "@flexiai/provider/ProviderKind"
import { Schema } from "effect"
import * as Yaml from "yaml"
import * as ConfigSchema from "./ConfigSchema.ts"
import * as Environment from "./Environment.ts"
import * as Registry from "./Registry.ts"

/** The part of a JSON Schema node this module reads. */
interface Node {
  readonly type?: string | undefined
  readonly properties?: Readonly<Record<string, Node>> | undefined
  readonly required?: ReadonlyArray<string> | undefined
  readonly description?: string | undefined
  readonly default?: unknown
  readonly enum?: ReadonlyArray<unknown> | undefined
}

/** The JSON Schema of `schema`, its `$ref`s to named definitions (such as `Capabilities`) inlined. */
const nodeOf = (schema: Schema.Top): Node => {
  const document = Schema.toJsonSchemaDocument(schema, { onExcessProperty: "error" })
  const definitions = document.definitions as Readonly<Record<string, Node>>
  const inline = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(inline)
    if (typeof value !== "object" || value === null) return value
    const ref = (value as { readonly $ref?: unknown }).$ref
    if (typeof ref === "string" && ref.startsWith("#/$defs/")) return inline(definitions[ref.slice("#/$defs/".length)])
    return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, inline(child)]))
  }
  return inline(document.schema) as Node
}

const WIDTH = 100

/** Comment lines for `text`, wrapped to the page width at `indent`. */
const comment = (indent: string, text: string): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(/\s+/).filter((part) => part !== "")) {
    if (line !== "" && indent.length + 2 + line.length + 1 + word.length > WIDTH) {
      lines.push(`${indent}# ${line}`)
      line = word
    } else line = line === "" ? word : `${line} ${word}`
  }
  if (line !== "") lines.push(`${indent}# ${line}`)
  return lines
}

/** A field's description without what the example shows anyway: its default and the duration syntax (said once, in the header). */
const describe = (node: Node): string | undefined => {
  const text = node.description
    ?.replace(/\s*Default: .*?\.(?=\s|$)/u, "")
    .replace(/\s*Milliseconds, or a number and a unit:.*$/u, "")
    .trim()
  const choices = node.enum !== undefined && node.enum.length > 1 ? ` (${node.enum.join(" | ")})` : ""
  return text === undefined || text === "" ? (choices === "" ? undefined : choices.trim()) : `${text}${choices}`
}

const scalar = (value: unknown): string => Yaml.stringify(value).trim()

/**
 * The fields of an options section at `depth`, each described, holding its default: live when
 * `live` names it, else commented out. A commented field's lines hang from the `#` of its outermost
 * commented ancestor (`anchor`), so deleting that `# ` gives valid YAML at the right indentation.
 */
const section = (node: Node, depth: number, live: ReadonlySet<string>, anchor?: number): Array<string> =>
  Object.entries(node.properties ?? {}).flatMap(([key, child]) => {
    const at = anchor ?? (live.has(key) ? undefined : depth)
    const line = (text: string) =>
      at === undefined ? `${"  ".repeat(depth)}${text}` : `${"  ".repeat(at)}# ${"  ".repeat(depth - at)}${text}`
    const description = describe(child)
    // a field's description sits at its own indentation, unless it hangs inside a commented ancestor
    const about = description === undefined
      ? []
      : comment("", description).map((text) => at === undefined || at === depth ? `${"  ".repeat(depth)}${text}` : line(text))
    if (child.type === "object" && child.properties !== undefined) {
      return [...about, line(`${key}:`), ...section(child, depth + 1, new Set(), at)]
    }
    return child.default === undefined ? [] : [...about, line(`${key}: ${scalar(child.default)}`)]
  })

const header = (schemaPath: string): Array<string> => [
  `# yaml-language-server: $schema=${schemaPath}`,
  "#",
  "# An annotated FlexiAI config, written from the config schema and the registered provider",
  "# descriptors (@flexiai/config's ConfigExample): every field below is one the schema has, with",
  "# its default. Load it with FlexiConfig.load({ file: \"flexiai.config.yaml\" }) or point",
  "# FLEXIAI_CONFIG_FILE at it. Precedence: code > environment (FLEXIAI_*) > this file > defaults;",
  "# the providers' standard variables (OPENAI_API_KEY, ...) only fill in what a provider here",
  "# leaves out.",
  "#",
  "# Durations: a number of milliseconds (500) or a number and a unit (\"5 seconds\", \"2 minutes\").",
  "# Secrets: env:NAME, file:PATH (relative to this file), keychain:service/account. A secret",
  "# written inline works but logs a warning.",
  ""
]

/** The standard variable that fills `field` for a kind, if any. */
const standardVariable = (descriptor: ProviderKind.Any, field: string): string | undefined =>
  descriptor.environment?.fields.find((entry) => entry.field === field)?.variables[0]

/** What an entry of this kind holds in `field` when the descriptor gives no example. */
const placeholder = (descriptor: ProviderKind.Any, field: string, secret: boolean, node: Node | undefined): unknown => {
  // a value of the field's own type, so an uncommented line still decodes: its default, else a neutral one
  if (node?.default !== undefined) return node.default
  if (node?.type === "boolean") return false
  if (node?.type === "integer" || node?.type === "number") return 0
  if (node?.enum !== undefined && node.enum.length > 0) return node.enum[0]
  if (!secret) return `<${field}>`
  const variable = standardVariable(descriptor, field) ??
    `${Environment.constantCase(descriptor.kind.replace(/[^A-Za-z0-9]+/gu, "_"))}_${Environment.constantCase(field)}`
  return `env:${variable}`
}

const entry = (descriptor: ProviderKind.Any, registry: Registry.Registry): Array<string> => {
  const node = nodeOf(ConfigSchema.providerEntry(descriptor))
  const example = descriptor.example ?? {}
  const required = (node.required ?? []).filter((field) => field !== "kind")
  const own = Object.keys(descriptor.options.fields).filter((field) => !required.includes(field))
  const valueOf = (field: string) => {
    if (field === "model") return scalar(example[field] ?? descriptor.environment?.detection?.model ?? "<model>")
    return scalar(example[field] ?? placeholder(descriptor, field, registry.secretFields.has(field), node.properties?.[field]))
  }
  const variables = (descriptor.environment?.fields ?? []).map((entry) => `${entry.variables.join(" or ")} (${entry.field})`)
  const detection = descriptor.environment?.detection
  const lines = [
    ...comment("  ", `Kind ${descriptor.kind}: ${descriptor.description}`),
    ...(variables.length === 0 ? [] : comment("  ", `Standard variables: ${variables.join(", ")}.`)),
    ...(detection === undefined
      ? []
      : comment("  ", `Detected from ${Environment.describeDetection({ kind: descriptor.kind, ...detection }, registry.standard)} (priority ${detection.priority}).`)),
    `  - kind: ${scalar(descriptor.kind)}`,
    ...required.map((field) => `    ${field}: ${valueOf(field)}`),
    // common fields the example sets (Azure: apiKey, one of the two its check asks for)
    ...Object.keys(example).filter((field) => !required.includes(field) && !own.includes(field)).map((field) =>
      `    ${field}: ${valueOf(field)}`
    )
  ]
  for (const field of own) {
    const description = describe(node.properties?.[field] ?? {})
    if (description !== undefined) lines.push(...comment("    ", description))
    lines.push(`    ${field in example ? "" : "# "}${field}: ${valueOf(field)}`)
  }
  return [...lines, ""]
}

/** The options a caller gives `yaml`. @category models */
export interface Options {
  /** The kinds to show, one entry each, in this order (the last descriptor of a kind wins). */
  readonly providers: ReadonlyArray<ProviderKind.Any>
  /** Where the editor finds the JSON Schema (the first line's `$schema=`). */
  readonly schemaPath: string
}

/**
 * The annotated example config as YAML text.
 *
 * @category rendering
 */
export const yaml = (options: Options): string => {
  // the kinds, their secret fields and standard variables as config itself reads them
  const registry = Registry.make(options.providers)
  const common = nodeOf(ConfigSchema.AnyProvider).properties ?? {}
  const commonLines = Object.entries(common)
    .filter(([field]) => field !== "kind")
    .flatMap(([field, node]) => comment("", `${field}: ${describe(node) ?? ""}`).map((line, index) => `#${index === 0 ? "   - " : "       "}${line.slice(2)}`))
  const lines = [
    ...header(options.schemaPath),
    "policy:",
    ...section(nodeOf(ConfigSchema.Policy), 1, new Set(["preset"])),
    "",
    ...comment("", "The circuit breaker of every provider (a provider's own breaker field overrides it)."),
    "# breaker:",
    ...section(nodeOf(ConfigSchema.Breaker), 1, new Set(), 0),
    "",
    "logging:",
    ...section(nodeOf(ConfigSchema.Logging), 1, new Set(["level"])),
    "",
    "# Providers, tried by priority (lower first). Besides its kind's own fields, every entry takes:",
    ...commonLines,
    "providers:",
    ...registry.descriptors.flatMap((descriptor) => entry(descriptor, registry))
  ]
  return `${lines.join("\n").trimEnd()}\n`
}
