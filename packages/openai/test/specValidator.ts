// JSON-Schema validators for request bodies, compiled from the providers' OpenAPI specs in
// test-data/specs. The specs need the same repair tools/normalize-spec.js applies for Prism:
// `nullable: true` without a `type` makes Ajv refuse to compile, and a validator that does not
// compile must never pass for one that accepts everything (the tests keep a negative control).
import { Ajv } from "ajv"
import { Ajv2020 } from "ajv/dist/2020.js"
import addFormats from "ajv-formats"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { parse } from "yaml"
import { testDataDir } from "./helpers.ts"

type Json = Record<string, unknown>

const isRecord = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value)

/** The normalize-spec.js repair: `nullable` without `type` → anyOf [schema, null]; `type: null` dropped. */
const repairNullable = (node: unknown): void => {
  if (Array.isArray(node)) return node.forEach(repairNullable)
  if (!isRecord(node)) return
  for (const value of Object.values(node)) repairNullable(value)
  if (node.type === null) delete node.type
  if (node.nullable === true && node.type === undefined) {
    const inner: Json = {}
    for (const [key, value] of Object.entries(node)) {
      if (key !== "nullable" && key !== "description" && key !== "default") inner[key] = value
    }
    for (const key of Object.keys(inner)) delete node[key]
    delete node.nullable
    node.anyOf = [inner, { type: "null" }]
  } else if (node.nullable === false && node.type === undefined) {
    delete node.nullable
  }
}

/** OpenAPI 3.0 `nullable: true` beside a `type` → a JSON-Schema type list (so any Ajv dialect reads it). */
const nullableToTypeList = (node: unknown): void => {
  if (Array.isArray(node)) return node.forEach(nullableToTypeList)
  if (!isRecord(node)) return
  for (const value of Object.values(node)) nullableToTypeList(value)
  if (node.nullable === true && typeof node.type === "string") {
    node.type = [node.type, "null"]
    if (Array.isArray(node.enum) && !node.enum.includes(null)) node.enum = [...node.enum, null]
    delete node.nullable
  }
}

export interface Validator {
  readonly validate: (body: unknown) => ReadonlyArray<string>
}

const compile = (
  dialect: "2020" | "draft-07",
  components: Json,
  schemaName: string
): Validator => {
  const ajv = dialect === "2020"
    ? new Ajv2020({ strict: false, allErrors: true, validateFormats: true })
    : new Ajv({ strict: false, allErrors: true, validateFormats: true })
  addFormats.default(ajv)
  // compile throws when the schema is broken: let it, a broken validator must fail the test
  const check = ajv.compile({ $ref: `#/components/schemas/${schemaName}`, components })
  return {
    validate: (body) =>
      check(body) ? [] : (check.errors ?? []).map((error) => `${error.instancePath || "/"} ${error.message ?? ""}`)
  }
}

/** OpenAI's official spec (OpenAPI 3.1): `CreateChatCompletionRequest`. */
export const openAiChatRequest = (): Validator => {
  const document = parse(readFileSync(join(testDataDir("specs"), "openai/openapi.yaml"), "utf8"), { maxAliasCount: -1 }) as Json
  const components = document.components as Json
  repairNullable(components)
  nullableToTypeList(components)
  return compile("2020", components, "CreateChatCompletionRequest")
}

/** Azure OpenAI inference 2024-10-21 (OpenAPI 3.0): `createChatCompletionRequest`. */
export const azureChatRequest = (): Validator => {
  const document = JSON.parse(readFileSync(join(testDataDir("specs"), "azure/inference-2024-10-21.json"), "utf8")) as Json
  const components = document.components as Json
  // Spec bug: json_schema.required lists "type", a field of the outer response_format; the API
  // (and the official openai SDK talking to Azure) sends no json_schema.type.
  const jsonSchema = ((components.schemas as Record<string, Json>).ResponseFormatJsonSchema?.properties as Json | undefined)
    ?.json_schema as Json | undefined
  if (jsonSchema === undefined || !Array.isArray(jsonSchema.required)) throw new Error("Azure spec changed: ResponseFormatJsonSchema")
  jsonSchema.required = jsonSchema.required.filter((name: unknown) => name !== "type")
  repairNullable(components)
  nullableToTypeList(components)
  return compile("draft-07", components, "createChatCompletionRequest")
}

/**
 * Azure AI Foundry model inference (OpenAPI 3.0): `ChatCompletionsOptions`. Its messages are an
 * OpenAPI `discriminator` on `role` over an extensible enum, which JSON Schema cannot express (any
 * role would pass), so each message is also checked against the schema its role maps to.
 */
export const foundryChatRequest = (): Validator => {
  const document = JSON.parse(readFileSync(join(testDataDir("specs"), "foundry/AIFoundryAzureAI.json"), "utf8")) as Json
  const components = document.components as Json
  repairNullable(components)
  nullableToTypeList(components)
  const options = compile("draft-07", components, "ChatCompletionsOptions")
  const schemas = components.schemas as Record<string, Json>
  const mapping = ((schemas.ChatRequestMessage?.discriminator as Json | undefined)?.mapping ?? {}) as Record<string, string>
  const byRole = new Map(Object.entries(mapping).map(([role, ref]) => [role, compile("draft-07", components, ref.split("/").at(-1) ?? "")]))
  return {
    validate: (body) => {
      const errors = [...options.validate(body)]
      const messages = isRecord(body) && Array.isArray(body.messages) ? body.messages : []
      for (const [index, message] of messages.entries()) {
        const role = isRecord(message) ? message.role : undefined
        const validator = typeof role === "string" ? byRole.get(role) : undefined
        if (validator === undefined) errors.push(`/messages/${index}/role ${String(role)} is not one of ${[...byRole.keys()].join(", ")}`)
        else errors.push(...validator.validate(message).map((error) => `/messages/${index}${error}`))
      }
      return errors
    }
  }
}

/** OpenRouter's spec (OpenAPI 3.1): `ChatAssistantMessage`, for the assistant turns we send back (reasoning_details included). */
export const openRouterAssistantMessage = (): Validator => {
  const document = parse(readFileSync(join(testDataDir("specs"), "openrouter/in.openapi.yaml"), "utf8"), { maxAliasCount: -1 }) as Json
  const components = document.components as Json
  repairNullable(components)
  nullableToTypeList(components)
  return compile("2020", components, "ChatAssistantMessage")
}

/** OpenRouter's spec (OpenAPI 3.1): `ChatRequest`, the body of `POST /chat/completions`. */
export const openRouterChatRequest = (): Validator => {
  const document = parse(readFileSync(join(testDataDir("specs"), "openrouter/in.openapi.yaml"), "utf8"), { maxAliasCount: -1 }) as Json
  const components = document.components as Json
  repairNullable(components)
  nullableToTypeList(components)
  return compile("2020", components, "ChatRequest")
}
