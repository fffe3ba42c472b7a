// A provider package written only for the tests: "echo", a made-up wire format unlike OpenAI's
// (POST /echo/generate { model, prompt, stream? } → { output, model }, or when streaming an NDJSON
// body of { delta } lines ended by { done, model }, with { error } lines for in-band errors). It is
// built the way a real provider package is: the kit's HttpTransport (auth header, status table,
// body cap, masking), its NDJSON framing and generic StreamDecoder with a small state machine, its
// Accumulators, one descriptor, and a MockProviderServer encoder. Nothing in config or flexiai
// knows it: it reaches them only as a descriptor passed in `providers`. The provider README's
// "Writing a provider" walks through this file.
import * as ChatProvider from "@flexiai/core/ChatProvider"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import type * as ChatResponse from "@flexiai/core/ChatResponse"
import * as ProviderError from "@flexiai/core/ProviderError"
import * as Accumulators from "@flexiai/provider/Accumulators"
import * as Auth from "@flexiai/provider/Auth"
import * as HttpTransport from "@flexiai/provider/HttpTransport"
import * as Ndjson from "@flexiai/provider/Ndjson"
import * as ProviderKind from "@flexiai/provider/ProviderKind"
import * as StreamDecoder from "@flexiai/provider/StreamDecoder"
import * as MockEncoder from "@flexiai/testing/MockEncoder"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Duration, Effect, Layer, type Redacted, Schema, Stream } from "effect"

// ---------------------------------------------------------------------------
// codec: the request and the answer on the wire
// ---------------------------------------------------------------------------

/** The request body: the model and the conversation flattened into one prompt. */
export const toWire = (request: ChatRequest.ChatRequest, model: string, stream: boolean) => ({
  model,
  prompt: request.messages
    .map((message) => `${message.role}: ${typeof message.content === "string" ? message.content : ""}`)
    .join("\n"),
  ...(stream ? { stream: true } : {})
})

const Answer = Schema.Struct({ output: Schema.String, model: Schema.String })
const decodeAnswer = Schema.decodeUnknownOption(Schema.fromJsonString(Answer))

/** One NDJSON line of a streamed answer. */
const Line = Schema.Union([
  Schema.Struct({ delta: Schema.String }),
  Schema.Struct({ done: Schema.Literal(true), model: Schema.String }),
  Schema.Struct({ error: Schema.String })
])
const decodeLine = Schema.decodeUnknownOption(Schema.fromJsonString(Line))

const ErrorBody = Schema.Struct({ message: Schema.String })
const decodeErrorBody = Schema.decodeUnknownOption(Schema.fromJsonString(ErrorBody))

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
// stream machine: what differs from every other provider's stream
// ---------------------------------------------------------------------------

// nothing to carry from one line to the next: the decoder keeps the text (for `end` and `lost`)
type StreamState = undefined

const machine = (provider: string): StreamDecoder.Machine<string, StreamState> => ({
  initial: undefined,
  step: (state, line) => {
    const decoded = decodeLine(line)
    if (decoded._tag === "None") return { _tag: "Malformed", message: "undecodable echo line" }
    const event = decoded.value
    if ("delta" in event) return { _tag: "Parts", state, parts: [{ type: "text-delta", text: event.delta }] }
    if ("done" in event) {
      return { _tag: "Parts", state, parts: [Accumulators.finishPart({ finishReason: "stop" }, undefined, provider, event.model)] }
    }
    // an in-band error arrives inside a 200 body: the status it carries is that one
    return { _tag: "Error", reason: Effect.succeed(new ProviderError.ServerError({ message: event.error, status: 200 })) }
  },
  // the body ended without its `done` line: never a complete answer
  end: (_state, text) => ({ _tag: "Interrupted", reason: Accumulators.interrupted(text(), Accumulators.noToolCalls, "the body ended before its done line") }),
  lost: (_state, cause, text) =>
    text() === "" ? undefined : Accumulators.interrupted(text(), Accumulators.noToolCalls, cause)
})

// ---------------------------------------------------------------------------
// provider: the transport does HTTP, auth, statuses, limits and masking
// ---------------------------------------------------------------------------

const capabilities = { streaming: true, tools: false, images: false, jsonSchema: false, assistantPrefill: false }

const make = (options: {
  readonly name: string
  readonly model: string
  readonly baseUrl: string
  readonly apiKey: Redacted.Redacted<string>
  readonly timeouts: ProviderKind.Timeouts
}) =>
  Effect.map(
    HttpTransport.make({
      name: options.name,
      baseUrl: options.baseUrl.replace(/\/+$/, ""),
      auth: Auth.header("x-echo-key", options.apiKey),
      timeouts: {
        firstByte: options.timeouts.firstByte ?? Duration.infinity,
        idle: Duration.infinity,
        total: options.timeouts.total ?? Duration.infinity
      },
      errorBody: (body) => {
        const decoded = decodeErrorBody(body)
        return decoded._tag === "Some" ? { message: decoded.value.message } : undefined
      }
    }),
    (transport): ChatProvider.ChatProvider["Service"] =>
      ChatProvider.ChatProvider.of({
        name: options.name,
        defaultModel: options.model,
        capabilities,
        chat: (request) => {
          const model = request.model ?? options.model
          return Effect.map(
            transport.sendJson("/echo/generate", toWire(request, model, false), {
              decode: (text) => {
                const decoded = decodeAnswer(text)
                return decoded._tag === "Some" ? decoded.value : undefined
              },
              what: "echo answer",
              model
            }),
            (sent) => fromWire(sent.parsed, options.name, 0)
          )
        },
        stream: (request) => {
          const model = request.model ?? options.model
          return Stream.unwrap(Effect.map(
            transport.openStream("/echo/generate", toWire(request, model, true), { model, accept: "application/x-ndjson" }),
            (opened) =>
              StreamDecoder.decode(opened.bytes, {
                provider: options.name,
                model,
                requestId: opened.requestId,
                framing: Ndjson.framing(),
                machine: machine(options.name),
                onMalformedEvent: "fail"
              })
          ))
        }
      })
  )

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
  capabilities,
  listsModels: false,
  layer: (entry) =>
    Layer.effect(
      ChatProvider.ChatProvider,
      make({ name: entry.name, model: entry.model, baseUrl: entry.baseUrl!, apiKey: entry.apiKey!, timeouts: entry.timeouts })
    )
})

// ---------------------------------------------------------------------------
// the mock server's encoder for the format: its faults then work for echo too
// ---------------------------------------------------------------------------

const prompt = (request: MockEncoder.IncomingRequest): string =>
  MockEncoder.isRecord(request.body) && typeof request.body.prompt === "string" ? request.body.prompt : ""

const line = (payload: unknown): string => `${JSON.stringify(payload)}\n`

export const echoEncoder: MockEncoder.Encoder = {
  name: "echo",
  chat: (request) => request.method === "POST" && request.path === "/echo/generate",
  models: () => false,
  modelOf: (request) => MockEncoder.isRecord(request.body) && typeof request.body.model === "string" ? request.body.model : undefined,
  isStream: (request) => MockEncoder.isRecord(request.body) && request.body.stream === true,
  // the server's echo fallback answers with this
  lastUserText: (request) => prompt(request).split("\n").at(-1)?.replace(/^user: /, "") ?? "",
  completion: (answer) => ({ output: answer.pieces.join(""), model: answer.model }),
  frames: (answer) => ({
    head: [],
    content: answer.pieces.map((delta) => line({ delta })),
    tail: [],
    done: line({ done: true, model: answer.model })
  }),
  streamContentType: "application/x-ndjson",
  malformedFrame: "{not json\n",
  errorBody: (_status, error) => ({ message: error.message }),
  errorFrame: (error) => line({ error: error.message }),
  modelList: (models) => ({ models })
}

/** A mock echo server: the built-in encoders plus the echo format. */
export const echoServer = (script: MockProviderServer.Script = {}) =>
  MockProviderServer.make(script, { encoders: [echoEncoder, ...MockProviderServer.encoders] })
