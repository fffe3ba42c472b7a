// JSON Schema → Gemini's schema subset, on real tool and response schemas (test-data/schemas,
// each copied from a recorded request or a spec): the conversion of a pydantic model equals the
// Gemini form pydantic-ai sent for it (and the API accepted), every conversion is a valid Gemini
// `Schema` under Google's spec, and what the subset cannot express is refused, naming the keyword.
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import * as JsonSchemaToGemini from "../src/JsonSchemaToGemini.ts"
import { testDataDir } from "./helpers.ts"
import * as SpecValidator from "./specValidator.ts"

interface Case {
  readonly name: string
  readonly source: string
  readonly schema: Record<string, unknown>
  readonly gemini?: unknown
  readonly unsupported?: string
}

const { cases } = JSON.parse(readFileSync(join(testDataDir("schemas"), "gemini-conversion.json"), "utf8")) as {
  readonly cases: ReadonlyArray<Case>
}
const validator = SpecValidator.geminiSchema()

/** Titles and descriptions are annotations pydantic-ai leaves out for Gemini; compared without them. */
const withoutAnnotations = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(withoutAnnotations)
  if (typeof value !== "object" || value === null) return value
  return Object.fromEntries(
    Object.entries(value).filter(([key]) => key !== "title" && key !== "description").map(([key, inner]) => [key, withoutAnnotations(inner)])
  )
}

describe("JSON Schema → Gemini schema on real schemas", () => {
  it("the case file holds real schemas, convertible and not", () => {
    assert.isAtLeast(cases.length, 8)
    assert.isTrue(cases.some((entry) => entry.gemini !== undefined))
    assert.isTrue(cases.some((entry) => entry.unsupported !== undefined))
  })

  for (const entry of cases) {
    it(`${entry.name} (${entry.source.split(" ")[0]})`, () => {
      const converted = JsonSchemaToGemini.convert(entry.schema)
      if (entry.unsupported !== undefined) {
        assert.isTrue(Result.isFailure(converted), "must be refused")
        if (Result.isFailure(converted)) assert.strictEqual(converted.failure.keyword, entry.unsupported)
        return
      }
      assert.isTrue(Result.isSuccess(converted), Result.isFailure(converted) ? converted.failure.message : "")
      if (!Result.isSuccess(converted)) return
      assert.deepStrictEqual(validator.validate(converted.success), [])
      if (entry.gemini !== undefined) assert.deepStrictEqual(withoutAnnotations(converted.success), withoutAnnotations(entry.gemini))
    })
  }

  it("the spec's Schema validator rejects what Gemini does not take (negative control)", () => {
    assert.isNotEmpty(validator.validate({ type: "object" }))
    assert.isNotEmpty(validator.validate({ type: "OBJECT", additionalProperties: false }))
    assert.isNotEmpty(validator.validate({ type: "STRING", const: "x" }))
  })
})

const convert = (schema: Record<string, unknown>) => {
  const result = JsonSchemaToGemini.convert(schema)
  if (Result.isFailure(result)) throw new Error(result.failure.message)
  return result.success
}
const refusal = (schema: Record<string, unknown>) => {
  const result = JsonSchemaToGemini.convert(schema)
  return Result.isFailure(result) ? [result.failure.keyword, result.failure.path] : undefined
}

describe("JSON Schema → Gemini schema, construct by construct", () => {
  it("$refs into $defs are inlined; a recursive one is refused", () => {
    assert.deepStrictEqual(
      convert({ type: "object", properties: { a: { $ref: "#/$defs/x", description: "the a" } }, $defs: { x: { type: "integer" } } }),
      { type: "OBJECT", properties: { a: { type: "INTEGER", description: "the a" } } }
    )
    assert.deepStrictEqual(
      refusal({ $ref: "#/definitions/node", definitions: { node: { type: "object", properties: { next: { $ref: "#/definitions/node" } } } } }),
      ["$ref", "$.properties.next"]
    )
  })

  it("type lists, nullable unions, oneOf, const and single allOf", () => {
    assert.deepStrictEqual(convert({ type: ["integer", "null"] }), { type: "INTEGER", nullable: true })
    assert.deepStrictEqual(convert({ type: ["string", "number"] }), { anyOf: [{ type: "STRING" }, { type: "NUMBER" }] })
    assert.deepStrictEqual(convert({ anyOf: [{ type: "string" }, { type: "null" }] }), { type: "STRING", nullable: true })
    assert.deepStrictEqual(convert({ oneOf: [{ type: "string" }, { type: "boolean" }] }), { anyOf: [{ type: "STRING" }, { type: "BOOLEAN" }] })
    assert.deepStrictEqual(convert({ const: "fixed" }), { type: "STRING", enum: ["fixed"], format: "enum" })
    assert.deepStrictEqual(convert({ allOf: [{ type: "string", minLength: 2 }], description: "d" }), {
      type: "STRING",
      description: "d",
      minLength: "2"
    })
  })

  it("refuses what it cannot say, naming keyword and path", () => {
    assert.deepStrictEqual(refusal({ type: "object", properties: { m: { type: "object", additionalProperties: { type: "string" } } } }), [
      "additionalProperties",
      "$.properties.m.additionalProperties"
    ])
    assert.deepStrictEqual(refusal({ type: "number", multipleOf: 5 }), ["multipleOf", "$.multipleOf"])
    assert.deepStrictEqual(refusal({ type: "array", prefixItems: [{ type: "string" }] }), ["prefixItems", "$.prefixItems"])
    assert.deepStrictEqual(refusal({ type: "integer", enum: [1, 2] }), ["enum", "$.enum"])
    assert.deepStrictEqual(refusal({ allOf: [{ type: "string" }, { minLength: 1 }] }), ["allOf", "$"])
    assert.deepStrictEqual(refusal({ type: "object", properties: { any: {} } }), ["type", "$.properties.any"])
    assert.deepStrictEqual(refusal({ type: "string", if: { minLength: 1 } }), ["if", "$.if"])
    assert.deepStrictEqual(refusal({ type: "string", minLenght: 1 }), ["minLenght", "$.minLenght"])
  })
})
