/**
 * FlexiAI's logging applied to FlexiAI's own effects only. The config's `logging.level` becomes
 * the minimum level while FlexiAI runs (building the layer, each call and each pull of a stream,
 * the control service's probes), so it decides which of FlexiAI's lines are written: attempt
 * lines, debug summaries, wire bodies, config warnings. `logging.format` takes the place of
 * Effect's default console logger for those lines, and only of that one: the app's own loggers
 * get FlexiAI's lines as they are and write them where they write everything else.
 *
 * What users got wrong before: `FlexiAI.layer` installed the config's logger and minimum level
 * for the whole program (`provideMerge`), so `logging.level: "error"` silenced the app's own
 * `Effect.logInfo`, and an app's `Logger.layer` provided outside received nothing. Now nothing
 * outside FlexiAI's effects changes.
 *
 * Why a context scoped around FlexiAI's effects and not a logger wrapper: the minimum level is
 * checked before any logger runs, so a logger cannot let FlexiAI's Debug lines through an app's
 * Info level, and the router reads the level to skip building lines nobody will see.
 */
import { FlexiConfig } from "@flexiai/config"
import { Channel, Context, Effect, Logger, type LogLevel, References, type Scope, Stream } from "effect"

export interface LogScope {
  readonly effect: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  readonly stream: <A, E>(stream: Stream.Stream<A, E>) => Stream.Stream<A, E>
}

export const make = (logging: FlexiConfig.ResolvedLogging): LogScope => {
  const ours = FlexiConfig.loggerFor(logging.format)
  // The derived context depends only on the caller's: cached by it, so a caller whose context does
  // not change between calls (a runtime, a server's request handler) pays one lookup per call.
  const derived = new WeakMap<Context.Context<never>, Context.Context<never>>()
  const derive = (context: Context.Context<never>): Context.Context<never> => {
    let next = derived.get(context)
    if (next === undefined) {
      const loggers = Context.get(context, References.CurrentLoggers)
      const swapped = loggers.has(Logger.defaultLogger)
        ? new Set([...loggers].map((logger) => logger === Logger.defaultLogger ? ours : logger))
        : loggers
      next = Context.add(Context.add(context, References.MinimumLogLevel, logging.level), References.CurrentLoggers, swapped)
      derived.set(context, next)
    }
    return next
  }
  const effect = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.updateContext(self, (context: Context.Context<R>) => derive(context as Context.Context<never>) as Context.Context<R>)
  // `Stream.updateContext` merges the context into every pull; this derives it once, when the
  // stream starts, and sets it on each pull (the request is sent and parts are decoded in pulls).
  const stream = <A, E>(self: Stream.Stream<A, E>): Stream.Stream<A, E> => {
    const transform = Channel.toTransform(Stream.toChannel(self))
    return Stream.fromChannel(Channel.fromTransform((upstream, scope: Scope.Scope) =>
      Effect.withFiber((fiber) => {
        const context = derive(fiber.context as Context.Context<never>)
        const within = <X, Y>(inner: Effect.Effect<X, Y>) => Effect.updateContext(inner, (_: Context.Context<never>) => context)
        return within(Effect.map(transform(upstream, scope), within))
      })
    ))
  }
  return { effect, stream }
}

/** A log line held back until FlexiAI's level is known. */
export interface Held {
  readonly level: LogLevel.LogLevel
  readonly message: ReadonlyArray<unknown>
}

/** Writes held lines in the current logging (inside a `LogScope`: FlexiAI's). */
export const replay = (held: ReadonlyArray<Held>): Effect.Effect<void> =>
  Effect.forEach(held, ({ level, message }) => Effect.logWithLevel(level as LogLevel.Severity)(...message), { discard: true })

/**
 * Runs `effect` (loading a config) with its log lines held back. FlexiAI's level comes from the
 * config being loaded, so the warnings loading writes (a provider not detected, a secret inline in
 * a file) are written once it is known: `replay` them inside the scope. If loading fails they are
 * written at once, in the app's logging, before the config error.
 */
export const holdingLines = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<readonly [A, ReadonlyArray<Held>], E, R> =>
  Effect.suspend(() => {
    const held: Array<Held> = []
    const holder = Logger.make(({ logLevel, message }) => {
      held.push({ level: logLevel, message: Array.isArray(message) ? message : [message] })
    })
    return effect.pipe(
      Effect.provideService(References.CurrentLoggers, new Set([holder])),
      Effect.provideService(References.MinimumLogLevel, "All"),
      Effect.map((value) => [value, held] as const),
      Effect.tapError(() => replay(held))
    )
  })
