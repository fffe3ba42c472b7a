/**
 * The Anthropic Messages `ChatProvider`: options, `make` and `layer`, over the `AnthropicClient`
 * in context. The mapping is `AnthropicCodec`, the stream machine `AnthropicStream`.
 *
 * Assistant prefill (a trailing assistant message the model continues, which the router's
 * `continue` stream policy relies on) is a capability that depends on the model: Claude 4.6 and
 * later models refuse it ("This model does not support assistant message prefill", see
 * https://platform.claude.com/docs/en/about-claude/models/whats-new-claude-4-6#prefill-removal),
 * and so does any request with extended thinking on. `prefillSupported` says which models take
 * it; `capabilities.assistantPrefill` in the options (or config) overrides it.
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
import { type CacheOptions, fromWire, toWire } from "./AnthropicCodec.ts"
import { AnthropicClient } from "./AnthropicClient.ts"
import * as AnthropicStream from "./AnthropicStream.ts"

/** @category models */
export interface Options {
  /** The `ChatProvider` name. Default: the client's name (`"anthropic"`). */
  readonly name?: string | undefined
  /** Default: the client's `defaultModel`, else `defaultModel` here. */
  readonly defaultModel?: string | undefined
  /** `max_tokens` when a request sets no `maxTokens`. Default `AnthropicCodec.defaultMaxTokens` (4096). */
  readonly maxTokens?: number | undefined
  /** Prompt caching breakpoints on every request (a request's `providerOptions.<name>.cache` wins field by field). */
  readonly cache?: CacheOptions | undefined
  /** Extended thinking on every request, with this token budget (see `AnthropicCodec.WireOptions`); turns prefill off. */
  readonly thinkingBudget?: number | undefined
  /** Merged over `capabilitiesFor(model)`. */
  readonly capabilities?: Partial<Capabilities> | undefined
  /** An undecodable stream event fails the stream or is skipped with a warning. Default: the router's policy. */
  readonly onMalformedEvent?: "skip" | "fail" | undefined
}

/** The model used when neither the request nor the options name one. @category constants */
export const defaultModel = "claude-sonnet-4-5"

/**
 * Whether a model continues a trailing assistant message. Claude 3.x and Claude 4 up to 4.5
 * (Opus 4, 4.1, 4.5; Sonnet 4, 4.5; Haiku 4.5) do; 4.6 and later, 5.x, and model names this does
 * not know do not (a prefill such a model refuses is a 400 that would stop the router, so an
 * unknown model is taken not to: set `capabilities.assistantPrefill` to say otherwise).
 *
 * @category utils
 */
export const prefillSupported = (model: string): boolean => {
  const id = model.replace(/^(?:[a-z]{2,4}\.)?anthropic\./, "")
  if (/^claude-(?:3|instant|2)/.test(id)) return true
  const four = /^claude-(?:opus|sonnet|haiku)-4(?:-(\d{1,2})(?!\d))?/.exec(id)
  if (four === null) return false
  const minor = four[1] === undefined ? 0 : Number(four[1])
  return minor < 6
}

/**
 * What Messages can do, for a model: streaming, tools, images, reasoning; no `json_schema`
 * response format; temperature 0–1; assistant prefill per `prefillSupported`.
 *
 * @category models
 */
export const capabilitiesFor = (model: string): Capabilities => ({
  streaming: true,
  tools: true,
  images: true,
  // document blocks: PDFs (bytes or URL) and plain text
  files: ["application/pdf", "text/plain"],
  fileUrls: true,
  jsonSchema: false,
  assistantPrefill: prefillSupported(model),
  reasoning: true,
  temperature: { min: 0, max: 1 },
  topP: { min: 0, max: 1 }
})

/** Builds the `ChatProvider` over the `AnthropicClient` in context. @category constructors */
export const make = Effect.fnUntraced(function*(options: Options = {}) {
  const client = yield* AnthropicClient
  const name = options.name ?? client.name
  const model = options.defaultModel ?? client.defaultModel ?? defaultModel
  const capabilities: Capabilities = {
    ...capabilitiesFor(model),
    // a request with thinking on refuses a prefill
    ...(options.thinkingBudget === undefined ? {} : { assistantPrefill: false }),
    ...options.capabilities
  }
  const renamed = name !== client.name
  const relabel = (error: ProviderError.ProviderError): ProviderError.ProviderError =>
    error.provider === name ? error : new ProviderError.ProviderError({ ...error, provider: name })

  const prepare = (request: ChatRequest.ChatRequest, stream: boolean) => {
    const requestModel = request.model ?? model
    const wire = toWire(request, requestModel, { providerName: name, stream, maxTokens: options.maxTokens, cache: options.cache, thinkingBudget: options.thinkingBudget })
    if (wire.unsupported !== undefined) return Effect.fail(ProviderError.make(name, wire.unsupported, { model: requestModel }))
    const prepared = { model: requestModel, body: wire.body, prefillTrim: wire.prefillTrim }
    return wire.dropped.length === 0
      ? Effect.succeed(prepared)
      : Effect.as(Effect.logWarning("request fields this provider does not accept were left out", { provider: name, fields: wire.dropped }), prepared)
  }

  const chat = (request: ChatRequest.ChatRequest) => {
    const answer = Effect.clockWith((clock) => {
      const started = clock.currentTimeMillisUnsafe()
      return Effect.flatMap(prepare(request, false), (prepared) =>
        Effect.flatMap(client.createMessage(prepared.body), (sent) => {
          const response = fromWire(sent.parsed, {
            provider: name,
            model: prepared.model,
            latencyMillis: clock.currentTimeMillisUnsafe() - started,
            prefillTrim: prepared.prefillTrim
          })
          return response instanceof MalformedResponse
            ? Effect.fail(ProviderError.make(name, response, { model: prepared.model, requestId: sent.requestId }))
            : Effect.succeed(response)
        }))
    })
    return Spans.withSpan(renamed ? Effect.mapError(answer, relabel) : answer, "AnthropicChat.chat", { provider: name })
  }

  // The request is sent when the stream is opened (a channel transform, as the OpenAI provider
  // does); no whole-stream time limit: the client's idle timeout and the router's policy bound it.
  const stream = (request: ChatRequest.ChatRequest): Stream.Stream<StreamPart.StreamPart, ProviderError.ProviderError> => {
    const parts = Stream.fromChannel(Channel.fromTransform((_, scope: Scope.Scope) =>
      Effect.flatMap(prepare(request, true), (prepared) =>
        Effect.flatMap(Scope.provide(client.streamMessage(prepared.body), scope), (accepted) =>
          Effect.map(Channel.toPullScoped(accepted.bytes.channel, scope), (bytes) =>
            StreamDecoder.pullParts(bytes, {
              provider: name,
              model: prepared.model,
              get requestId() {
                return accepted.requestId
              },
              framing: AnthropicStream.framing,
              machine: AnthropicStream.machine({ provider: name, model: prepared.model, mask: client.mask, prefillTrim: prepared.prefillTrim }),
              onMalformedEvent: options.onMalformedEvent
            }))))))
    return renamed ? Stream.mapError(parts, relabel) : parts
  }

  return ChatProvider.ChatProvider.of({ name, defaultModel: model, capabilities, chat, stream, listModels: client.listModels })
})

/** A `ChatProvider` over the `AnthropicClient` in context. @category layers */
export const layer = (options: Options = {}): Layer.Layer<ChatProvider.ChatProvider, never, AnthropicClient> =>
  Layer.effect(ChatProvider.ChatProvider, make(options))
