/**
 * The Gemini codec, shared by the Gemini API and Vertex AI: `toWire` (ChatRequest →
 * `GenerateContentRequest`) and `fromWire` (`GenerateContentResponse` → ChatResponse), with the
 * finish-reason, usage, tool-call and reasoning mappings the stream machine shares. Plain functions.
 *
 * Mapping notes (what users get wrong):
 * - System and developer messages, wherever they stand, go to `systemInstruction`; assistant turns
 *   are role `model`; tool results are `functionResponse` parts of a `user` turn (consecutive
 *   results in one turn), named after the call they answer.
 * - Gemini may send a function call without an id: one is made up (`gcall_<responseId>_<n>`) and
 *   is not sent back (Gemini matches responses by name and order then).
 * - Thought signatures: Gemini signs its reasoning on the part that follows it (a text part, or
 *   the first function call). Each signature becomes a `Reasoning` block with `format: "gemini"`
 *   and an `id` naming the part it belongs to (`thought`, `text`, `call:<toolCallId>`), so the next
 *   turn puts it back where it came from. Blocks of other formats (another provider's) are not sent.
 * - `providerOptions[name]`: generation-config keys (`topK`, `thinkingConfig`, `responseModalities`,
 *   `presencePenalty`, …) are merged into `generationConfig`, the rest (`safetySettings`,
 *   `cachedContent`, `labels`) into the body.
 * - `user` and `metadata` have no Gemini field: they are left out, with a warning.
 *
 * @since 0.1.0
 */
import { Result } from "effect"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import type * as ChatResponse from "@flexiai/core/ChatResponse"
import { ContentFiltered, MalformedResponse, Unsupported } from "@flexiai/core/ProviderError"
import type * as ProviderError from "@flexiai/core/ProviderError"
import * as Reasoning from "@flexiai/core/Reasoning"
import type * as StreamPart from "@flexiai/core/StreamPart"
import { count } from "./internal/decode.ts"
import type * as GoogleSchema from "./GoogleSchema.ts"
import * as JsonSchemaToGemini from "./JsonSchemaToGemini.ts"

/** The `format` of the reasoning blocks Gemini's signatures travel in. @category constants */
export const reasoningFormat = "gemini"

/** The prefix of tool-call ids made up where Gemini sent none (never sent back). @category constants */
export const syntheticIdPrefix = "gcall_"

// ---------------------------------------------------------------------------
// request
// ---------------------------------------------------------------------------

/** @category models */
export interface WireOptions {
  /** The provider's name: its `providerOptions` entry is merged into the body. */
  readonly providerName: string
  /** The kind (`gemini`, `vertex`): its `providerOptions` entry is merged too. */
  readonly kind: string
  /**
   * Where JSON Schemas go: `"gemini"` (default) converts them to Gemini's schema subset
   * (`responseSchema`, `parameters`); `"json"` sends them as they are (`responseJsonSchema`,
   * `parametersJsonSchema`), for newer models and schemas the subset cannot express.
   */
  readonly schemaField?: "gemini" | "json" | undefined
  /** Sent as `generationConfig.thinkingConfig` unless the request's provider options set one. */
  readonly thinking?: { readonly includeThoughts?: boolean | undefined; readonly thinkingBudget?: number | undefined } | undefined
}

/** @category models */
export interface WireResult {
  readonly body: GoogleSchema.GenerateContentRequest
  /** Request fields left out, for the warning. */
  readonly dropped: ReadonlyArray<string>
}

/** The `generationConfig` fields (`providerOptions` keys that go there). */
const generationConfigKeys = new Set([
  "candidateCount",
  "enableEnhancedCivicAnswers",
  "frequencyPenalty",
  "logprobs",
  "maxOutputTokens",
  "mediaResolution",
  "presencePenalty",
  "responseJsonSchema",
  "responseLogprobs",
  "responseMimeType",
  "responseModalities",
  "responseSchema",
  "seed",
  "speechConfig",
  "stopSequences",
  "temperature",
  "thinkingConfig",
  "topK",
  "topP"
])

const imageTypes: Readonly<Record<string, string>> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  heic: "image/heic",
  heif: "image/heif"
}

/** An image URL as a part: `data:` URLs inline, others (gs://, https://, Files API) as `fileData`. */
const imagePart = (url: string): GoogleSchema.Part => {
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(url)
  if (data !== null) return { inlineData: { mimeType: data[1]!, data: data[2]! } }
  const extension = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase()
  const mimeType = extension === undefined ? undefined : imageTypes[extension]
  // the Files API and Vertex need the type for a URI; an unknown extension is most often a JPEG
  return { fileData: { mimeType: mimeType ?? "image/jpeg", fileUri: url } }
}

// a file by bytes (text as its UTF-8 bytes) goes inline, by URL (gs://, https://, Files API) as fileData
const filePart = (part: ChatRequest.FilePart): GoogleSchema.Part => {
  const mimeType = part.source.mediaType ?? "text/plain"
  switch (part.source.type) {
    case "url":
      return { fileData: { mimeType, fileUri: part.source.url } }
    case "base64":
      return { inlineData: { mimeType, data: part.source.data } }
    case "text":
      return { inlineData: { mimeType, data: Buffer.from(part.source.text, "utf8").toString("base64") } }
  }
}

const userParts = (content: ChatRequest.UserMessage["content"]): Array<GoogleSchema.Part> =>
  typeof content === "string"
    ? [{ text: content }]
    : content.map((part): GoogleSchema.Part =>
      part.type === "text"
        ? { text: part.text }
        : part.type === "file"
        ? filePart(part)
        : part.source.type === "base64"
        ? { inlineData: { mimeType: part.source.mediaType, data: part.source.data } }
        : imagePart(part.source.url)
    )

const instructionText = (content: ChatRequest.SystemMessage["content"]): Array<GoogleSchema.Part> =>
  typeof content === "string" ? [{ text: content }] : content.map((part) => ({ text: part.text }))

/** A tool call's arguments as the object Gemini wants (invalid JSON, or a non-object, is refused). */
const argsOf = (call: ChatRequest.ToolCall): Record<string, unknown> | Unsupported => {
  if (call.arguments.trim() === "") return {}
  try {
    const parsed: unknown = JSON.parse(call.arguments)
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>
  } catch {
    // fall through
  }
  return new Unsupported({
    message: `the arguments of tool call "${call.id}" are not a JSON object, which Gemini's functionCall.args must be`,
    field: "messages"
  })
}

/** A tool result as Gemini's `functionResponse.response` object: a JSON object as it is, anything else as `{ result }`. */
const responseOf = (content: string): Record<string, unknown> => {
  try {
    const parsed: unknown = JSON.parse(content)
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>
    return { result: parsed }
  } catch {
    return { result: content }
  }
}

/** The model turn of an assistant message, its reasoning and signatures put back where they came from. */
const modelParts = (message: ChatRequest.AssistantMessage): Array<GoogleSchema.Part> | Unsupported => {
  const parts: Array<GoogleSchema.Part> = []
  let textSignature: string | undefined
  const callSignatures = new Map<string, string>()
  for (const block of message.reasoning ?? []) {
    if (block.format !== reasoningFormat) continue
    const id = block.id ?? "thought"
    if (id === "text") textSignature = block.signature
    else if (id.startsWith("call:")) {
      if (block.signature !== undefined) callSignatures.set(id.slice(5), block.signature)
    } else if (block.text !== "" || block.signature !== undefined) {
      parts.push({ text: block.text, thought: true, ...(block.signature === undefined ? {} : { thoughtSignature: block.signature }) })
    }
  }
  const text = message.content ?? ""
  if (text !== "" || textSignature !== undefined) {
    parts.push({ text, ...(textSignature === undefined ? {} : { thoughtSignature: textSignature }) })
  }
  for (const call of message.toolCalls ?? []) {
    const args = argsOf(call)
    if (args instanceof Unsupported) return args
    const signature = callSignatures.get(call.id)
    parts.push({
      functionCall: { ...(call.id.startsWith(syntheticIdPrefix) ? {} : { id: call.id }), name: call.name, args },
      ...(signature === undefined ? {} : { thoughtSignature: signature })
    })
  }
  return parts
}

const unsupportedSchema = (field: string, error: JsonSchemaToGemini.UnsupportedJsonSchema): Unsupported =>
  new Unsupported({ message: `${field}: ${error.message}`, field })

/** Whether a JSON Schema is an object with no properties (Gemini refuses such `parameters`: they are left out). */
const isEmptyObject = (schema: ChatRequest.JsonSchemaObject): boolean =>
  (schema.type === "object" || schema.type === undefined) &&
  (schema.properties === undefined || (typeof schema.properties === "object" && schema.properties !== null &&
    Object.keys(schema.properties).length === 0)) &&
  schema.anyOf === undefined && schema.oneOf === undefined && schema.$ref === undefined

/**
 * The request body. `Unsupported` when the request asks for what Gemini cannot take (a schema
 * outside its subset, tool arguments that are not an object): another provider may serve it.
 *
 * @category mapping
 */
export const toWire = (request: ChatRequest.ChatRequest, options: WireOptions): Result.Result<WireResult, Unsupported> => {
  const jsonSchemas = options.schemaField === "json"
  const system: Array<GoogleSchema.Part> = []
  const contents: Array<GoogleSchema.Content> = []
  // tool results answer calls by id; Gemini wants the function's name (the latest call with the id)
  const callNames = new Map<string, string>()
  for (const message of request.messages) {
    switch (message.role) {
      case "system":
      case "developer":
        system.push(...instructionText(message.content))
        break
      case "user":
        contents.push({ role: "user", parts: userParts(message.content) })
        break
      case "assistant": {
        for (const call of message.toolCalls ?? []) callNames.set(call.id, call.name)
        const parts = modelParts(message)
        if (parts instanceof Unsupported) return Result.fail(parts)
        // an assistant turn with nothing in it is no turn (Gemini refuses empty parts)
        if (parts.length > 0) contents.push({ role: "model", parts })
        break
      }
      case "tool": {
        const part: GoogleSchema.Part = {
          functionResponse: {
            ...(message.toolCallId.startsWith(syntheticIdPrefix) ? {} : { id: message.toolCallId }),
            name: callNames.get(message.toolCallId) ?? message.name ?? message.toolCallId,
            response: responseOf(message.content)
          }
        }
        const last = contents.at(-1)
        if (last !== undefined && last.role === "user" && last.parts.every((existing) => existing.functionResponse !== undefined)) {
          contents[contents.length - 1] = { role: "user", parts: [...last.parts, part] }
        } else {
          contents.push({ role: "user", parts: [part] })
        }
        break
      }
    }
  }

  const generationConfig: Record<string, unknown> = { candidateCount: 1 }
  if (request.maxTokens !== undefined) generationConfig.maxOutputTokens = request.maxTokens
  if (request.temperature !== undefined) generationConfig.temperature = request.temperature
  if (request.topP !== undefined) generationConfig.topP = request.topP
  if (request.stop !== undefined && request.stop.length > 0) generationConfig.stopSequences = request.stop
  if (request.seed !== undefined) generationConfig.seed = request.seed
  const format = request.responseFormat
  if (format !== undefined && format.type !== "text") {
    generationConfig.responseMimeType = "application/json"
    if (format.type === "json_schema") {
      if (jsonSchemas) generationConfig.responseJsonSchema = format.schema
      else {
        const converted = JsonSchemaToGemini.convert(format.schema, { propertyOrdering: true })
        if (Result.isFailure(converted)) return Result.fail(unsupportedSchema("responseFormat", converted.failure))
        generationConfig.responseSchema = converted.success
      }
    }
  }
  if (options.thinking !== undefined) {
    generationConfig.thinkingConfig = {
      ...(options.thinking.includeThoughts === undefined ? {} : { includeThoughts: options.thinking.includeThoughts }),
      ...(options.thinking.thinkingBudget === undefined ? {} : { thinkingBudget: options.thinking.thinkingBudget })
    }
  }

  let tools: GoogleSchema.GenerateContentRequest["tools"]
  let toolConfig: GoogleSchema.GenerateContentRequest["toolConfig"]
  if (request.tools !== undefined && request.tools.length > 0) {
    const declarations: Array<GoogleSchema.FunctionDeclaration> = []
    for (const tool of request.tools) {
      // Google's spec marks `description` required: an empty one is sent where the tool has none
      const common = { name: tool.name, description: tool.description ?? "" }
      if (isEmptyObject(tool.parameters)) declarations.push(common)
      else if (jsonSchemas) declarations.push({ ...common, parametersJsonSchema: tool.parameters })
      else {
        const converted = JsonSchemaToGemini.convert(tool.parameters)
        if (Result.isFailure(converted)) return Result.fail(unsupportedSchema(`tools.${tool.name}`, converted.failure))
        declarations.push({ ...common, parameters: converted.success })
      }
    }
    tools = [{ functionDeclarations: declarations }]
    const choice = request.toolChoice
    if (choice !== undefined && choice !== "auto") {
      toolConfig = {
        functionCallingConfig: choice === "none"
          ? { mode: "NONE" }
          : choice === "required"
          ? { mode: "ANY" }
          : { mode: "ANY", allowedFunctionNames: [choice.name] }
      }
    }
  }

  const dropped: Array<string> = []
  if (request.user !== undefined) dropped.push("user")
  if (request.metadata !== undefined) dropped.push("metadata")

  let body: Record<string, unknown> = {
    contents,
    ...(system.length === 0 ? {} : { systemInstruction: { parts: system } }),
    ...(tools === undefined ? {} : { tools }),
    ...(toolConfig === undefined ? {} : { toolConfig })
  }
  for (const key of new Set([options.kind, options.providerName])) {
    const extra = request.providerOptions?.[key]
    if (extra === undefined) continue
    const rest: Record<string, unknown> = {}
    for (const [field, value] of Object.entries(extra)) {
      if (generationConfigKeys.has(field)) generationConfig[field] = value
      else if (field === "generationConfig" && typeof value === "object" && value !== null) Object.assign(generationConfig, value)
      else rest[field] = value
    }
    body = { ...body, ...rest }
  }
  body.generationConfig = generationConfig
  return Result.succeed({ body: body as GoogleSchema.GenerateContentRequest, dropped })
}

// ---------------------------------------------------------------------------
// response
// ---------------------------------------------------------------------------

const contentFilterReasons = new Set(["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"])

/**
 * The unified finish reason of a Gemini finish reason: STOP (with function calls: `tool_calls`),
 * MAX_TOKENS → length, the safety family → content_filter, anything else → other, raw kept.
 * MALFORMED_FUNCTION_CALL is not a finish: `finishError` makes it an error.
 *
 * @category mapping
 */
export const finishReason = (
  raw: string | undefined,
  hasToolCalls: boolean
): { readonly finishReason: ChatResponse.FinishReason; readonly rawFinishReason?: string } => {
  const unified: ChatResponse.FinishReason = raw === "STOP"
    ? hasToolCalls ? "tool_calls" : "stop"
    : raw === "MAX_TOKENS"
    ? "length"
    : raw !== undefined && contentFilterReasons.has(raw)
    ? "content_filter"
    : "other"
  return raw === undefined ? { finishReason: unified } : { finishReason: unified, rawFinishReason: raw }
}

/**
 * The error a finish reason stands for: MALFORMED_FUNCTION_CALL (the model wrote a call that is
 * not valid: a `MalformedResponse`, retried and failed over), else `undefined`.
 *
 * @category mapping
 */
export const finishError = (candidate: GoogleSchema.Candidate): MalformedResponse | undefined =>
  candidate.finishReason === "MALFORMED_FUNCTION_CALL"
    ? new MalformedResponse({
      message: `the model produced a malformed function call (MALFORMED_FUNCTION_CALL)${
        typeof candidate.finishMessage === "string" ? `: ${candidate.finishMessage.slice(0, 200)}` : ""
      }`
    })
    : undefined

/**
 * A prompt Gemini refused outright (`promptFeedback.blockReason`, no candidates): `ContentFiltered`.
 *
 * @category mapping
 */
export const promptBlocked = (response: GoogleSchema.GenerateContentResponse): ContentFiltered | undefined => {
  const reason = response.promptFeedback?.blockReason
  if (typeof reason !== "string" || reason === "" || reason === "BLOCK_REASON_UNSPECIFIED") return undefined
  const detail = response.promptFeedback?.blockReasonMessage
  return new ContentFiltered({ message: `the prompt was blocked (${reason})${typeof detail === "string" ? `: ${detail}` : ""}` })
}

/**
 * Usage: `promptTokenCount` (cached tokens included) plus tool-use prompt tokens, candidates plus
 * thoughts as the completion (thinking is billed as output), `cachedContentTokenCount` as
 * `cachedTokens`, `thoughtsTokenCount` as `reasoningTokens`.
 *
 * @category mapping
 */
export const usage = (metadata: GoogleSchema.UsageMetadata | undefined): ChatResponse.Usage | undefined => {
  if (metadata === undefined || metadata === null) return undefined
  const prompt = (count(metadata.promptTokenCount) ?? 0) + (count(metadata.toolUsePromptTokenCount) ?? 0)
  const thoughts = count(metadata.thoughtsTokenCount)
  const completion = (count(metadata.candidatesTokenCount) ?? 0) + (thoughts ?? 0)
  const cached = count(metadata.cachedContentTokenCount)
  return {
    promptTokens: prompt,
    completionTokens: completion,
    totalTokens: count(metadata.totalTokenCount) ?? prompt + completion,
    ...(cached === undefined || cached === 0 ? {} : { cachedTokens: cached }),
    ...(thoughts === undefined || thoughts === 0 ? {} : { reasoningTokens: thoughts })
  }
}

/** The id of the `index`-th call of a response: Gemini's own, else made up. @category mapping */
export const toolCallId = (call: GoogleSchema.FunctionCall, responseId: string | undefined, index: number): string =>
  typeof call.id === "string" && call.id !== "" ? call.id : `${syntheticIdPrefix}${responseId ?? "call"}_${index}`

/**
 * The reasoning delta of a part: its thought text, or the signature it carries (with the part it
 * belongs to in `id`); `undefined` for a part with neither.
 *
 * @category mapping
 */
export const reasoningOf = (part: GoogleSchema.Part, toolCallIdOfPart: string | undefined): StreamPart.ReasoningDelta | undefined => {
  const signature = typeof part.thoughtSignature === "string" && part.thoughtSignature !== "" ? part.thoughtSignature : undefined
  if (part.thought === true) {
    const text = typeof part.text === "string" ? part.text : ""
    if (text === "" && signature === undefined) return undefined
    return { type: "reasoning-delta", text, ...(signature === undefined ? {} : { signature }), id: "thought", format: reasoningFormat }
  }
  if (signature === undefined) return undefined
  return {
    type: "reasoning-delta",
    text: "",
    signature,
    id: toolCallIdOfPart === undefined ? "text" : `call:${toolCallIdOfPart}`,
    format: reasoningFormat
  }
}

/** What Gemini said about the answer beyond the unified fields (`providerMetadata.gemini`). @category mapping */
export const metadataOf = (
  response: GoogleSchema.GenerateContentResponse,
  candidate: GoogleSchema.Candidate | undefined
): Record<string, unknown> | undefined => {
  const out: Record<string, unknown> = {}
  if (candidate?.safetyRatings !== undefined && candidate.safetyRatings !== null) out.safetyRatings = candidate.safetyRatings
  if (candidate?.citationMetadata !== undefined && candidate.citationMetadata !== null) out.citationMetadata = candidate.citationMetadata
  if (typeof candidate?.finishMessage === "string") out.finishMessage = candidate.finishMessage
  if (response.promptFeedback !== undefined && response.promptFeedback !== null) out.promptFeedback = response.promptFeedback
  return Object.keys(out).length === 0 ? undefined : out
}

/** @category models */
export interface ResponseContext {
  readonly provider: string
  readonly model: string
  readonly latencyMillis: number
}

/**
 * The response of `generateContent`, or the reason it is not one: a blocked prompt
 * (`ContentFiltered`), no candidate or a malformed function call (`MalformedResponse`).
 *
 * @category mapping
 */
export const fromWire = (
  response: GoogleSchema.GenerateContentResponse,
  context: ResponseContext
): ChatResponse.ChatResponse | ProviderError.ProviderErrorReason => {
  const blocked = promptBlocked(response)
  if (blocked !== undefined) return blocked
  const candidate = response.candidates?.[0]
  if (candidate === undefined) return new MalformedResponse({ message: "the response has no candidate" })
  const malformed = finishError(candidate)
  if (malformed !== undefined) return malformed
  const responseId = typeof response.responseId === "string" ? response.responseId : undefined
  let text = ""
  let reasoning: Array<Reasoning.Reasoning> = []
  const toolCalls: Array<ChatRequest.ToolCall> = []
  for (const part of candidate.content?.parts ?? []) {
    let callId: string | undefined
    if (part.thought !== true && typeof part.text === "string") text += part.text
    const call = part.functionCall
    if (call !== undefined && call !== null && typeof call.name === "string") {
      callId = toolCallId(call, responseId, toolCalls.length)
      toolCalls.push({ id: callId, name: call.name, arguments: JSON.stringify(call.args ?? {}) })
    }
    const delta = reasoningOf(part, callId)
    if (delta !== undefined) reasoning = Reasoning.append(reasoning, delta)
  }
  const finish = finishReason(candidate.finishReason, toolCalls.length > 0)
  const used = usage(response.usageMetadata)
  const metadata = metadataOf(response, candidate)
  return {
    id: responseId ?? "",
    text,
    toolCalls,
    ...(reasoning.length === 0 ? {} : { reasoning }),
    ...finish,
    ...(used === undefined ? {} : { usage: used }),
    ...(metadata === undefined ? {} : { providerMetadata: { [reasoningFormat]: metadata } }),
    provider: context.provider,
    model: typeof response.modelVersion === "string" && response.modelVersion !== "" ? response.modelVersion : context.model,
    latencyMillis: context.latencyMillis,
    attempts: []
  }
}
