/**
 * What `FlexiAI.layer`'s observability options build: the event hub the router publishes to (always
 * there: without a reader it costs a field read per event site), the observers' fibers, the metrics
 * listener, and the middleware around providers and the router.
 *
 * Internal: configured through `FlexiAI.Options`.
 */
import * as Middleware from "@flexiai/core/Middleware"
import type { ChatProvider } from "@flexiai/core/ChatProvider"
import type { ChatError } from "@flexiai/core/ProviderError"
import * as RouterEvents from "@flexiai/core/RouterEvents"
import * as RouterMetrics from "@flexiai/core/RouterMetrics"
import { Cause, Effect, Scope, Stream } from "effect"
import type { Options } from "../FlexiAI.ts"

/** The hub, with the configured observers and metrics attached, for the life of `scope`. */
export const make = (options: Options, scope: Scope.Scope): Effect.Effect<RouterEvents.Hub> =>
  Effect.gen(function*() {
    const hub = yield* RouterEvents.make(options.events ?? {})
    for (const observer of options.observers ?? []) {
      // subscribed before the layer is done (so no call is missed), then read on a fiber of its own
      const subscription = yield* hub.subscribe
      yield* Stream.runForEach(Stream.fromSubscription(subscription), (event) =>
        observer(event).pipe(
          Effect.catchCause((cause) => Effect.logWarning("FlexiAI observer failed (the call was not affected)", Cause.pretty(cause)))
        )).pipe(Effect.forkIn(scope))
    }
    const metrics = options.metrics
    if (metrics !== undefined && metrics !== false) {
      const context = yield* Effect.context<never>()
      yield* hub.listen(RouterMetrics.makeListener(context, metrics === true ? {} : metrics))
    }
    return hub
  }).pipe(Scope.provide(scope))

/** Provides the hub to `Router.make`, which reads it once. */
export const provideHub = (hub: RouterEvents.Hub) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provideService(effect, RouterEvents.RouterEvents, hub)

/** `service` with `middlewares` around it, or as it is without any. */
export const withMiddleware = (
  service: ChatProvider["Service"],
  middlewares: ReadonlyArray<Middleware.Middleware<ChatError>> | undefined
): ChatProvider["Service"] => (middlewares === undefined ? service : Middleware.provider(service, middlewares))
