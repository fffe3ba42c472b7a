/**
 * Middleware: code that acts on every call of a `ChatProvider`, not only watches it — redact PII
 * from a request, add a system prompt, tag a tenant, refuse a request, rewrite an answer. A
 * middleware may transform the request (`request`), wrap the chat call (`chat`) and wrap the stream
 * (`stream`); each part is optional. Apply it to one provider (before the router sees it) or to the
 * router as a whole (`apply`, `layer`; `FlexiAI.layer`'s `middleware` option does either).
 *
 * **Order**: the first middleware in a list is the outermost: its `request` runs first and its
 * `chat` / `stream` wrap all the others (and the provider).
 *
 * **Errors**: a middleware fails as it says. Its error reaches the caller as it is, not wrapped
 * and not turned into `AllProvidersFailed`. `apply` types it (`ChatError | E`). Where the result
 * must be a `ChatProvider` again (inside a router, or as `FlexiAI.layer`'s), a middleware fails with
 * a `ChatError` — typically a `ProviderError` with an `InvalidRequest` reason, which the router
 * passes on without failing over — so the router can classify it; per provider, a failover-worthy
 * reason (say `Overloaded`) fails over to the next provider as any provider's would.
 *
 * **Gotchas**: observers that only watch belong on `RouterEvents` instead (a failing observer
 * never fails a call; a failing middleware does). A `request` transform on a stream runs when the
 * stream is run, as the provider's own work does.
 *
 * **Example** (adding a system prompt and refusing a card number)
 *
 * ```ts
 * const policy: Middleware.Middleware = {
 *   name: "policy",
 *   request: (request) =>
 *     /\b\d{16}\b/.test(JSON.stringify(request.messages))
 *       ? Effect.fail(ProviderError.make("policy", new InvalidRequest({ message: "card number in prompt" })))
 *       : Effect.succeed({ ...request, messages: [{ role: "system", content: "Be brief." }, ...request.messages] })
 * }
 * const routed = Middleware.layer(Router.layer({ providers }), [policy])
 * ```
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Stream } from "effect"
import * as ChatProvider from "./ChatProvider.ts"
import type { ChatRequest } from "./ChatRequest.ts"
import type { ChatResponse } from "./ChatResponse.ts"
import type { ChatError } from "./ProviderError.ts"
import type { StreamPart } from "./StreamPart.ts"

/** What a middleware is told about the call. @category models */
export interface CallContext {
  /** The name of the provider the middleware wraps (`"router"` for the router as a whole). */
  readonly provider: string
  readonly operation: "chat" | "stream"
}

/**
 * A middleware. `E` is what it may fail with, beyond what the provider fails with.
 *
 * @category models
 */
export interface Middleware<E = never> {
  /** For logs and docs. */
  readonly name: string
  /** Replaces the request before it goes on (both `chat` and `stream`). */
  readonly request?: ((request: ChatRequest, context: CallContext) => Effect.Effect<ChatRequest, E>) | undefined
  /**
   * Wraps the chat call: call `next` (with this or another request) or answer without it. `next`
   * is typed as failing like the provider; the errors of middlewares inside this one pass through
   * it as they are (typing them there would make `Middleware<never>` unusable as a `Middleware<E>`).
   */
  readonly chat?:
    | ((
      next: (request: ChatRequest) => Effect.Effect<ChatResponse, ChatError>,
      request: ChatRequest,
      context: CallContext
    ) => Effect.Effect<ChatResponse, ChatError | E>)
    | undefined
  /** Wraps the stream: transform `next`'s parts, or stream something else (`next` as for `chat`). */
  readonly stream?:
    | ((
      next: (request: ChatRequest) => Stream.Stream<StreamPart, ChatError>,
      request: ChatRequest,
      context: CallContext
    ) => Stream.Stream<StreamPart, ChatError | E>)
    | undefined
}

/** A `ChatProvider` whose calls may also fail with `E` (what `apply` returns). @category models */
export interface Wrapped<E> extends Omit<ChatProvider.ChatProvider["Service"], "chat" | "stream"> {
  readonly chat: (request: ChatRequest) => Effect.Effect<ChatResponse, ChatError | E>
  readonly stream: (request: ChatRequest) => Stream.Stream<StreamPart, ChatError | E>
}

/**
 * `provider` with `middlewares` around its `chat` and `stream` (the first outermost). Name,
 * models, capabilities and `listModels` are kept.
 *
 * @category combinators
 */
export const apply = <E>(
  provider: ChatProvider.ChatProvider["Service"] | Wrapped<E>,
  middlewares: ReadonlyArray<Middleware<E>>
): Wrapped<E> => {
  let chat: Wrapped<E>["chat"] = provider.chat
  let stream: Wrapped<E>["stream"] = provider.stream
  const chatContext: CallContext = { provider: provider.name, operation: "chat" }
  const streamContext: CallContext = { provider: provider.name, operation: "stream" }
  for (let index = middlewares.length - 1; index >= 0; index--) {
    const middleware = middlewares[index]!
    // typed as the provider's for `next` (see `Middleware.chat`)
    const innerChat = chat as ChatProvider.ChatProvider["Service"]["chat"]
    const innerStream = stream as ChatProvider.ChatProvider["Service"]["stream"]
    const transform = middleware.request
    const wrapChat = middleware.chat
    const wrapStream = middleware.stream
    const runChat = wrapChat === undefined ? innerChat : (request: ChatRequest) => wrapChat(innerChat, request, chatContext)
    const runStream = wrapStream === undefined
      ? innerStream
      : (request: ChatRequest) => wrapStream(innerStream, request, streamContext)
    chat = transform === undefined ? runChat : (request) => Effect.flatMap(transform(request, chatContext), runChat)
    stream = transform === undefined
      ? runStream
      : (request) => Stream.unwrap(Effect.map(transform(request, streamContext), runStream))
  }
  return { ...provider, chat, stream }
}

/**
 * `apply` for middlewares that fail with `ChatError` only: the result is a `ChatProvider` again,
 * to put in a router or provide as one.
 *
 * @category combinators
 */
export const provider = (
  service: ChatProvider.ChatProvider["Service"],
  middlewares: ReadonlyArray<Middleware<ChatError>>
): ChatProvider.ChatProvider["Service"] =>
  middlewares.length === 0 ? service : ChatProvider.ChatProvider.of(apply(service, middlewares))

/**
 * A layer's `ChatProvider` (one provider, or a router) with `middlewares` around it; the layer's
 * other services pass through.
 *
 * @category layers
 */
export const layer = <ROut, E, R>(
  self: Layer.Layer<ROut | ChatProvider.ChatProvider, E, R>,
  middlewares: ReadonlyArray<Middleware<ChatError>>
): Layer.Layer<ROut | ChatProvider.ChatProvider, E, R> =>
  Layer.effectContext(
    Effect.map(Layer.build(self), (context) =>
      Context.add(context, ChatProvider.ChatProvider, provider(Context.get(context, ChatProvider.ChatProvider), middlewares)))
  )
