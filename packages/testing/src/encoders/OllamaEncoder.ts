/**
 * Ollama's native API on the mock: `POST /api/chat` and `GET /api/tags`. Streams are NDJSON (one
 * JSON object a line, `application/x-ndjson`): a line per content chunk, tool calls whole in one
 * line (Ollama does not stream arguments), and a last line with `done: true`, the done reason and
 * the token counts.
 *
 * What people get wrong: Ollama streams unless the request says `"stream": false`, and its
 * terminator is that `done: true` line, which `withoutDone` drops.
 *
 * @since 0.1.0
 */
import { argumentsObject, type Encoder, isRecord, lastUserText } from "../MockEncoder.ts"

const line = (payload: unknown): string => `${JSON.stringify(payload)}\n`
const createdAt = (seconds: number) => new Date(seconds * 1000).toISOString()
const doneReason = (finish: string) => (finish === "tool_calls" ? "stop" : finish)

/** Ollama's native chat (`/api/chat`), streamed as NDJSON. @category encoders */
export const ollamaEncoder: Encoder = {
  name: "ollama",
  chat: (request) => request.method === "POST" && request.path === "/api/chat",
  models: (request) => request.method === "GET" && request.path === "/api/tags",
  modelOf: (request) => (isRecord(request.body) && typeof request.body.model === "string" ? request.body.model : undefined),
  isStream: (request) => !(isRecord(request.body) && request.body.stream === false),
  lastUserText: (request) => lastUserText(request.body),
  completion: (answer) => ({
    model: answer.model,
    created_at: createdAt(answer.created),
    message: {
      role: "assistant",
      content: answer.pieces.join(""),
      ...(answer.toolCalls.length === 0 ? {} : {
        tool_calls: answer.toolCalls.map((call) => ({ function: { name: call.name, arguments: argumentsObject(call) } }))
      })
    },
    done: true,
    done_reason: doneReason(answer.finishReason),
    prompt_eval_count: answer.usage.promptTokens,
    eval_count: answer.usage.completionTokens
  }),
  frames: (answer) => {
    const chunk = (message: Record<string, unknown>) =>
      line({ model: answer.model, created_at: createdAt(answer.created), message: { role: "assistant", ...message }, done: false })
    return {
      head: [],
      content: [
        ...answer.pieces.map((content) => chunk({ content })),
        ...(answer.toolCalls.length === 0 ? [] : [chunk({
          content: "",
          tool_calls: answer.toolCalls.map((call) => ({ function: { name: call.name, arguments: argumentsObject(call) } }))
        })])
      ],
      tail: [],
      done: line({
        model: answer.model,
        created_at: createdAt(answer.created),
        message: { role: "assistant", content: "" },
        done: true,
        done_reason: doneReason(answer.finishReason),
        prompt_eval_count: answer.usage.promptTokens,
        eval_count: answer.usage.completionTokens
      })
    }
  },
  streamContentType: "application/x-ndjson",
  malformedFrame: "{not json\n",
  errorBody: (_status, error) => ({ error: error.message }),
  errorFrame: (error) => line({ error: error.message }),
  modelList: (models) => ({
    models: models.map((name) => ({ name, model: name, modified_at: "2026-01-01T00:00:00Z", size: 0, digest: "", details: {} }))
  }),
  fixtureFrame: (text) => `${text}\n`
}
