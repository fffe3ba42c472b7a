/**
 * Ollama's native `/api/chat` stream in the per-format benchmark: NDJSON, one JSON object a line
 * (`application/x-ndjson`), each line carrying `message.content`, and a last line with
 * `done: true`, the done reason, the counts and the durations. The model goes in the body, so
 * the bench server reads `chunks-<N>` there. The floor splits lines across reads, parses each and
 * picks out the content, stopping at the done line.
 *
 * @since 0.3.0
 */
import type { Format } from "./Format.ts"

const encoder = new TextEncoder()
const createdAt = "2026-01-01T00:00:00.000000000Z"

const line = (model: string, content: string) =>
  `${JSON.stringify({ model, created_at: createdAt, message: { role: "assistant", content }, done: false })}\n`

const format: Format = {
  name: "Ollama NDJSON",
  contentType: "application/x-ndjson",
  body: (count) => {
    const model = `chunks-${count}`
    let body = ""
    for (let index = 0; index < count; index++) body += line(model, `tok${index} `)
    body += `${
      JSON.stringify({
        model,
        created_at: createdAt,
        message: { role: "assistant", content: "" },
        done: true,
        done_reason: "stop",
        total_duration: 1_000_000 * count,
        load_duration: 1_000_000,
        prompt_eval_count: 5,
        prompt_eval_duration: 500_000,
        eval_count: count,
        eval_duration: 900_000 * count
      })
    }\n`
    return encoder.encode(body)
  },
  request: (model) => ({
    path: "/api/chat",
    headers: { "content-type": "application/json", accept: "application/x-ndjson" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], stream: true })
  }),
  read: async (body) => {
    const decoder = new TextDecoder()
    let pending = ""
    let text = ""
    for await (const bytes of body) {
      // stream: true keeps a character split across reads whole
      pending += decoder.decode(bytes, { stream: true })
      let end = pending.indexOf("\n")
      while (end >= 0) {
        const next = pending.slice(0, end)
        pending = pending.slice(end + 1)
        if (next.trim() !== "") {
          const parsed = JSON.parse(next) as { readonly message?: { readonly content?: string }; readonly done?: boolean }
          text += parsed.message?.content ?? ""
          if (parsed.done === true) return text
        }
        end = pending.indexOf("\n")
      }
    }
    throw new Error("the NDJSON stream ended without its done line")
  },
  entry: (baseUrl) => ({
    kind: "ollama-native",
    name: "ollama",
    model: "chunks-1",
    host: baseUrl,
    apiKey: "bench-key-not-checked",
    models: { "*": "*" }
  })
}

export default format
