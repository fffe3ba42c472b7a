/**
 * Spans that cost nothing when nobody collects them.
 *
 * Effect's default tracer (`Tracer.nativeTracer`) keeps spans in memory and exports them nowhere;
 * its docs invite runtime code to compare against it and skip work only a tracing backend could
 * observe. A span is about a tenth of the router's own time on a call, so the router and the
 * providers open theirs only when a tracer is installed (`Effect.withTracer`, an OpenTelemetry
 * layer, a test's recording tracer). With one installed, nothing changes.
 *
 * @since 0.1.0
 */
import { Effect, Scope, Tracer } from "effect"
import type { Fiber } from "effect"

const tracing = (fiber: Fiber.Fiber<unknown, unknown>): boolean => fiber.getRef(Tracer.Tracer) !== Tracer.nativeTracer

/** Whether a tracing backend is installed for `fiber` (for code that holds its fiber already). @category tracing */
export const tracingIn: (fiber: Fiber.Fiber<unknown, unknown>) => boolean = tracing

/** Whether a tracing backend is installed for the current fiber. @category tracing */
export const isTracing: Effect.Effect<boolean> = Effect.withFiber((fiber) => Effect.succeed(tracing(fiber)))

/**
 * `Effect.withSpan(effect, name, options)` when a tracer is installed, else `effect` as it is.
 * Stack traces are never captured: on the hot path they cost more than the rest of the span.
 *
 * @category tracing
 */
export const withSpan = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  name: string,
  attributes: Readonly<Record<string, unknown>>
): Effect.Effect<A, E, R> =>
  Effect.withFiber((fiber) =>
    tracing(fiber) ? Effect.withSpan(effect, name, { attributes, captureStackTrace: false }) : effect
  )

/**
 * A span for the life of `scope` (as `Effect.makeSpanScoped` in that scope) when a tracer is
 * installed, else `undefined`: for spans that outlive one effect, like a stream's. The scope is
 * an argument rather than a requirement, so that a caller holding one (a stream's channel does)
 * does not pay for providing it when nothing is traced.
 *
 * @category tracing
 */
export const makeIn = (
  scope: Scope.Scope,
  name: string,
  attributes: Readonly<Record<string, unknown>>
): Effect.Effect<Tracer.Span | undefined> =>
  Effect.withFiber((fiber) =>
    tracing(fiber) ? Scope.provide(Effect.makeSpanScoped(name, { attributes }), scope) : Effect.succeed(undefined)
  )
