/**
 * The `ChatProvider` of the OpenAI-compatible family: options, `make` and `layer`, over the
 * `OpenAiClient` in context. The request and response mapping is `OpenAiCodec`, the stream
 * machine is `OpenAiStream` (on the kit's `StreamDecoder`); both are re-exported here under
 * their former names, so `OpenAiChat.toWire` or `OpenAiChat.step` keep working.
 *
 * What users get wrong: renaming the provider (`name`) relabels every error it raises, at the
 * cost of one extra mapping step per call; leave it as the client's name unless it must differ.
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
import { expectsUsage, fromWire, type Quirks, resolveQuirks, toWire } from "./OpenAiCodec.ts"
import { OpenAiClient } from "./OpenAiClient.ts"
import * as StreamDecoder from "@flexiai/provider/StreamDecoder"
import * as OpenAiStream from "./OpenAiStream.ts"

export {
  expectsUsage,
  finishReason,
  fromWire,
  openAiQuirks,
  type Quirks,
  type ResolvedQuirks,
  resolveQuirks,
  toWire,
  qualifiesForStrict,
  usage,
  type WireResult
} from "./OpenAiCodec.ts"
export { bytesToParts, end, initialState, type Step, step, type StreamContext, type StreamState } from "./OpenAiStream.ts"

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

/** @category models */
export interface Options {
  /** The `ChatProvider` name. Default: the client's name (`"openai"`). */
  readonly name?: string | undefined
  /** Default: the client's `defaultModel`, else `"gpt-4o-mini"`. */
  readonly defaultModel?: string | undefined
  readonly capabilities?: Partial<Capabilities> | undefined
  readonly quirks?: Quirks | undefined
  /**
   * An undecodable stream event fails the stream or is skipped with a warning. Default: the
   * router's `onMalformedEvent` policy for this provider (`fail` unless it says otherwise).
   */
  readonly onMalformedEvent?: "skip" | "fail" | undefined
}

/**
 * What Chat Completions can do: no assistant prefill (a trailing assistant message is not
 * continued). The OpenAI family's descriptors (`OpenAiKind`) declare these too.
 *
 * @category models
 */
export const defaultCapabilities: Capabilities = {
  streaming: true,
  tools: true,
  images: true,
  jsonSchema: true,
  assistantPrefill: false,
  // file content parts: PDFs as `file_data`; no file URLs (the API takes uploaded file ids only)
  files: ["application/pdf"]
}

// ---------------------------------------------------------------------------
// provider
// ---------------------------------------------------------------------------

/** Builds the `ChatProvider` over the `OpenAiClient` in context. @category constructors */
export const make = Effect.fnUntraced(function*(options: Options = {}) {
  const client = yield* OpenAiClient
  const name = options.name ?? client.name
  const defaultModel = options.defaultModel ?? client.defaultModel ?? "gpt-4o-mini"
  const quirks = resolveQuirks(options.quirks)
  const expectUsage = expectsUsage(quirks)
  const onMalformedEvent = options.onMalformedEvent
  const capabilities: Capabilities = { ...defaultCapabilities, ...options.capabilities }

  // the client names errors after itself; a provider renamed here relabels them (and only then
  // pays for the extra error-mapping step on every call and stream)
  const renamed = name !== client.name
  const relabel = (error: ProviderError.ProviderError): ProviderError.ProviderError =>
    error.provider === name ? error : new ProviderError.ProviderError({ ...error, provider: name })

  const prepare = (request: ChatRequest.ChatRequest, stream: boolean) => {
    const model = request.model ?? defaultModel
    const wire = toWire(request, model, { quirks, providerName: name, stream })
    if (wire.unsupported !== undefined) return Effect.fail(ProviderError.make(name, wire.unsupported, { model }))
    const prepared = { model, body: wire.body }
    return wire.dropped.length === 0
      ? Effect.succeed(prepared)
      : Effect.as(
        Effect.logWarning("request fields this provider does not accept were left out", {
          provider: name,
          fields: wire.dropped
        }),
        prepared
      )
  }

  // Combinators rather than a generator: this runs on every call, and each step counts there.
  const chat = (request: ChatRequest.ChatRequest) => {
    const answer = Effect.clockWith((clock) => {
      const started = clock.currentTimeMillisUnsafe()
      return Effect.flatMap(prepare(request, false), ({ body, model }) =>
        Effect.flatMap(client.createChatCompletion(body), (sent) => {
          const latencyMillis = clock.currentTimeMillisUnsafe() - started
          const response = fromWire(sent.completion, { provider: name, model, latencyMillis })
          return response instanceof MalformedResponse
            ? Effect.fail(ProviderError.make(name, response, { model, requestId: sent.requestId }))
            : Effect.succeed(response)
        }))
    })
    return Spans.withSpan(renamed ? Effect.mapError(answer, relabel) : answer, "OpenAiChat.chat", { provider: name })
  }

  // No whole-stream time limit here: a long answer is not a fault. A stream is bounded by the
  // idle timeout between reads (client) and, under the router, by its first-token, idle and
  // deadline policy.
  const stream = (request: ChatRequest.ChatRequest): Stream.Stream<StreamPart.StreamPart, ProviderError.ProviderError> => {
    // A channel transform rather than `Stream.unwrap` over `bytesToParts`: the request is sent
    // when the stream is opened, and the parts pull sits right on the body's pull, without the
    // extra step `unwrap` and `transformPull` each put in front of every pull.
    const parts = Stream.fromChannel(Channel.fromTransform((_, scope: Scope.Scope) =>
      Effect.flatMap(prepare(request, true), ({ body, model }) =>
        Effect.flatMap(Scope.provide(client.streamChatCompletion(body), scope), (accepted) =>
          Effect.map(Channel.toPullScoped(accepted.bytes.channel, scope), (bytes) =>
            StreamDecoder.pullParts(bytes, {
              provider: name,
              model,
              get requestId() {
                return accepted.requestId
              },
              framing: OpenAiStream.framing,
              machine: OpenAiStream.machine({ provider: name, model, expectUsage, mask: client.mask }),
              onMalformedEvent
            }))))))
    return renamed ? Stream.mapError(parts, relabel) : parts
  }

  return ChatProvider.ChatProvider.of({ name, defaultModel, capabilities, chat, stream, listModels: client.listModels })
})

/** A `ChatProvider` over the `OpenAiClient` in context. @category layers */
export const layer = (options: Options = {}): Layer.Layer<ChatProvider.ChatProvider, never, OpenAiClient> =>
  Layer.effect(ChatProvider.ChatProvider, make(options))
