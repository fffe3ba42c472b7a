/**
 * A tracer that keeps every span it makes, for specs that assert on spans (names, attributes,
 * parents, status). Install it with `Effect.withTracer(recording.tracer)`.
 *
 * @since 0.1.0
 */
import { Tracer } from "effect"

/** The tracer and the spans it has made so far, in order of creation. @category models */
export interface RecordingTracer {
  readonly tracer: Tracer.Tracer
  readonly spans: ReadonlyArray<Tracer.NativeSpan>
}

/** A new recording tracer with no spans yet. @category constructors */
export const make = (): RecordingTracer => {
  const spans: Array<Tracer.NativeSpan> = []
  const tracer = Tracer.make({
    span(options) {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  return { tracer, spans }
}
