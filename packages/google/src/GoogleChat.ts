/**
 * The `ChatProvider` of Gemini and Vertex AI, over the `GoogleClient` in context: `GoogleCodec`
 * maps requests and answers, `GoogleStream` is the stream machine on the kit's `StreamDecoder`.
 *
 * What users get wrong: a schema outside Gemini's subset (a map, `not`, a tuple) fails the call
 * with `Unsupported` before any request (the router moves on to another provider); set
 * `schemaField: "json"` to send JSON Schemas as they are to models that take them
 * (`responseJsonSchema`, `parametersJsonSchema`).
 *
 * @since 0.1.0
 */
import { Channel, Effect, Layer, Result, Scope, Stream } from "effect"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import type { Capabilities } from "@flexiai/core/ChatProvider"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import * as ProviderError from "@flexiai/core/ProviderError"
import * as Spans from "@flexiai/core/Spans"
import type * as StreamPart from "@flexiai/core/StreamPart"
import * as StreamDecoder from "@flexiai/provider/StreamDecoder"
import * as GoogleCodec from "./GoogleCodec.ts"
import { GoogleClient } from "./GoogleClient.ts"
import * as GoogleStream from "./GoogleStream.ts"

/** @category models */
export interface Options {
  /** Default: the client's name. */
  readonly name?: string | undefined
  /** Default: the client's, else `gemini-2.5-flash`. */
  readonly defaultModel?: string | undefined
  readonly capabilities?: Partial<Capabilities> | undefined
  /** See `GoogleCodec.WireOptions.schemaField`. Default `"gemini"`. */
  readonly schemaField?: "gemini" | "json" | undefined
  /** `generationConfig.thinkingConfig` on every request (models without thinking refuse it). */
  readonly thinking?: GoogleCodec.WireOptions["thinking"]
  readonly onMalformedEvent?: "skip" | "fail" | undefined
}

/**
 * What Gemini can do: streaming, tools, images, JSON Schema output, reasoning (thought parts
 * when `thinking.includeThoughts` is on), no assistant prefill (a trailing model turn is not
 * continued as the same answer), temperature 0–2, up to 5 stop sequences.
 *
 * @category models
 */
export const defaultCapabilities: Capabilities = {
  streaming: true,
  tools: true,
  images: true,
  // file parts as inlineData / fileData: PDFs and text documents
  files: ["application/pdf", "text/*"],
  fileUrls: true,
  jsonSchema: true,
  assistantPrefill: false,
  reasoning: true,
  temperature: { min: 0, max: 2 },
  maxStopSequences: 5
}

/** Builds the provider over the `GoogleClient` in context. @category constructors */
export const make = Effect.fnUntraced(function*(options: Options = {}) {
  const client = yield* GoogleClient
  const name = options.name ?? client.name
  const defaultModel = options.defaultModel ?? client.defaultModel ?? "gemini-2.5-flash"
  const capabilities: Capabilities = { ...defaultCapabilities, ...options.capabilities }
  const wireOptions: GoogleCodec.WireOptions = {
    providerName: name,
    kind: client.kind,
    schemaField: options.schemaField,
    thinking: options.thinking
  }
  const renamed = name !== client.name
  const relabel = (error: ProviderError.ProviderError): ProviderError.ProviderError =>
    error.provider === name ? error : new ProviderError.ProviderError({ ...error, provider: name })

  const prepare = (request: ChatRequest.ChatRequest) => {
    const model = request.model ?? defaultModel
    const wire = GoogleCodec.toWire(request, wireOptions)
    if (Result.isFailure(wire)) return Effect.fail(ProviderError.make(name, wire.failure, { model }))
    const prepared = { model, body: wire.success.body }
    return wire.success.dropped.length === 0 ? Effect.succeed(prepared) : Effect.as(
      Effect.logWarning("request fields Gemini does not take were left out", { provider: name, fields: wire.success.dropped }),
      prepared
    )
  }

  const chat = (request: ChatRequest.ChatRequest) => {
    const answer = Effect.clockWith((clock) => {
      const started = clock.currentTimeMillisUnsafe()
      return Effect.flatMap(prepare(request), ({ body, model }) =>
        Effect.flatMap(client.generateContent(model, body), (sent) => {
          const response = GoogleCodec.fromWire(sent.response, {
            provider: name,
            model,
            latencyMillis: clock.currentTimeMillisUnsafe() - started
          })
          return "_tag" in response
            ? Effect.fail(ProviderError.make(name, response, { model, requestId: sent.requestId }))
            : Effect.succeed(response)
        }))
    })
    return Spans.withSpan(renamed ? Effect.mapError(answer, relabel) : answer, "GoogleChat.chat", { provider: name })
  }

  const stream = (request: ChatRequest.ChatRequest): Stream.Stream<StreamPart.StreamPart, ProviderError.ProviderError> => {
    const parts = Stream.fromChannel(Channel.fromTransform((_, scope: Scope.Scope) =>
      Effect.flatMap(prepare(request), ({ body, model }) =>
        Effect.flatMap(Scope.provide(client.streamGenerateContent(model, body), scope), (accepted) =>
          Effect.map(Channel.toPullScoped(accepted.bytes.channel, scope), (bytes) =>
            StreamDecoder.pullParts(bytes, {
              provider: name,
              model,
              get requestId() {
                return accepted.requestId
              },
              framing: GoogleStream.framing,
              machine: GoogleStream.machine({ provider: name, model, mask: client.mask }),
              onMalformedEvent: options.onMalformedEvent
            }))))))
    return renamed ? Stream.mapError(parts, relabel) : parts
  }

  return ChatProvider.ChatProvider.of({
    name,
    defaultModel,
    capabilities,
    chat,
    stream,
    ...(client.listModels === undefined ? {} : { listModels: client.listModels })
  })
})

/** A `ChatProvider` over the `GoogleClient` in context. @category layers */
export const layer = (options: Options = {}): Layer.Layer<ChatProvider.ChatProvider, never, GoogleClient> =>
  Layer.effect(ChatProvider.ChatProvider, make(options))
