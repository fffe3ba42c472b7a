/**
 * OpenAI Chat Completions SSE, the format `pnpm bench` measures: here as the reference row, so the
 * per-format figures can be read against the main benchmark's.
 *
 * @since 0.3.0
 */
import type { Format } from "./Format.ts"

/** One Chat Completions chunk event (also the bench server's `stall` opening). */
export const chunk = (delta: object, finish: string | null): string =>
  `data: ${
    JSON.stringify({
      id: "chatcmpl-bench",
      object: "chat.completion.chunk",
      created: 1,
      model: "bench",
      choices: [{ index: 0, delta, finish_reason: finish }]
    })
  }\n\n`

const format: Format = {
  name: "OpenAI SSE",
  contentType: "text/event-stream",
  body: (count) => {
    let body = chunk({ role: "assistant", content: "" }, null)
    for (let index = 0; index < count; index++) body += chunk({ content: `tok${index} ` }, null)
    body += chunk({}, "stop")
    body += `data: ${
      JSON.stringify({
        id: "chatcmpl-bench",
        object: "chat.completion.chunk",
        created: 1,
        model: "bench",
        choices: [],
        usage: { prompt_tokens: 5, completion_tokens: count, total_tokens: 5 + count }
      })
    }\n\n`
    return new TextEncoder().encode(`${body}data: [DONE]\n\n`)
  },
  request: (model) => ({
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json", authorization: "Bearer sk-bench" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hello" }], stream: true })
  }),
  read: async (body) => {
    const decoder = new TextDecoder()
    let buffer = ""
    let text = ""
    for await (const bytes of body) {
      buffer += decoder.decode(bytes, { stream: true })
      let end: number
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        if (!event.startsWith("data: ")) continue
        const data = event.slice(6)
        if (data === "[DONE]") return text
        const parsed = JSON.parse(data) as { choices: Array<{ delta?: { content?: string } }> }
        const content = parsed.choices[0]?.delta?.content
        if (content) text += content
      }
    }
    return text
  },
  entry: (baseUrl) => ({ kind: "openai-compatible", name: "bench", model: "chunks-1", models: { "*": "*" }, baseUrl: `${baseUrl}/v1`, apiKey: "sk-bench" })
}

export default format
