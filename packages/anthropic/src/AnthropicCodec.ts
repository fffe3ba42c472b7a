/**
 * Anthropic Messages mapping: `toWire` (a `ChatRequest` to the body of `POST /v1/messages`) and
 * `fromWire` (a message to a `ChatResponse`), plain functions tested without HTTP, plus the
 * stop-reason and usage mappings the stream machine shares.
 *
 * What the API requires and this does for you:
 * - System and developer messages are lifted out of `messages` into `system` (several are joined
 *   with a blank line, in order), since Messages has no system role.
 * - Messages alternate user / assistant: consecutive same-role messages are merged into one (tool
 *   results are user content, so a run of tool messages and a user message become one turn).
 * - `max_tokens` is required: `maxTokens`, else the provider's default (`defaultMaxTokens`).
 * - A trailing assistant message is a prefill the model continues. The API refuses one ending in
 *   whitespace, so trailing whitespace is cut from it; the answer then usually starts with it
 *   again, and `prefillTrim` says how much the stream and `fromWire` take off the answer's start.
 * - Reasoning blocks go back as `thinking` (with their signature) or `redacted_thinking`; a block
 *   without a signature (another provider's) cannot be verified by Anthropic and is left out.
 *
 * What users get wrong: `top_k`, `thinking` and other Anthropic-only fields go in
 * `providerOptions.<name>` (or `.anthropic`), merged into the body as they are; the one typed key
 * there is `cache` (see `CacheOptions`), which is not a wire field. `responseFormat` other than
 * `text` is `Unsupported` (the router then skips this provider for such a request).
 *
 * @since 0.2.0
 */
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import type * as ChatResponse from "@flexiai/core/ChatResponse"
import { InvalidRequest, MalformedResponse, Unsupported } from "@flexiai/core/ProviderError"
import type * as Reasoning from "@flexiai/core/Reasoning"
import { Schema } from "effect"
import type * as AnthropicSchema from "./AnthropicSchema.ts"

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

/**
 * Prompt caching (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching): where
 * `cache_control` breakpoints go. `system`: on the system prompt; `tools`: on the last tool (so
 * every tool definition is cached); `messages`: on the last block of the last message (the whole
 * conversation so far, for the next turn to read). `ttl`: `"5m"` (the API's default) or `"1h"`.
 * Set on the provider (config `cache`), per request in `providerOptions.<name>.cache` (which wins
 * field by field). Reads and writes show in `Usage.cachedTokens` and `Usage.cacheWriteTokens`.
 *
 * @category schemas
 */
export const CacheOptions = Schema.Struct({
  system: Schema.optionalKey(Schema.Boolean.annotate({ description: "Put a cache breakpoint on the system prompt." })),
  tools: Schema.optionalKey(Schema.Boolean.annotate({ description: "Put a cache breakpoint on the last tool definition." })),
  messages: Schema.optionalKey(Schema.Boolean.annotate({
    description: "Put a cache breakpoint on the last message (the conversation so far)."
  })),
  ttl: Schema.optionalKey(Schema.Literals(["5m", "1h"]).annotate({ description: "Cache lifetime. Default: the API's (5m)." }))
}).annotate({ description: "Prompt caching: where cache_control breakpoints go. Default: none." })
export type CacheOptions = typeof CacheOptions.Type

const decodeCache = Schema.decodeUnknownExit(CacheOptions, { onExcessProperty: "error" })

/** The `max_tokens` sent when a request sets no `maxTokens` (the API requires one). @category constants */
export const defaultMaxTokens = 4096

/** @category models */
export interface WireOptions {
  readonly providerName?: string | undefined
  readonly stream?: boolean | undefined
  /** Default `defaultMaxTokens`. */
  readonly maxTokens?: number | undefined
  readonly cache?: CacheOptions | undefined
  /**
   * Extended thinking on every request: `thinking: { type: "enabled", budget_tokens }`. The API
   * wants `max_tokens` above the budget: a request without `maxTokens` then gets the budget plus
   * the default. Thinking blocks come back as reasoning (signed); such requests take no prefill.
   */
  readonly thinkingBudget?: number | undefined
}

/**
 * What `toWire` made of a request: the body, the fields it left out (logged as warnings), the
 * whitespace cut from a trailing prefill, and, when the API cannot take the request, why.
 *
 * @category models
 */
export interface WireResult {
  readonly body: AnthropicSchema.CreateMessage
  readonly dropped: ReadonlyArray<string>
  /** The whitespace cut from the end of a trailing assistant prefill ("" when none). */
  readonly prefillTrim: string
  readonly unsupported?: Unsupported | InvalidRequest | undefined
}

// ---------------------------------------------------------------------------
// request
// ---------------------------------------------------------------------------

const instructionText = (content: ChatRequest.SystemMessage["content"]): string =>
  typeof content === "string" ? content : content.map((part) => part.text).join("\n")

const dataUrl = /^data:(image\/[a-z0-9.+-]+);base64,(.+)$/is

const imageToWire = (part: ChatRequest.ImagePart): AnthropicSchema.ImageBlockParam => {
  if (part.source.type === "base64") {
    return { type: "image", source: { type: "base64", media_type: part.source.mediaType, data: part.source.data } }
  }
  const inline = dataUrl.exec(part.source.url)
  return inline === null
    ? { type: "image", source: { type: "url", url: part.source.url } }
    : { type: "image", source: { type: "base64", media_type: inline[1]!, data: inline[2]! } }
}

// a text file goes as a text document (base64 text bytes are decoded: the base64 source is for
// PDFs only); a PDF by bytes or URL as it is
const documentToWire = (part: ChatRequest.FilePart): AnthropicSchema.DocumentBlockParam => {
  const title = part.fileName === undefined ? {} : { title: part.fileName }
  const source = part.source
  if (source.type === "url") return { type: "document", source: { type: "url", url: source.url }, ...title }
  if (source.type === "text") return { type: "document", source: { type: "text", media_type: "text/plain", data: source.text }, ...title }
  return source.mediaType.toLowerCase().startsWith("text/")
    ? { type: "document", source: { type: "text", media_type: "text/plain", data: Buffer.from(source.data, "base64").toString("utf8") }, ...title }
    : { type: "document", source: { type: "base64", media_type: source.mediaType, data: source.data }, ...title }
}

const userContent = (content: ChatRequest.UserMessage["content"]): Array<AnthropicSchema.ContentBlockParam> => {
  if (typeof content === "string") return content === "" ? [] : [{ type: "text", text: content }]
  const blocks: Array<AnthropicSchema.ContentBlockParam> = []
  for (const part of content) {
    if (part.type === "image") blocks.push(imageToWire(part))
    else if (part.type === "file") blocks.push(documentToWire(part))
    // the API refuses empty text blocks
    else if (part.text !== "") blocks.push({ type: "text", text: part.text })
  }
  return blocks
}

const reasoningToWire = (block: Reasoning.Reasoning): AnthropicSchema.ContentBlockParam | undefined => {
  if (block.redactedData !== undefined) return { type: "redacted_thinking", data: block.redactedData }
  if (block.signature !== undefined) return { type: "thinking", thinking: block.text, signature: block.signature }
  return undefined
}

const parseArguments = (text: string): unknown => {
  if (text.trim() === "") return {}
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : undefined
  } catch {
    return undefined
  }
}

const cacheControl = (ttl: CacheOptions["ttl"]): AnthropicSchema.CacheControl =>
  ttl === undefined ? { type: "ephemeral" } : { type: "ephemeral", ttl }

/** The request's cache options: the provider's, with the request's `providerOptions` over them. */
const requestCache = (
  base: CacheOptions | undefined,
  given: unknown
): CacheOptions | InvalidRequest | undefined => {
  if (given === undefined) return base
  const decoded = decodeCache(given)
  if (decoded._tag === "Failure") {
    return new InvalidRequest({
      message: "providerOptions cache must be { system?, tools?, messages?: boolean, ttl?: \"5m\" | \"1h\" }",
      param: "providerOptions.cache"
    })
  }
  return { ...base, ...decoded.value }
}

/**
 * The body for a `ChatRequest`. With extended thinking on (`thinkingBudget`, or `thinking` in
 * `providerOptions`), `temperature` is left out with a warning: the API refuses it then.
 *
 * @category mapping
 */
export const toWire = (request: ChatRequest.ChatRequest, model: string, options: WireOptions = {}): WireResult => {
  const dropped: Array<string> = []
  const name = options.providerName
  const passThrough: Record<string, unknown> = {
    ...request.providerOptions?.["anthropic"],
    ...(name === undefined || name === "anthropic" ? {} : request.providerOptions?.[name])
  }
  const cache = requestCache(options.cache, passThrough["cache"])
  delete passThrough["cache"]
  const failed = (unsupported: Unsupported | InvalidRequest): WireResult => ({
    body: { model, max_tokens: 1, messages: [] },
    dropped,
    prefillTrim: "",
    unsupported
  })
  if (cache instanceof InvalidRequest) return failed(cache)
  if (request.responseFormat !== undefined && request.responseFormat.type !== "text") {
    return failed(
      new Unsupported({ message: `Anthropic Messages has no ${request.responseFormat.type} response format`, field: "responseFormat" })
    )
  }

  const system: Array<string> = []
  const messages: Array<{ role: "user" | "assistant"; content: Array<AnthropicSchema.ContentBlockParam> }> = []
  const push = (role: "user" | "assistant", content: ReadonlyArray<AnthropicSchema.ContentBlockParam>) => {
    if (content.length === 0) return
    const last = messages.at(-1)
    // the API takes alternating turns: a run of one role becomes one message
    if (last !== undefined && last.role === role) last.content.push(...content)
    else messages.push({ role, content: [...content] })
  }
  for (const message of request.messages) {
    switch (message.role) {
      case "system":
      case "developer":
        system.push(instructionText(message.content))
        break
      case "user":
        push("user", userContent(message.content))
        break
      case "tool":
        push("user", [{ type: "tool_result", tool_use_id: message.toolCallId, content: message.content }])
        break
      case "assistant": {
        const blocks: Array<AnthropicSchema.ContentBlockParam> = []
        for (const block of message.reasoning ?? []) {
          const wire = reasoningToWire(block)
          if (wire !== undefined) blocks.push(wire)
        }
        if (typeof message.content === "string" && message.content !== "") blocks.push({ type: "text", text: message.content })
        for (const call of message.toolCalls ?? []) {
          const input = parseArguments(call.arguments)
          if (input === undefined) {
            return failed(
              new InvalidRequest({ message: `tool call ${call.id}: its arguments are not a JSON object`, param: "messages" })
            )
          }
          blocks.push({ type: "tool_use", id: call.id, name: call.name, input })
        }
        push("assistant", blocks)
        break
      }
    }
  }

  // a trailing assistant turn is a prefill; the API refuses one that ends in whitespace
  let prefillTrim = ""
  const last = messages.at(-1)
  if (last !== undefined && last.role === "assistant") {
    const block = last.content.at(-1)
    if (block !== undefined && block.type === "text") {
      const trimmed = block.text.replace(/\s+$/u, "")
      prefillTrim = block.text.slice(trimmed.length)
      if (trimmed === "") last.content.pop()
      else last.content[last.content.length - 1] = { ...block, text: trimmed }
      if (last.content.length === 0) messages.pop()
    }
  }

  if (messages.length === 0) {
    return failed(
      new InvalidRequest({ message: "Anthropic Messages needs a user or assistant message besides the system prompt", param: "messages" })
    )
  }

  const ttl = cache?.ttl
  if (cache?.messages === true) {
    const content = messages.at(-1)!.content
    // thinking blocks cannot carry a breakpoint: the last block that can
    for (let index = content.length - 1; index >= 0; index--) {
      const block = content[index]!
      if (block.type !== "thinking" && block.type !== "redacted_thinking") {
        content[index] = { ...block, cache_control: cacheControl(ttl) }
        break
      }
    }
  }

  const body: Record<string, unknown> = {
    model,
    max_tokens: request.maxTokens ??
      (options.thinkingBudget === undefined
        ? options.maxTokens ?? defaultMaxTokens
        : options.thinkingBudget + (options.maxTokens ?? defaultMaxTokens)),
    messages
  }
  if (options.thinkingBudget !== undefined) body.thinking = { type: "enabled", budget_tokens: options.thinkingBudget }
  if (system.length > 0) {
    body.system = [{
      type: "text",
      text: system.join("\n\n"),
      ...(cache?.system === true ? { cache_control: cacheControl(ttl) } : {})
    }]
  }
  if (options.stream === true) body.stream = true
  // extended thinking takes no temperature (https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking):
  // left out with a warning rather than a 400
  const given = passThrough["thinking"]
  const thinking = options.thinkingBudget !== undefined ||
    (typeof given === "object" && given !== null && (given as { readonly type?: unknown }).type === "enabled")
  if (request.temperature !== undefined) {
    if (thinking) dropped.push("temperature")
    else body.temperature = request.temperature
  }
  if (request.topP !== undefined) body.top_p = request.topP
  if (request.stop !== undefined && request.stop.length > 0) body.stop_sequences = request.stop
  if (request.seed !== undefined) dropped.push("seed")
  if (request.metadata !== undefined) dropped.push("metadata")
  if (request.user !== undefined) body.metadata = { user_id: request.user }
  const choice = request.toolChoice
  const tools = request.tools ?? []
  if (tools.length > 0) {
    if (tools.some((tool) => tool.strict !== undefined)) dropped.push("tools.strict")
    body.tools = tools.map((tool, index): AnthropicSchema.Tool => ({
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      input_schema: tool.parameters,
      ...(cache?.tools === true && index === tools.length - 1 ? { cache_control: cacheControl(ttl) } : {})
    }))
  }
  if (choice !== undefined && (tools.length > 0 || choice === "none")) body.tool_choice = toolChoiceToWire(choice)
  return { body: { ...body, ...passThrough } as AnthropicSchema.CreateMessage, dropped, prefillTrim }
}

const toolChoiceToWire = (choice: ChatRequest.ToolChoice): AnthropicSchema.ToolChoice =>
  choice === "auto"
    ? { type: "auto" }
    : choice === "none"
    ? { type: "none" }
    : choice === "required"
    ? { type: "any" }
    : { type: "tool", name: choice.name }

// ---------------------------------------------------------------------------
// response
// ---------------------------------------------------------------------------

/**
 * A stop reason, unified, with the raw value kept. `end_turn` and `stop_sequence` are `stop`,
 * `max_tokens` (and `model_context_window_exceeded`) `length`, `tool_use` `tool_calls`, `refusal`
 * `content_filter`; `pause_turn` (a server tool paused a long turn: send the answer back to go on)
 * and anything unknown are `other`.
 *
 * @category mapping
 */
export const finishReason = (raw: string | null | undefined): {
  readonly finishReason: ChatResponse.FinishReason
  readonly rawFinishReason?: string
} => {
  if (raw === undefined || raw === null) return { finishReason: "other" }
  switch (raw) {
    case "end_turn":
    case "stop_sequence":
      return { finishReason: "stop", rawFinishReason: raw }
    case "max_tokens":
    case "model_context_window_exceeded":
      return { finishReason: "length", rawFinishReason: raw }
    case "tool_use":
      return { finishReason: "tool_calls", rawFinishReason: raw }
    case "refusal":
      return { finishReason: "content_filter", rawFinishReason: raw }
    default:
      return { finishReason: "other", rawFinishReason: raw }
  }
}

const count = (value: number | null | undefined): number | undefined => (typeof value === "number" ? value : undefined)

/**
 * Usage. `promptTokens` counts every input token: Anthropic's `input_tokens` leaves out the
 * cached ones, so cache reads (`cachedTokens`) and cache writes (`cacheWriteTokens`) are added.
 *
 * @category mapping
 */
export const usage = (wire: AnthropicSchema.Usage | null | undefined): ChatResponse.Usage | undefined => {
  if (wire === undefined || wire === null) return undefined
  const input = count(wire.input_tokens)
  const output = count(wire.output_tokens)
  if (input === undefined && output === undefined) return undefined
  const read = count(wire.cache_read_input_tokens)
  const write = count(wire.cache_creation_input_tokens)
  const promptTokens = (input ?? 0) + (read ?? 0) + (write ?? 0)
  const completionTokens = output ?? 0
  return {
    promptTokens,
    completionTokens,
    totalTokens: promptTokens + completionTokens,
    ...(read === undefined ? {} : { cachedTokens: read }),
    ...(write === undefined ? {} : { cacheWriteTokens: write })
  }
}

/** Usage seen so far in a stream with a later report over it (`message_delta` repeats and corrects counts). @category mapping */
export const mergeUsage = (
  earlier: AnthropicSchema.Usage | undefined,
  later: AnthropicSchema.Usage | null | undefined
): AnthropicSchema.Usage | undefined => {
  if (later === undefined || later === null) return earlier
  const merged: Record<string, number> = { ...(earlier as Record<string, number> | undefined) }
  for (const [key, value] of Object.entries(later)) if (typeof value === "number") merged[key] = value
  return merged as AnthropicSchema.Usage
}

/** Takes up to `trim`'s worth of leading whitespace off `text` (the prefill's cut whitespace, sent again). @category mapping */
export const untrim = (text: string, trim: string): string => {
  if (trim === "") return text
  let at = 0
  while (at < trim.length && at < text.length && text[at] === trim[at]) at++
  return text.slice(at)
}

/** A message to a `ChatResponse`, or the `MalformedResponse` that says why it is not one. @category mapping */
export const fromWire = (
  message: AnthropicSchema.Message,
  context: { readonly provider: string; readonly model: string; readonly latencyMillis: number; readonly prefillTrim?: string | undefined }
): ChatResponse.ChatResponse | MalformedResponse => {
  let text = ""
  const toolCalls: Array<ChatRequest.ToolCall> = []
  const reasoning: Array<Reasoning.Reasoning> = []
  for (const block of message.content) {
    switch (block.type) {
      case "text":
        text += block.text ?? ""
        break
      case "tool_use":
        if (block.id === undefined || block.name === undefined) {
          return new MalformedResponse({ message: "a tool_use block without its id or name" })
        }
        toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input ?? {}) })
        break
      case "thinking":
        reasoning.push({ text: block.thinking ?? "", ...(block.signature === undefined ? {} : { signature: block.signature }) })
        break
      case "redacted_thinking":
        reasoning.push({ text: "", ...(block.data === undefined ? {} : { redactedData: block.data }) })
        break
    }
  }
  const finish = finishReason(message.stop_reason)
  const used = usage(message.usage)
  return {
    id: message.id,
    text: untrim(text, context.prefillTrim ?? ""),
    toolCalls,
    ...(reasoning.length === 0 ? {} : { reasoning }),
    ...finish,
    ...(used === undefined ? {} : { usage: used }),
    provider: context.provider,
    model: typeof message.model === "string" && message.model !== "" ? message.model : context.model,
    latencyMillis: context.latencyMillis,
    attempts: []
  }
}
