/**
 * The Chat Completions codec: `toWire` (ChatRequest → request body) and `fromWire` (completion →
 * ChatResponse), with the finish-reason, usage and reasoning (`reasoning_details`) mappings the
 * stream machine shares. Plain
 * functions, shared by every member of the OpenAI-compatible family; `Quirks` covers what members
 * do differently.
 *
 * What users get wrong: `providerOptions[providerName]` is merged into the body last, as it is,
 * and the quirks decide field names (`max_completion_tokens` or `max_tokens`): a request body
 * cannot be compared across members without them.
 *
 * @since 0.2.0
 */
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import type * as ChatResponse from "@flexiai/core/ChatResponse"
import { MalformedResponse, Unsupported } from "@flexiai/core/ProviderError"
import * as Reasoning from "@flexiai/core/Reasoning"
import type * as StreamPart from "@flexiai/core/StreamPart"
import type * as OpenAiSchema from "./OpenAiSchema.ts"

// ---------------------------------------------------------------------------
// quirks
// ---------------------------------------------------------------------------

/**
 * Where the members of the family differ.
 *
 * - `maxTokensField`: OpenAI wants `max_completion_tokens` (reasoning models reject `max_tokens`);
 *   most compatible servers only know `max_tokens`.
 * - `streamUsage`: send `stream_options.include_usage` (then the finish waits for the usage chunk).
 * - `usageInStream`: the server sends usage in its last chunks without being asked (Foundry's
 *   model inference, which rejects `stream_options`): the finish waits for it too.
 * - `metadata` / `user`: whether the API accepts these fields; when not, they are left out with a warning.
 * - `imageUrls`: whether the API fetches images by URL. When not (Ollama's `/v1`: base64 only), a
 *   request with an http(s) image URL fails with `Unsupported` (field `images`) before any call,
 *   so the router moves on to a provider that takes it; `data:` URLs and base64 images are sent.
 * - `toolChoice`: whether the API honours `tool_choice`. When not (Ollama's `/v1` ignores it):
 *   `"none"` is kept by leaving the tools out, `"auto"` is the default anyway, and `"required"` or a
 *   named tool is left out with the warning (the model may answer without calling it).
 * - `developerRole`: whether the API has the `developer` role (OpenAI, OpenRouter); elsewhere a
 *   developer message goes out as `system`.
 * - `systemContentParts`: whether system (and developer) content may be a list of text parts
 *   (OpenAI, Azure, OpenRouter); elsewhere the parts are joined with a line break.
 * - `strictJsonSchema` / `strictTools`: send `strict: true` on a `json_schema` response format /
 *   a tool whose schema qualifies for strict mode (see `qualifiesForStrict`) when the request left
 *   `strict` unset. An explicit `strict` is always sent as it is.
 * - `reasoningEcho`: how an assistant message's reasoning goes back. `"reasoning_details"`
 *   (OpenRouter): as the `reasoning_details` entries it came as, signatures and encrypted blocks
 *   unchanged, which the model needs to continue from its own thinking (tool calls, multi-turn).
 *   `"none"` (the default): not sent. OpenAI has no such field, and DeepSeek rejects a request
 *   whose assistant message carries its `reasoning_content` back.
 *
 * @category models
 */
export interface Quirks {
  readonly maxTokensField?: "max_completion_tokens" | "max_tokens" | undefined
  /** An assistant turn with tool calls and no text: `content: null` (OpenAI) or no `content` (Foundry). */
  readonly emptyAssistantContent?: "null" | "omit" | undefined
  readonly streamUsage?: boolean | undefined
  readonly usageInStream?: boolean | undefined
  readonly metadata?: boolean | undefined
  readonly user?: boolean | undefined
  readonly reasoningEcho?: "none" | "reasoning_details" | undefined
  readonly imageUrls?: boolean | undefined
  readonly toolChoice?: boolean | undefined
  readonly strictJsonSchema?: boolean | undefined
  readonly strictTools?: boolean | undefined
  readonly developerRole?: boolean | undefined
  readonly systemContentParts?: boolean | undefined
}

/** Quirks with every field decided. @category models */
export interface ResolvedQuirks {
  readonly maxTokensField: "max_completion_tokens" | "max_tokens"
  readonly emptyAssistantContent: "null" | "omit"
  readonly streamUsage: boolean
  readonly usageInStream: boolean
  readonly metadata: boolean
  readonly user: boolean
  readonly reasoningEcho: "none" | "reasoning_details"
  readonly imageUrls: boolean
  readonly toolChoice: boolean
  readonly strictJsonSchema: boolean
  readonly strictTools: boolean
  readonly developerRole: boolean
  readonly systemContentParts: boolean
}

/** OpenAI proper. @category models */
export const openAiQuirks: ResolvedQuirks = {
  maxTokensField: "max_completion_tokens",
  emptyAssistantContent: "null",
  streamUsage: true,
  usageInStream: false,
  metadata: true,
  user: true,
  reasoningEcho: "none",
  imageUrls: true,
  toolChoice: true,
  strictJsonSchema: true,
  strictTools: true,
  developerRole: true,
  systemContentParts: true
}

/**
 * The quirks `quirks` sets, without the ones it leaves `undefined` (so spreading it over a preset
 * keeps the preset's value there). @category models
 */
export const definedQuirks = (quirks: Quirks | undefined): Partial<ResolvedQuirks> =>
  Object.fromEntries(Object.entries(quirks ?? {}).filter(([, value]) => value !== undefined)) as Partial<ResolvedQuirks>

/** Fills the quirks left out (or `undefined`) from OpenAI's. @category models */
export const resolveQuirks = (quirks: Quirks | undefined): ResolvedQuirks => ({ ...openAiQuirks, ...definedQuirks(quirks) })

/** Whether the finish part of a stream waits for a usage chunk. @category models */
export const expectsUsage = (quirks: ResolvedQuirks): boolean => quirks.streamUsage || quirks.usageInStream

// ---------------------------------------------------------------------------
// reasoning
// ---------------------------------------------------------------------------

const nonEmpty = (value: string | null | undefined): value is string => typeof value === "string" && value !== ""

/**
 * The reasoning delta for one `reasoning_details` entry (`undefined` for an entry with nothing in
 * it, or of a type that is not reasoning). A `reasoning.text` entry with a signature ends its
 * block, an encrypted one is a block by itself (see `StreamPart.ReasoningDelta`).
 *
 * @category mapping
 */
export const reasoningDelta = (detail: OpenAiSchema.ReasoningDetail): StreamPart.ReasoningDelta | undefined => {
  const common = {
    ...(nonEmpty(detail.id) ? { id: detail.id } : {}),
    ...(nonEmpty(detail.format) ? { format: detail.format } : {})
  }
  switch (detail.type) {
    case "reasoning.text":
      return nonEmpty(detail.text) || nonEmpty(detail.signature)
        ? {
          type: "reasoning-delta",
          text: detail.text ?? "",
          ...(nonEmpty(detail.signature) ? { signature: detail.signature } : {}),
          ...common
        }
        : undefined
    case "reasoning.summary":
      return nonEmpty(detail.summary) ? { type: "reasoning-delta", text: detail.summary, summary: true, ...common } : undefined
    case "reasoning.encrypted":
      return nonEmpty(detail.data) ? { type: "reasoning-delta", text: "", redactedData: detail.data, ...common } : undefined
    default:
      return undefined
  }
}

/**
 * A message's reasoning as blocks: its `reasoning_details` when it has any (OpenRouter: they keep
 * the signatures), else the plain text (OpenRouter `reasoning`, DeepSeek and vLLM
 * `reasoning_content`) as one block.
 *
 * @category mapping
 */
export const reasoningOf = (message: {
  readonly reasoning?: string | null | undefined
  readonly reasoning_content?: string | null | undefined
  readonly reasoning_details?: ReadonlyArray<OpenAiSchema.ReasoningDetail> | null | undefined
}): ReadonlyArray<ChatRequest.Reasoning> | undefined => {
  const details = message.reasoning_details
  if (details !== undefined && details !== null && details.length > 0) {
    const deltas: Array<StreamPart.ReasoningDelta> = []
    for (const detail of details) {
      const delta = reasoningDelta(detail)
      if (delta !== undefined) deltas.push(delta)
    }
    if (deltas.length > 0) return Reasoning.fromDeltas(deltas)
  }
  const text = message.reasoning ?? message.reasoning_content
  return nonEmpty(text) ? [{ text }] : undefined
}

/** Reasoning blocks as OpenRouter's `reasoning_details`, in order. @category mapping */
export const reasoningDetailsToWire = (
  blocks: ReadonlyArray<ChatRequest.Reasoning>
): Array<OpenAiSchema.ReasoningDetailParam> =>
  blocks.map((block, index): OpenAiSchema.ReasoningDetailParam => {
    const common = {
      ...(block.id === undefined ? {} : { id: block.id }),
      ...(block.format === undefined ? {} : { format: block.format }),
      index
    }
    if (block.redactedData !== undefined) return { type: "reasoning.encrypted", data: block.redactedData, ...common }
    if (block.summary === true) return { type: "reasoning.summary", summary: block.text, ...common }
    return { type: "reasoning.text", text: block.text, ...(block.signature === undefined ? {} : { signature: block.signature }), ...common }
  })

// ---------------------------------------------------------------------------
// strict mode
// ---------------------------------------------------------------------------

// the keywords OpenAI's structured outputs take in strict mode
// (https://platform.openai.com/docs/guides/structured-outputs#supported-schemas)
const strictKeywords = new Set([
  "type",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "enum",
  "const",
  "anyOf",
  "description",
  "title",
  "$ref",
  "$defs",
  "definitions",
  "pattern",
  "format",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minItems",
  "maxItems"
])

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const strictNode = (node: unknown, depth: number): boolean => {
  if (!isRecord(node) || depth > 10) return false
  for (const key in node) if (!strictKeywords.has(key)) return false
  const type = node.type
  const isObject = type === "object" || (Array.isArray(type) && type.includes("object")) || node.properties !== undefined
  if (isObject) {
    if (node.additionalProperties !== false) return false
    const properties = node.properties ?? {}
    if (!isRecord(properties)) return false
    const required = Array.isArray(node.required) ? node.required : []
    for (const name in properties) {
      if (!required.includes(name) || !strictNode(properties[name], depth + 1)) return false
    }
    if (required.length !== Object.keys(properties).length) return false
  }
  if (node.items !== undefined && !strictNode(node.items, depth + 1)) return false
  if (node.anyOf !== undefined && !(Array.isArray(node.anyOf) && node.anyOf.every((member) => strictNode(member, depth + 1)))) {
    return false
  }
  for (const defs of [node.$defs, node.definitions]) {
    if (defs === undefined) continue
    if (!isRecord(defs)) return false
    for (const name in defs) if (!strictNode(defs[name], depth + 1)) return false
  }
  return true
}

/**
 * Whether a JSON Schema can be sent with `strict: true`: an object at the root (not `anyOf`),
 * every object closed (`additionalProperties: false`) with every property required, only the
 * keywords strict mode supports, at most 10 levels deep. A schema that does not qualify is sent
 * without `strict` (the API would reject it with it).
 *
 * @category mapping
 */
export const qualifiesForStrict = (schema: Readonly<Record<string, unknown>>): boolean =>
  schema.type === "object" && schema.anyOf === undefined && strictNode(schema, 0)

// ---------------------------------------------------------------------------
// request
// ---------------------------------------------------------------------------

// a file goes inline as a data: URL (`file_data`); Chat Completions takes no file URLs (only
// uploaded `file_id`s), so a URL source is refused before the call (`hasFileUrl`)
const fileToWire = (part: ChatRequest.FilePart): OpenAiSchema.ContentPart => {
  const data = part.source.type === "base64"
    ? part.source.data
    : part.source.type === "text"
    ? Buffer.from(part.source.text, "utf8").toString("base64")
    : ""
  return {
    type: "file",
    file: {
      file_data: `data:${part.source.mediaType ?? "text/plain"};base64,${data}`,
      ...(part.fileName === undefined ? {} : { filename: part.fileName })
    }
  }
}

const contentToWire = (
  content: ChatRequest.UserMessage["content"]
): string | ReadonlyArray<OpenAiSchema.ContentPart> =>
  typeof content === "string" ? content : content.map((part): OpenAiSchema.ContentPart => {
    if (part.type === "text") return { type: "text", text: part.text }
    if (part.type === "file") return fileToWire(part)
    const url = part.source.type === "url" ? part.source.url : `data:${part.source.mediaType};base64,${part.source.data}`
    return { type: "image_url", image_url: { url, ...(part.detail === undefined ? {} : { detail: part.detail }) } }
  })

const messageToWire = (message: ChatRequest.Message, quirks: ResolvedQuirks): OpenAiSchema.Message => {
  switch (message.role) {
    case "system":
    case "developer":
      return {
        role: message.role === "developer" && quirks.developerRole ? "developer" : "system",
        content: typeof message.content === "string" || quirks.systemContentParts
          ? message.content
          : message.content.map((part) => part.text).join("\n")
      }
    case "user":
      return { role: "user", content: contentToWire(message.content), ...(message.name === undefined ? {} : { name: message.name }) }
    case "assistant":
      return {
        role: "assistant",
        ...(message.content === undefined || message.content === null
          ? quirks.emptyAssistantContent === "omit" ? {} : { content: null }
          : { content: message.content }),
        ...(message.toolCalls === undefined || message.toolCalls.length === 0 ? {} : {
          tool_calls: message.toolCalls.map((call) => ({
            id: call.id,
            type: "function" as const,
            function: { name: call.name, arguments: call.arguments }
          }))
        }),
        ...(quirks.reasoningEcho === "reasoning_details" && message.reasoning !== undefined && message.reasoning.length > 0
          ? { reasoning_details: reasoningDetailsToWire(message.reasoning) }
          : {})
      }
    case "tool":
      // the tool message carries no name on this API: tool_call_id identifies the call
      return { role: "tool", tool_call_id: message.toolCallId, content: message.content }
  }
}

const toolChoiceToWire = (choice: ChatRequest.ToolChoice): OpenAiSchema.ToolChoice =>
  typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } }

/** The `strict` to send: the request's own, else `true` where the API takes it and the schema qualifies. */
const strictOf = (explicit: boolean | undefined, supported: boolean, schema: Readonly<Record<string, unknown>>) =>
  explicit !== undefined ? { strict: explicit } : supported && qualifiesForStrict(schema) ? { strict: true } : {}

const responseFormatToWire = (format: ChatRequest.ResponseFormat, quirks: ResolvedQuirks): OpenAiSchema.ResponseFormat =>
  format.type === "json_schema"
    ? {
      type: "json_schema",
      json_schema: {
        name: format.name,
        schema: format.schema,
        ...(format.description === undefined ? {} : { description: format.description }),
        ...strictOf(format.strict, quirks.strictJsonSchema, format.schema)
      }
    }
    : { type: format.type }

// an image the server would have to fetch itself (a data: URL carries its bytes)
const hasRemoteImage = (messages: ReadonlyArray<ChatRequest.Message>): boolean =>
  messages.some((message) =>
    message.role === "user" && typeof message.content !== "string" &&
    message.content.some((part) => part.type === "image" && part.source.type === "url" && !part.source.url.startsWith("data:"))
  )

const hasFileUrl = (messages: ReadonlyArray<ChatRequest.Message>): boolean =>
  messages.some((message) =>
    message.role === "user" && typeof message.content !== "string" &&
    message.content.some((part) => part.type === "file" && part.source.type === "url")
  )

/**
 * What `toWire` made of a request: the body, the fields it left out because the API cannot
 * express them (logged as warnings), and, when the API cannot take the request at all, why
 * (`unsupported`: the provider fails with it before any call).
 *
 * @category models
 */
export interface WireResult {
  readonly body: OpenAiSchema.CreateChatCompletion
  readonly dropped: ReadonlyArray<string>
  readonly unsupported?: Unsupported | undefined
}

/**
 * The request body for a `ChatRequest`. `providerOptions[providerName]` is merged in last, as it is.
 *
 * @category mapping
 */
export const toWire = (
  request: ChatRequest.ChatRequest,
  model: string,
  // resolved once by the caller (the provider, at construction), not on every request
  options: { readonly quirks?: ResolvedQuirks | undefined; readonly providerName?: string | undefined; readonly stream?: boolean | undefined } = {}
): WireResult => {
  const quirks = options.quirks ?? openAiQuirks
  const dropped: Array<string> = []
  const body: Record<string, unknown> = {
    model,
    messages: request.messages.map((message) => messageToWire(message, quirks))
  }
  if (options.stream === true) {
    body.stream = true
    if (quirks.streamUsage) body.stream_options = { include_usage: true }
  }
  if (request.temperature !== undefined) body.temperature = request.temperature
  if (request.topP !== undefined) body.top_p = request.topP
  if (request.maxTokens !== undefined) body[quirks.maxTokensField] = request.maxTokens
  if (request.stop !== undefined) body.stop = request.stop
  if (request.seed !== undefined) body.seed = request.seed
  if (request.user !== undefined) {
    if (quirks.user) body.user = request.user
    else dropped.push("user")
  }
  if (request.metadata !== undefined) {
    if (quirks.metadata) body.metadata = request.metadata
    else dropped.push("metadata")
  }
  const choice = request.toolChoice
  // a server that ignores tool_choice still honours "none" when it is offered no tools
  const withholdTools = !quirks.toolChoice && choice === "none"
  if (request.tools !== undefined && request.tools.length > 0 && !withholdTools) {
    body.tools = request.tools.map((tool): OpenAiSchema.Tool => ({
      type: "function",
      function: {
        name: tool.name,
        parameters: tool.parameters,
        ...(tool.description === undefined ? {} : { description: tool.description }),
        ...strictOf(tool.strict, quirks.strictTools, tool.parameters)
      }
    }))
  }
  if (choice !== undefined) {
    if (quirks.toolChoice) body.tool_choice = toolChoiceToWire(choice)
    else if (choice !== "auto" && choice !== "none") dropped.push("toolChoice")
  }
  if (request.responseFormat !== undefined) body.response_format = responseFormatToWire(request.responseFormat, quirks)
  const extra = options.providerName === undefined ? undefined : request.providerOptions?.[options.providerName]
  const result = { body: { ...body, ...extra } as OpenAiSchema.CreateChatCompletion, dropped }
  if (hasFileUrl(request.messages)) {
    return {
      ...result,
      unsupported: new Unsupported({
        message: "Chat Completions takes files as bytes only, not by URL: send the file's bytes (source type base64)",
        field: "files"
      })
    }
  }
  return !quirks.imageUrls && hasRemoteImage(request.messages)
    ? {
      ...result,
      unsupported: new Unsupported({
        message: "this provider takes images as base64 data only, not by URL: send the image's bytes (source type base64)",
        field: "images"
      })
    }
    : result
}

// ---------------------------------------------------------------------------
// response
// ---------------------------------------------------------------------------

/**
 * Unified finish reason plus the provider's own value; an unknown value is `"other"`.
 *
 * @category mapping
 */
export const finishReason = (raw: string | null | undefined): {
  readonly finishReason: ChatResponse.FinishReason
  readonly rawFinishReason?: string
} => {
  if (raw === null || raw === undefined) return { finishReason: "other" }
  switch (raw) {
    case "stop":
    case "end_turn":
      return { finishReason: "stop", rawFinishReason: raw }
    case "length":
    case "max_tokens":
      return { finishReason: "length", rawFinishReason: raw }
    case "tool_calls":
    case "function_call":
      return { finishReason: "tool_calls", rawFinishReason: raw }
    case "content_filter":
      return { finishReason: "content_filter", rawFinishReason: raw }
    default:
      return { finishReason: "other", rawFinishReason: raw }
  }
}

/** @category mapping */
export const usage = (wire: OpenAiSchema.Usage | null | undefined): ChatResponse.Usage | undefined => {
  if (wire === null || wire === undefined) return undefined
  const promptTokens = wire.prompt_tokens ?? 0
  const completionTokens = wire.completion_tokens ?? 0
  const cached = wire.prompt_tokens_details?.cached_tokens
  const reasoning = wire.completion_tokens_details?.reasoning_tokens
  return {
    promptTokens,
    completionTokens,
    totalTokens: wire.total_tokens ?? promptTokens + completionTokens,
    ...(typeof cached === "number" ? { cachedTokens: cached } : {}),
    ...(typeof reasoning === "number" ? { reasoningTokens: reasoning } : {})
  }
}

/**
 * A completion as a `ChatResponse` (or the reason it cannot be one). `latencyMillis` is the
 * caller's measurement; `attempts` is empty (the router fills it).
 *
 * @category mapping
 */
export const fromWire = (
  completion: OpenAiSchema.ChatCompletion,
  context: { readonly provider: string; readonly model: string; readonly latencyMillis: number }
): ChatResponse.ChatResponse | MalformedResponse => {
  const choice = completion.choices.find((candidate) => (candidate.index ?? 0) === 0) ?? completion.choices[0]
  if (choice === undefined) return new MalformedResponse({ message: "chat completion without choices" })
  const toolCalls = (choice.message.tool_calls ?? []).map((call, index) => ({
    id: call.id ?? `call_${index}`,
    name: call.function.name ?? "",
    arguments: call.function.arguments ?? ""
  }))
  const wireUsage = usage(completion.usage)
  const reasoning = reasoningOf(choice.message)
  return {
    id: completion.id ?? "",
    text: choice.message.content ?? "",
    ...(reasoning === undefined ? {} : { reasoning }),
    toolCalls,
    ...finishReason(choice.finish_reason),
    ...(wireUsage === undefined ? {} : { usage: wireUsage }),
    provider: context.provider,
    model: completion.model !== undefined && completion.model !== null && completion.model !== "" ? completion.model : context.model,
    latencyMillis: context.latencyMillis,
    attempts: []
  }
}

