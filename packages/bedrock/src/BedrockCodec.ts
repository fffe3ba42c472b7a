/**
 * The Converse mapping, as plain functions: `toWire` (a `ChatRequest` to the request body),
 * `fromWire` (the answer to a `ChatResponse`), `finishReason` and `usage`. No HTTP here, so they
 * are tested as tables and properties.
 *
 * - Instructions (`system`, `developer`) become `system` blocks; `tool` messages become `user`
 *   turns with `toolResult` blocks; turns of the same role in a row are joined into one (Converse
 *   wants user and assistant to alternate). An assistant's reasoning goes back first, with its
 *   signature, as `reasoningContent`.
 * - Images are bytes: base64 parts and `data:` URLs are sent, an `http(s)` URL is `Unsupported`
 *   (Converse takes bytes or S3 locations only). File parts are `document` blocks (pdf, csv, doc,
 *   docx, xls, xlsx, html, txt, md) by bytes; a file URL is `Unsupported`. A document's `name` may
 *   hold only letters, digits, single spaces, hyphens, parentheses and brackets: the file name is
 *   sanitized to that (`report.v2.pdf` → `report v2 pdf`), `document-N` when none is left. `responseFormat` other than text is `Unsupported`.
 * - `seed` and `user` have no Converse field: left out with a warning (`dropped`); `metadata` is
 *   sent as `requestMetadata`.
 * - Prompt caching and model-specific fields come from the typed provider option
 *   (`BedrockOptions`, under `providerOptions.bedrock` or the provider's name).
 *
 * @since 0.2.0
 */
import { Schema } from "effect"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import type * as ChatResponse from "@flexiai/core/ChatResponse"
import type { ProviderErrorReason } from "@flexiai/core/ProviderError"
import { InvalidRequest, MalformedResponse, Unsupported } from "@flexiai/core/ProviderError"
import type { Reasoning } from "@flexiai/core/Reasoning"
import * as Wire from "./BedrockSchema.ts"

// ---------------------------------------------------------------------------
// the provider option
// ---------------------------------------------------------------------------

/**
 * What a request may say to Bedrock alone, under `providerOptions.bedrock` (or the provider's
 * configured name, which wins):
 *
 * - `cache`: prompt-caching checkpoints (`cachePoint` blocks). `system: true` puts one after the
 *   system blocks, `tools: true` after the tool list, `messages: [i, …]` after the content of
 *   `request.messages[i]`. Caching is per model: https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html
 * - `additionalModelRequestFields`: sent as they are (Claude's `thinking`, a model's `top_k`).
 *
 * Anything else is an `InvalidRequest` naming the key, not silently dropped.
 *
 * @category schemas
 */
export const BedrockOptions = Schema.Struct({
  cache: Schema.optionalKey(Schema.Struct({
    system: Schema.optionalKey(Schema.Boolean),
    tools: Schema.optionalKey(Schema.Boolean),
    messages: Schema.optionalKey(Schema.Array(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))))
  })),
  additionalModelRequestFields: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown))
})
export type BedrockOptions = typeof BedrockOptions.Type

const decodeOptions = Schema.decodeUnknownExit(BedrockOptions)

/** The request's Bedrock options: the provider's name first, then the kind's. */
export const optionsOf = (
  request: ChatRequest.ChatRequest,
  providerName: string | undefined
): BedrockOptions | InvalidRequest => {
  const raw = (providerName === undefined ? undefined : request.providerOptions?.[providerName]) ?? request.providerOptions?.["bedrock"]
  if (raw === undefined) return {}
  const exit = decodeOptions(raw, { onExcessProperty: "error", errors: "all" })
  if (exit._tag === "Success") return exit.value
  return new InvalidRequest({
    message: `providerOptions for Bedrock take cache {system, tools, messages} and additionalModelRequestFields: ${String(exit.cause).slice(0, 300)}`,
    param: "providerOptions"
  })
}

// ---------------------------------------------------------------------------
// request
// ---------------------------------------------------------------------------

/** What `toWire` gives: the body, or the reason it cannot be sent; the fields left out. @category models */
export interface WireResult {
  readonly body: Wire.ConverseRequest
  readonly unsupported: ProviderErrorReason | undefined
  readonly dropped: ReadonlyArray<string>
}

const cachePoint: Wire.CachePoint = { cachePoint: { type: "default" } }

const imageFormats: Readonly<Record<string, string>> = {
  "image/png": "png",
  "image/jpeg": "jpeg",
  "image/jpg": "jpeg",
  "image/gif": "gif",
  "image/webp": "webp"
}

/** Thrown inside `toWire` by a part it cannot send, caught at its end (the mapping stays one pass). */
class Refused {
  readonly reason: ProviderErrorReason
  constructor(reason: ProviderErrorReason) {
    this.reason = reason
  }
}

const imageBlock = (part: ChatRequest.ImagePart): Wire.ContentBlock => {
  let mediaType: string
  let data: string
  if (part.source.type === "base64") {
    mediaType = part.source.mediaType.toLowerCase()
    data = part.source.data
  } else {
    const match = /^data:([^;,]+);base64,(.*)$/s.exec(part.source.url)
    if (match === null) {
      throw new Refused(new Unsupported({ message: "Bedrock Converse takes image bytes, not image URLs: send the image as base64", field: "images" }))
    }
    mediaType = match[1]!.toLowerCase()
    data = match[2]!
  }
  const format = imageFormats[mediaType]
  if (format === undefined) {
    throw new Refused(new Unsupported({ message: `Bedrock Converse takes png, jpeg, gif or webp images, not ${mediaType}`, field: "images" }))
  }
  return { image: { format, source: { bytes: data } } }
}

/** Converse's document formats, by media type (the `DocumentFormat` enum). */
const documentFormats: Readonly<Record<string, string>> = {
  "application/pdf": "pdf",
  "text/csv": "csv",
  "application/msword": "doc",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
  "application/vnd.ms-excel": "xls",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
  "text/html": "html",
  "text/plain": "txt",
  "text/markdown": "md"
}

/** The media types Converse takes as documents (its capabilities' `files`). */
export const documentMediaTypes: ReadonlyArray<string> = Object.keys(documentFormats)

/** A file name as Converse allows it: letters, digits, hyphens, parentheses, brackets, single spaces. */
export const documentName = (fileName: string | undefined, index: number): string => {
  const cleaned = (fileName ?? "").replace(/[^A-Za-z0-9\-()[\]\s]/g, " ").replace(/\s+/g, " ").trim()
  return cleaned === "" ? `document-${index}` : cleaned
}

const documentBlock = (part: ChatRequest.FilePart, index: number): Wire.ContentBlock => {
  const source = part.source
  if (source.type === "url") {
    throw new Refused(new Unsupported({ message: "Bedrock Converse takes document bytes, not URLs: send the file as base64", field: "files" }))
  }
  const mediaType = (source.mediaType ?? "text/plain").toLowerCase()
  const format = documentFormats[mediaType]
  if (format === undefined) {
    throw new Refused(new Unsupported({ message: `Bedrock Converse takes no ${mediaType} documents`, field: "files" }))
  }
  const bytes = source.type === "base64" ? source.data : Buffer.from(source.text, "utf8").toString("base64")
  return { document: { format, name: documentName(part.fileName, index), source: { bytes } } }
}

const userBlocks = (content: ChatRequest.UserMessage["content"], documents: { count: number }): Array<Wire.ContentBlock> =>
  typeof content === "string"
    ? [{ text: content }]
    : content.map((part) =>
      part.type === "text" ? { text: part.text } : part.type === "file" ? documentBlock(part, ++documents.count) : imageBlock(part)
    )

const reasoningBlock = (block: Reasoning): Wire.ContentBlock =>
  block.redactedData !== undefined
    ? { reasoningContent: { redactedContent: block.redactedData } }
    : { reasoningContent: { reasoningText: { text: block.text, ...(block.signature === undefined ? {} : { signature: block.signature }) } } }

const toolInput = (call: ChatRequest.ToolCall): unknown => {
  if (call.arguments.trim() === "") return {}
  try {
    return JSON.parse(call.arguments)
  } catch {
    throw new Refused(new InvalidRequest({ message: `tool call ${call.id} has arguments that are not JSON (Bedrock sends tool input as a JSON value)`, param: "messages" }))
  }
}

const assistantBlocks = (message: ChatRequest.AssistantMessage): Array<Wire.ContentBlock> => [
  ...(message.reasoning ?? []).map(reasoningBlock),
  ...(message.content === undefined || message.content === null || message.content === "" ? [] : [{ text: message.content }]),
  ...(message.toolCalls ?? []).map((call): Wire.ContentBlock => ({ toolUse: { toolUseId: call.id, name: call.name, input: toolInput(call) } }))
]

const instructionText = (content: ChatRequest.SystemMessage["content"]): ReadonlyArray<{ readonly text: string }> =>
  typeof content === "string" ? [{ text: content }] : content.map((part) => ({ text: part.text }))

const toolChoiceOf = (choice: ChatRequest.ToolChoice | undefined): NonNullable<Wire.ConverseRequest["toolConfig"]>["toolChoice"] => {
  if (choice === undefined || choice === "auto") return { auto: {} }
  if (choice === "required") return { any: {} }
  if (choice === "none") return undefined
  return { tool: { name: choice.name } }
}

/**
 * The Converse body for `request` (the model goes in the URL, not the body).
 *
 * @category constructors
 */
export const toWire = (request: ChatRequest.ChatRequest, options: { readonly providerName?: string | undefined } = {}): WireResult => {
  const dropped: Array<string> = []
  const empty: Wire.ConverseRequest = { messages: [] }
  const bedrock = optionsOf(request, options.providerName)
  if (bedrock instanceof InvalidRequest) return { body: empty, unsupported: bedrock, dropped }
  const cacheAfter = new Set(bedrock.cache?.messages ?? [])
  try {
    const system: Array<{ readonly text: string } | Wire.CachePoint> = []
    const messages: Array<{ role: "user" | "assistant"; content: Array<Wire.ContentBlock> }> = []
    let usesTools = false
    const documents = { count: 0 }
    const push = (role: "user" | "assistant", blocks: ReadonlyArray<Wire.ContentBlock>) => {
      const last = messages.at(-1)
      if (last !== undefined && last.role === role) last.content.push(...blocks)
      else messages.push({ role, content: [...blocks] })
    }
    request.messages.forEach((message, index) => {
      switch (message.role) {
        case "system":
        case "developer":
          system.push(...instructionText(message.content))
          break
        case "user":
          push("user", userBlocks(message.content, documents))
          break
        case "assistant": {
          if ((message.toolCalls ?? []).length > 0) usesTools = true
          const blocks = assistantBlocks(message)
          // an empty assistant turn has nothing to say to Converse (it refuses empty content)
          if (blocks.length > 0) push("assistant", blocks)
          break
        }
        case "tool":
          usesTools = true
          push("user", [{ toolResult: { toolUseId: message.toolCallId, content: [{ text: message.content }] } }])
          break
      }
      if (cacheAfter.has(index)) {
        if (message.role === "system" || message.role === "developer") system.push(cachePoint)
        else if (messages.length > 0) messages.at(-1)!.content.push(cachePoint)
      }
    })
    if (bedrock.cache?.system === true && system.length > 0) system.push(cachePoint)

    const format = request.responseFormat
    if (format !== undefined && format.type !== "text") {
      return {
        body: empty,
        unsupported: new Unsupported({ message: `Bedrock Converse has no ${format.type} response format`, field: "responseFormat" }),
        dropped
      }
    }
    if (request.seed !== undefined) dropped.push("seed")
    if (request.user !== undefined) dropped.push("user")

    const inference = {
      ...(request.maxTokens === undefined ? {} : { maxTokens: request.maxTokens }),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.topP === undefined ? {} : { topP: request.topP }),
      ...(request.stop === undefined || request.stop.length === 0 ? {} : { stopSequences: request.stop })
    }
    const tools = request.tools ?? []
    let toolConfig: Wire.ConverseRequest["toolConfig"]
    // toolChoice "none" has no Converse value: without tools the model cannot call one, unless
    // the conversation already holds tool calls (Converse then needs the tool list)
    if (tools.length > 0 && (request.toolChoice !== "none" || usesTools)) {
      if (request.toolChoice === "none") dropped.push("toolChoice")
      const choice = toolChoiceOf(request.toolChoice)
      toolConfig = {
        tools: [
          ...tools.map((tool): Wire.Tool => ({
            toolSpec: {
              name: tool.name,
              ...(tool.description === undefined ? {} : { description: tool.description }),
              inputSchema: { json: tool.parameters }
            }
          })),
          ...(bedrock.cache?.tools === true ? [cachePoint] : [])
        ],
        ...(choice === undefined || request.toolChoice === undefined ? {} : { toolChoice: choice })
      }
    }
    const body: Wire.ConverseRequest = {
      messages,
      ...(system.length === 0 ? {} : { system }),
      ...(Object.keys(inference).length === 0 ? {} : { inferenceConfig: inference }),
      ...(toolConfig === undefined ? {} : { toolConfig }),
      ...(bedrock.additionalModelRequestFields === undefined ? {} : { additionalModelRequestFields: bedrock.additionalModelRequestFields }),
      ...(request.metadata === undefined ? {} : { requestMetadata: request.metadata })
    }
    if (messages.length === 0) {
      return { body, unsupported: new InvalidRequest({ message: "Bedrock Converse needs at least one user or assistant message", param: "messages" }), dropped }
    }
    return { body, unsupported: undefined, dropped }
  } catch (error) {
    if (error instanceof Refused) return { body: empty, unsupported: error.reason, dropped }
    throw error
  }
}

// ---------------------------------------------------------------------------
// response
// ---------------------------------------------------------------------------

/**
 * Bedrock's stop reason, unified; the raw value is always kept beside it. Guardrails and content
 * filters are both `content_filter`.
 *
 * @category utils
 */
export const finishReason = (raw: string | undefined): ChatResponse.FinishReason => {
  switch (raw) {
    case "end_turn":
    case "stop_sequence":
      return "stop"
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length"
    case "tool_use":
      return "tool_calls"
    case "content_filtered":
    case "guardrail_intervened":
      return "content_filter"
    default:
      return "other"
  }
}

/**
 * Converse usage as core `Usage`: `promptTokens` counts every input token (Bedrock's
 * `inputTokens` leaves out cache reads and writes), `cachedTokens` the reads, `cacheWriteTokens`
 * the writes.
 *
 * @category utils
 */
export const usage = (wire: Wire.TokenUsage | undefined): ChatResponse.Usage | undefined => {
  if (wire === undefined) return undefined
  const cacheRead = wire.cacheReadInputTokens ?? 0
  const cacheWrite = wire.cacheWriteInputTokens ?? 0
  const promptTokens = (wire.inputTokens ?? 0) + cacheRead + cacheWrite
  const completionTokens = wire.outputTokens ?? 0
  return {
    promptTokens,
    completionTokens,
    totalTokens: promptTokens + completionTokens,
    ...(wire.cacheReadInputTokens == null ? {} : { cachedTokens: cacheRead }),
    ...(wire.cacheWriteInputTokens == null ? {} : { cacheWriteTokens: cacheWrite })
  }
}

const decodeResponse = Schema.decodeUnknownOption(Schema.fromJsonString(Wire.ConverseResponse))

/** Decodes a Converse answer body; `undefined` when it is not one. @category utils */
export const parseResponse = (text: string): Wire.ConverseResponse | undefined => {
  const decoded = decodeResponse(text)
  return decoded._tag === "Some" ? decoded.value : undefined
}

/** A Converse answer as a `ChatResponse`. @category constructors */
export const fromWire = (
  response: Wire.ConverseResponse,
  context: { readonly provider: string; readonly model: string; readonly latencyMillis: number; readonly id?: string | undefined }
): ChatResponse.ChatResponse | MalformedResponse => {
  const content = response.output?.message?.content
  if (content === undefined || response.stopReason === undefined) {
    return new MalformedResponse({ message: "a Converse answer without output.message.content or stopReason" })
  }
  let text = ""
  const toolCalls: Array<ChatRequest.ToolCall> = []
  const reasoning: Array<Reasoning> = []
  for (const block of content) {
    if (block.text !== undefined) text += block.text
    if (block.toolUse !== undefined) {
      toolCalls.push({ id: block.toolUse.toolUseId, name: block.toolUse.name, arguments: JSON.stringify(block.toolUse.input ?? {}) })
    }
    const thought = block.reasoningContent
    if (thought?.redactedContent !== undefined) reasoning.push({ text: "", redactedData: thought.redactedContent })
    else if (thought?.reasoningText !== undefined) {
      const signature = thought.reasoningText.signature
      reasoning.push({ text: thought.reasoningText.text ?? "", ...(signature == null ? {} : { signature }) })
    }
  }
  const tokens = usage(response.usage)
  return {
    id: context.id ?? "",
    text,
    toolCalls,
    ...(reasoning.length === 0 ? {} : { reasoning }),
    finishReason: finishReason(response.stopReason),
    rawFinishReason: response.stopReason,
    ...(tokens === undefined ? {} : { usage: tokens }),
    provider: context.provider,
    model: context.model,
    latencyMillis: context.latencyMillis,
    attempts: []
  }
}
