// A JSON-Schema validator for Gemini request bodies, compiled from Google's OpenAPI export in
// test-data/specs/gemini (see its SOURCES.md). As the spec notes say: `model` is un-required (REST
// carries it in the URL), and objects are closed (STRICT_OBJECTS), so a misspelt field fails
// instead of passing as an unknown extra. The tests keep negative controls, so a validator that
// accepts everything cannot pass.
import { Ajv } from "ajv"
import addFormats from "ajv-formats"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { testDataDir } from "./helpers.ts"

type Json = Record<string, unknown>

const isRecord = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value)

/** STRICT_OBJECTS: an object schema with properties and no additionalProperties gets `false`. */
const closeObjects = (node: unknown): void => {
  if (Array.isArray(node)) return node.forEach(closeObjects)
  if (!isRecord(node)) return
  for (const value of Object.values(node)) closeObjects(value)
  if (isRecord(node.properties) && node.additionalProperties === undefined) node.additionalProperties = false
}

export interface Validator {
  readonly validate: (body: unknown) => ReadonlyArray<string>
}

/** `GenerateContentRequest` of the Gemini API (v1beta, revision 20250701). */
export const generateContentRequest = (): Validator => compile("GenerateContentRequest")

/** Gemini's `Schema` object (what `responseSchema` and function `parameters` take). */
export const geminiSchema = (): Validator => compile("Schema")

const compile = (name: string): Validator => {
  const document = JSON.parse(readFileSync(join(testDataDir("specs"), "gemini/original.json"), "utf8")) as Json
  const components = document.components as Json
  const schemas = components.schemas as Record<string, Json>
  const request = schemas.GenerateContentRequest
  if (request === undefined || !Array.isArray(request.required)) throw new Error("Gemini spec changed: GenerateContentRequest")
  request.required = request.required.filter((name: unknown) => name !== "model")
  closeObjects(components)
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true })
  addFormats.default(ajv)
  // Google's own format for a protobuf Duration in JSON ("3.5s")
  ajv.addFormat("google-duration", /^-?\d+(\.\d+)?s$/)
  // compile throws when the schema is broken: let it, a broken validator must fail the test
  const check = ajv.compile({ $ref: `#/components/schemas/${name}`, components })
  return {
    validate: (body) =>
      check(body) ? [] : (check.errors ?? []).map((error) => `${error.instancePath || "/"} ${error.message ?? ""} ${JSON.stringify(error.params)}`)
  }
}
