/**
 * The `/api/chat` codec: `toWire` (ChatRequest → request body) and `fromWire` (answer →
 * ChatResponse), with the done-reason, usage and timing mappings the stream machine shares, and
 * what `/api/show` says about a model (`details`). Plain functions.
 *
 * Mapping notes (https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion):
 * - `maxTokens` → `options.num_predict`; `temperature`, `topP` → `top_p`, `stop`, `seed` into
 *   `options`; `topK`, `numCtx` (provider options) → `top_k`, `num_ctx`. `providerOptions[name]`
 *   is merged last: its `options` into `options`, the rest at the top level.
 * - `responseFormat` `json_schema` → `format: <schema>`, `json_object` → `format: "json"`.
 * - Images go as base64 (`data:` URLs are unpacked). An http(s) image URL is `Unsupported` (field
 *   `images`) before any call: Ollama takes no URLs, and fetching them here would make the provider
 *   an HTTP client for any URL a prompt names (size, time limits and a server-side request forgery
 *   surface we do not want in a chat client). The router moves on to a provider that takes URLs.
 * - Tool calls go back with their arguments parsed to objects; tool results as role `tool` with
 *   `tool_name` (Ollama has no call ids on the way in: the name is found from the assistant's call).
 * - `done_reason` `stop` with tool calls is `tool_calls` (Ollama says `stop`); `length` is `length`;
 *   anything else `other`, the raw value kept.
 * - Usage: `prompt_eval_count` → prompt tokens, `eval_count` → completion tokens. The durations
 *   (nanoseconds) are `Timings`, which `ChatResponse` has no field for: see `timings`.
 *
 * @since 0.1.0
 */
import type * as Capabilities from "@flexiai/core/Capabilities"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import type * as ChatResponse from "@flexiai/core/ChatResponse"
import { MalformedResponse, Unsupported } from "@flexiai/core/ProviderError"
import { Duration } from "effect"
import type * as OllamaSchema from "./OllamaSchema.ts"

// ---------------------------------------------------------------------------
// request
// ---------------------------------------------------------------------------

/** What the provider adds to every request (from its options or config). @category models */
export interface Defaults {
  readonly keepAlive?: string | number | undefined
  readonly think?: OllamaSchema.Think | undefined
  readonly numCtx?: number | undefined
  readonly topK?: number | undefined
}

/** What `toWire` made of a request; `unsupported` when the API cannot take it at all. @category models */
export interface WireResult {
  readonly body: OllamaSchema.ChatRequest
  /** Request fields the API has no place for, left out (the provider logs them as a warning). */
  readonly dropped: ReadonlyArray<string>
  readonly unsupported?: Unsupported | undefined
}

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const dataUrl = /^data:([^;,]+)?(;[^,]*)?,(.*)$/s

/** An image part as Ollama's base64, or the reason it cannot be one. */
const imageToWire = (part: ChatRequest.ImagePart): string | Unsupported => {
  if (part.source.type === "base64") return part.source.data
  const match = dataUrl.exec(part.source.url)
  if (match !== null && (match[2] ?? "").includes(";base64")) return match[3]!
  return new Unsupported({
    message: "Ollama takes images as base64 data only, not by URL: send the image's bytes (source type base64 or a base64 data: URL)",
    field: "images"
  })
}

const textOf = (content: string | ReadonlyArray<{ readonly text: string }>): string =>
  typeof content === "string" ? content : content.map((part) => part.text).join("\n")

const argumentsObject = (call: ChatRequest.ToolCall): Readonly<Record<string, unknown>> | Unsupported => {
  if (call.arguments.trim() === "") return {}
  try {
    const parsed: unknown = JSON.parse(call.arguments)
    if (isRecord(parsed)) return parsed
  } catch {
    // falls through to the error below
  }
  return new Unsupported({
    message: `tool call ${call.id} (${call.name}) has arguments that are not a JSON object: Ollama takes them as an object`,
    field: "messages"
  })
}

/**
 * The request body for a `ChatRequest`.
 *
 * @category mapping
 */
export const toWire = (
  request: ChatRequest.ChatRequest,
  model: string,
  options: { readonly stream: boolean; readonly defaults?: Defaults | undefined; readonly providerName?: string | undefined }
): WireResult => {
  let unsupported: Unsupported | undefined
  const note = <A>(value: A | Unsupported): A | undefined => {
    if (value instanceof Unsupported) {
      unsupported ??= value
      return undefined
    }
    return value
  }
  // tool results name their tool: found from the assistant call they answer
  const toolNames = new Map<string, string>()
  const messages = request.messages.map((message): OllamaSchema.Message => {
    switch (message.role) {
      case "system":
      case "developer":
        return { role: "system", content: textOf(message.content) }
      case "user": {
        if (typeof message.content === "string") return { role: "user", content: message.content }
        const images: Array<string> = []
        const texts: Array<string> = []
        for (const part of message.content) {
          if (part.type === "text") texts.push(part.text)
          else if (part.type === "file") {
            note(new Unsupported({ message: "Ollama takes no file (document) parts: send the text as a text part", field: "files" }))
          } else {
            const image = note(imageToWire(part))
            if (image !== undefined) images.push(image)
          }
        }
        return { role: "user", content: texts.join("\n"), ...(images.length === 0 ? {} : { images }) }
      }
      case "assistant": {
        const calls = message.toolCalls ?? []
        for (const call of calls) toolNames.set(call.id, call.name)
        const thinking = (message.reasoning ?? []).map((block) => block.text).join("")
        return {
          role: "assistant",
          content: message.content ?? "",
          ...(thinking === "" ? {} : { thinking }),
          ...(calls.length === 0 ? {} : {
            tool_calls: calls.map((call) => ({ function: { name: call.name, arguments: note(argumentsObject(call)) ?? {} } }))
          })
        }
      }
      case "tool": {
        const name = message.name ?? toolNames.get(message.toolCallId)
        return { role: "tool", content: message.content, ...(name === undefined ? {} : { tool_name: name }) }
      }
    }
  })
  const defaults = options.defaults ?? {}
  const modelOptions: Record<string, unknown> = {}
  if (request.maxTokens !== undefined) modelOptions.num_predict = request.maxTokens
  if (request.temperature !== undefined) modelOptions.temperature = request.temperature
  if (request.topP !== undefined) modelOptions.top_p = request.topP
  if (defaults.topK !== undefined) modelOptions.top_k = defaults.topK
  if (request.stop !== undefined) modelOptions.stop = request.stop
  if (defaults.numCtx !== undefined) modelOptions.num_ctx = defaults.numCtx
  if (request.seed !== undefined) modelOptions.seed = request.seed

  const body: Record<string, unknown> = { model, messages, stream: options.stream }
  // tool choice "none" is kept by offering no tools (Ollama has no tool_choice)
  if (request.tools !== undefined && request.tools.length > 0 && request.toolChoice !== "none") {
    body.tools = request.tools.map((tool): OllamaSchema.Tool => ({
      type: "function",
      function: {
        name: tool.name,
        parameters: tool.parameters,
        ...(tool.description === undefined ? {} : { description: tool.description })
      }
    }))
  }
  const format = request.responseFormat
  if (format?.type === "json_schema") body.format = format.schema
  else if (format?.type === "json_object") body.format = "json"
  if (defaults.think !== undefined) body.think = defaults.think
  if (defaults.keepAlive !== undefined) body.keep_alive = defaults.keepAlive

  const extra = options.providerName === undefined ? undefined : request.providerOptions?.[options.providerName]
  if (extra !== undefined) {
    for (const [key, value] of Object.entries(extra)) {
      if (key === "options" && isRecord(value)) Object.assign(modelOptions, value)
      else body[key] = value
    }
  }
  if (Object.keys(modelOptions).length > 0) body.options = modelOptions
  // Ollama has no tool_choice, user or metadata: "none" is kept above by sending no tools, "auto"
  // is the default; "required" or a named tool cannot be asked for (the model may answer in text)
  const dropped: Array<string> = []
  if (request.toolChoice !== undefined && request.toolChoice !== "auto" && request.toolChoice !== "none") dropped.push("toolChoice")
  if (request.user !== undefined) dropped.push("user")
  if (request.metadata !== undefined) dropped.push("metadata")
  const result = { body: body as OllamaSchema.ChatRequest, dropped }
  return unsupported === undefined ? result : { ...result, unsupported }
}

// ---------------------------------------------------------------------------
// response
// ---------------------------------------------------------------------------

/**
 * Unified finish reason plus Ollama's own `done_reason`. Ollama says `stop` when the turn ends in
 * tool calls: `hasToolCalls` makes that `tool_calls`.
 *
 * @category mapping
 */
export const finishReason = (raw: string | undefined, hasToolCalls: boolean): {
  readonly finishReason: ChatResponse.FinishReason
  readonly rawFinishReason?: string
} => {
  if (raw === undefined || raw === "") return hasToolCalls ? { finishReason: "tool_calls" } : { finishReason: "stop" }
  if (raw === "stop") return { finishReason: hasToolCalls ? "tool_calls" : "stop", rawFinishReason: raw }
  if (raw === "length") return { finishReason: "length", rawFinishReason: raw }
  return { finishReason: "other", rawFinishReason: raw }
}

/** Token counts from the last line (or the answer); `undefined` when it has none. @category mapping */
export const usage = (chunk: OllamaSchema.ChatChunk): ChatResponse.Usage | undefined => {
  const prompt = chunk.prompt_eval_count
  const completion = chunk.eval_count
  if (prompt === undefined && completion === undefined) return undefined
  const promptTokens = prompt ?? 0
  const completionTokens = completion ?? 0
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens }
}

/**
 * Ollama's durations for one answer (from nanoseconds): the whole call, loading the model,
 * evaluating the prompt, generating the answer. Only the ones Ollama sent.
 *
 * @category models
 */
export interface Timings {
  readonly total?: Duration.Duration | undefined
  readonly load?: Duration.Duration | undefined
  readonly promptEval?: Duration.Duration | undefined
  readonly eval?: Duration.Duration | undefined
}

const nanos = (value: number | undefined): Duration.Duration | undefined =>
  value === undefined ? undefined : Duration.nanos(BigInt(Math.max(0, Math.round(value))))

/** The durations of an answer (or a stream's last line). @category mapping */
export const timings = (chunk: OllamaSchema.ChatChunk): Timings => {
  const out: { -readonly [K in keyof Timings]: Timings[K] } = {}
  const total = nanos(chunk.total_duration)
  const load = nanos(chunk.load_duration)
  const promptEval = nanos(chunk.prompt_eval_duration)
  const evaluation = nanos(chunk.eval_duration)
  if (total !== undefined) out.total = total
  if (load !== undefined) out.load = load
  if (promptEval !== undefined) out.promptEval = promptEval
  if (evaluation !== undefined) out.eval = evaluation
  return out
}

/**
 * The durations as Ollama sent them (nanoseconds, its own field names), for
 * `providerMetadata.ollama` on the response and the stream's finish part; `undefined` when the
 * answer carries none.
 *
 * @category mapping
 */
export const durationsMetadata = (chunk: OllamaSchema.ChatChunk): Readonly<Record<string, number>> | undefined => {
  const out: Record<string, number> = {}
  for (const key of ["total_duration", "load_duration", "prompt_eval_duration", "eval_duration"] as const) {
    const value = chunk[key]
    if (typeof value === "number") out[key] = value
  }
  return Object.keys(out).length === 0 ? undefined : out
}

/**
 * The timings as span attributes (milliseconds), for `Effect.annotateCurrentSpan`.
 *
 * @category mapping
 */
export const timingAttributes = (value: Timings): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const [key, duration] of Object.entries(value)) {
    if (duration !== undefined) out[`ollama.${key}_duration_ms`] = Duration.toMillis(duration)
  }
  return out
}

/** A tool call as `ChatRequest.ToolCall`: arguments back to JSON text, an id made up when Ollama sent none. @category mapping */
export const toolCall = (call: OllamaSchema.WireToolCall, index: number): ChatRequest.ToolCall => ({
  id: call.id !== undefined && call.id !== "" ? call.id : `call_${index}`,
  name: call.function.name,
  arguments: JSON.stringify(call.function.arguments ?? {})
})

/**
 * An answer as a `ChatResponse` (or the reason it cannot be one). `latencyMillis` is the caller's
 * measurement; `attempts` is empty (the router fills it).
 *
 * @category mapping
 */
export const fromWire = (
  answer: OllamaSchema.ChatChunk,
  context: { readonly provider: string; readonly model: string; readonly latencyMillis: number }
): ChatResponse.ChatResponse | MalformedResponse => {
  if (answer.message === undefined) return new MalformedResponse({ message: "chat answer without a message" })
  if (answer.done === false) return new MalformedResponse({ message: "chat answer not done (a streamed line where a whole answer was expected)" })
  const toolCalls = (answer.message.tool_calls ?? []).map(toolCall)
  const wireUsage = usage(answer)
  const thinking = answer.message.thinking
  return {
    // Ollama gives an answer no id
    id: "",
    text: answer.message.content ?? "",
    ...(thinking === undefined || thinking === "" ? {} : { reasoning: [{ text: thinking }] }),
    toolCalls,
    ...finishReason(answer.done_reason, toolCalls.length > 0),
    ...(wireUsage === undefined ? {} : { usage: wireUsage }),
    provider: context.provider,
    model: answer.model !== undefined && answer.model !== "" ? answer.model : context.model,
    latencyMillis: context.latencyMillis,
    attempts: []
  }
}

// ---------------------------------------------------------------------------
// model details (/api/show)
// ---------------------------------------------------------------------------

/**
 * What `/api/show` says about one model: its context length (from `model_info`,
 * `<architecture>.context_length`), the capabilities Ollama lists (`completion`, `tools`,
 * `vision`, `thinking`, `insert`, `embedding`), and its family, size and quantization.
 *
 * @category models
 */
export interface ModelDetails {
  readonly model: string
  readonly contextLength?: number | undefined
  readonly capabilities: ReadonlyArray<string>
  readonly family?: string | undefined
  readonly parameterSize?: string | undefined
  readonly quantization?: string | undefined
}

/** The details of `model` from its `/api/show` answer. @category mapping */
export const details = (model: string, show: OllamaSchema.ShowResponse): ModelDetails => {
  const info = show.model_info ?? {}
  const architecture = info["general.architecture"]
  const direct = typeof architecture === "string" ? info[`${architecture}.context_length`] : undefined
  // a model_info without general.architecture (older servers): any *.context_length
  const length = typeof direct === "number"
    ? direct
    : Object.entries(info).find(([key, value]) => key.endsWith(".context_length") && typeof value === "number")?.[1]
  return {
    model,
    ...(typeof length === "number" ? { contextLength: length } : {}),
    capabilities: show.capabilities ?? [],
    ...(show.details?.family === undefined ? {} : { family: show.details.family }),
    ...(show.details?.parameter_size === undefined ? {} : { parameterSize: show.details.parameter_size }),
    ...(show.details?.quantization_level === undefined ? {} : { quantization: show.details.quantization_level })
  }
}

/**
 * The FlexiAI capabilities a model's details imply, to merge over the provider's (for example as a
 * config entry's `capabilities`, or `Capabilities.merge`): `tools`, `images` (`vision`),
 * `reasoning` (`thinking`) and `contextWindow`. Only what the details say: an older server that
 * lists no capabilities changes nothing but the context window.
 *
 * @category mapping
 */
export const capabilitiesOf = (model: ModelDetails): Partial<Capabilities.Capabilities> => {
  const listed = new Set(model.capabilities)
  return {
    ...(listed.size === 0 ? {} : {
      tools: listed.has("tools"),
      images: listed.has("vision"),
      reasoning: listed.has("thinking")
    }),
    ...(model.contextLength === undefined ? {} : { contextWindow: model.contextLength })
  }
}
