/**
 * Seeing what FlexiAI does: router events, Prometheus metrics and OpenTelemetry traces, against two
 * local mock providers (MockProviderServer on 127.0.0.1: `flaky` answers 503, `steady` answers).
 *
 * - Events: `FlexiAI.events` is read by a fiber that prints each one (`observers` in
 *   `FlexiAI.layer`'s options would do the same, each on a fiber of its own).
 * - Metrics: `metrics: true` feeds `RouterMetrics`; `PrometheusMetrics.format()` prints them.
 * - Traces: `OtlpTracer.layer` exports the router's spans (GenAI attributes) over OTLP/HTTP JSON to
 *   a collector; here a tiny loopback receiver this example starts itself, so nothing leaves the
 *   machine. Point `url` at a real collector (`http://localhost:4318/v1/traces`) to see them there.
 * - Middleware: a router-wide one adds a system prompt to every request.
 *
 * Run: `node examples/observability.ts`.
 */
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import type { Middleware, ProviderError, RouterEvent } from "@flexiai/core"
import { Effect, Fiber, Layer, Stream } from "effect"
import { FetchHttpClient } from "effect/http"
import { OtlpSerialization, OtlpTracer, PrometheusMetrics } from "effect/observability"
import { chat, FlexiAI, stream } from "flexiai"
import * as Http from "node:http"

/** One span as the collector received it (OTLP/HTTP JSON, trimmed to what we print). */
export interface CollectedSpan {
  readonly name: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly attributes: Readonly<Record<string, unknown>>
}

export interface Report {
  readonly events: ReadonlyArray<RouterEvent.RouterEvent>
  readonly prometheus: string
  readonly spans: ReadonlyArray<CollectedSpan>
}

interface OtlpValue {
  readonly stringValue?: string
  readonly intValue?: string | number
  readonly doubleValue?: number
  readonly boolValue?: boolean
  readonly arrayValue?: { readonly values?: ReadonlyArray<OtlpValue> }
}

const valueOf = (value: OtlpValue): unknown =>
  value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.doubleValue ??
    value.boolValue ?? value.arrayValue?.values?.map(valueOf)

/** A loopback OTLP/HTTP receiver: keeps every span POSTed to /v1/traces. */
const collector = Effect.acquireRelease(
  Effect.callback<{ readonly url: string; readonly spans: Array<CollectedSpan>; readonly server: Http.Server }>((resume) => {
    const spans: Array<CollectedSpan> = []
    const server = Http.createServer((request, response) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
          resourceSpans?: ReadonlyArray<{
            scopeSpans?: ReadonlyArray<{
              spans?: ReadonlyArray<{
                name: string
                spanId: string
                parentSpanId?: string
                attributes?: ReadonlyArray<{ key: string; value: OtlpValue }>
              }>
            }>
          }>
        }
        for (const resource of body.resourceSpans ?? []) {
          for (const scope of resource.scopeSpans ?? []) {
            for (const span of scope.spans ?? []) {
              spans.push({
                name: span.name,
                spanId: span.spanId,
                parentSpanId: span.parentSpanId === "" ? undefined : span.parentSpanId,
                attributes: Object.fromEntries((span.attributes ?? []).map(({ key, value }) => [key, valueOf(value)]))
              })
            }
          }
        }
        response.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address() as { port: number }
      resume(Effect.succeed({ url: `http://127.0.0.1:${address.port}/v1/traces`, spans, server }))
    })
  }),
  ({ server }) => Effect.callback<void>((resume) => void server.close(() => resume(Effect.void)))
)

const systemPrompt: Middleware.Middleware<ProviderError.ChatError> = {
  name: "system-prompt",
  request: (request) => Effect.succeed({ ...request, messages: [{ role: "system", content: "Answer briefly." }, ...request.messages] })
}

export const run = (write: (line: string) => void): Promise<Report> =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const flaky = yield* MockProviderServer.make({ fallback: MockProviderServer.serverError(503) })
    const steady = yield* MockProviderServer.make({ fallback: MockProviderServer.text("Observability means seeing inside.") })
    const otlp = yield* collector
    const events: Array<RouterEvent.RouterEvent> = []

    const flexi = FlexiAI.layer({
      providers: [
        { kind: "openai-compatible", name: "flaky", model: "mock-model", baseUrl: `${flaky.url}/v1`, apiKey: "sk-example", priority: 1 },
        { kind: "openai-compatible", name: "steady", model: "mock-model", baseUrl: `${steady.url}/v1`, apiKey: "sk-example", priority: 2 }
      ],
      policy: { retry: { maxRetries: 1, initialDelay: "10 millis", jitter: false } },
      logging: { level: "error" }
    }, { metrics: true, middleware: { all: [systemPrompt] } })
    const tracing = OtlpTracer.layer({ url: otlp.url, resource: { serviceName: "flexiai-example" }, exportInterval: "100 millis" }).pipe(
      Layer.provide([FetchHttpClient.layer, OtlpSerialization.layerJson])
    )

    const prometheus = yield* Effect.gen(function*() {
      // read events from here on, on a fiber of its own
      const reader = yield* Stream.runForEach(FlexiAI.events, (event) =>
        Effect.sync(() => {
          events.push(event)
          write(`event ${event.type}${"provider" in event && event.provider ? ` ${event.provider}` : ""}`)
        })).pipe(Effect.forkChild({ startImmediately: true }))
      yield* Effect.yieldNow

      const answer = yield* chat("What is observability?")
      write(`answer from ${answer.provider}: ${answer.text}`)
      yield* Stream.runDrain(stream("And in one word?"))
      yield* Effect.yieldNow
      yield* Fiber.interrupt(reader)
      return yield* PrometheusMetrics.format()
    }).pipe(Effect.provide(Layer.merge(flexi, tracing)))
    // the tracer's layer is closed: its last batch is sent
    write("prometheus:")
    for (const line of prometheus.split("\n")) if (line.startsWith("flexiai_") && !line.includes("_bucket")) write(`  ${line}`)
    write(`spans received by the collector: ${otlp.spans.length}`)
    for (const span of otlp.spans) {
      const provider = span.attributes["gen_ai.provider.name"]
      write(`  ${span.name}${provider === undefined ? "" : ` (${String(provider)})`}`)
    }
    return { events, prometheus, spans: [...otlp.spans] }
  })))

if (import.meta.main) {
  await run((line) => console.log(line))
}
