/**
 * The `ChatProvider` for Ollama's native `/api/chat`: options, `make` and `layer`, over the
 * `OllamaClient` in context. The mapping is `OllamaCodec`, the stream machine `OllamaStream` (on
 * the kit's `StreamDecoder` and NDJSON framing).
 *
 * Per-provider defaults the request schema has no field for go in `Options`: `keepAlive`, `think`
 * (reasoning output as `reasoning-delta` parts), `numCtx`, `topK`. A request can still set any
 * wire field through `providerOptions[<provider name>]` (its `options` merge into `options`).
 *
 * Ollama's durations (load, prompt evaluation, generation) are kept as it sent them (nanoseconds)
 * in `providerMetadata.ollama` of the response and of a stream's finish part, and a `chat` call
 * also puts them on its span (`ollama.*_duration_ms` attributes; `OllamaCodec.timings`).
 *
 * @since 0.1.0
 */
import { Channel, Effect, Layer, Scope, Stream } from "effect"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import * as ProviderError from "@flexiai/core/ProviderError"
import * as Spans from "@flexiai/core/Spans"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import type * as StreamPart from "@flexiai/core/StreamPart"
import type { Capabilities } from "@flexiai/core/ChatProvider"
import { MalformedResponse } from "@flexiai/core/ProviderError"
import * as StreamDecoder from "@flexiai/provider/StreamDecoder"
import * as OllamaCodec from "./OllamaCodec.ts"
import { OllamaClient } from "./OllamaClient.ts"
import type * as OllamaSchema from "./OllamaSchema.ts"
import * as OllamaStream from "./OllamaStream.ts"

/** @category models */
export interface Options {
  /** The `ChatProvider` name. Default: the client's name (`"ollama"`). */
  readonly name?: string | undefined
  /** Default: the client's `defaultModel`, else `"llama3.2"`. */
  readonly defaultModel?: string | undefined
  readonly capabilities?: Partial<Capabilities> | undefined
  /** `keep_alive` on every request: `"5m"`, `"1h"`, seconds, `0` (unload after the call), `-1` (keep). Default: the server's. */
  readonly keepAlive?: string | number | undefined
  /** `think` on every request: reasoning as its own parts (`true`, or a level for gpt-oss). Default: the model's. */
  readonly think?: OllamaSchema.Think | undefined
  /** `options.num_ctx`: the context window to load the model with. Default: the server's. */
  readonly numCtx?: number | undefined
  /** `options.top_k`. Default: the model's. */
  readonly topK?: number | undefined
  /** An undecodable stream line fails the stream or is skipped with a warning. Default: the router's policy. */
  readonly onMalformedEvent?: "skip" | "fail" | undefined
}

/**
 * What the native API can do: streaming, tools, images (base64), JSON Schema output (`format`) and
 * reasoning (`think`); no assistant prefill is promised (templates differ per model). Whether a
 * given model has tools or vision is `OllamaClient.show`'s answer (`OllamaCodec.capabilitiesOf`).
 *
 * @category models
 */
export const defaultCapabilities: Capabilities = {
  streaming: true,
  tools: true,
  images: true,
  jsonSchema: true,
  assistantPrefill: false,
  reasoning: true
}

/** Builds the `ChatProvider` over the `OllamaClient` in context. @category constructors */
export const make = Effect.fnUntraced(function*(options: Options = {}) {
  const client = yield* OllamaClient
  const name = options.name ?? client.name
  const defaultModel = options.defaultModel ?? client.defaultModel ?? "llama3.2"
  const capabilities: Capabilities = { ...defaultCapabilities, ...options.capabilities }
  const defaults: OllamaCodec.Defaults = {
    keepAlive: options.keepAlive,
    think: options.think,
    numCtx: options.numCtx,
    topK: options.topK
  }
  const onMalformedEvent = options.onMalformedEvent
  const renamed = name !== client.name
  const relabel = (error: ProviderError.ProviderError): ProviderError.ProviderError =>
    error.provider === name ? error : new ProviderError.ProviderError({ ...error, provider: name })

  const prepare = (request: ChatRequest.ChatRequest, stream: boolean) => {
    const model = request.model ?? defaultModel
    const wire = OllamaCodec.toWire(request, model, { stream, defaults, providerName: name })
    if (wire.unsupported !== undefined) return Effect.fail(ProviderError.make(name, wire.unsupported, { model }))
    const prepared = { body: wire.body, model }
    return wire.dropped.length === 0
      ? Effect.succeed(prepared)
      : Effect.as(Effect.logWarning("request fields this provider does not accept were left out", { provider: name, fields: wire.dropped }), prepared)
  }

  const chat = (request: ChatRequest.ChatRequest) => {
    const answer = Effect.clockWith((clock) => {
      const started = clock.currentTimeMillisUnsafe()
      return Effect.flatMap(prepare(request, false), ({ body, model }) =>
        Effect.flatMap(client.chat(body), (sent) => {
          const response = OllamaCodec.fromWire(sent.parsed, { provider: name, model, latencyMillis: clock.currentTimeMillisUnsafe() - started })
          return response instanceof MalformedResponse
            ? Effect.fail(ProviderError.make(name, response, { model, requestId: sent.requestId }))
            : Effect.as(Effect.annotateCurrentSpan(OllamaCodec.timingAttributes(OllamaCodec.timings(sent.parsed))), withDurations(response, sent.parsed))
        }))
    })
    return Spans.withSpan(renamed ? Effect.mapError(answer, relabel) : answer, "OllamaChat.chat", { provider: name })
  }

  // No whole-stream time limit: a long answer is not a fault (the client's idle limit and the
  // router's stream policy bound it).
  const stream = (request: ChatRequest.ChatRequest): Stream.Stream<StreamPart.StreamPart, ProviderError.ProviderError> => {
    const parts = Stream.fromChannel(Channel.fromTransform((_, scope: Scope.Scope) =>
      Effect.flatMap(prepare(request, true), ({ body, model }) =>
        Effect.flatMap(Scope.provide(client.streamChat(body), scope), (accepted) =>
          Effect.map(Channel.toPullScoped(accepted.bytes.channel, scope), (bytes) =>
            StreamDecoder.pullParts(bytes, {
              provider: name,
              model,
              get requestId() {
                return accepted.requestId
              },
              framing: OllamaStream.framing,
              machine: OllamaStream.machine({ provider: name, model, mask: client.mask }),
              onMalformedEvent
            }))))))
    return renamed ? Stream.mapError(parts, relabel) : parts
  }

  return ChatProvider.ChatProvider.of({ name, defaultModel, capabilities, chat, stream, listModels: client.listModels })
})

/** A `ChatProvider` over the `OllamaClient` in context. @category layers */
export const layer = (options: Options = {}): Layer.Layer<ChatProvider.ChatProvider, never, OllamaClient> =>
  Layer.effect(ChatProvider.ChatProvider, make(options))

const withDurations = <A extends { readonly providerMetadata?: Readonly<Record<string, unknown>> | undefined }>(answer: A, chunk: OllamaSchema.ChatChunk): A => {
  const durations = OllamaCodec.durationsMetadata(chunk)
  return durations === undefined ? answer : { ...answer, providerMetadata: { ...answer.providerMetadata, ollama: durations } }
}
