/**
 * Gemini on the mock, both URL shapes with one body: the Gemini API's
 * `POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent?alt=sse` (also under
 * `/v1`), Vertex AI's `/v1/projects/{p}/locations/{l}/publishers/google/models/{model}:…` (also
 * `/v1beta1`), and `GET /v1beta/models`. The model is taken from the path. Streams are SSE `data:`
 * events, each a whole `GenerateContentResponse` (`\r\n\r\n` between events, as Google sends);
 * the last one carries `finishReason` and the usage, and there is no end marker. Errors use
 * Google's envelope `{ error: { code, message, status } }` (`ErrorSpec.type` is the status name
 * when it is one, e.g. `RESOURCE_EXHAUSTED`; otherwise, as with the generic constructors' OpenAI
 * types, the status name follows the HTTP status).
 *
 * What people get wrong: Gemini has no `[DONE]`; the finish chunk is the terminator, so
 * `withoutDone` changes nothing here, and a cut before the finish chunk is the interrupted case.
 *
 * @since 0.3.0
 */
import { argumentsObject, type Encoder, type IncomingRequest, isRecord } from "../MockEncoder.ts"
import type { UsageSpec } from "../MockReply.ts"

const geminiPath = /^\/(?:v1beta|v1)\/models\/([^/:]+):(generateContent|streamGenerateContent)$/
const vertexPath = /^\/(?:v1|v1beta1)\/projects\/[^/]+\/locations\/[^/]+\/publishers\/[^/]+\/models\/([^/:]+):(generateContent|streamGenerateContent)$/

const route = (request: IncomingRequest): RegExpExecArray | null => geminiPath.exec(request.path) ?? vertexPath.exec(request.path)

/** Google's status name for an HTTP status (google.rpc.Code). */
const statusName = (status: number): string =>
  ({
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED"
  } as Record<number, string>)[status] ?? "UNKNOWN"

/** A scripted finish reason in Gemini's words: the unified names mapped, Gemini's own kept. */
const finishReason = (finish: string): string =>
  finish === "stop" || finish === "tool_calls"
    ? "STOP"
    : finish === "length"
    ? "MAX_TOKENS"
    : finish === "content_filter"
    ? "SAFETY"
    : finish

const usageMetadata = (usage: UsageSpec) => ({
  promptTokenCount: usage.promptTokens,
  candidatesTokenCount: usage.completionTokens,
  totalTokenCount: usage.promptTokens + usage.completionTokens + (usage.reasoningTokens ?? 0),
  ...(usage.cachedTokens === undefined ? {} : { cachedContentTokenCount: usage.cachedTokens }),
  ...(usage.reasoningTokens === undefined ? {} : { thoughtsTokenCount: usage.reasoningTokens })
})

/** `ErrorSpec.type` when it is a Google status name (upper case); the generic constructors' OpenAI types are not. */
const statusOf = (type: string | undefined, status: number): string =>
  type !== undefined && /^[A-Z][A-Z_]+$/.test(type) ? type : statusName(status)

const event = (payload: unknown): string => `data: ${typeof payload === "string" ? payload : JSON.stringify(payload)}\r\n\r\n`

/** The text of the last `user` turn's text parts. */
const lastUserText = (body: unknown): string => {
  const contents = isRecord(body) && Array.isArray(body.contents) ? body.contents : []
  const last = [...contents].reverse().find((content) =>
    isRecord(content) && content.role !== "model" && Array.isArray(content.parts) &&
    content.parts.some((part) => isRecord(part) && typeof part.text === "string")
  )
  if (!isRecord(last) || !Array.isArray(last.parts)) return ""
  return last.parts.map((part) => (isRecord(part) && typeof part.text === "string" ? part.text : "")).join("")
}

/** Gemini's generateContent / streamGenerateContent, on the Gemini API's and Vertex AI's paths. @category encoders */
export const googleEncoder: Encoder = {
  name: "google",
  chat: (request) => request.method === "POST" && route(request) !== null,
  models: (request) => request.method === "GET" && /^\/(?:v1beta|v1)\/models$/.test(request.path),
  modelOf: (request) => {
    const model = route(request)?.[1]
    return model === undefined ? undefined : decodeURIComponent(model)
  },
  isStream: (request) => route(request)?.[2] === "streamGenerateContent",
  lastUserText: (request) => lastUserText(request.body),
  completion: (answer) => ({
    candidates: [{
      content: {
        role: "model",
        parts: [
          ...(answer.pieces.length === 0 ? [] : [{ text: answer.pieces.join("") }]),
          ...answer.toolCalls.map((call) => ({ functionCall: { name: call.name, args: argumentsObject(call) } }))
        ]
      },
      finishReason: finishReason(answer.finishReason),
      index: 0
    }],
    usageMetadata: usageMetadata(answer.usage),
    modelVersion: answer.model,
    responseId: answer.id
  }),
  frames: (answer) => {
    const chunk = (parts: ReadonlyArray<unknown>, extra: Record<string, unknown> = {}) => ({
      candidates: [{ content: { role: "model", parts }, index: 0, ...extra }],
      modelVersion: answer.model,
      responseId: answer.id
    })
    return {
      head: [],
      content: [
        ...answer.pieces.map((piece) => event(chunk([{ text: piece }]))),
        // Gemini sends each function call whole, in one part
        ...answer.toolCalls.map((call) => event(chunk([{ functionCall: { name: call.name, args: argumentsObject(call) } }])))
      ],
      tail: [event({
        ...chunk([{ text: "" }], { finishReason: finishReason(answer.finishReason) }),
        usageMetadata: usageMetadata(answer.usage)
      })],
      done: undefined
    }
  },
  streamContentType: "text/event-stream",
  malformedFrame: "data: {not json\r\n\r\n",
  errorBody: (status, error) => ({
    error: { code: status, message: error.message, status: statusOf(error.type, status) }
  }),
  errorFrame: (error) =>
    event({
      error: {
        code: typeof error.code === "number" ? error.code : 500,
        message: error.message,
        status: statusOf(error.type, typeof error.code === "number" ? error.code : 500)
      }
    }),
  modelList: (models) => ({
    models: models.map((id) => ({
      name: `models/${id}`,
      displayName: id,
      supportedGenerationMethods: ["generateContent", "countTokens"]
    }))
  }),
  fixtureFrame: (line) => event(line)
}
