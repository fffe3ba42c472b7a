/**
 * The seam between `MockProviderServer` and a wire format: an `Encoder` says which routes are its
 * own and how an answer, a stream, an error and a replayed fixture look as bytes. The built-in
 * ones live in `encoders/`; a provider package (or a test) passes its own to `start`/`make`/`layer`
 * through `options.encoders`, and the server's faults (cuts, stalls, malformed events, missing
 * terminators, in-band errors) then work for that format without further code.
 *
 * What people get wrong: `frames(...).content[i]` must be the frame of content chunk `i` (faults
 * count them), and a frame may be text or bytes (`Uint8Array`, for binary framing such as AWS
 * event-stream); the server writes both as they are.
 *
 * @since 0.1.0
 */
import type { ErrorSpec, ToolCallSpec, UsageSpec } from "./MockReply.ts"

/** One piece of a response body as written to the socket: text (UTF-8) or bytes. @category models */
export type Frame = string | Uint8Array

/** A request as an encoder sees it. @category models */
export interface IncomingRequest {
  readonly method: string
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  readonly body: unknown
  /** The request's headers as received (unmasked), for encoders that check them (`verify`). */
  readonly rawHeaders?: Readonly<Record<string, string | ReadonlyArray<string> | undefined>> | undefined
  /** The request's body as received (UTF-8). */
  readonly rawBody?: string | undefined
}

/** What `verify` answers for a request it refuses: status, JSON body, headers. @category models */
export interface Refusal {
  readonly status: number
  readonly body: unknown
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/** The content of one answer, independent of wire format. @category models */
export interface Answer {
  readonly id: string
  readonly model: string
  readonly pieces: ReadonlyArray<string>
  readonly toolCalls: ReadonlyArray<ToolCallSpec>
  readonly argumentChunks: number
  readonly finishReason: string
  readonly usage: UsageSpec
  readonly created: number
}

/** A streamed answer as frames: `content[i]` is content chunk `i`; `head` before, `tail` after, `done` last. @category models */
export interface StreamFrames {
  readonly head: ReadonlyArray<Frame>
  readonly content: ReadonlyArray<Frame>
  readonly tail: ReadonlyArray<Frame>
  readonly done: Frame | undefined
}

/**
 * One wire format. Adding a provider to the mock is adding one of these.
 *
 * - `chat` recognises the format's chat route; `models` its model-list route.
 * - `frames` returns the stream (see `StreamFrames`); `malformedFrame` is an undecodable event of
 *   this format, `errorFrame` an in-band error event.
 * - `verify`, optional, refuses requests before the script answers (Bedrock's SigV4 check).
 * - `fixtureFrame` re-frames one line of a `.chunks.txt` fixture (a payload stripped of its
 *   framing); `fixtureEnd` ends such a replay (OpenAI's `data: [DONE]`). Default: SSE `data:` lines.
 *
 * @category models
 */
export interface Encoder {
  readonly name: string
  readonly chat: (request: IncomingRequest) => boolean
  readonly models: (request: IncomingRequest) => boolean
  readonly modelOf: (request: IncomingRequest) => string | undefined
  readonly isStream: (request: IncomingRequest) => boolean
  readonly lastUserText: (request: IncomingRequest) => string
  /** The non-streamed body; `request` for formats whose answer depends on it (Anthropic's thinking). */
  readonly completion: (answer: Answer, request: IncomingRequest) => unknown
  readonly frames: (answer: Answer, request: IncomingRequest) => StreamFrames
  readonly streamContentType: string
  readonly malformedFrame: Frame
  readonly errorBody: (status: number, error: ErrorSpec) => unknown
  readonly errorFrame: (error: ErrorSpec) => Frame
  /** The model-list body; `request` tells a format with several model routes apart (Ollama's `/api/tags` and `/api/show`). */
  readonly modelList: (models: ReadonlyArray<string>, request: IncomingRequest) => unknown
  readonly fixtureFrame?: ((line: string) => Frame) | undefined
  readonly fixtureEnd?: Frame | undefined
  /**
   * Checks a request before any reply is picked (a signature): a `Refusal` is served instead of
   * the script, and recorded as an `Error`. Default: every request is accepted.
   */
  readonly verify?: ((request: IncomingRequest) => Promise<Refusal | undefined>) | undefined
}

/** Narrows `unknown` to an object with string keys. @category helpers */
export const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null

/** An SSE `data:` event (a string payload is sent as is, anything else as JSON). @category helpers */
export const sse = (payload: unknown): string => `data: ${typeof payload === "string" ? payload : JSON.stringify(payload)}\n\n`

/** An SSE event with a name: `event: <name>` then its `data:` line. @category helpers */
export const sseEvent = (name: string, payload: unknown): string => `event: ${name}\n${sse(payload)}`

/**
 * The text of the last user message in a `messages` array whose content is a string or a list of
 * parts with `text` (OpenAI, Anthropic, Ollama and Bedrock all fit).
 *
 * @category helpers
 */
export const lastUserText = (body: unknown): string => {
  const messages = isRecord(body) && Array.isArray(body.messages) ? body.messages : []
  const last = [...messages].reverse().find((message) => isRecord(message) && message.role === "user")
  if (!isRecord(last)) return ""
  if (typeof last.content === "string") return last.content
  return Array.isArray(last.content)
    ? last.content.map((part) => (isRecord(part) && typeof part.text === "string" ? part.text : "")).join("")
    : ""
}

/** A tool call's arguments in `parts` fragments (at least one character each). @category helpers */
export const argumentFragments = (call: ToolCallSpec, parts: number): ReadonlyArray<string> => {
  const size = Math.max(1, Math.ceil(call.arguments.length / Math.max(1, parts)))
  const fragments: Array<string> = []
  for (let at = 0; at < call.arguments.length; at += size) fragments.push(call.arguments.slice(at, at + size))
  return fragments
}

/** A tool call's arguments as a JSON value (formats that send objects, not strings); `{}` when empty. @category helpers */
export const argumentsObject = (call: ToolCallSpec): unknown => (call.arguments.trim() === "" ? {} : JSON.parse(call.arguments))
