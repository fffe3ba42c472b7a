/**
 * Bedrock ConverseStream in the per-format benchmark: AWS event-stream binary frames
 * (`messageStart`, one `contentBlockDelta` per text piece, `contentBlockStop`, `messageStop`,
 * `metadata` with usage), the model in the path (`/model/chunks-<N>/converse-stream`).
 *
 * The raw side reads the frames as a careful user would with the AWS SDK's own codec
 * (`@smithy/eventstream-codec`: both CRCs checked, headers parsed) over undici's body: gather bytes
 * until a frame's announced length has arrived, decode it, parse its JSON, keep `delta.text`.
 * It does not sign (the bench server checks nothing); FlexiAI's side signs every request with
 * SigV4, as it would against AWS, so that cost is in its figure.
 *
 * @since 0.3.0
 */
import { EventStreamCodec } from "@smithy/eventstream-codec"
import type { Format } from "./Format.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const codec = new EventStreamCodec((bytes) => decoder.decode(bytes), (text) => encoder.encode(text))

const frame = (type: string, payload: unknown): Uint8Array =>
  codec.encode({
    headers: {
      ":event-type": { type: "string", value: type },
      ":content-type": { type: "string", value: "application/json" },
      ":message-type": { type: "string", value: "event" }
    },
    body: encoder.encode(JSON.stringify(payload))
  })

const concat = (frames: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(frames.reduce((sum, part) => sum + part.length, 0))
  let at = 0
  for (const part of frames) {
    out.set(part, at)
    at += part.length
  }
  return out
}

const format: Format = {
  name: "Bedrock event-stream",
  contentType: "application/vnd.amazon.eventstream",
  body: (count) =>
    concat([
      frame("messageStart", { role: "assistant" }),
      ...Array.from({ length: count }, (_, index) => frame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: `tok${index} ` } })),
      frame("contentBlockStop", { contentBlockIndex: 0 }),
      frame("messageStop", { stopReason: "end_turn" }),
      frame("metadata", { usage: { inputTokens: 5, outputTokens: count, totalTokens: 5 + count }, metrics: { latencyMs: 1 } })
    ]),
  request: (model) => ({
    path: `/model/${encodeURIComponent(model)}/converse-stream`,
    headers: { "content-type": "application/json", accept: "application/vnd.amazon.eventstream" },
    body: JSON.stringify({ messages: [{ role: "user", content: [{ text: "count" }] }] })
  }),
  read: async (body) => {
    let text = ""
    let buffer: Uint8Array = new Uint8Array(0)
    for await (const chunk of body) {
      if (buffer.length === 0) buffer = chunk
      else {
        const joined = new Uint8Array(buffer.length + chunk.length)
        joined.set(buffer)
        joined.set(chunk, buffer.length)
        buffer = joined
      }
      let at = 0
      while (buffer.length - at >= 4) {
        const length = new DataView(buffer.buffer, buffer.byteOffset + at, 4).getUint32(0)
        if (buffer.length - at < length) break
        const message = codec.decode(buffer.subarray(at, at + length))
        at += length
        if (message.headers[":event-type"]?.value !== "contentBlockDelta") continue
        const event = JSON.parse(decoder.decode(message.body)) as { readonly delta?: { readonly text?: string } }
        if (typeof event.delta?.text === "string") text += event.delta.text
      }
      buffer = at === buffer.length ? new Uint8Array(0) : buffer.slice(at)
    }
    if (buffer.length > 0) throw new Error("the body ended inside a frame")
    return text
  },
  entry: (baseUrl) => ({
    kind: "bedrock",
    name: "bedrock",
    model: "chunks-1",
    baseUrl,
    region: "us-east-1",
    accessKeyId: "AKIAIOSFODNN7EXAMPLE",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    models: { "*": "*" }
  })
}

export default format
