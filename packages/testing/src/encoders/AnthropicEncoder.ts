/**
 * Anthropic Messages on the mock: `POST /v1/messages`. Streams are SSE with event names
 * (`event: content_block_delta` + its `data:` line): `message_start`, a text block, one block per
 * tool call (`input_json_delta` fragments), `message_delta` with the stop reason and usage, then
 * `message_stop`. Errors use Anthropic's envelope `{ type: "error", error: { type, message } }`.
 *
 * What people get wrong: Anthropic has no `[DONE]`; `message_stop` is the terminator, so
 * `withoutDone` drops it.
 *
 * @since 0.1.0
 */
import { argumentFragments, argumentsObject, type Encoder, isRecord, lastUserText, sseEvent } from "../MockEncoder.ts"

const stopReason = (finish: string): string =>
  finish === "stop" ? "end_turn" : finish === "tool_calls" ? "tool_use" : finish === "length" ? "max_tokens" : finish

const event = (payload: { readonly type: string; readonly [field: string]: unknown }): string => sseEvent(payload.type, payload)

/** Anthropic Messages (`/v1/messages`), streamed as named SSE events. @category encoders */
export const anthropicEncoder: Encoder = {
  name: "anthropic",
  chat: (request) => request.method === "POST" && request.path === "/v1/messages",
  models: () => false,
  modelOf: (request) => (isRecord(request.body) && typeof request.body.model === "string" ? request.body.model : undefined),
  isStream: (request) => isRecord(request.body) && request.body.stream === true,
  lastUserText: (request) => lastUserText(request.body),
  completion: (answer) => ({
    id: answer.id,
    type: "message",
    role: "assistant",
    model: answer.model,
    content: [
      ...(answer.pieces.length === 0 ? [] : [{ type: "text", text: answer.pieces.join("") }]),
      ...answer.toolCalls.map((call) => ({ type: "tool_use", id: call.id, name: call.name, input: argumentsObject(call) }))
    ],
    stop_reason: stopReason(answer.finishReason),
    stop_sequence: null,
    usage: { input_tokens: answer.usage.promptTokens, output_tokens: answer.usage.completionTokens }
  }),
  frames: (answer) => {
    const text = answer.pieces.length > 0 || answer.toolCalls.length === 0
    const textStop = text ? [event({ type: "content_block_stop", index: 0 })] : []
    const first = text ? 1 : 0
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
            usage: { input_tokens: answer.usage.promptTokens, output_tokens: 1 }
          }
        }),
        ...(text ? [event({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } })] : [])
      ],
      content: [
        ...answer.pieces.map((piece) => event({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: piece } })),
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
  errorBody: (_status, error) => ({ type: "error", error: { type: error.type ?? "api_error", message: error.message } }),
  errorFrame: (error) => sseEvent("error", { type: "error", error: { type: error.type ?? "api_error", message: error.message } }),
  modelList: (models) => ({ data: models.map((id) => ({ type: "model", id, display_name: id })), has_more: false }),
  // a `.chunks.txt` line is the event's data; its name is the payload's `type`
  fixtureFrame: (line) => {
    const payload: unknown = JSON.parse(line)
    return sseEvent(isRecord(payload) && typeof payload.type === "string" ? payload.type : "message", line)
  }
}
