/**
 * Anthropic Messages on the mock: `POST /v1/messages`. Streams are SSE with event names
 * (`event: content_block_delta` + its `data:` line): `message_start`, a text block, one block per
 * tool call (`input_json_delta` fragments), `message_delta` with the stop reason and usage, then
 * `message_stop`. Errors use Anthropic's envelope `{ type: "error", error: { type, message },
 * request_id }`, with Anthropic's error type for the status (`rate_limit_error` for 429,
 * `overloaded_error` for 529, ...) unless the reply names one of Anthropic's own; in-band errors
 * are an `event: error` with the same envelope.
 *
 * Extended thinking: a request with `thinking: { type: "enabled" }` gets a signed thinking block
 * before the answer (`thinking about: <last user text>`, signature `mock-signature-<id>`), in the
 * JSON answer and, streamed, as `thinking_delta` + `signature_delta` events ahead of the content
 * chunks (faults still count content chunks only). Usage: `cachedTokens` are reported as
 * `cache_read_input_tokens` and left out of `input_tokens`, as Anthropic counts them.
 *
 * What people get wrong: Anthropic has no `[DONE]`; `message_stop` is the terminator, so
 * `withoutDone` drops it.
 *
 * @since 0.1.0
 */
import { argumentFragments, argumentsObject, type Encoder, type IncomingRequest, isRecord, lastUserText, sseEvent } from "../MockEncoder.ts"
import type { ErrorSpec, UsageSpec } from "../MockReply.ts"

const stopReason = (finish: string): string =>
  finish === "stop" ? "end_turn" : finish === "tool_calls" ? "tool_use" : finish === "length" ? "max_tokens" : finish

const event = (payload: { readonly type: string; readonly [field: string]: unknown }): string => sseEvent(payload.type, payload)

/** Anthropic's error types (https://docs.anthropic.com/en/api/errors), by status. */
const errorTypes: Readonly<Record<number, string>> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  504: "timeout_error",
  529: "overloaded_error"
}
const anthropicTypes = new Set(Object.values(errorTypes))

/** The reply's type when it is one of Anthropic's, else the status's (an in-band error has none: `api_error`). */
const errorType = (status: number | undefined, error: ErrorSpec): string => {
  if (error.type !== undefined && anthropicTypes.has(error.type)) return error.type
  if (error.type !== undefined && /overloaded/.test(error.type)) return "overloaded_error"
  return (status === undefined ? undefined : errorTypes[status]) ?? (status !== undefined && status >= 500 ? "api_error" : "invalid_request_error")
}

const envelope = (status: number | undefined, error: ErrorSpec) => ({
  type: "error",
  error: { type: errorType(status, error), message: error.message }
})

const thinks = (request: IncomingRequest): boolean =>
  isRecord(request.body) && isRecord(request.body.thinking) && request.body.thinking.type === "enabled"

const thinking = (id: string, request: IncomingRequest) => ({
  text: `thinking about: ${lastUserText(request.body)}`,
  signature: `mock-signature-${id}`
})

const usageOf = (usage: UsageSpec) => ({
  input_tokens: Math.max(0, usage.promptTokens - (usage.cachedTokens ?? 0)),
  ...(usage.cachedTokens === undefined ? {} : { cache_read_input_tokens: usage.cachedTokens }),
  output_tokens: usage.completionTokens
})

/** Anthropic Messages (`/v1/messages`), streamed as named SSE events. @category encoders */
export const anthropicEncoder: Encoder = {
  name: "anthropic",
  chat: (request) => request.method === "POST" && request.path === "/v1/messages",
  models: () => false,
  modelOf: (request) => (isRecord(request.body) && typeof request.body.model === "string" ? request.body.model : undefined),
  isStream: (request) => isRecord(request.body) && request.body.stream === true,
  lastUserText: (request) => lastUserText(request.body),
  completion: (answer, request) => {
    const thought = thinks(request) ? thinking(answer.id, request) : undefined
    return {
      id: answer.id,
      type: "message",
      role: "assistant",
      model: answer.model,
      content: [
        ...(thought === undefined ? [] : [{ type: "thinking", thinking: thought.text, signature: thought.signature }]),
        ...(answer.pieces.length === 0 ? [] : [{ type: "text", text: answer.pieces.join("") }]),
        ...answer.toolCalls.map((call) => ({ type: "tool_use", id: call.id, name: call.name, input: argumentsObject(call) }))
      ],
      stop_reason: stopReason(answer.finishReason),
      stop_sequence: null,
      usage: usageOf(answer.usage)
    }
  },
  frames: (answer, request) => {
    const thought = thinks(request) ? thinking(answer.id, request) : undefined
    const thinkingFrames = thought === undefined ? [] : [
      event({ type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } }),
      event({ type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: thought.text } }),
      event({ type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: thought.signature } }),
      event({ type: "content_block_stop", index: 0 })
    ]
    const base = thought === undefined ? 0 : 1
    const text = answer.pieces.length > 0 || answer.toolCalls.length === 0
    const textStop = text ? [event({ type: "content_block_stop", index: base })] : []
    const first = base + (text ? 1 : 0)
    const toolFrames = answer.toolCalls.flatMap((call, offset) => {
      const index = first + offset
      return [
        event({ type: "content_block_start", index, content_block: { type: "tool_use", id: call.id, name: call.name, input: {} } }),
        ...argumentFragments(call, answer.argumentChunks).map((partial_json) =>
          event({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json } })
        ),
        event({ type: "content_block_stop", index })
      ]
    })
    const { output_tokens: _output, ...input } = usageOf(answer.usage)
    return {
      head: [
        event({
          type: "message_start",
          message: {
            id: answer.id,
            type: "message",
            role: "assistant",
            model: answer.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { ...input, output_tokens: 1 }
          }
        }),
        ...thinkingFrames,
        ...(text ? [event({ type: "content_block_start", index: base, content_block: { type: "text", text: "" } })] : [])
      ],
      content: [
        ...answer.pieces.map((piece) => event({ type: "content_block_delta", index: base, delta: { type: "text_delta", text: piece } })),
        ...(toolFrames.length === 0 ? [] : [...textStop, ...toolFrames])
      ],
      tail: [
        ...(toolFrames.length === 0 ? textStop : []),
        event({
          type: "message_delta",
          delta: { stop_reason: stopReason(answer.finishReason), stop_sequence: null },
          usage: { output_tokens: answer.usage.completionTokens }
        })
      ],
      done: event({ type: "message_stop" })
    }
  },
  streamContentType: "text/event-stream",
  malformedFrame: "event: content_block_delta\ndata: {not json\n\n",
  // an HTTP error body carries the request id, as Anthropic's do (its stream error events do not)
  errorBody: (status, error) => ({ ...envelope(status, error), request_id: "req_mock" }),
  errorFrame: (error) => sseEvent("error", envelope(undefined, error)),
  modelList: (models) => ({ data: models.map((id) => ({ type: "model", id, display_name: id })), has_more: false }),
  // a `.chunks.txt` line is the event's data; its name is the payload's `type`
  fixtureFrame: (line) => {
    const payload: unknown = JSON.parse(line)
    return sseEvent(isRecord(payload) && typeof payload.type === "string" ? payload.type : "message", line)
  }
}
