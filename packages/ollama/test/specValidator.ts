// A JSON-Schema validator for `/api/chat` request bodies, compiled from Ollama's official OpenAPI
// document in test-data/specs/ollama (see its SOURCES.md). Two overlays, as the SOURCES notes say:
// the objects are closed (STRICT_OBJECTS: a misspelled field must fail, the spec leaves objects
// open), and `ChatMessage.thinking` / `tool_name`, which docs/api.md documents but the OpenAPI
// file lacks, are added (ADD_PROPS). A validator that accepted everything would pass for one that
// checks nothing: Spec.test.ts keeps negative controls.
import { Ajv2020 } from "ajv/dist/2020.js"
import addFormats from "ajv-formats"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { parse } from "yaml"
import { testDataDir } from "./helpers.ts"

type Json = Record<string, unknown>

const isRecord = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value)

/** Closes every object schema that lists properties and says nothing about others. */
const closeObjects = (node: unknown): void => {
  if (Array.isArray(node)) return node.forEach(closeObjects)
  if (!isRecord(node)) return
  for (const value of Object.values(node)) closeObjects(value)
  if (isRecord(node.properties) && node.additionalProperties === undefined) node.additionalProperties = false
}

export interface Validator {
  readonly validate: (body: unknown) => ReadonlyArray<string>
}

const load = (): Json => {
  const document = parse(readFileSync(join(testDataDir("specs"), "ollama/openapi.yaml"), "utf8")) as Json
  const components = document.components as Json
  const schemas = components.schemas as Record<string, Json>
  const message = schemas.ChatMessage
  if (message === undefined || !isRecord(message.properties)) throw new Error("Ollama spec changed: ChatMessage")
  message.properties.thinking = { type: "string" }
  message.properties.tool_name = { type: "string" }
  closeObjects(components)
  return components
}

const compile = (schemaName: string): Validator => {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true })
  addFormats.default(ajv)
  const check = ajv.compile({ $ref: `#/components/schemas/${schemaName}`, components: load() })
  return {
    validate: (body) => check(body) ? [] : (check.errors ?? []).map((error) => `${error.instancePath || "/"} ${error.message ?? ""}`)
  }
}

/** `POST /api/chat`'s body. */
export const chatRequest = (): Validator => compile("ChatRequest")

/** `POST /api/show`'s body. */
export const showRequest = (): Validator => compile("ShowRequest")
