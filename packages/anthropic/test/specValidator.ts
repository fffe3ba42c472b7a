// A JSON-Schema validator for the body of POST /v1/messages, compiled from the Anthropic spec in
// test-data/specs/anthropic/hosted_spec.json (OpenAPI 3.1). That spec is a third-party copy of the
// Stainless-hosted spec from 2024 (test-data/specs/SOURCES.md), so it predates API features the
// provider uses; each overlay below adds one, named with the documentation that says it exists.
// Everything else the spec says (closed objects, required fields, ranges, patterns) is kept, and
// the tests keep negative controls so a validator that accepts everything cannot pass.
// Kept here rather than shared with @flexiai/openai's (it lives in that package's tests, and the
// overlays are this spec's own).
import { Ajv2020 } from "ajv/dist/2020.js"
import addFormats from "ajv-formats"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { testDataDir } from "./helpers.ts"

// oxlint-disable-next-line no-explicit-any -- spec JSON, edited by path
type Json = Record<string, any>

export interface Validator {
  readonly validate: (body: unknown) => ReadonlyArray<string>
}


/** The Stainless export's `"type": null` (and `nullable` without a type) make Ajv refuse to compile: dropped, as tools/normalize-spec.js does. */
const repairNullTypes = (node: unknown): void => {
  if (Array.isArray(node)) return node.forEach(repairNullTypes)
  if (typeof node !== "object" || node === null) return
  const record = node as Json
  for (const value of Object.values(record)) repairNullTypes(value)
  if (record.type === null) delete record.type
  if (record.nullable !== undefined && record.type === undefined) delete record.nullable
}

/** The 2024 spec with the later API features the provider sends added. */
const overlaid = (): Json => {
  const document = JSON.parse(readFileSync(join(testDataDir("specs"), "anthropic/hosted_spec.json"), "utf8")) as Json
  repairNullTypes(document.components)
  const schemas = document.components.schemas as Record<string, Json>
  const params = schemas.PromptCachingBetaCreateMessageParams!
  // extended thinking (2025): https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking
  params.properties.thinking = {
    type: "object",
    additionalProperties: false,
    required: ["type"],
    properties: { type: { enum: ["enabled", "disabled"] }, budget_tokens: { type: "integer", minimum: 1024 } }
  }
  schemas.ThinkingBlockParam = {
    type: "object",
    additionalProperties: false,
    required: ["type", "thinking", "signature"],
    properties: { type: { const: "thinking" }, thinking: { type: "string" }, signature: { type: "string" } }
  }
  schemas.RedactedThinkingBlockParam = {
    type: "object",
    additionalProperties: false,
    required: ["type", "data"],
    properties: { type: { const: "redacted_thinking" }, data: { type: "string" } }
  }
  const content = (schemas.PromptCachingBetaInputMessage!.properties.content.anyOf as Array<Json>).find((member) => member.type === "array")!
  content.items.oneOf.push({ $ref: "#/components/schemas/ThinkingBlockParam" }, { $ref: "#/components/schemas/RedactedThinkingBlockParam" })
  delete content.items.discriminator
  // images by URL (2025): https://docs.anthropic.com/en/docs/build-with-claude/vision
  const image = schemas.PromptCachingBetaRequestImageBlock!.properties.source
  image.oneOf.push({
    type: "object",
    additionalProperties: false,
    required: ["type", "url"],
    properties: { type: { const: "url" }, url: { type: "string" } }
  })
  delete image.discriminator
  // tool_choice none (2025): https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use
  schemas.ToolChoiceNone = { type: "object", additionalProperties: false, required: ["type"], properties: { type: { const: "none" } } }
  schemas.ToolChoice!.oneOf.push({ $ref: "#/components/schemas/ToolChoiceNone" })
  delete schemas.ToolChoice!.discriminator
  // the 1-hour cache (2025): https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching
  schemas.CacheControlEphemeral!.properties.ttl = { enum: ["5m", "1h"] }
  return document.components
}

/** `PromptCachingBetaCreateMessageParams`: the Messages body with cache_control (what we send). */
export const createMessage = (): Validator => {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true })
  addFormats.default(ajv)
  // compile throws when the schema is broken: let it, a broken validator must fail the test
  const check = ajv.compile({ $ref: "#/components/schemas/PromptCachingBetaCreateMessageParams", components: overlaid() })
  return {
    validate: (body) => (check(body) ? [] : (check.errors ?? []).map((error) => `${error.instancePath || "/"} ${error.message ?? ""}`))
  }
}
