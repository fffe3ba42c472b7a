// The hand-written decoders on the hot path (internal/decode.ts) accept exactly what the Schemas of
// OpenAiSchema accept. Every input here is derived from those Schemas' ASTs, none from a hand-kept
// copy of the shapes: add a field, make one required or change its type in a Schema, and these
// tests check the new shape on their own (and fail until decode.ts follows).
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Effect, Schema, SchemaAST } from "effect"
import * as fc from "fast-check"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { parseChunk, parseCompletion } from "../src/internal/decode.ts"
import * as OpenAiSchema from "../src/OpenAiSchema.ts"
import { testDataDir } from "./helpers.ts"

const wire = [
  { name: "ChatCompletion", schema: OpenAiSchema.ChatCompletion, parse: parseCompletion },
  { name: "ChatCompletionChunk", schema: OpenAiSchema.ChatCompletionChunk, parse: parseChunk }
] as const

type Kind = "string" | "number" | "boolean" | "null" | "array" | "object"
const kindOf = (value: unknown): Kind =>
  value === null ? "null" : Array.isArray(value) ? "array" : (typeof value as Kind)
/** A JSON value of each kind; the object and the array are valid for no Struct with a required key. */
const ofKind: ReadonlyArray<readonly [Kind, unknown]> = [
  ["string", "x"],
  ["number", 7],
  ["boolean", true],
  ["null", null],
  ["array", []],
  ["object", {}]
]

const unsupported = (ast: SchemaAST.AST): never => {
  throw new Error(`decode.test.ts cannot derive inputs from a ${ast._tag} node yet: teach it this node`)
}
const fieldsOf = (ast: SchemaAST.Objects) =>
  ast.propertySignatures.map((property) => ({
    key: String(property.name),
    ast: property.type,
    optional: SchemaAST.isOptional(property.type)
  }))
const elementOf = (ast: SchemaAST.Arrays): SchemaAST.AST => {
  const element = ast.rest[0]
  return ast.elements.length === 0 && ast.rest.length === 1 && element !== undefined ? element : unsupported(ast)
}

/** The JSON kinds a node admits, `undefined` for any. */
const kinds = (ast: SchemaAST.AST): ReadonlySet<Kind> | undefined => {
  switch (ast._tag) {
    case "String":
      return new Set(["string"])
    case "Number":
      return new Set(["number"])
    case "Boolean":
      return new Set(["boolean"])
    case "Null":
      return new Set(["null"])
    case "Literal":
      return new Set([kindOf(ast.literal)])
    case "Objects":
      return new Set(["object"])
    case "Arrays":
      return new Set(["array"])
    case "Unknown":
    case "Any":
      return undefined
    case "Union": {
      const all = new Set<Kind>()
      for (const member of ast.types) {
        const some = kinds(member)
        if (some === undefined) return undefined
        for (const kind of some) all.add(kind)
      }
      return all
    }
    default:
      return unsupported(ast)
  }
}

/** The fullest valid value of a node: every key present, every array one element long. */
const fullest = (ast: SchemaAST.AST): unknown => {
  switch (ast._tag) {
    case "String":
      return "s"
    case "Number":
      return 1
    case "Boolean":
      return false
    case "Null":
      return null
    case "Literal":
      return ast.literal
    case "Unknown":
    case "Any":
      return { any: 1 }
    case "Objects":
      return Object.fromEntries(fieldsOf(ast).map((field) => [field.key, fullest(field.ast)]))
    case "Arrays":
      return [fullest(elementOf(ast))]
    case "Union": {
      // a member with content beats `null`
      const member = ast.types.find((member) => member._tag !== "Null") ?? ast.types[0]
      return member === undefined ? unsupported(ast) : fullest(member)
    }
    default:
      return unsupported(ast)
  }
}

const flat = (ast: SchemaAST.AST): ReadonlyArray<SchemaAST.AST> => ast._tag === "Union" ? ast.types.flatMap(flat) : [ast]

interface Variant {
  readonly change: string
  readonly value: unknown
  readonly accepted: boolean
}

/**
 * One-change variants of `value` (valid for `ast`), each with the verdict the AST gives it: a
 * required key removed or a value of a kind the node does not admit is rejected; an optional key
 * removed, or another admitted primitive kind, is accepted.
 */
const variants = (ast: SchemaAST.AST, value: unknown, at: string): ReadonlyArray<Variant> => {
  const out: Array<Variant> = []
  const admitted = kinds(ast)
  if (admitted !== undefined) {
    const primitive = (member: SchemaAST.AST) =>
      member._tag === "String" || member._tag === "Number" || member._tag === "Boolean" || member._tag === "Null"
    const members = flat(ast)
    for (const [kind, example] of ofKind) {
      if (kind === kindOf(value)) continue
      if (!admitted.has(kind)) out.push({ change: `${at} = ${JSON.stringify(example)}`, value: example, accepted: false })
      else if (members.some((member) => primitive(member) && kinds(member)?.has(kind))) {
        out.push({ change: `${at} = ${JSON.stringify(example)}`, value: example, accepted: true })
      }
    }
  }
  // go inside the member the value is made of
  const node = ast._tag === "Union"
    ? flat(ast).find((member) => (member._tag === "Objects" || member._tag === "Arrays") && kinds(member)?.has(kindOf(value)))
    : ast
  if (node?._tag === "Objects" && kindOf(value) === "object") {
    const record = value as Readonly<Record<string, unknown>>
    for (const field of fieldsOf(node)) {
      const { [field.key]: child, ...rest } = record
      out.push({ change: `${at}.${field.key} removed`, value: rest, accepted: field.optional })
      for (const variant of variants(field.ast, child, `${at}.${field.key}`)) {
        out.push({ ...variant, value: { ...record, [field.key]: variant.value } })
      }
    }
  } else if (node?._tag === "Arrays" && Array.isArray(value) && value.length > 0) {
    for (const variant of variants(elementOf(node), value[0], `${at}[0]`)) {
      out.push({ ...variant, value: [variant.value, ...value.slice(1)] })
    }
  }
  return out
}

const wrong = fc.oneof(fc.constant(true), fc.integer(), fc.string({ maxLength: 3 }), fc.constant([]), fc.constant({}))
/** A field's value: mostly right, sometimes missing, null or of a wrong type. */
const nearMiss = <A>(right: fc.Arbitrary<A>) =>
  fc.oneof(
    { weight: 6, arbitrary: right },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: wrong }
  )
/** Mostly-valid values of a node, each field of them possibly missing, null or of a wrong type. */
const nearValues = (ast: SchemaAST.AST): fc.Arbitrary<unknown> => {
  switch (ast._tag) {
    case "String":
      return fc.string({ maxLength: 5 })
    case "Number":
      return fc.integer({ min: 0, max: 100 })
    case "Boolean":
      return fc.boolean()
    case "Null":
      return fc.constant(null)
    case "Literal":
      return fc.constant(ast.literal)
    case "Unknown":
    case "Any":
      return fc.jsonValue({ maxDepth: 1 })
    case "Objects":
      return fc.record(Object.fromEntries(fieldsOf(ast).map((field) => [field.key, nearMiss(nearValues(field.ast))])))
        .map((value) => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)))
    case "Arrays":
      return fc.array(nearMiss(nearValues(elementOf(ast))), { maxLength: 3 })
    case "Union":
      return fc.oneof(...ast.types.map(nearValues))
    default:
      return unsupported(ast)
  }
}

describe("hand-written wire decoders", () => {
  it("the wire Schemas have no transformation, so the parsed JSON is their decoded Type", () => {
    // the decoders hand out the parsed JSON itself, typed as the Schema's Type
    for (const { name, schema } of wire) {
      assert.strictEqual(SchemaAST.toEncoded(schema.ast), schema.ast, `${name}: decode.ts must now run the Schema`)
      assert.strictEqual(SchemaAST.toType(schema.ast), schema.ast, `${name}: decode.ts must now run the Schema`)
    }
  })

  it.effect("each accepts every value its Schema generates, and returns it as it came", () =>
    Effect.forEach(wire, ({ name, parse, schema }) =>
      Effect.map(Arbitrary.sampleEffect(Arbitrary.schema(schema), { count: 300, seed: 10 }), (values) => {
        for (const value of values) {
          const text = JSON.stringify(value)
          assert.deepStrictEqual(parse(text), JSON.parse(text), `${name}: ${text}`)
        }
      }), { discard: true }))

  it("each rejects a missing required key or a wrong kind anywhere, and accepts a missing optional key or null", () => {
    for (const { name, parse, schema } of wire) {
      const value = fullest(schema.ast)
      assert.isDefined(parse(JSON.stringify(value)), `${name}: ${JSON.stringify(value)}`)
      const all = variants(schema.ast, value, name)
      for (const variant of all) {
        const decoded = parse(JSON.stringify(variant.value))
        assert.strictEqual(decoded !== undefined, variant.accepted, `${variant.change}: ${JSON.stringify(variant.value)}`)
      }
      // every declared field was reached, and both verdicts occur
      assert.isAbove(all.filter((variant) => variant.accepted).length, 20, name)
      assert.isAbove(all.filter((variant) => !variant.accepted).length, 20, name)
    }
  })

  it("each accepts exactly what its Schema's own decode of the JSON text accepts", () => {
    for (const { name, parse, schema } of wire) {
      const decode = Schema.decodeUnknownExit(Schema.fromJsonString(schema))
      let accepted = 0
      let rejected = 0
      fc.assert(
        fc.property(nearValues(schema.ast), (value) => {
          const text = JSON.stringify(value)
          const ours = parse(text) !== undefined
          if (ours) accepted++
          else rejected++
          return ours === (decode(text)._tag === "Success")
        }),
        { numRuns: 3000 }
      )
      // the generator reaches both sides, or the agreement would prove nothing
      assert.isAbove(accepted, 100, name)
      assert.isAbove(rejected, 100, name)
    }
  })

  it("both reject text that is not JSON, and values that are not objects", () => {
    for (const text of ["", "{", "null", "[]", "\"text\"", "42", "[{\"choices\":[]}]"]) {
      assert.isUndefined(parseCompletion(text), text)
      assert.isUndefined(parseChunk(text), text)
    }
  })

  it("the recorded real answers decode", () => {
    const fixture = (path: string) => readFileSync(join(testDataDir("fixtures"), path), "utf8")
    for (const path of ["openai/vercel__openai-text.json", "openai-compatible/vercel__groq-tool-call.json"]) {
      assert.isDefined(parseCompletion(fixture(path)), path)
    }
    for (
      const path of [
        "openai/vercel__openai-text.chunks.txt",
        "openai-compatible/vercel__groq-tool-call.chunks.txt",
        "openai-compatible/vercel__deepseek-tool-call.chunks.txt"
      ]
    ) {
      for (const line of fixture(path).split("\n").filter((line) => line.trim() !== "")) assert.isDefined(parseChunk(line), path)
    }
  })
})
