/**
 * The `ChatProvider` for Bedrock Converse, over the `BedrockClient` in context: `chat` is one
 * `converse` call, `stream` one `converse-stream` call decoded by the kit's `StreamDecoder` with
 * `BedrockStream`'s machine.
 *
 * Latency: Bedrock reports its own `metrics.latencyMs` (model time, without the network); it is
 * kept as it came in `providerMetadata.bedrock.metrics` (on the response, and on a stream's finish
 * part) and on the call's span as `bedrock.latency_ms`.
 *
 * @since 0.2.0
 */
import { Channel, Effect, Layer, Scope, Stream } from "effect"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import type { Capabilities } from "@flexiai/core/ChatProvider"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import * as ProviderError from "@flexiai/core/ProviderError"
import { MalformedResponse } from "@flexiai/core/ProviderError"
import * as Spans from "@flexiai/core/Spans"
import type * as StreamPart from "@flexiai/core/StreamPart"
import * as StreamDecoder from "@flexiai/provider/StreamDecoder"
import { BedrockClient } from "./BedrockClient.ts"
import { fromWire, toWire } from "./BedrockCodec.ts"
import * as BedrockStream from "./BedrockStream.ts"

/** @category models */
export interface Options {
  /** The `ChatProvider` name. Default: the client's name (`"bedrock"`). */
  readonly name?: string | undefined
  /** Default: the client's `defaultModel`, else `"us.amazon.nova-micro-v1:0"`. */
  readonly defaultModel?: string | undefined
  readonly capabilities?: Partial<Capabilities> | undefined
  /** An undecodable stream event fails the stream or is skipped with a warning. Default: the router's policy. */
  readonly onMalformedEvent?: "skip" | "fail" | undefined
}

/**
 * What Converse can do across its models: tools, images, reasoning (models that think), assistant
 * prefill (a trailing assistant turn is continued); no JSON-schema response format; temperature
 * and topP 0–1; at most 4 stop sequences as core allows. A model may take less (a text-only
 * model refuses images with a `ValidationException`).
 *
 * @category models
 */
export const defaultCapabilities: Capabilities = {
  streaming: true,
  tools: true,
  images: true,
  jsonSchema: false,
  assistantPrefill: true,
  reasoning: true,
  temperature: { min: 0, max: 1 },
  topP: { min: 0, max: 1 },
  // document blocks by bytes (no URLs: Converse takes S3 locations only)
  files: ["application/pdf", "text/csv", "application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "text/html", "text/plain", "text/markdown"]
}

/** The default model: Amazon Nova Micro through the US cross-region inference profile. @category constants */
export const fallbackModel = "us.amazon.nova-micro-v1:0"

/** Builds the `ChatProvider` over the `BedrockClient` in context. @category constructors */
export const make = Effect.fnUntraced(function*(options: Options = {}) {
  const client = yield* BedrockClient
  const name = options.name ?? client.name
  const defaultModel = options.defaultModel ?? client.defaultModel ?? fallbackModel
  const capabilities: Capabilities = { ...defaultCapabilities, ...options.capabilities }
  const onMalformedEvent = options.onMalformedEvent
  const renamed = name !== client.name
  const relabel = (error: ProviderError.ProviderError): ProviderError.ProviderError =>
    error.provider === name ? error : new ProviderError.ProviderError({ ...error, provider: name })

  const prepare = (request: ChatRequest.ChatRequest) => {
    const model = request.model ?? defaultModel
    const wire = toWire(request, { providerName: name })
    if (wire.unsupported !== undefined) return Effect.fail(ProviderError.make(name, wire.unsupported, { model }))
    const prepared = { model, body: wire.body }
    return wire.dropped.length === 0
      ? Effect.succeed(prepared)
      : Effect.as(Effect.logWarning("request fields Bedrock Converse does not take were left out", { provider: name, fields: wire.dropped }), prepared)
  }

  const chat = (request: ChatRequest.ChatRequest) => {
    const answer = Effect.clockWith((clock) => {
      const started = clock.currentTimeMillisUnsafe()
      return Effect.flatMap(prepare(request), ({ body, model }) =>
        Effect.flatMap(client.converse(model, body), (sent) => {
          const latencyMillis = clock.currentTimeMillisUnsafe() - started
          const response = fromWire(sent.parsed, { provider: name, model, latencyMillis, id: sent.requestId })
          if (response instanceof MalformedResponse) return Effect.fail(ProviderError.make(name, response, { model, requestId: sent.requestId }))
          const metrics = sent.parsed.metrics
          const latencyMs = metrics?.latencyMs
          const kept = metrics == null ? response : { ...response, providerMetadata: { ...response.providerMetadata, bedrock: { metrics } } }
          return latencyMs == null ? Effect.succeed(kept) : Effect.as(Effect.annotateCurrentSpan("bedrock.latency_ms", latencyMs), kept)
        }))
    })
    return Spans.withSpan(renamed ? Effect.mapError(answer, relabel) : answer, "BedrockChat.chat", { provider: name })
  }

  const stream = (request: ChatRequest.ChatRequest): Stream.Stream<StreamPart.StreamPart, ProviderError.ProviderError> => {
    const parts = Stream.fromChannel(Channel.fromTransform((_, scope: Scope.Scope) =>
      Effect.flatMap(prepare(request), ({ body, model }) =>
        Effect.flatMap(Scope.provide(client.converseStream(model, body), scope), (accepted) =>
          Effect.map(Channel.toPullScoped(accepted.bytes.channel, scope), (bytes) =>
            StreamDecoder.pullParts(bytes, {
              provider: name,
              model,
              get requestId() {
                return accepted.requestId
              },
              framing: BedrockStream.framing,
              machine: BedrockStream.machine({ provider: name, model, mask: client.mask }),
              onMalformedEvent
            }))))))
    return renamed ? Stream.mapError(parts, relabel) : parts
  }

  return ChatProvider.ChatProvider.of({ name, defaultModel, capabilities, chat, stream })
})

/** A `ChatProvider` over the `BedrockClient` in context. @category layers */
export const layer = (options: Options = {}): Layer.Layer<ChatProvider.ChatProvider, never, BedrockClient> =>
  Layer.effect(ChatProvider.ChatProvider, make(options))
