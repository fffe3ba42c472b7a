/**
 * The unified chat request: messages, content parts, tools and generation options, as Effect Schemas.
 *
 * Every provider maps this one shape to its wire format. The schema is strict on purpose: a request
 * is decoded (`ChatRequest.decode`) before any provider is called, so a bad temperature or a tool
 * choice naming a tool that does not exist fails at once with `InvalidRequest`, instead of failing
 * over across every provider and surfacing as a confusing `AllProvidersFailed`.
 *
 * What users get wrong: a field this schema does not know is an error listing it (`topK`, a typo,
 * a provider's own parameter), not something silently dropped: provider-specific fields go in
 * `providerOptions`. The error reads as sentences (`messages is empty: give at least one message`),
 * one per problem, each naming its path.
 *
 * @since 0.1.0
 */
import { Effect, Schema, type SchemaAST, type SchemaIssue } from "effect"
import { plain } from "./internal/plainRequest.ts"
import { InvalidRequest, ProviderError } from "./ProviderError.ts"
import * as ReasoningBlock from "./Reasoning.ts"

// ---------------------------------------------------------------------------
// content
// ---------------------------------------------------------------------------

/** A piece of text inside a message. @category schemas */
export const TextPart = Schema.Struct({
  type: Schema.Literal("text"),
  text: Schema.String
})
export type TextPart = typeof TextPart.Type

/** An image given by URL (http(s) or data:) or as base64 bytes with their media type. @category schemas */
export const ImagePart = Schema.Struct({
  type: Schema.Literal("image"),
  source: Schema.Union([
    Schema.Struct({ type: Schema.Literal("url"), url: Schema.NonEmptyString }),
    Schema.Struct({
      type: Schema.Literal("base64"),
      mediaType: Schema.String.check(Schema.isPattern(/^image\/[a-z0-9.+-]+$/i)),
      data: Schema.NonEmptyString
    })
  ]),
  detail: Schema.optionalKey(Schema.Literals(["auto", "low", "high"]))
})
export type ImagePart = typeof ImagePart.Type

const MediaType = Schema.String.check(Schema.isPattern(/^[a-z]+\/[a-z0-9.+-]+$/i))

/**
 * A file (a document: PDF, plain text, CSV, ...) in a user message, where the model reads it.
 *
 * Shaped like `ImagePart` (a `source` saying where the bytes are) rather than Vercel's flat
 * `{ type: "file", data, mediaType, filename }` or effect/ai's `FilePart`, so one switch on
 * `source.type` serves both parts. The media type is required for bytes and URLs (every provider's
 * wire wants it, and capabilities are checked by it); a `text` source is the document's text itself
 * (`text/plain` when no media type is given), which is what Anthropic's text documents and
 * Bedrock's txt/md documents carry. `fileName` becomes the provider's title or name where it has
 * one (Bedrock restricts its characters: the codec sanitizes it).
 *
 * Which media types and whether URLs are taken is each provider's `Capabilities.files` /
 * `fileUrls`: the router skips one that cannot take the file (`Unsupported`).
 *
 * @category schemas
 */
export const FilePart = Schema.Struct({
  type: Schema.Literal("file"),
  source: Schema.Union([
    Schema.Struct({ type: Schema.Literal("base64"), mediaType: MediaType, data: Schema.NonEmptyString }),
    Schema.Struct({ type: Schema.Literal("url"), url: Schema.NonEmptyString, mediaType: MediaType }),
    Schema.Struct({ type: Schema.Literal("text"), text: Schema.String, mediaType: Schema.optionalKey(MediaType) })
  ]),
  fileName: Schema.optionalKey(Schema.NonEmptyString)
})
export type FilePart = typeof FilePart.Type

/** The media type of a file part (`text/plain` for a text source that names none), lower-cased. @category utils */
export const fileMediaType = (part: FilePart): string => (part.source.mediaType ?? "text/plain").toLowerCase()

/** @category schemas */
export const ContentPart = Schema.Union([TextPart, ImagePart, FilePart])
export type ContentPart = typeof ContentPart.Type

/**
 * One block of the model's reasoning (thinking): defined in `Reasoning` (text, signature,
 * redacted data, summary, id, format), re-exported here beside the messages that carry it.
 *
 * @category schemas
 */
export const Reasoning = ReasoningBlock.Reasoning
export type Reasoning = ReasoningBlock.Reasoning

// ---------------------------------------------------------------------------
// tools
// ---------------------------------------------------------------------------

/** A JSON Schema object, passed to providers as it is. @category schemas */
export const JsonSchemaObject = Schema.Record(Schema.String, Schema.Unknown)
export type JsonSchemaObject = typeof JsonSchemaObject.Type

const ToolName = Schema.String.check(Schema.isPattern(/^[a-zA-Z0-9_-]{1,64}$/))

/** A tool the model may call. `parameters` is a JSON Schema for the call's arguments. @category schemas */
export const ToolDefinition = Schema.Struct({
  name: ToolName,
  description: Schema.optionalKey(Schema.String),
  parameters: JsonSchemaObject,
  strict: Schema.optionalKey(Schema.Boolean)
})
export type ToolDefinition = typeof ToolDefinition.Type

/**
 * A call the model made. `arguments` is the JSON text the model produced, kept as text because
 * models do emit invalid JSON and the caller decides what to do about it.
 *
 * @category schemas
 */
export const ToolCall = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  arguments: Schema.String
})
export type ToolCall = typeof ToolCall.Type

/** `auto` (default), `none`, `required` (any tool), or one named tool. @category schemas */
export const ToolChoice = Schema.Union([
  Schema.Literals(["auto", "none", "required"]),
  Schema.Struct({ type: Schema.Literal("tool"), name: Schema.String })
])
export type ToolChoice = typeof ToolChoice.Type

/** Plain text, any JSON object, or JSON that follows a schema (structured output). @category schemas */
export const ResponseFormat = Schema.Union([
  Schema.Struct({ type: Schema.Literal("text") }),
  Schema.Struct({ type: Schema.Literal("json_object") }),
  Schema.Struct({
    type: Schema.Literal("json_schema"),
    name: ToolName,
    description: Schema.optionalKey(Schema.String),
    schema: JsonSchemaObject,
    strict: Schema.optionalKey(Schema.Boolean)
  })
])
export type ResponseFormat = typeof ResponseFormat.Type

// ---------------------------------------------------------------------------
// messages
// ---------------------------------------------------------------------------

/** Instructions: a string, or text parts (joined with a line break where a provider takes only a string). */
const InstructionContent = Schema.Union([Schema.String, Schema.NonEmptyArray(TextPart)])

/** @category schemas */
export const SystemMessage = Schema.Struct({
  role: Schema.Literal("system"),
  content: InstructionContent
})
/**
 * OpenAI's name for instructions to reasoning models. Sent as `developer` where the API has the
 * role (OpenAI, OpenRouter), as `system` elsewhere.
 *
 * @category schemas
 */
export const DeveloperMessage = Schema.Struct({
  role: Schema.Literal("developer"),
  content: InstructionContent
})
/** @category schemas */
export const UserMessage = Schema.Struct({
  role: Schema.Literal("user"),
  content: Schema.Union([Schema.String, Schema.NonEmptyArray(ContentPart)]),
  name: Schema.optionalKey(Schema.String)
})
/**
 * An assistant turn: text, tool calls, or both, with the reasoning that led to them. As the last message it is a prefill the
 * model continues (only on providers whose capabilities say `assistantPrefill`).
 *
 * @category schemas
 */
export const AssistantMessage = Schema.Struct({
  role: Schema.Literal("assistant"),
  content: Schema.optionalKey(Schema.NullOr(Schema.String)),
  toolCalls: Schema.optionalKey(Schema.Array(ToolCall)),
  /** The reasoning the response carried (`ChatResponse.reasoning`), given back as it came. */
  reasoning: Schema.optionalKey(Schema.Array(Reasoning))
})
/** The result of a tool call, answering the assistant's call with the same id. @category schemas */
export const ToolMessage = Schema.Struct({
  role: Schema.Literal("tool"),
  toolCallId: Schema.NonEmptyString,
  content: Schema.String,
  name: Schema.optionalKey(Schema.String)
})

/** @category schemas */
export const Message = Schema.Union([SystemMessage, DeveloperMessage, UserMessage, AssistantMessage, ToolMessage])
export type Message = typeof Message.Type
export type SystemMessage = typeof SystemMessage.Type
export type DeveloperMessage = typeof DeveloperMessage.Type
export type UserMessage = typeof UserMessage.Type
export type AssistantMessage = typeof AssistantMessage.Type
export type ToolMessage = typeof ToolMessage.Type

// ---------------------------------------------------------------------------
// request
// ---------------------------------------------------------------------------

/**
 * Body fields `providerOptions` may not set: they are what the request itself says (which model,
 * which conversation, streamed or not), and a pass-through that overrode them would silently send
 * another request than the one validated (`messages: []`, or `stream: true` on a `chat` call).
 */
const reservedProviderOptions: ReadonlyArray<string> = ["model", "messages", "stream"]

const isValidRequest = Schema.makeFilter<{
  readonly tools?: ReadonlyArray<ToolDefinition>
  readonly toolChoice?: ToolChoice
  readonly messages: ReadonlyArray<Message>
  readonly providerOptions?: { readonly [provider: string]: { readonly [key: string]: unknown } }
}>((request) => {
  const providerOptions = request.providerOptions
  if (providerOptions !== undefined) {
    for (const provider in providerOptions) {
      const options = providerOptions[provider]!
      for (const key of reservedProviderOptions) {
        if (Object.hasOwn(options, key)) {
          return `providerOptions.${provider} may not set "${key}": use the request's own field`
        }
      }
    }
  }
  const names = new Set((request.tools ?? []).map((tool) => tool.name))
  if (names.size !== (request.tools ?? []).length) return "tool names must be unique"
  const choice = request.toolChoice
  if (choice !== undefined && choice !== "auto" && choice !== "none" && names.size === 0) {
    return "toolChoice requires at least one tool in `tools`"
  }
  if (typeof choice === "object" && !names.has(choice.name)) {
    return `toolChoice names the tool "${choice.name}", which is not in \`tools\``
  }
  const answered = new Set<string>()
  for (const message of request.messages) {
    if (message.role === "assistant") for (const call of message.toolCalls ?? []) answered.add(call.id)
    if (message.role === "tool" && !answered.has(message.toolCallId)) {
      return `tool message answers toolCallId "${message.toolCallId}", which no earlier assistant message called`
    }
  }
  return undefined
})

/**
 * A chat request. Only `messages` is required; every option left out takes the provider's default.
 *
 * - `model` overrides the provider's default model for this call.
 * - `providerOptions` passes extra wire fields through, keyed by provider name (or kind):
 *   `{ openai: { logprobs: true } }`. They are merged into that provider's request body as they are,
 *   except `model`, `messages` and `stream`, which they may not set (decoding fails naming the key).
 *
 * @category schemas
 */
export const ChatRequest = Schema.Struct({
  messages: Schema.NonEmptyArray(Message),
  model: Schema.optionalKey(Schema.NonEmptyString),
  temperature: Schema.optionalKey(Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 2 }))),
  maxTokens: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThan(0))),
  topP: Schema.optionalKey(Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 }))),
  stop: Schema.optionalKey(Schema.Array(Schema.NonEmptyString).check(Schema.isMaxLength(4))),
  seed: Schema.optionalKey(Schema.Int),
  tools: Schema.optionalKey(Schema.Array(ToolDefinition)),
  toolChoice: Schema.optionalKey(ToolChoice),
  responseFormat: Schema.optionalKey(ResponseFormat),
  user: Schema.optionalKey(Schema.String),
  metadata: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  providerOptions: Schema.optionalKey(Schema.Record(Schema.String, Schema.Record(Schema.String, Schema.Unknown)))
}).check(isValidRequest)
export type ChatRequest = typeof ChatRequest.Type

/** What the accessors accept: a prompt, a list of messages, or a whole request. @category models */
export type ChatInput = string | ReadonlyArray<Message> | ChatRequest

/**
 * How `decode` runs the Schema: every problem reported, and a field the schema does not know is an
 * error (as an unknown config key is), never dropped.
 *
 * @category constants
 */
export const parseOptions = { errors: "all", onExcessProperty: "error" } as const

const decodeRequest = Schema.decodeUnknownEffect(ChatRequest, parseOptions)

/**
 * Turns a prompt, a message list or a request into a validated `ChatRequest`.
 *
 * Fails with a `ProviderError` whose reason is `InvalidRequest` (provider `"flexiai"`): the same
 * reason a provider's 400 produces, so one `catchReason` handles both.
 *
 * @category constructors
 */
export const decode = (input: ChatInput | unknown): Effect.Effect<ChatRequest, ProviderError> => {
  const request = typeof input === "string"
    ? { messages: [{ role: "user", content: input }] }
    : Array.isArray(input)
    ? { messages: input }
    : input
  // checked when run, as the Schema decode is: a request changed between building and running the
  // effect is checked as it is then
  return Effect.suspend(() => {
    const checked = plain(request)
    return checked !== undefined ? Effect.succeed(checked) : decodeWithSchema(request)
  })
}

const decodeWithSchema = (input: unknown): Effect.Effect<ChatRequest, ProviderError> =>
  decodeRequest(input).pipe(
    Effect.mapError((error) => {
      const found = problems(error.issue, input)
      const first = found.find((problem) => problem.path !== "")?.path
      return new ProviderError({
        provider: "flexiai",
        reason: new InvalidRequest({
          message: `invalid chat request: ${found.map((problem) => problem.message).join("; ")}`,
          ...(first === undefined ? {} : { param: first })
        })
      })
    })
  )

// ---------------------------------------------------------------------------
// problems as sentences
// ---------------------------------------------------------------------------

/** One thing wrong with a request: where (`messages[0].content`, or "" for the whole), and a sentence. @category models */
export interface Problem {
  readonly path: string
  readonly message: string
}

const formatPath = (path: ReadonlyArray<PropertyKey>): string => {
  let out = ""
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`
    else out += out === "" ? String(segment) : `.${String(segment)}`
  }
  return out
}

const valueAt = (input: unknown, path: ReadonlyArray<PropertyKey>): unknown => {
  let current = input
  for (const segment of path) {
    if (typeof current !== "object" || current === null) return undefined
    current = (current as Record<PropertyKey, unknown>)[segment]
  }
  return current
}

const roles = "\"system\", \"developer\", \"user\", \"assistant\" or \"tool\""

// what a value of a type is called in a sentence
const describe = (ast: SchemaAST.AST): string => {
  switch (ast._tag) {
    case "String":
      return "a string"
    case "Number":
      return "a number"
    case "Boolean":
      return "true or false"
    case "Arrays":
      return "a list"
    case "Objects":
      return "an object"
    case "Literal":
      return JSON.stringify(ast.literal)
    case "Null":
      return "null"
    case "Union":
      return ast.types.map(describe).join(" or ")
    default:
      return "a valid value"
  }
}

/** Why a value matched no member of a union, where the union is one of the request's own. */
const noMember = (ast: SchemaAST.Union, path: ReadonlyArray<PropertyKey>, input: unknown): string => {
  const where = formatPath(path)
  const value = valueAt(input, path)
  const record = typeof value === "object" && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined
  if (ast === Message.ast) {
    if (record === undefined) return `${where} must be a message: an object with a role and content`
    return record.role === undefined
      ? `${where} has no role: use ${roles}`
      : `${where}.role ${JSON.stringify(record.role)} is not a role: use ${roles}`
  }
  if (ast === ContentPart.ast) {
    if (record === undefined) return `${where} must be a content part: { type: "text", text }, { type: "image", source } or { type: "file", source }`
    return `${where}.type ${JSON.stringify(record.type)} is not a content part type: use "text", "image" or "file"`
  }
  return `${where} must be ${describe(ast)}`
}

/**
 * The problems of a failed request decode, as sentences without Schema notation: a missing or
 * empty `messages`, an unknown role, a field the schema does not know, a value out of range.
 * Unknown fields are listed together in one sentence.
 *
 * @category utils
 */
export const problems = (issue: SchemaIssue.Issue, input: unknown): ReadonlyArray<Problem> => {
  const found: Array<Problem> = []
  const unknown: Array<string> = []
  const walk = (node: SchemaIssue.Issue, path: ReadonlyArray<PropertyKey>, expected: string | undefined): void => {
    const where = formatPath(path)
    switch (node._tag) {
      case "Pointer":
        return walk(node.issue, [...path, ...node.path], expected)
      case "Composite":
        for (const child of node.issues) walk(child, path, expected)
        return
      case "Encoding":
        return walk(node.issue, path, expected)
      case "Filter": {
        const message = node.issue._tag === "InvalidValue" ? node.issue.annotations?.message : undefined
        if (typeof message === "string") {
          found.push({ path: where, message: where === "" ? message : `${where}: ${message}` })
          return
        }
        const annotation = node.filter.annotations?.expected
        return walk(node.issue, path, typeof annotation === "string" ? annotation : expected)
      }
      case "AnyOf":
        if (node.issues.length === 0) {
          found.push({ path: where, message: noMember(node.ast, path, input) })
          return
        }
        for (const child of node.issues) walk(child, path, expected)
        return
      case "UnexpectedKey":
        unknown.push(where)
        return
      case "MissingKey": {
        const last = path.at(-1)
        if (typeof last === "number") {
          // a non-empty list that came empty reports its first element missing
          const list = formatPath(path.slice(0, -1))
          const what = list === "messages" ? "message" : list.endsWith("content") ? "content part (or a string)" : "element"
          found.push({ path: list, message: `${list} is empty: give at least one ${what}` })
        } else {
          found.push({
            path: where,
            message: where === "messages" ? "messages is missing: give at least one message" : `${where} is missing`
          })
        }
        return
      }
      case "InvalidType":
        found.push({ path: where, message: `${where === "" ? "the request" : where} must be ${expected ?? describe(node.ast)}` })
        return
      default: {
        const message = "annotations" in node ? node.annotations?.message : undefined
        const subject = where === "" ? "the request" : where
        found.push({
          path: where,
          message: typeof message === "string"
            ? `${subject}: ${message}`
            : expected === undefined
            ? `${subject} is not valid`
            : `${subject} must be ${expected}`
        })
      }
    }
  }
  walk(issue, [], undefined)
  if (unknown.length > 0) {
    found.unshift({
      path: unknown[0]!,
      message: `unknown ${unknown.length === 1 ? "field" : "fields"} ${
        unknown.join(", ")
      } (check the spelling; a provider's own parameters go in providerOptions)`
    })
  }
  return found
}

/** The text of a message's content, with image and file parts left out. @category utils */
export const textOf = (message: Message): string => {
  const content = message.content
  if (content === undefined || content === null) return ""
  if (typeof content === "string") return content
  return content.map((part) => (part.type === "text" ? part.text : "")).join("")
}
