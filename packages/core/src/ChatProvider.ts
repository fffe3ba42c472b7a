/**
 * The one service every provider supplies: `chat` for a complete answer, `stream` for parts as
 * they arrive. A provider is a `Layer` that provides it; the failover router is one too, so code
 * written against `ChatProvider` runs the same on one provider, on a router over many, and on
 * `TestChatProvider` in a spec.
 *
 * The accessors `chat` and `stream` take a prompt, a message list or a whole request, validate it
 * with the `ChatRequest` schema (bad input fails with `InvalidRequest` before any call) and run it
 * on the `ChatProvider` in context:
 *
 * ```ts
 * Effect.runPromise(chat("hi").pipe(Effect.provide(layer)))
 * ```
 *
 * @since 0.1.0
 */
import { Channel, Context, Effect, type Scope, Stream } from "effect"
import * as CapabilitiesModule from "./Capabilities.ts"
import * as ChatRequest from "./ChatRequest.ts"
import type { ChatResponse } from "./ChatResponse.ts"
import type { ChatError, ProviderError } from "./ProviderError.ts"
import type { StreamPart } from "./StreamPart.ts"

/**
 * What a provider can do (flags) and which parameter values it takes (limits): see
 * `Capabilities.ts`. Re-exported here, where providers declare it.
 *
 * @category models
 */
export type Capabilities = CapabilitiesModule.Capabilities

/** @category models */
export const allCapabilities: Capabilities = CapabilitiesModule.all

/**
 * A chat provider.
 *
 * - `chat` fails with a `ProviderError` (or, for the router, `AllProvidersFailed`).
 * - `stream` emits content parts and ends with exactly one `finish` part; a stream cut before its
 *   finish fails with `StreamInterrupted` instead of ending quietly.
 *
 * @category services
 */
export class ChatProvider extends Context.Service<ChatProvider, {
  /** Unique among the providers of one router: circuits, status and attempts are keyed by it. */
  readonly name: string
  /** The model used when a request names none. */
  readonly defaultModel: string
  readonly capabilities: Capabilities
  readonly chat: (request: ChatRequest.ChatRequest) => Effect.Effect<ChatResponse, ChatError>
  readonly stream: (request: ChatRequest.ChatRequest) => Stream.Stream<StreamPart, ChatError>
  /**
   * The models the provider's API lists, where it has such a list (absent for providers without
   * one): used by health probes and model listings, which must not go through a chat call. A
   * list that says more about a model (a gateway's: its context window, what it can do) keeps it.
   */
  readonly listModels?: Effect.Effect<ReadonlyArray<ListedModel>, ProviderError> | undefined
}>()("@flexiai/core/ChatProvider") {}

/** One model of a provider's list. @category models */
export interface ListedModel {
  readonly id: string
  readonly ownedBy?: string | undefined
  /** Context window in tokens, where the list says. */
  readonly contextWindow?: number | undefined
  /** What the model can do, as the list names it (`tools`, `vision`, …), where it says. */
  readonly capabilities?: ReadonlyArray<string> | undefined
}

/**
 * Sends a prompt, messages or a request to the `ChatProvider` in context and waits for the answer.
 *
 * @category accessors
 */
export const chat = (input: ChatRequest.ChatInput): Effect.Effect<ChatResponse, ChatError, ChatProvider> =>
  Effect.flatMap(ChatRequest.decode(input), (request) => ChatProvider.use((provider) => provider.chat(request)))

/**
 * Streams the answer to a prompt, messages or a request from the `ChatProvider` in context.
 *
 * @category accessors
 */
export const stream = (input: ChatRequest.ChatInput): Stream.Stream<StreamPart, ChatError, ChatProvider> =>
  // A channel transform rather than `Stream.unwrap`: the provider's pull is handed out as it is,
  // without the step `unwrap` puts in front of every pull (and its setup under a provided scope).
  Stream.fromChannel(Channel.fromTransform((_, scope: Scope.Scope) =>
    Effect.flatMap(ChatRequest.decode(input), (request) =>
      ChatProvider.use((provider) => Channel.toPullScoped(provider.stream(request).channel, scope)))
  ))
