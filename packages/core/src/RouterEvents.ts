/**
 * Where the router publishes its events (`RouterEvent`): a `PubSub` users subscribe to, plus
 * synchronous listeners for in-process consumers such as `RouterMetrics`. Provide `RouterEvents`
 * where a router is built (`Router.make` reads it once, when it is built); `FlexiAI.layer` does.
 *
 * **Nothing when nobody listens.** The router builds a call's events only if `active` was true
 * when the call started: some stream is subscribed or some listener registered. Otherwise a call
 * costs one comparison per event site, and a router built without the service not even that.
 *
 * **A slow observer never slows a call.** The `PubSub` is *sliding*: publishing never waits, and
 * a subscriber that falls more than `capacity` events behind loses the oldest ones (it keeps the
 * most recent, which is what a dashboard or a log wants). A bounded PubSub would make the router
 * wait for the slowest subscriber; a dropping one would keep stale events and lose fresh ones.
 * A listener is called synchronously on the router's fiber: it must be quick; one that throws has
 * its error caught and counted (`listenerFailures`), and the call goes on.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, PubSub, type Scope, Stream } from "effect"
import type { RouterEvent } from "./RouterEvent.ts"

/** A synchronous consumer of every event. Must not block; a throw is caught and counted. @category models */
export type Listener = (event: RouterEvent) => void

/** The hub the router publishes to. @category models */
export interface Hub {
  /** Whether anyone listens: the router builds events only while this is true. */
  readonly active: boolean
  /** Publishes one event to subscribers and listeners. Never waits. */
  readonly emit: (event: RouterEvent) => void
  /** Every event from now on, until the stream's scope closes. */
  readonly events: Stream.Stream<RouterEvent>
  /** A subscription for the life of the scope (for a consumer that must not miss events published after it returns). */
  readonly subscribe: Effect.Effect<PubSub.Subscription<RouterEvent>, never, Scope.Scope>
  /** Registers a synchronous listener; the effect's scope removes it. */
  readonly listen: (listener: Listener) => Effect.Effect<void, never, Scope.Scope>
  /** How many times a listener threw. */
  readonly listenerFailures: () => number
}

/** @category services */
export class RouterEvents extends Context.Service<RouterEvents, Hub>()("@flexiai/core/RouterEvents") {}

/** Options of `make`. @category models */
export interface Options {
  /** Events a subscriber may fall behind before it loses the oldest. Default 1024. */
  readonly capacity?: number | undefined
}

/** A new hub, its `PubSub` shut down with the scope. @category constructors */
export const make = (options: Options = {}): Effect.Effect<Hub, never, Scope.Scope> =>
  Effect.gen(function*() {
    const pubsub = yield* Effect.acquireRelease(PubSub.sliding<RouterEvent>(options.capacity ?? 1024), PubSub.shutdown)
    let subscribers = 0
    let failures = 0
    const listeners: Array<Listener> = []
    const hub: { -readonly [K in keyof Hub]: Hub[K] } = {
      active: false,
      emit: (event: RouterEvent) => {
        for (const listener of listeners) {
          try {
            listener(event)
          } catch {
            failures++
          }
        }
        // a full sliding PubSub needs its surplus step (drop the oldest), which is synchronous
        // code wrapped in an effect: run it here rather than lose the newest event
        if (subscribers > 0 && !PubSub.publishUnsafe(pubsub, event)) Effect.runSync(PubSub.publish(pubsub, event))
      },
      subscribe: Effect.acquireRelease(
        Effect.tap(PubSub.subscribe(pubsub), () =>
          Effect.sync(() => {
            subscribers++
            refresh()
          })),
        () =>
          Effect.sync(() => {
            subscribers--
            refresh()
          })
      ),
      events: Stream.unwrap(Effect.map(Effect.suspend(() => hub.subscribe), (subscription) => Stream.fromSubscription(subscription))),
      listen: (listener: Listener) =>
        Effect.acquireRelease(
          Effect.sync(() => {
            listeners.push(listener)
            refresh()
          }),
          () =>
            Effect.sync(() => {
              const index = listeners.indexOf(listener)
              if (index >= 0) listeners.splice(index, 1)
              refresh()
            })
        ),
      listenerFailures: () => failures
    }
    const refresh = () => {
      hub.active = subscribers > 0 || listeners.length > 0
    }
    return hub
  })

/** `RouterEvents` from `make`. @category layers */
export const layer = (options: Options = {}): Layer.Layer<RouterEvents> => Layer.effect(RouterEvents, make(options))

/** Every event of the `RouterEvents` in context, from the moment the stream is run. @category accessors */
export const events: Stream.Stream<RouterEvent, never, RouterEvents> = Stream.unwrap(
  Effect.map(Effect.service(RouterEvents), (hub) => hub.events)
)
