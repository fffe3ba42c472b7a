/**
 * A tracer that wraps the current one and runs every string attribute of the spans it makes
 * through the transport's secret mask. Used only with `httpSpans: true`, around Effect's HTTP
 * client span.
 *
 * Why: Effect's client span records the headers the app's `HttpClient.TracerHeaderFilter` picks,
 * request *and response*. Names in `Headers.CurrentRedactedNames` come out as `<redacted>`, but
 * any other header is kept as sent, so a server (or proxy) echoing the key into a response header
 * (`x-echo`, a request id) would put it in the span. The filter sees names only, never values, so
 * masking by value has to happen where the attribute is set: on the span.
 *
 * Gotcha: the wrapped span is a Proxy over the inner tracer's span, so the inner tracer (an
 * exporter, `RecordingTracer`) keeps its own span object and sees masked values only.
 *
 * @internal
 */
import type { Tracer } from "effect"
import type * as Mask from "../Mask.ts"

const maskingSpan = (span: Tracer.Span, mask: Mask.Mask): Tracer.Span =>
  new Proxy(span, {
    get(target, key) {
      if (key === "attribute") {
        return (name: string, value: unknown) => target.attribute(name, typeof value === "string" ? mask(value) : value)
      }
      if (key === "event") {
        return (name: string, startTime: bigint, attributes?: Record<string, unknown>) =>
          target.event(name, startTime, attributes === undefined ? undefined : maskAll(attributes, mask))
      }
      const value: unknown = Reflect.get(target, key, target)
      return typeof value === "function" ? value.bind(target) : value
    }
  })

const maskAll = (attributes: Record<string, unknown>, mask: Mask.Mask): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const name in attributes) {
    const value = attributes[name]
    out[name] = typeof value === "string" ? mask(value) : value
  }
  return out
}

/**
 * A masking tracer over `inner`. One wrapper per inner tracer is kept (the last one seen), as
 * the current tracer rarely changes between requests.
 */
export const cached = (mask: Mask.Mask): (inner: Tracer.Tracer) => Tracer.Tracer => {
  let last: { readonly inner: Tracer.Tracer; readonly masking: Tracer.Tracer } | undefined
  return (inner) => {
    if (last?.inner === inner) return last.masking
    const masking: Tracer.Tracer = {
      span(options) {
        return maskingSpan(inner.span(options), mask)
      },
      ...(inner.context === undefined ? {} : { context: inner.context.bind(inner) })
    }
    last = { inner, masking }
    return masking
  }
}
