/**
 * One worker of the multi-worker service: an Effect `HttpServer` on Node (`NodeHttpServer`) with
 * FlexiAI behind three routes, and a graceful stop.
 *
 * - `POST /chat`: a `ChatRequest` as JSON (`{ "messages": [...], "model"?, "temperature"?, … }`)
 *   → the answer as JSON (text, provider, model, usage, latency, attempts).
 * - `POST /stream`: the same body → Server-Sent Events: `delta` (`{ text }`) per text delta,
 *   `restart` when the stream policy restarts the answer on another provider (discard the text so
 *   far), then exactly one of `done` (`{ provider, model, finishReason, usage, attempts }`) or
 *   `error` (`errors.ts`'s body). A stream that did not finish never ends with `done`.
 * - `GET /health`: this worker (slot, pid, draining, in-flight requests), where circuits live
 *   (`circuitStore`: `local`, `shared` in Redis, or `degraded` while Redis is unreachable) and every
 *   provider's circuit, counters and latency from `FlexiAI.status`. It makes no provider call, so a load
 *   balancer may poll it; 503 while the worker drains.
 * - every response carries `x-worker` (the worker's slot, 1..N, kept across restarts) and
 *   `x-worker-pid`, so a caller can see which worker answered.
 *
 * FlexiAI comes from `FlexiAI.layerConfig()`: `FLEXIAI_CONFIG_FILE` and the `FLEXIAI_*` variables,
 * the same for every worker, so when the config names a Redis they all share circuits through it.
 *
 * The stop (SIGTERM or SIGINT, as `NodeRuntime.runMain` delivers them): stop accepting connections,
 * let in-flight requests and streams finish for up to `SHUTDOWN_GRACE_MS`, then end the rest with
 * a `ShuttingDown` error (an SSE `error` event, a 503), close every connection and exit 0. The
 * drain runs as the first finalizer, before the server's and FlexiAI's own, so FlexiAI is still
 * there for the streams it waits for. Requests are counted on the Node server itself (a streamed
 * response outlives its handler, so the handler's end says nothing about the response's).
 */
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { ByteSize, Cause, Context, Data, Deferred, Duration, Effect, Exit, Layer, Ref, Stream } from "effect"
import { Sse } from "effect/encoding"
import { HttpIncomingMessage, HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { ChatProvider, ChatRequest, FlexiAI, type StreamPart } from "flexiai"
import { chat, stream } from "flexiai"
import * as Http from "node:http"
import { appError, attemptViews, fromChatError, type HttpError } from "./errors.ts"
import { fromEnv, type Settings, slotVariable, type WorkerMessage } from "./settings.ts"

// ---------------------------------------------------------------------------
// drain state
// ---------------------------------------------------------------------------

/** The worker stops taking work: its grace period ran out and what is still running ends. */
class ShuttingDown extends Data.TaggedError("ShuttingDown")<{}> {}

/** This worker's identity and its stop: what the routes need to know about the process they run in. */
class Worker extends Context.Service<Worker, {
  readonly slot: number
  readonly pid: number
  readonly startedAt: number
  readonly draining: Effect.Effect<boolean>
  /** Requests whose response has not finished (the one asking included). */
  readonly inFlight: Effect.Effect<number>
  /** Fails with `ShuttingDown` once the grace period has run out; never completes before. */
  readonly cutOff: Effect.Effect<never, ShuttingDown>
}>()("examples/multi-worker/Worker") {}

// ---------------------------------------------------------------------------
// routes
// ---------------------------------------------------------------------------

const maxBodySize = ByteSize.megabytes(1)

const errorResponse = (error: HttpError) =>
  HttpServerResponse.jsonUnsafe(error.body, {
    status: error.status,
    headers: error.retryAfterSeconds === undefined ? {} : { "retry-after": String(error.retryAfterSeconds) }
  })

const shuttingDown = appError(503, "ShuttingDown", "this worker is shutting down; retry the request", true)

// The body as a validated ChatRequest: a body that is not JSON, or not a request, is a 400 before
// any provider is called (ChatRequest.decode lists every problem by path).
const readRequest = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  // a declared length over the limit is refused before reading (a chunked body is cut while read)
  if (Number(request.headers["content-length"] ?? 0) > Number(maxBodySize)) {
    return yield* Effect.fail(appError(413, "BodyTooLarge", "the body is larger than 1 MB", false))
  }
  const json = yield* Effect.mapError(
    request.json,
    () => appError(400, "InvalidJson", "the body must be a JSON chat request of at most 1 MB", false)
  )
  return yield* Effect.mapError(ChatRequest.decode(json), fromChatError)
}).pipe(Effect.provideService(HttpIncomingMessage.MaxBodySize, maxBodySize))

const chatRoute = Effect.gen(function*() {
  const worker = yield* Worker
  const request = yield* readRequest
  const response = yield* Effect.raceFirst(
    Effect.mapError(chat(request), fromChatError),
    Effect.mapError(worker.cutOff, () => shuttingDown)
  )
  return HttpServerResponse.jsonUnsafe({
    id: response.id,
    text: response.text,
    toolCalls: response.toolCalls,
    finishReason: response.finishReason,
    ...(response.usage === undefined ? {} : { usage: response.usage }),
    provider: response.provider,
    model: response.model,
    latencyMillis: Math.round(response.latencyMillis),
    attempts: attemptViews(response.attempts)
  })
}).pipe(Effect.catch((error) => Effect.succeed(errorResponse(error))))

const event = (name: string, data: unknown): Sse.Event => ({ _tag: "Event", event: name, id: undefined, data: JSON.stringify(data) })

const sseEvents = (
  request: ChatRequest.ChatRequest,
  worker: Worker["Service"]
): Stream.Stream<Sse.Event, never, ChatProvider.ChatProvider> =>
  Stream.suspend(() => {
    let finish: StreamPart.Finish | undefined
    const body = stream(request).pipe(
      Stream.interruptWhen(worker.cutOff),
      Stream.flatMap((part): Stream.Stream<Sse.Event> => {
        switch (part.type) {
          case "text-delta":
            return Stream.succeed(event("delta", { text: part.text }))
          case "restart":
            return Stream.succeed(event("restart", { provider: part.provider, reason: part.reason }))
          case "finish":
            finish = part
            return Stream.empty
          default:
            return Stream.empty
        }
      }),
      // `done` only once the stream has ended by itself: a failure anywhere before replaces it with `error`
      Stream.concat(Stream.suspend(() =>
        Stream.succeed(event("done", {
          provider: finish?.provider,
          model: finish?.model,
          finishReason: finish?.finishReason,
          ...(finish?.usage === undefined ? {} : { usage: finish.usage }),
          attempts: attemptViews(finish?.attempts ?? [])
        }))
      )),
      Stream.catch((error) =>
        Stream.succeed(event("error", error._tag === "ShuttingDown" ? shuttingDown.body : fromChatError(error).body))
      )
    )
    return body
  })

const streamRoute = Effect.gen(function*() {
  const worker = yield* Worker
  const request = yield* readRequest
  // the router's stream needs the ChatProvider; the response body runs after this handler returns
  const context = yield* Effect.context<ChatProvider.ChatProvider>()
  const body = sseEvents(request, worker).pipe(
    Stream.provideContext(context),
    Stream.pipeThroughChannel(Sse.encode()),
    Stream.encodeText
  )
  return HttpServerResponse.stream(body, {
    contentType: "text/event-stream",
    headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
  })
}).pipe(Effect.catch((error) => Effect.succeed(errorResponse(error))))

const healthRoute = Effect.gen(function*() {
  const worker = yield* Worker
  const providers = yield* FlexiAI.status
  const draining = yield* worker.draining
  const enabled = providers.filter((provider) => provider.enabled)
  const closed = enabled.filter((provider) => provider.circuit === "Closed").length
  return HttpServerResponse.jsonUnsafe({
    status: draining ? "draining" : closed === enabled.length ? "ok" : closed === 0 ? "down" : "degraded",
    // where circuits live: "local" (no Redis configured), "shared" (Redis), "degraded" (Redis
    // configured but unreachable: this worker's own circuits until it returns)
    circuitStore: providers[0]?.circuitStore ?? "local",
    worker: {
      slot: worker.slot,
      pid: worker.pid,
      uptimeSeconds: Math.round((Date.now() - worker.startedAt) / 1000),
      draining,
      inFlight: yield* worker.inFlight
    },
    providers: providers.map((provider) => ({
      name: provider.name,
      kind: provider.kind,
      model: provider.model,
      enabled: provider.enabled,
      circuit: provider.circuit,
      circuits: provider.circuits,
      rateLimitedUntil: provider.rateLimitedUntil === undefined ? undefined : new Date(provider.rateLimitedUntil).toISOString(),
      requests: provider.requests,
      successes: provider.successes,
      failures: provider.failures,
      skipped: provider.skipped,
      successRate: provider.successRate,
      latencyP50Millis: provider.latencyP50Millis,
      latencyP95Millis: provider.latencyP95Millis,
      lastError: provider.lastError === undefined ? undefined : { reason: provider.lastError.reason, time: provider.lastError.time }
    }))
  }, { status: draining ? 503 : 200 })
})

// Every response says which worker answered it; while draining it also asks the client to close
// its keep-alive connection, so the next request goes to a worker that is staying.
const WorkerHeaders = HttpRouter.middleware((httpEffect) =>
  Effect.gen(function*() {
    const worker = yield* Worker
    const response = yield* httpEffect
    const draining = yield* worker.draining
    return HttpServerResponse.setHeaders(response, {
      "x-worker": String(worker.slot),
      "x-worker-pid": String(worker.pid),
      ...(draining ? { connection: "close" } : {})
    })
  }), { global: true })

const Routes = Layer.mergeAll(
  HttpRouter.add("POST", "/chat", chatRoute),
  HttpRouter.add("POST", "/stream", streamRoute),
  HttpRouter.add("GET", "/health", healthRoute),
  // a JSON 404 (with the worker headers) rather than the router's empty one
  HttpRouter.add("*", "/*", errorResponse(appError(404, "NotFound", "no such route: POST /chat, POST /stream, GET /health", false))),
  WorkerHeaders
)

// ---------------------------------------------------------------------------
// the process
// ---------------------------------------------------------------------------

const send = (message: WorkerMessage) =>
  Effect.sync(() => {
    // a worker started on its own (no primary) has no IPC channel
    if (process.send !== undefined && process.connected) process.send(message)
  })

/** Runs one worker until SIGTERM/SIGINT, then drains and returns. */
export const program = (settings: Settings, slot: number) =>
  Effect.gen(function*() {
    let inFlight = 0
    const server = Http.createServer({ keepAliveTimeout: settings.keepAliveTimeoutMillis })
    server.on("request", (_request, response) => {
      inFlight++
      response.once("close", () => inFlight--)
    })
    const draining = yield* Ref.make(false)
    const expired = yield* Deferred.make<void>()
    const worker = Worker.of({
      slot,
      pid: process.pid,
      startedAt: Date.now(),
      draining: Ref.get(draining),
      inFlight: Effect.sync(() => inFlight),
      cutOff: Effect.andThen(Deferred.await(expired), Effect.fail(new ShuttingDown()))
    })

    const App = HttpRouter.serve(Routes, { disableLogger: true, disableListenLog: true }).pipe(
      Layer.provide(FlexiAI.layerConfig()),
      Layer.provide(Layer.succeed(Worker, worker)),
      // the drain below bounds the stop; this is only the server's own backstop
      Layer.provide(NodeHttpServer.layer(() => server, {
        port: settings.port,
        host: settings.host,
        gracefulShutdownTimeout: Duration.millis(settings.shutdownGraceMillis + 2000)
      }))
    )
    yield* Layer.build(App)

    // Added after the server was built, so it runs before the server's and FlexiAI's finalizers.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        yield* Ref.set(draining, true)
        server.close() // stop accepting (the server's own finalizer then finds it closed)
        server.closeIdleConnections()
        const running = inFlight
        yield* send({ type: "draining", slot, pid: process.pid, inFlight: running })
        yield* Effect.logInfo(`draining: ${running} request(s) in flight, grace ${settings.shutdownGraceMillis} ms`)
        const idle = yield* idleWithin(() => inFlight === 0, Duration.millis(settings.shutdownGraceMillis))
        if (!idle) {
          yield* Effect.logWarning(`grace period over: ending ${inFlight} request(s) with ShuttingDown`)
          yield* Deferred.succeed(expired, undefined)
          yield* idleWithin(() => inFlight === 0, Duration.seconds(1))
        }
        server.closeAllConnections()
        yield* Effect.logInfo("drained")
      })
    )

    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : settings.port
    yield* send({ type: "ready", slot, pid: process.pid, port })
    yield* Effect.logInfo(`listening on http://${settings.host}:${port}`)
    return yield* Effect.never
  }).pipe(Effect.scoped, Effect.annotateLogs({ worker: slot, pid: process.pid }))

// Polls every 20 ms: the count lives on the Node server, outside Effect, so there is nothing to await.
const idleWithin = (idle: () => boolean, limit: Duration.Duration): Effect.Effect<boolean> =>
  Effect.gen(function*() {
    while (!idle()) yield* Effect.sleep(Duration.millis(20))
    return true
  }).pipe(Effect.timeoutOrElse({ duration: limit, orElse: () => Effect.succeed(false) }))

/** The worker process's entry: run until a signal, exit 0 after a clean drain, 1 on a failure (a bad config). */
export const main = (): void => {
  const settings = fromEnv(process.env, 1)
  const slot = Number(process.env[slotVariable] ?? "1")
  NodeRuntime.runMain(program(settings, slot), {
    teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) || Cause.hasInterruptsOnly(exit.cause) ? 0 : 1)
  })
}
