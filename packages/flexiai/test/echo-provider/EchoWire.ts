// A provider package written only for the tests: "echo", a made-up JSON wire format unlike
// OpenAI's (POST /echo/generate { model, prompt } → { output, model }), with its own codec,
// client on Effect's HttpClient, descriptor, and MockProviderServer encoder. Nothing in config or
// flexiai knows it: it reaches them only as a descriptor passed in `providers`.
import * as ChatProvider from "@flexiai/core/ChatProvider"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import type * as ChatResponse from "@flexiai/core/ChatResponse"
import * as ProviderError from "@flexiai/core/ProviderError"
import * as ProviderKind from "@flexiai/provider/ProviderKind"
import * as MockEncoder from "@flexiai/testing/MockEncoder"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Effect, Layer, Redacted, Schema, Stream } from "effect"
import { HttpBody, HttpClient, HttpClientRequest } from "effect/http"

// ---------------------------------------------------------------------------
// codec
// ---------------------------------------------------------------------------

/** The request body: the model and the conversation flattened into one prompt. */
export const toWire = (request: ChatRequest.ChatRequest, model: string) => ({
  model,
  prompt: request.messages
    .map((message) => `${message.role}: ${typeof message.content === "string" ? message.content : ""}`)
    .join("\n")
})

const Answer = Schema.Struct({ output: Schema.String, model: Schema.String })

export const fromWire = (answer: typeof Answer.Type, provider: string, latencyMillis: number): ChatResponse.ChatResponse => ({
  id: "",
  text: answer.output,
  toolCalls: [],
  finishReason: "stop",
  provider,
  model: answer.model,
  latencyMillis,
  attempts: []
})

// ---------------------------------------------------------------------------
// provider
// ---------------------------------------------------------------------------

const make = (options: { readonly name: string; readonly model: string; readonly baseUrl: string; readonly apiKey: Redacted.Redacted<string> }) =>
  Effect.map(Effect.service(HttpClient.HttpClient), (client): ChatProvider.ChatProvider["Service"] => {
    const fail = (reason: ProviderError.ProviderErrorReason) => Effect.fail(ProviderError.make(options.name, reason))
    const chat = (request: ChatRequest.ChatRequest) => {
      const model = request.model ?? options.model
      return client.execute(
        HttpClientRequest.post(`${options.baseUrl}/echo/generate`, {
          headers: { "x-echo-key": Redacted.value(options.apiKey) },
          body: HttpBody.text(JSON.stringify(toWire(request, model)), "application/json")
        })
      ).pipe(
        Effect.mapError((error) => ProviderError.make(options.name, new ProviderError.Connection({ message: error.message }))),
        Effect.flatMap((response) =>
          response.status >= 500
            ? fail(new ProviderError.ServerError({ message: `HTTP ${response.status}`, status: response.status }))
            : Effect.flatMap(
              Effect.orElseSucceed(response.json, () => undefined),
              (body) => {
                const decoded = Schema.decodeUnknownExit(Answer)(body)
                return decoded._tag === "Success"
                  ? Effect.succeed(fromWire(decoded.value, options.name, 0))
                  : fail(new ProviderError.MalformedResponse({ message: "not an echo answer" }))
              }
            )
        )
      )
    }
    return ChatProvider.ChatProvider.of({
      name: options.name,
      defaultModel: options.model,
      capabilities: { streaming: true, tools: false, images: false, jsonSchema: false, assistantPrefill: false },
      chat,
      stream: (request) =>
        Stream.unwrap(Effect.map(chat(request), (answer) =>
          Stream.make(
            { type: "text-delta" as const, text: answer.text },
            { type: "finish" as const, finishReason: "stop" as const, provider: answer.provider, model: answer.model }
          )))
    })
  })

/** The descriptor: all config and flexiai ever learn about the kind. */
export const EchoKind = ProviderKind.make({
  kind: "echo",
  description: "The tests' echo provider (a JSON wire format of its own).",
  options: Schema.Struct({ region: Schema.optionalKey(Schema.NonEmptyString) }),
  requiresApiKey: true,
  requiresBaseUrl: true,
  secretFields: [],
  environment: {
    fields: [
      { field: "apiKey", variables: ["ECHO_API_KEY"], secret: true },
      { field: "baseUrl", variables: ["ECHO_BASE_URL"] }
    ],
    detection: { requires: ["apiKey", "baseUrl"], model: "echo-1", priority: 5 }
  },
  capabilities: { streaming: true, tools: false, images: false, jsonSchema: false, assistantPrefill: false },
  listsModels: false,
  layer: (entry) =>
    Layer.effect(
      ChatProvider.ChatProvider,
      make({ name: entry.name, model: entry.model, baseUrl: entry.baseUrl!, apiKey: entry.apiKey! })
    )
})

// ---------------------------------------------------------------------------
// the mock server's encoder for the format
// ---------------------------------------------------------------------------

const prompt = (request: MockEncoder.IncomingRequest): string =>
  MockEncoder.isRecord(request.body) && typeof request.body.prompt === "string" ? request.body.prompt : ""

export const echoEncoder: MockEncoder.Encoder = {
  name: "echo",
  chat: (request) => request.method === "POST" && request.path === "/echo/generate",
  models: () => false,
  modelOf: (request) => MockEncoder.isRecord(request.body) && typeof request.body.model === "string" ? request.body.model : undefined,
  isStream: () => false,
  // the server's echo fallback answers with this
  lastUserText: (request) => prompt(request).split("\n").at(-1)?.replace(/^user: /, "") ?? "",
  completion: (answer) => ({ output: answer.pieces.join(""), model: answer.model }),
  frames: (answer) => ({ head: [], content: answer.pieces.map((piece) => `${piece}\n`), tail: [], done: undefined }),
  streamContentType: "text/plain",
  malformedFrame: "{not json\n",
  errorBody: (status, error) => ({ status, message: error.message }),
  errorFrame: (error) => `${JSON.stringify({ error: error.message })}\n`,
  modelList: (models) => ({ models })
}

/** A mock echo server: the built-in encoders plus the echo format. */
export const echoServer = (script: MockProviderServer.Script = {}) =>
  MockProviderServer.make(script, { encoders: [echoEncoder, ...MockProviderServer.encoders] })
