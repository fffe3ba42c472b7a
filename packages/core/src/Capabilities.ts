/**
 * What a provider can do and which request parameters it accepts, as one Schema: providers declare
 * it, config can override it per provider, and the router checks a request against it before
 * dispatch (a candidate that cannot serve the request is skipped with an attempt saying why,
 * instead of taking a 400 that would stop the whole call).
 *
 * The flags answer "can it do X at all"; the limits answer "which values does it take". A limit
 * left out means "no known limit beyond the request schema's own" (temperature 0–2, four stop
 * sequences): declare the tighter ones a provider has (Anthropic and Foundry take temperature
 * 0–1).
 *
 * @since 0.2.0
 */
import { Schema } from "effect"
import type { ChatRequest } from "./ChatRequest.ts"

/** An inclusive numeric range. @category schemas */
export const Range = Schema.Struct({
  min: Schema.Number,
  max: Schema.Number
})
export type Range = typeof Range.Type

/** @category schemas */
export const Capabilities = Schema.Struct({
  /** Streams parts as they are generated. */
  streaming: Schema.Boolean,
  /** Takes tool definitions and returns tool calls. */
  tools: Schema.Boolean,
  /** Takes image content parts. */
  images: Schema.Boolean,
  /** Takes `responseFormat: json_schema`. */
  jsonSchema: Schema.Boolean,
  /**
   * Continues a trailing assistant message (the `continue` stream policy needs it). Chat
   * Completions has none; Anthropic Messages has it.
   */
  assistantPrefill: Schema.Boolean,
  /** Can return reasoning (thinking) content as its own parts. */
  reasoning: Schema.optionalKey(Schema.Boolean),
  /** Accepted `temperature` values. */
  temperature: Schema.optionalKey(Range),
  /** Accepted `topP` values. */
  topP: Schema.optionalKey(Range),
  /** The most `stop` sequences one request may carry. */
  maxStopSequences: Schema.optionalKey(Schema.Int),
  /**
   * Media types of file (document) parts it takes, such as `application/pdf`; `type/*` takes a whole
   * type, `*\/*` every file. Left out or empty: no file parts. A `text` source counts as its media
   * type (`text/plain` when it names none).
   */
  files: Schema.optionalKey(Schema.Array(Schema.String)),
  /** Takes file parts by URL (Anthropic, Gemini); without it only bytes and text are sent. */
  fileUrls: Schema.optionalKey(Schema.Boolean),
  /** The model's context window in tokens (prompt plus answer). */
  contextWindow: Schema.optionalKey(Schema.Int),
  /** The most tokens the model answers with (`maxTokens` above it is refused). */
  maxOutputTokens: Schema.optionalKey(Schema.Int)
})
export type Capabilities = typeof Capabilities.Type

/** Every capability, no limits: what a scripted test provider claims by default. @category constructors */
export const all: Capabilities = {
  streaming: true,
  tools: true,
  images: true,
  jsonSchema: true,
  assistantPrefill: true,
  reasoning: true,
  files: ["*/*"],
  fileUrls: true
}

/**
 * Overrides merged over a base (config over a kind's defaults); `undefined` fields are left as
 * they were.
 *
 * @category constructors
 */
export const merge = (base: Capabilities, overrides: Partial<Capabilities> | undefined): Capabilities => {
  if (overrides === undefined) return base
  const merged: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) merged[key] = value
  return merged as Capabilities
}

/**
 * What a group of providers can do together (a router over them): a flag is on when any member's
 * is, and a limit holds only when every member has one, at its widest (the hull of the ranges, the
 * largest count), so a request the group refuses is one that every member would refuse. No
 * members: nothing is possible.
 *
 * @category combinators
 */
export const union = (members: ReadonlyArray<Capabilities>): Capabilities => {
  const anyMember = (flag: (capabilities: Capabilities) => boolean | undefined) => members.some((member) => flag(member) === true)
  const widestRange = (pick: (capabilities: Capabilities) => Range | undefined): Range | undefined => {
    const ranges = members.map(pick)
    if (ranges.length === 0 || ranges.some((range) => range === undefined)) return undefined
    const defined = ranges as ReadonlyArray<Range>
    return { min: Math.min(...defined.map((range) => range.min)), max: Math.max(...defined.map((range) => range.max)) }
  }
  const largest = (pick: (capabilities: Capabilities) => number | undefined): number | undefined => {
    const values = members.map(pick)
    return values.length === 0 || values.some((value) => value === undefined) ? undefined : Math.max(...(values as ReadonlyArray<number>))
  }
  const temperature = widestRange((member) => member.temperature)
  const topP = widestRange((member) => member.topP)
  const maxStopSequences = largest((member) => member.maxStopSequences)
  const contextWindow = largest((member) => member.contextWindow)
  const maxOutputTokens = largest((member) => member.maxOutputTokens)
  const files = [...new Set(members.flatMap((member) => member.files ?? []))]
  return {
    streaming: anyMember((member) => member.streaming),
    tools: anyMember((member) => member.tools),
    images: anyMember((member) => member.images),
    jsonSchema: anyMember((member) => member.jsonSchema),
    assistantPrefill: anyMember((member) => member.assistantPrefill),
    ...(anyMember((member) => member.reasoning) ? { reasoning: true } : {}),
    ...(files.length === 0 ? {} : { files }),
    ...(anyMember((member) => member.fileUrls) ? { fileUrls: true } : {}),
    ...(temperature === undefined ? {} : { temperature }),
    ...(topP === undefined ? {} : { topP }),
    ...(maxStopSequences === undefined ? {} : { maxStopSequences }),
    ...(contextWindow === undefined ? {} : { contextWindow }),
    ...(maxOutputTokens === undefined ? {} : { maxOutputTokens })
  }
}

/**
 * True when these capabilities can refuse some valid request: a flag the router checks is off, or
 * a limit is set. The router computes it once per provider, so a provider that takes everything
 * costs no check at all on a call.
 *
 * @category predicates
 */
export const isLimited = (capabilities: Capabilities): boolean =>
  !capabilities.tools || !capabilities.images || !capabilities.jsonSchema ||
  capabilities.temperature !== undefined || capabilities.topP !== undefined ||
  capabilities.maxStopSequences !== undefined || capabilities.maxOutputTokens !== undefined ||
  capabilities.fileUrls !== true || !(capabilities.files ?? []).includes("*/*")

/** Why a provider cannot serve a request: the refused field and a sentence naming the limit. @category models */
export interface Refusal {
  readonly field: string
  readonly message: string
}

const outside = (value: number, range: Range | undefined): boolean =>
  range !== undefined && (value < range.min || value > range.max)

const hasImages = (request: ChatRequest): boolean => {
  for (const message of request.messages) {
    if (message.role === "user" && typeof message.content !== "string") {
      for (const part of message.content) if (part.type === "image") return true
    }
  }
  return false
}

/** Whether a media type is among `accepted` (exactly, by `type/*`, or by `*\/*`). @category predicates */
export const acceptsMediaType = (accepted: ReadonlyArray<string> | undefined, mediaType: string): boolean => {
  const wanted = mediaType.toLowerCase()
  const slash = wanted.indexOf("/")
  const whole = `${wanted.slice(0, slash)}/*`
  return (accepted ?? []).some((entry) => {
    const entryLower = entry.toLowerCase()
    return entryLower === "*/*" || entryLower === wanted || entryLower === whole
  })
}

const fileRefusal = (capabilities: Capabilities, request: ChatRequest): Refusal | undefined => {
  for (const message of request.messages) {
    if (message.role !== "user" || typeof message.content === "string") continue
    for (const part of message.content) {
      if (part.type !== "file") continue
      const mediaType = (part.source.mediaType ?? "text/plain").toLowerCase()
      if (!acceptsMediaType(capabilities.files, mediaType)) {
        return { field: "files", message: `file content of type ${mediaType} is not supported` }
      }
      if (part.source.type === "url" && capabilities.fileUrls !== true) {
        return { field: "files", message: "files by URL are not supported: send the file's bytes (source type base64)" }
      }
    }
  }
  return undefined
}

/**
 * The first thing in `request` these capabilities refuse, or `undefined` when they can serve it.
 * Only fields the request sets are checked (an unset temperature takes the provider's default).
 * `contextWindow` is not checked: the prompt's token count is not known before the call.
 *
 * @category predicates
 */
export const refusal = (capabilities: Capabilities, request: ChatRequest): Refusal | undefined => {
  const { maxTokens, responseFormat, stop, temperature, tools, topP } = request
  if (temperature !== undefined && outside(temperature, capabilities.temperature)) {
    const range = capabilities.temperature!
    return { field: "temperature", message: `temperature ${temperature} is outside ${range.min}–${range.max}` }
  }
  if (topP !== undefined && outside(topP, capabilities.topP)) {
    const range = capabilities.topP!
    return { field: "topP", message: `topP ${topP} is outside ${range.min}–${range.max}` }
  }
  if (stop !== undefined && capabilities.maxStopSequences !== undefined && stop.length > capabilities.maxStopSequences) {
    return {
      field: "stop",
      message: `${stop.length} stop sequences, at most ${capabilities.maxStopSequences} taken`
    }
  }
  if (
    maxTokens !== undefined && capabilities.maxOutputTokens !== undefined && maxTokens > capabilities.maxOutputTokens
  ) {
    return { field: "maxTokens", message: `maxTokens ${maxTokens} is over ${capabilities.maxOutputTokens}` }
  }
  if (tools !== undefined && tools.length > 0 && !capabilities.tools) {
    return { field: "tools", message: "tools are not supported" }
  }
  if (responseFormat?.type === "json_schema" && !capabilities.jsonSchema) {
    return { field: "responseFormat", message: "responseFormat json_schema is not supported" }
  }
  if (!capabilities.images && hasImages(request)) return { field: "images", message: "image content is not supported" }
  return fileRefusal(capabilities, request)
}
