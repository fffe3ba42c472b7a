/**
 * JSON Schema → Gemini's schema subset (`responseSchema`, `FunctionDeclaration.parameters`): an
 * OpenAPI 3.0 Schema object with upper-case types, `nullable`, string-only `enum`, `anyOf`, and
 * no references. What converts: `type` (and type lists with `"null"`), `properties`, `required`,
 * `items`, `enum` and `const` of strings, `anyOf`/`oneOf` (as `anyOf`), a one-member `allOf`,
 * local `$ref`s into `$defs`/`definitions` (inlined), `description`, `title`, the numeric and
 * length bounds, `pattern`, `default`, `examples` (the first, as `example`), the formats Gemini
 * knows. Annotations Gemini has no use for (`$schema`, `$id`, `$comment`, `additionalProperties:
 * false`/`true`) are left out; they do not change which values are valid for Gemini's reading.
 *
 * What cannot be said in the subset fails with `UnsupportedJsonSchema`, naming the keyword and its
 * path (`$.properties.tags.additionalProperties`), never a silently looser schema: a map
 * (`additionalProperties` with a schema), `not`, conditionals, tuples, `uniqueItems`,
 * `multipleOf`, exclusive bounds, `patternProperties`, a non-string `enum`/`const`, a recursive
 * `$ref`, a schema that allows any value (`{}`). Gemini's own JSON Schema fields
 * (`responseJsonSchema`, `parametersJsonSchema`) take such schemas as they are: `GoogleChat`'s
 * `schemaField: "json"` sends them there instead.
 *
 * `oneOf` becomes `anyOf`: "exactly one" cannot be said, but the members of real schemas' `oneOf`
 * are disjoint (distinct `type` or `const` tags), where the two mean the same.
 *
 * @since 0.1.0
 */
import { Data, Result } from "effect"
import type * as GoogleSchema from "./GoogleSchema.ts"

/** A JSON Schema construct Gemini's subset cannot express. @category errors */
export class UnsupportedJsonSchema extends Data.TaggedError("UnsupportedJsonSchema")<{
  /** Where in the schema (`$.properties.a.items`). */
  readonly path: string
  readonly keyword: string
  readonly message: string
}> {}

/** @category models */
export interface Options {
  /** Add `propertyOrdering` (the declared order of `properties`): Gemini writes keys in that order. Default `false`. */
  readonly propertyOrdering?: boolean | undefined
}

type Json = Readonly<Record<string, unknown>>
type Mutable = { -readonly [K in keyof GoogleSchema.GeminiSchema]: GoogleSchema.GeminiSchema[K] }

const isRecord = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value)

const typeNames: Readonly<Record<string, NonNullable<GoogleSchema.GeminiSchema["type"]>>> = {
  string: "STRING",
  number: "NUMBER",
  integer: "INTEGER",
  boolean: "BOOLEAN",
  array: "ARRAY",
  object: "OBJECT",
  null: "NULL"
}

/** Formats Gemini reads, per type; other formats are annotations only (JSON Schema's default reading) and are left out. */
const knownFormats: Readonly<Record<string, ReadonlySet<string>>> = {
  STRING: new Set(["date-time", "date", "time", "enum"]),
  INTEGER: new Set(["int32", "int64"]),
  NUMBER: new Set(["float", "double"])
}

/** Keywords without a counterpart: the reason each cannot be expressed. */
// a Map, not an object literal: `then` is one of the keywords (and an object with `then` is a thenable)
const unsupported: ReadonlyMap<string, string> = new Map([
  ["not", "negation"],
  ["if", "conditionals"],
  ["then", "conditionals"],
  ["else", "conditionals"],
  ["dependentSchemas", "conditional schemas"],
  ["dependentRequired", "conditional requirements"],
  ["dependencies", "conditional requirements"],
  ["patternProperties", "properties by pattern"],
  ["propertyNames", "constraints on property names"],
  ["unevaluatedProperties", "unevaluated properties"],
  ["unevaluatedItems", "unevaluated items"],
  ["prefixItems", "tuples"],
  ["contains", "`contains`"],
  ["minContains", "`contains`"],
  ["maxContains", "`contains`"],
  ["uniqueItems", "unique items"],
  ["multipleOf", "`multipleOf`"],
  ["exclusiveMinimum", "exclusive bounds"],
  ["exclusiveMaximum", "exclusive bounds"]
])

/** Keywords that only annotate (or that Gemini's reading makes moot): left out. */
const ignored = new Set([
  "$schema",
  "$id",
  "$comment",
  "$anchor",
  "$defs",
  "definitions",
  "readOnly",
  "writeOnly",
  "deprecated",
  "contentMediaType",
  "contentEncoding",
  "strict"
])

const counted = (value: unknown, path: string, keyword: string): string => {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new UnsupportedJsonSchema({ path, keyword, message: `${keyword} at ${path} must be a non-negative integer` })
  }
  // Gemini's proto takes int64 bounds as strings
  return String(value)
}

/**
 * Converts `schema`, resolving `$ref`s against the root's `$defs`/`definitions`.
 *
 * @category constructors
 */
export const convert = (
  schema: Json,
  options: Options = {}
): Result.Result<GoogleSchema.GeminiSchema, UnsupportedJsonSchema> => {
  const definitions: Json = {
    ...(isRecord(schema.definitions) ? schema.definitions : {}),
    ...(isRecord(schema.$defs) ? schema.$defs : {})
  }
  const fail = (path: string, keyword: string, message: string): never => {
    throw new UnsupportedJsonSchema({ path, keyword, message })
  }

  const resolve = (ref: unknown, path: string, seen: ReadonlySet<string>): readonly [Json, ReadonlySet<string>] => {
    if (typeof ref !== "string") return fail(path, "$ref", `$ref at ${path} must be a string`)
    const match = /^#\/(?:\$defs|definitions)\/([^/]+)$/.exec(ref)
    if (match === null) return fail(path, "$ref", `$ref "${ref}" at ${path} is not a local #/$defs/... reference`)
    const name = decodeURIComponent(match[1]!.replace(/~1/g, "/").replace(/~0/g, "~"))
    if (seen.has(name)) return fail(path, "$ref", `$ref "${ref}" at ${path} is recursive, which Gemini's schema cannot express`)
    const target = definitions[name]
    if (!isRecord(target)) return fail(path, "$ref", `$ref "${ref}" at ${path} names no definition`)
    return [target, new Set([...seen, name])]
  }

  const walk = (input: Json, path: string, seen: ReadonlySet<string>): GoogleSchema.GeminiSchema => {
    let node = input
    let refs = seen
    if (node.$ref !== undefined) {
      const [target, next] = resolve(node.$ref, path, refs)
      // sibling keywords of a $ref (a description) apply beside it
      const { $ref: _ref, ...siblings } = node
      node = { ...target, ...siblings }
      refs = next
    }
    if (node.allOf !== undefined) {
      if (!Array.isArray(node.allOf) || node.allOf.length !== 1 || !isRecord(node.allOf[0])) {
        return fail(path, "allOf", `allOf at ${path} has several members: an intersection Gemini's schema cannot express`)
      }
      const { allOf: _allOf, ...rest } = node
      return walk({ ...node.allOf[0], ...rest }, path, refs)
    }
    for (const keyword of Object.keys(node)) {
      const why = unsupported.get(keyword)
      if (why !== undefined) fail(`${path}.${keyword}`, keyword, `${keyword} at ${path}: Gemini's schema has no ${why}`)
    }
    const out: Mutable = {}
    if (typeof node.title === "string") out.title = node.title
    if (typeof node.description === "string") out.description = node.description

    const union = node.anyOf ?? node.oneOf
    if (union !== undefined) {
      const keyword = node.anyOf !== undefined ? "anyOf" : "oneOf"
      if (!Array.isArray(union) || union.length === 0) return fail(path, keyword, `${keyword} at ${path} must be a non-empty list`)
      const members = union.filter((member) => !(isRecord(member) && member.type === "null"))
      const nullable = members.length < union.length
      const converted = members.map((member, index) => {
        if (!isRecord(member)) return fail(`${path}.${keyword}[${index}]`, keyword, `${keyword} members must be schemas`)
        return walk(member, `${path}.${keyword}[${index}]`, refs)
      })
      if (converted.length === 0) return { ...out, type: "NULL" }
      if (converted.length === 1) return { ...converted[0], ...out, ...(nullable ? { nullable: true } : {}) }
      return { ...out, anyOf: converted, ...(nullable ? { nullable: true } : {}) }
    }

    // the type: given, a list, or implied by the keywords present
    let types: ReadonlyArray<string>
    if (typeof node.type === "string") types = [node.type]
    else if (Array.isArray(node.type)) types = node.type.filter((type): type is string => typeof type === "string")
    else if (node.properties !== undefined || node.required !== undefined) types = ["object"]
    else if (node.items !== undefined) types = ["array"]
    else if (node.enum !== undefined || node.const !== undefined) types = ["string"]
    else return fail(path, "type", `the schema at ${path} allows any value, which Gemini's schema cannot express (give it a type)`)
    const nullable = types.includes("null") && types.length > 1
    const concrete = types.filter((type) => !(nullable && type === "null"))
    if (concrete.length > 1) {
      // ["string", "number"]: one member per type, the keywords applying to each
      const { type: _type, ...rest } = node
      return {
        ...out,
        anyOf: concrete.map((type) => walk({ ...rest, type }, path, refs)),
        ...(nullable ? { nullable: true } : {})
      }
    }
    const type = typeNames[concrete[0]!]
    if (type === undefined) return fail(`${path}.type`, "type", `type "${concrete[0]}" at ${path} is not a JSON Schema type`)
    out.type = type
    if (nullable || node.nullable === true) out.nullable = true

    if (node.const !== undefined || node.enum !== undefined) {
      const values = node.const !== undefined ? [node.const] : Array.isArray(node.enum) ? node.enum : []
      const keyword = node.const !== undefined ? "const" : "enum"
      const strings = values.filter((value) => value !== null)
      if (values.includes(null)) out.nullable = true
      if (strings.length === 0 || strings.some((value) => typeof value !== "string") || type !== "STRING") {
        return fail(`${path}.${keyword}`, keyword, `${keyword} at ${path}: Gemini's enums take strings only`)
      }
      out.enum = strings as ReadonlyArray<string>
      out.format = "enum"
    }
    if (typeof node.format === "string" && out.format === undefined && knownFormats[type]?.has(node.format) === true) {
      out.format = node.format
    }

    switch (type) {
      case "OBJECT": {
        const additional = node.additionalProperties
        if (additional !== undefined && typeof additional !== "boolean") {
          return fail(
            `${path}.additionalProperties`,
            "additionalProperties",
            `additionalProperties at ${path} is a schema (a map), which Gemini's schema cannot express`
          )
        }
        if (node.properties !== undefined) {
          if (!isRecord(node.properties)) return fail(`${path}.properties`, "properties", `properties at ${path} must be an object`)
          const properties: Record<string, GoogleSchema.GeminiSchema> = {}
          for (const [name, property] of Object.entries(node.properties)) {
            const at = `${path}.properties.${name}`
            if (!isRecord(property)) return fail(at, "properties", `the property schema at ${at} must be an object`)
            properties[name] = walk(property, at, refs)
          }
          out.properties = properties
          if (options.propertyOrdering === true && Object.keys(properties).length > 1) out.propertyOrdering = Object.keys(properties)
        }
        if (node.required !== undefined) {
          if (!Array.isArray(node.required) || node.required.some((name) => typeof name !== "string")) {
            return fail(`${path}.required`, "required", `required at ${path} must be a list of names`)
          }
          if (node.required.length > 0) out.required = node.required as ReadonlyArray<string>
        }
        if (node.minProperties !== undefined) out.minProperties = counted(node.minProperties, path, "minProperties")
        if (node.maxProperties !== undefined) out.maxProperties = counted(node.maxProperties, path, "maxProperties")
        break
      }
      case "ARRAY": {
        if (node.items !== undefined) {
          if (!isRecord(node.items)) return fail(`${path}.items`, "items", `items at ${path} must be one schema (tuples cannot be expressed)`)
          out.items = walk(node.items, `${path}.items`, refs)
        } else {
          return fail(`${path}.items`, "items", `the array at ${path} has no items schema (any element cannot be expressed)`)
        }
        if (node.minItems !== undefined) out.minItems = counted(node.minItems, path, "minItems")
        if (node.maxItems !== undefined) out.maxItems = counted(node.maxItems, path, "maxItems")
        break
      }
      case "STRING": {
        if (node.minLength !== undefined) out.minLength = counted(node.minLength, path, "minLength")
        if (node.maxLength !== undefined) out.maxLength = counted(node.maxLength, path, "maxLength")
        if (typeof node.pattern === "string") out.pattern = node.pattern
        break
      }
      case "NUMBER":
      case "INTEGER": {
        if (typeof node.minimum === "number") out.minimum = node.minimum
        if (typeof node.maximum === "number") out.maximum = node.maximum
        break
      }
    }
    if (node.default !== undefined) out.default = node.default
    if (Array.isArray(node.examples) && node.examples.length > 0) out.example = node.examples[0]
    else if (node.example !== undefined) out.example = node.example
    // everything else must be a known annotation: an unknown keyword may have meant a constraint
    for (const keyword of Object.keys(node)) {
      if (!handled.has(keyword) && !ignored.has(keyword) && !keyword.startsWith("x-")) {
        return fail(`${path}.${keyword}`, keyword, `${keyword} at ${path} is not a JSON Schema keyword Gemini's schema can express`)
      }
    }
    return out
  }

  try {
    return Result.succeed(walk(schema, "$", new Set()))
  } catch (error) {
    if (error instanceof UnsupportedJsonSchema) return Result.fail(error)
    throw error
  }
}

const handled = new Set([
  "type",
  "title",
  "description",
  "properties",
  "required",
  "items",
  "enum",
  "const",
  "format",
  "additionalProperties",
  "minProperties",
  "maxProperties",
  "minItems",
  "maxItems",
  "minLength",
  "maxLength",
  "pattern",
  "minimum",
  "maximum",
  "default",
  "examples",
  "example",
  "anyOf",
  "oneOf",
  "allOf",
  "$ref",
  "nullable"
])
