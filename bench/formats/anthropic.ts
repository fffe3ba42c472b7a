/**
 * Anthropic Messages streaming for the per-format benchmark: named SSE events (`event:` + `data:`
 * per event, as api.anthropic.com frames them), `message_start`, one text block of `count`
 * `text_delta` events, `message_delta` with the stop reason and usage, `message_stop`. The model
 * (`chunks-<N>`) rides in the request body.
 *
 * The floor (`read`) is what a careful undici user writes: split the body into events at blank
 * lines across reads, `JSON.parse` each `data:` line, keep the `text_delta` texts, stop at
 * `message_stop`.
 *
 * @since 0.3.0
 */
import type { Format } from "./Format.ts"

const encoder = new TextEncoder()

const event = (payload: { readonly type: string; readonly [key: string]: unknown }): string =>
  `event: ${payload.type}\ndata: ${JSON.stringify(payload)}\n\n`

const body = (count: number): Uint8Array => {
  let text = event({
    type: "message_start",
    message: {
      id: "msg_bench",
      type: "message",
      role: "assistant",
      model: "claude-bench",
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 }
    }
  })
  text += event({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } })
  text += event({ type: "ping" })
  for (let index = 0; index < count; index++) {
    text += event({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: `tok${index} ` } })
  }
  text += event({ type: "content_block_stop", index: 0 })
  text += event({ type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: count } })
  text += event({ type: "message_stop" })
  return encoder.encode(text)
}

const read = async (stream: AsyncIterable<Uint8Array>): Promise<string> => {
  const decoder = new TextDecoder()
  let buffer = ""
  let text = ""
  for await (const bytes of stream) {
    buffer += decoder.decode(bytes, { stream: true })
    let end = buffer.indexOf("\n\n")
    while (end !== -1) {
      const frame = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      const at = frame.indexOf("data: ")
      if (at !== -1) {
        const payload = JSON.parse(frame.slice(at + 6)) as {
          readonly type: string
          readonly delta?: { readonly type?: string; readonly text?: string }
        }
        if (payload.type === "content_block_delta" && payload.delta?.type === "text_delta") text += payload.delta.text ?? ""
        else if (payload.type === "message_stop") return text
      }
      end = buffer.indexOf("\n\n")
    }
  }
  throw new Error("the stream ended before message_stop")
}

const format: Format = {
  name: "Anthropic SSE",
  contentType: "text/event-stream",
  body,
  request: (model) => ({
    path: "/v1/messages",
    headers: {
      "content-type": "application/json",
      accept: "text/event-stream",
      "x-api-key": "sk-ant-bench",
      "anthropic-version": "2023-06-01"
    },
    body: JSON.stringify({ model, max_tokens: 1024, stream: true, messages: [{ role: "user", content: [{ type: "text", text: "go" }] }] })
  }),
  read,
  entry: (baseUrl) => ({
    kind: "anthropic",
    name: "anthropic",
    model: "chunks-1",
    baseUrl,
    apiKey: "sk-ant-bench-not-a-real-key",
    models: { "*": "*" }
  })
}

export default format
