/**
 * Gemini's stream in the per-format benchmark: `streamGenerateContent?alt=sse`, each SSE event a
 * whole `GenerateContentResponse` (one text part per event), framed with CRLF line ends as Google
 * sends them, the last event carrying `finishReason` and the usage. No end marker: the finish
 * event ends the answer. The model sits in the path (`/v1beta/models/chunks-<N>:streamGenerateContent`).
 *
 * @since 0.3.0
 */
import type { Format } from "./Format.ts"

const encoder = new TextEncoder()
const responseId = "bench-gemini-response"

const event = (payload: unknown): string => `data: ${JSON.stringify(payload)}\r\n\r\n`

const chunk = (text: string, extra: Record<string, unknown> = {}) => ({
  candidates: [{ content: { role: "model", parts: [{ text }] }, index: 0, ...extra }],
  modelVersion: "gemini-bench",
  responseId
})

const body = (count: number): Uint8Array => {
  let out = ""
  for (let index = 0; index < count; index++) out += event(chunk(`tok${index} `))
  out += event({
    ...chunk("", { finishReason: "STOP" }),
    usageMetadata: { promptTokenCount: 8, candidatesTokenCount: count, totalTokenCount: 8 + count }
  })
  return encoder.encode(out)
}

/** The floor: split events on the blank line, parse each, join candidate 0's text parts. */
const read = async (stream: AsyncIterable<Uint8Array>): Promise<string> => {
  const decoder = new TextDecoder()
  let buffer = ""
  let text = ""
  for await (const bytes of stream) {
    buffer += decoder.decode(bytes, { stream: true })
    let end: number
    while ((end = buffer.indexOf("\r\n\r\n")) >= 0) {
      const frame = buffer.slice(0, end)
      buffer = buffer.slice(end + 4)
      if (!frame.startsWith("data: ")) continue
      const parsed = JSON.parse(frame.slice(6)) as {
        candidates?: Array<{ content?: { parts?: Array<{ text?: string }> }; finishReason?: string }>
      }
      const candidate = parsed.candidates?.[0]
      for (const part of candidate?.content?.parts ?? []) if (part.text) text += part.text
      if (candidate?.finishReason !== undefined) return text
    }
  }
  return text
}

const format: Format = {
  name: "Gemini SSE",
  contentType: "text/event-stream",
  body,
  request: (model) => ({
    path: `/v1beta/models/${model}:streamGenerateContent?alt=sse`,
    headers: { "content-type": "application/json", accept: "text/event-stream", "x-goog-api-key": "bench-key-not-real" },
    body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }], generationConfig: { candidateCount: 1 } })
  }),
  read,
  entry: (baseUrl) => ({
    kind: "gemini",
    name: "gemini",
    model: "chunks-1",
    models: { "*": "*" },
    baseUrl: `${baseUrl}/v1beta`,
    apiKey: "bench-key-not-real"
  })
}

export default format
