/**
 * OpenAI Chat Completions on the mock: `POST …/chat/completions` (plain, `/v1`, OpenRouter's
 * `/api/v1`, Azure's `/openai/deployments/{name}`, Foundry's `/models`) and `GET …/models`. Streams
 * are SSE `data:` events ending with `data: [DONE]`; usage comes as its own chunk only when the
 * request asks for it (`stream_options.include_usage`), as OpenAI does.
 *
 * @since 0.1.0
 */
import { argumentFragments, type Encoder, isRecord, lastUserText, sse } from "../MockEncoder.ts"
import type { UsageSpec } from "../MockReply.ts"

const openAiChatPath = /^(?:\/v1|\/api\/v1|\/openai\/deployments\/[^/]+|\/models|\/openai\/v1)?\/chat\/completions$/

/** OpenAI Chat Completions and its compatible family (Azure OpenAI, Foundry, OpenRouter, Ollama /v1). @category encoders */
export const openAiEncoder: Encoder = {
  name: "openai",
  chat: (request) => request.method === "POST" && openAiChatPath.test(request.path),
  models: (request) => request.method === "GET" && /^(?:\/v1|\/api\/v1|\/openai\/v1)?\/models$/.test(request.path),
  modelOf: (request) => {
    const deployment = /^\/openai\/deployments\/([^/]+)\//.exec(request.path)?.[1]
    if (deployment !== undefined) return decodeURIComponent(deployment)
    return isRecord(request.body) && typeof request.body.model === "string" ? request.body.model : undefined
  },
  isStream: (request) => isRecord(request.body) && request.body.stream === true,
  lastUserText: (request) => lastUserText(request.body),
  completion: (answer) => ({
    id: answer.id,
    object: "chat.completion",
    created: answer.created,
    model: answer.model,
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: answer.pieces.length === 0 && answer.toolCalls.length > 0 ? null : answer.pieces.join(""),
        refusal: null,
        ...(answer.toolCalls.length === 0 ? {} : {
          tool_calls: answer.toolCalls.map((call) => ({
            id: call.id,
            type: "function",
            function: { name: call.name, arguments: call.arguments }
          }))
        })
      },
      logprobs: null,
      finish_reason: answer.finishReason
    }],
    usage: openAiUsage(answer.usage)
  }),
  frames: (answer, request) => {
    const chunk = (choices: ReadonlyArray<unknown>, extra: Record<string, unknown> = {}) => ({
      id: answer.id,
      object: "chat.completion.chunk",
      created: answer.created,
      model: answer.model,
      choices,
      ...extra
    })
    const delta = (value: Record<string, unknown>, finish: string | null = null) => [{ index: 0, delta: value, logprobs: null, finish_reason: finish }]
    const toolFrames = answer.toolCalls.flatMap((call, index) => {
      const fragments = argumentFragments(call, answer.argumentChunks)
      return [
        sse(chunk(delta({ tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] }))),
        ...fragments.map((fragment) => sse(chunk(delta({ tool_calls: [{ index, function: { arguments: fragment } }] }))))
      ]
    })
    const options = isRecord(request.body) && isRecord(request.body.stream_options) ? request.body.stream_options : {}
    return {
      head: [sse(chunk(delta({ role: "assistant", content: "" })))],
      content: [...answer.pieces.map((piece) => sse(chunk(delta({ content: piece })))), ...toolFrames],
      tail: [
        sse(chunk(delta({}, answer.finishReason))),
        ...(options.include_usage === true ? [sse(chunk([], { usage: openAiUsage(answer.usage) }))] : [])
      ],
      done: sse("[DONE]")
    }
  },
  streamContentType: "text/event-stream",
  malformedFrame: "data: {not json\n\n",
  errorBody: (_status, error) => ({
    error: { message: error.message, type: error.type ?? "invalid_request_error", param: error.param ?? null, code: error.code ?? null }
  }),
  errorFrame: (error) =>
    sse({ error: { message: error.message, type: error.type ?? "server_error", param: error.param ?? null, code: error.code ?? null } }),
  modelList: (models) => ({
    object: "list",
    data: models.map((id) => ({ id, object: "model", created: 1700000000, owned_by: "mock" }))
  }),
  fixtureFrame: (line) => sse(line),
  fixtureEnd: sse("[DONE]")
}

const openAiUsage = (usage: UsageSpec) => ({
  prompt_tokens: usage.promptTokens,
  completion_tokens: usage.completionTokens,
  total_tokens: usage.promptTokens + usage.completionTokens,
  prompt_tokens_details: { cached_tokens: usage.cachedTokens ?? 0 },
  completion_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 }
})
