/**
 * Amazon Bedrock Converse on the mock: `POST /model/{modelId}/converse` (JSON) and
 * `…/converse-stream`, whose body is AWS event-stream: binary frames, each a prelude (total and
 * headers length, CRC32), string headers (`:event-type`, `:content-type`, `:message-type`), a JSON
 * payload and a CRC32 of the whole frame. `eventStreamFrame` writes one; the tests read them back
 * with `@smithy/eventstream-codec`, an independent implementation.
 *
 * What people get wrong: the model id is URL-encoded in the path (`us.amazon.nova-micro-v1%3A0`);
 * an in-band error is a frame with `:message-type: exception`, not an event; the stream's last
 * frame is `metadata` (usage), which `withoutDone` drops.
 *
 * @since 0.1.0
 */
import * as EventStreamFrames from "@flexiai/provider/EventStreamFrames"
import { argumentFragments, argumentsObject, type Encoder, isRecord } from "../MockEncoder.ts"

/**
 * One AWS event-stream frame with string headers (type 7) and `payload`.
 *
 * @category encoders
 */
export const eventStreamFrame: (headers: Readonly<Record<string, string>>, payload: string | Uint8Array) => Uint8Array =
  EventStreamFrames.encode

const event = (type: string, payload: unknown): Uint8Array =>
  eventStreamFrame(
    { ":event-type": type, ":content-type": "application/json", ":message-type": "event" },
    typeof payload === "string" ? payload : JSON.stringify(payload)
  )

const converse = /^\/model\/([^/]+)\/(converse|converse-stream)$/

const stopReason = (finish: string): string =>
  finish === "stop" ? "end_turn" : finish === "tool_calls" ? "tool_use" : finish === "length" ? "max_tokens" : finish

/** Amazon Bedrock Converse and ConverseStream (AWS event-stream frames). @category encoders */
export const bedrockEncoder: Encoder = {
  name: "bedrock",
  chat: (request) => request.method === "POST" && converse.test(request.path),
  models: () => false,
  modelOf: (request) => {
    const id = converse.exec(request.path)?.[1]
    return id === undefined ? undefined : decodeURIComponent(id)
  },
  isStream: (request) => request.path.endsWith("/converse-stream"),
  lastUserText: (request) => {
    const messages = isRecord(request.body) && Array.isArray(request.body.messages) ? request.body.messages : []
    const last = [...messages].reverse().find((message) => isRecord(message) && message.role === "user")
    return isRecord(last) && Array.isArray(last.content)
      ? last.content.map((block) => (isRecord(block) && typeof block.text === "string" ? block.text : "")).join("")
      : ""
  },
  completion: (answer) => ({
    output: {
      message: {
        role: "assistant",
        content: [
          ...(answer.pieces.length === 0 ? [] : [{ text: answer.pieces.join("") }]),
          ...answer.toolCalls.map((call) => ({ toolUse: { toolUseId: call.id, name: call.name, input: argumentsObject(call) } }))
        ]
      }
    },
    stopReason: stopReason(answer.finishReason),
    usage: {
      inputTokens: answer.usage.promptTokens,
      outputTokens: answer.usage.completionTokens,
      totalTokens: answer.usage.promptTokens + answer.usage.completionTokens
    },
    metrics: { latencyMs: 1 }
  }),
  frames: (answer) => {
    const first = answer.pieces.length > 0 ? 1 : 0
    const toolFrames = answer.toolCalls.flatMap((call, offset) => {
      const contentBlockIndex = first + offset
      return [
        event("contentBlockStart", { contentBlockIndex, start: { toolUse: { toolUseId: call.id, name: call.name } } }),
        ...argumentFragments(call, answer.argumentChunks).map((input) =>
          event("contentBlockDelta", { contentBlockIndex, delta: { toolUse: { input } } })
        ),
        event("contentBlockStop", { contentBlockIndex })
      ]
    })
    const textStop = first === 1 ? [event("contentBlockStop", { contentBlockIndex: 0 })] : []
    return {
      head: [event("messageStart", { role: "assistant" })],
      content: [
        ...answer.pieces.map((text) => event("contentBlockDelta", { contentBlockIndex: 0, delta: { text } })),
        ...(toolFrames.length === 0 ? [] : [...textStop, ...toolFrames])
      ],
      tail: [...(toolFrames.length === 0 ? textStop : []), event("messageStop", { stopReason: stopReason(answer.finishReason) })],
      done: event("metadata", {
        usage: {
          inputTokens: answer.usage.promptTokens,
          outputTokens: answer.usage.completionTokens,
          totalTokens: answer.usage.promptTokens + answer.usage.completionTokens
        },
        metrics: { latencyMs: 1 }
      })
    }
  },
  streamContentType: "application/vnd.amazon.eventstream",
  malformedFrame: event("contentBlockDelta", "{not json"),
  errorBody: (_status, error) => ({ message: error.message }),
  errorFrame: (error) =>
    eventStreamFrame(
      { ":exception-type": error.type ?? "internalServerException", ":content-type": "application/json", ":message-type": "exception" },
      JSON.stringify({ message: error.message })
    ),
  modelList: (models) => ({ modelSummaries: models.map((modelId) => ({ modelId })) }),
  // a `.chunks.txt` line is `{"<event type>": payload}`, already decoded from its frame
  fixtureFrame: (line) => {
    const decoded: unknown = JSON.parse(line)
    const [type, payload] = isRecord(decoded) ? Object.entries(decoded)[0] ?? ["unknown", {}] : ["unknown", {}]
    return event(type, payload)
  }
}
