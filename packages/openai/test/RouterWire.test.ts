// Issue 3: every fault through the router, with two OpenAI-family providers over real sockets.
// The HTTP I/O is real (two MockProviderServers on 127.0.0.1, undici); every timer (backoff,
// Retry-After, breaker recovery, attempt and idle timeouts) is virtual and moved by TestClock.
//
// Driving pattern: fork the call, wait (in real time) until the mock recorded the request and the
// reply had time to reach the client (`settle`), then move the clock. A move made before the
// router started to sleep would be lost, so every `adjust` follows a `settle`.
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider, CircuitBreaker, ProviderError, Router } from "@flexiai/core"
import type { RouterPolicy, StreamPart } from "@flexiai/core"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Context, Duration, Effect, Fiber, Layer, Redacted, Stream } from "effect"
import { TestClock } from "effect/testing"
import * as OpenAiChat from "../src/OpenAiChat.ts"
import * as OpenAiClient from "../src/OpenAiClient.ts"
import * as OpenAiCompatible from "../src/OpenAiCompatible.ts"
import { apiKey, request } from "./helpers.ts"

type Server = MockProviderServer.MockProviderServer["Service"]

const PRIMARY_MODEL = "gpt-primary"
const BACKUP_MODEL = "backup-model"
const PRIMARY_KEY = `primary:${PRIMARY_MODEL}`
const PRIMARY_ANSWER = "primary answer"
const BACKUP_ANSWER = "backup answer here"

// No jitter anywhere: every backoff is exact (1 s, then 2 s).
const basePolicy: RouterPolicy.Policy = {
  retry: { maxRetries: 2, initialDelay: "1 second", factor: 2, maxDelay: "10 seconds", jitter: false }
}
const noRetries: RouterPolicy.Policy["retry"] = { maxRetries: 0, jitter: false }

interface SetupOptions {
  readonly primary?: ReadonlyArray<MockProviderServer.Reply> | undefined
  readonly backup?: ReadonlyArray<MockProviderServer.Reply> | undefined
  readonly policy?: RouterPolicy.Policy | undefined
  readonly primaryPolicy?: RouterPolicy.Policy | undefined
  readonly breaker?: CircuitBreaker.Options | undefined
  /** More client options for the primary (`maxStreamBytes`, ...). */
  readonly primaryClient?: Partial<OpenAiClient.Options> | undefined
}

/**
 * Two mocks, two providers (`primary`: OpenAiChat + OpenAiClient; `backup`: layerCompatible with
 * assistant prefill), the router over them and an in-memory breaker whose transitions are
 * collected from the start. A queue that runs dry answers with the mock's fallback text.
 */
const setupRouter = (options: SetupOptions = {}) =>
  Effect.gen(function*() {
    const primary = yield* MockProviderServer.make({
      replies: options.primary ?? [],
      fallback: MockProviderServer.text(PRIMARY_ANSWER)
    })
    const backup = yield* MockProviderServer.make({
      replies: options.backup ?? [],
      fallback: MockProviderServer.text(BACKUP_ANSWER)
    })
    const primaryLayer = OpenAiChat.layer({ name: "primary", defaultModel: PRIMARY_MODEL }).pipe(
      Layer.provide(OpenAiClient.layer({
        name: "primary",
        apiKey: Redacted.make(apiKey),
        apiUrl: `${primary.url}/v1`,
        ...options.primaryClient
      }))
    )
    const backupLayer = OpenAiCompatible.layerCompatible({
      name: "backup",
      apiUrl: `${backup.url}/v1`,
      apiKey: Redacted.make(apiKey),
      defaultModel: BACKUP_MODEL,
      capabilities: { assistantPrefill: true }
    })
    const context = yield* Layer.build(
      Router.layer({
        providers: [
          { layer: primaryLayer, priority: 0, policy: options.primaryPolicy },
          { layer: backupLayer, priority: 1 }
        ],
        policy: { ...basePolicy, ...options.policy }
      }).pipe(
        Layer.provideMerge(
          CircuitBreaker.layerMemory({ failureThreshold: 2, openDuration: "10 seconds", jitter: 0, ...options.breaker })
        ),
        Layer.provide(NodeHttpClient.layerUndici)
      )
    )
    const breaker = Context.get(context, CircuitBreaker.CircuitBreaker)
    const transitions: Array<CircuitBreaker.Transition> = []
    yield* Effect.forkScoped(Stream.runForEach(breaker.transitions, (transition) => Effect.sync(() => transitions.push(transition))))
    yield* Effect.yieldNow
    return {
      router: Context.get(context, ChatProvider.ChatProvider),
      control: Context.get(context, Router.Router),
      breaker,
      transitions,
      primary,
      backup
    }
  })

// ---------------------------------------------------------------------------
// real-time helpers (the only real waiting: for sockets, never for timers)
// ---------------------------------------------------------------------------

const realSleep = (millis: number) => TestClock.withLive(Effect.sleep(Duration.millis(millis)))

/** Lets a reply the mock already sent reach the router, so it is sleeping (or done) before the clock moves. */
const settle = realSleep(30)

const count = (server: Server) => Effect.map(server.calls, (calls) => calls.length)

/** Polls (real time, up to 5 s) until `check` holds. */
const waitUntil = (label: string, check: Effect.Effect<boolean>) =>
  Effect.gen(function*() {
    for (let waited = 0; waited < 5000; waited += 5) {
      if (yield* check) return
      yield* realSleep(5)
    }
    return yield* Effect.die(new Error(`timed out waiting for ${label}`))
  })

const waitCalls = (server: Server, n: number) =>
  waitUntil(`${n} request(s) at ${server.url}`, Effect.map(count(server), (calls) => calls >= n))

const summary = (attempts: ReadonlyArray<ProviderError.Attempt>) =>
  attempts.map((attempt) => ({
    provider: attempt.provider,
    outcome: attempt.outcome,
    reason: attempt.reason,
    tries: attempt.tries
  }))

const expected = (
  provider: string,
  outcome: ProviderError.Attempt["outcome"],
  tries: number,
  reason?: string
) => ({ provider, outcome, reason, tries })

const reasonOf = (error: ProviderError.ChatError) => {
  if (error._tag !== "ProviderError") throw new Error(`expected a ProviderError, got ${error._tag}: ${error.message}`)
  return error.reason
}

const textOf = (parts: ReadonlyArray<StreamPart.StreamPart>) =>
  parts.map((part) => (part.type === "text-delta" ? part.text : "")).join("")

const finishOf = (parts: ReadonlyArray<StreamPart.StreamPart>) => {
  const last = parts.at(-1)
  if (last?.type !== "finish") throw new Error(`expected the stream to end with finish, got ${last?.type}`)
  return last
}

/** Whether the client closed the mock's `index`-th request before its response was complete. */
const closedByClient = (server: Server, index: number) =>
  Effect.map(server.calls, (calls) => calls[index]?.clientClosedAt !== undefined)

/** The chat messages a mock received in its `index`-th request. */
const messagesOf = (server: Server, index: number) =>
  Effect.map(server.calls, (calls) => (calls[index]?.body as { readonly messages?: ReadonlyArray<unknown> } | undefined)?.messages)

/** Consumes a stream in a fiber, keeping every part it delivered (also when it fails). */
const consume = (stream: Stream.Stream<StreamPart.StreamPart, ProviderError.ChatError>) =>
  Effect.gen(function*() {
    const parts: Array<StreamPart.StreamPart> = []
    const fiber = yield* Effect.forkChild(Stream.runForEach(stream, (part) => Effect.sync(() => parts.push(part))))
    return { parts, fiber }
  })

// ---------------------------------------------------------------------------
// chat
// ---------------------------------------------------------------------------

describe("router over the wire: chat failover", () => {
  const faults: ReadonlyArray<readonly [string, MockProviderServer.Reply, string]> = [
    ["500", MockProviderServer.serverError(500), "ServerError"],
    ["503", MockProviderServer.serverError(503), "ServerError"],
    ["529", MockProviderServer.overloaded(529), "Overloaded"],
    ["reset before headers", MockProviderServer.reset(), "Connection"],
    ["malformed 200 body", MockProviderServer.raw("{\"choices\": not json"), "MalformedResponse"]
  ]

  for (const [label, fault, reason] of faults) {
    it.effect(`primary ${label}: retried with backoff (1 s, 2 s), then the backup answers`, () =>
      Effect.gen(function*() {
        const { backup, primary, router } = yield* setupRouter({ primary: [fault, fault, fault] })
        const fiber = yield* Effect.forkChild(router.chat(request()))

        yield* waitCalls(primary, 1)
        yield* settle
        yield* TestClock.adjust("999 millis")
        yield* settle
        assert.strictEqual(yield* count(primary), 1, "no retry before the first backoff elapsed")
        yield* TestClock.adjust("1 millis")
        yield* waitCalls(primary, 2)
        yield* settle
        yield* TestClock.adjust("1999 millis")
        yield* settle
        assert.strictEqual(yield* count(primary), 2, "no retry before the second backoff elapsed")
        assert.strictEqual(yield* count(backup), 0, "no failover while retries remain")
        yield* TestClock.adjust("1 millis")

        const response = yield* Fiber.join(fiber)
        assert.strictEqual(response.provider, "backup")
        assert.strictEqual(response.model, BACKUP_MODEL)
        assert.strictEqual(response.text, BACKUP_ANSWER)
        assert.deepStrictEqual(summary(response.attempts), [
          expected("primary", "failure", 3, reason),
          expected("backup", "success", 1)
        ])
        const failed = response.attempts[0]!
        assert.strictEqual(failed.latencyMillis, 3000)
        assert.strictEqual(failed.error?._tag === "ProviderError" ? failed.error.reason._tag : undefined, reason)
        assert.strictEqual(yield* count(primary), 3, "exactly retries + 1 requests")
        assert.strictEqual(yield* count(backup), 1)
      }))
  }

  it.effect("a hung primary times out per attempt (attemptTimeout) and the backup answers", () =>
    Effect.gen(function*() {
      const { backup, primary, router } = yield* setupRouter({
        primary: [MockProviderServer.hang()],
        primaryPolicy: { attemptTimeout: "5 seconds" }
      })
      const fiber = yield* Effect.forkChild(router.chat(request()))
      yield* waitCalls(primary, 1)
      yield* settle
      yield* TestClock.adjust("4999 millis")
      yield* settle
      assert.strictEqual(yield* count(backup), 0, "still waiting on the primary")
      yield* TestClock.adjust("1 millis")

      const response = yield* Fiber.join(fiber)
      assert.strictEqual(response.provider, "backup")
      assert.deepStrictEqual(summary(response.attempts), [
        expected("primary", "failure", 1, "Timeout"),
        expected("backup", "success", 1)
      ])
      const timeout = response.attempts[0]!.error
      const reason = timeout?._tag === "ProviderError" ? timeout.reason : undefined
      assert.strictEqual(reason?._tag === "Timeout" ? reason.phase : undefined, "total")
      assert.strictEqual(response.attempts[0]!.latencyMillis, 5000)
      assert.strictEqual(yield* count(primary), 1, "a timeout is not retried")
      assert.strictEqual(yield* count(backup), 1)
    }))
})

describe("router over the wire: 400s", () => {
  it.effect("context_length_exceeded fails over at once (no retry)", () =>
    Effect.gen(function*() {
      const { backup, primary, router } = yield* setupRouter({ primary: [MockProviderServer.contextLengthExceeded()] })
      const response = yield* router.chat(request())
      assert.strictEqual(response.provider, "backup")
      assert.deepStrictEqual(summary(response.attempts), [
        expected("primary", "failure", 1, "ContextLengthExceeded"),
        expected("backup", "success", 1)
      ])
      assert.strictEqual(yield* count(primary), 1)
      assert.strictEqual(yield* count(backup), 1)
    }))

  const deterministic: ReadonlyArray<readonly [string, MockProviderServer.Reply]> = [
    ["an unknown status (418)", MockProviderServer.raw("I'm a teapot", { status: 418 })],
    ["a redirect (302)", MockProviderServer.raw("", { status: 302, headers: { location: "https://elsewhere.example/v1" } })]
  ]
  for (const [label, reply] of deterministic) {
    it.effect(`${label} fails over at once: no retry, no backoff, and it counts against the circuit`, () =>
      Effect.gen(function*() {
        // the same reply three times: a retry would get it again, and wait 1 s for it
        const { backup, breaker, primary, router } = yield* setupRouter({ primary: [reply, reply, reply] })
        const response = yield* router.chat(request())
        assert.strictEqual(response.provider, "backup")
        assert.deepStrictEqual(summary(response.attempts), [
          expected("primary", "failure", 1, "UnexpectedStatus"),
          expected("backup", "success", 1)
        ])
        assert.strictEqual(response.attempts[0]!.latencyMillis, 0, "no backoff was waited")
        assert.strictEqual(yield* count(primary), 1, "not retried on the same provider")
        assert.strictEqual(yield* count(backup), 1)
        assert.deepStrictEqual(yield* breaker.state(PRIMARY_KEY), { _tag: "Closed", failures: 1 }, "a health failure")
      }))
  }

  const stopping: ReadonlyArray<readonly [string, MockProviderServer.Reply, string]> = [
    ["content_policy_violation", MockProviderServer.contentFiltered(), "ContentFiltered"],
    ["a plain invalid request", MockProviderServer.invalidRequest("temperature"), "InvalidRequest"]
  ]
  for (const [label, reply, reason] of stopping) {
    it.effect(`${label} stops with the primary's own reason; the backup is untouched`, () =>
      Effect.gen(function*() {
        const { backup, breaker, primary, router } = yield* setupRouter({ primary: [reply] })
        const error = yield* Effect.flip(router.chat(request()))
        assert.strictEqual(error._tag, "ProviderError")
        assert.strictEqual(error._tag === "ProviderError" ? error.provider : undefined, "primary")
        assert.strictEqual(reasonOf(error)._tag, reason)
        assert.strictEqual(yield* count(primary), 1, "not retried")
        assert.strictEqual(yield* count(backup), 0)
        assert.deepStrictEqual(yield* breaker.state(PRIMARY_KEY), { _tag: "Closed", failures: 0 }, "not a health failure")
      }))
  }
})

// ---------------------------------------------------------------------------
// circuit breaker
// ---------------------------------------------------------------------------

describe("router over the wire: circuit breaker", () => {
  it.effect("opens after 2 failed calls, skips the primary with no request, then a half-open probe closes it", () =>
    Effect.gen(function*() {
      const failure = MockProviderServer.serverError(500)
      const { backup, breaker, primary, router, transitions } = yield* setupRouter({
        primary: [failure, failure, failure, failure],
        policy: { retry: { maxRetries: 1, initialDelay: "1 second", jitter: false } }
      })

      // call 1: two tries (one retry after 1 s), one failure for the circuit
      const first = yield* Effect.forkChild(router.chat(request()))
      yield* waitCalls(primary, 1)
      yield* settle
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* Fiber.join(first)).provider, "backup")
      assert.strictEqual(yield* count(primary), 2)
      assert.deepStrictEqual(yield* breaker.state(PRIMARY_KEY), { _tag: "Closed", failures: 1 }, "retries sit inside the circuit")

      // call 2: the second failed call trips the circuit (at t = 2 s, for 10 s)
      const second = yield* Effect.forkChild(router.chat(request()))
      yield* waitCalls(primary, 3)
      yield* settle
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* Fiber.join(second)).provider, "backup")
      assert.strictEqual(yield* count(primary), 4)
      assert.deepStrictEqual(yield* breaker.state(PRIMARY_KEY), { _tag: "Open", until: 12_000, openings: 1 })

      // call 3: skipped without a request
      const skipped = yield* router.chat(request())
      assert.strictEqual(skipped.provider, "backup")
      assert.deepStrictEqual(summary(skipped.attempts), [
        expected("primary", "skipped", 0, "CircuitOpen"),
        expected("backup", "success", 1)
      ])
      const open = skipped.attempts[0]!.error
      assert.strictEqual(open?._tag === "CircuitOpen" ? open.state : undefined, "Open")
      assert.strictEqual(open?._tag === "CircuitOpen" && open.retryAfter !== undefined ? Duration.toMillis(open.retryAfter) : undefined, 10_000)
      assert.strictEqual(yield* count(primary), 4, "no request while open")

      // 1 ms before the open duration ends: still skipped
      yield* TestClock.adjust("9999 millis")
      const stillOpen = yield* router.chat(request())
      assert.strictEqual(stillOpen.attempts[0]?.outcome, "skipped")
      assert.strictEqual(yield* count(primary), 4)

      // after it: the next call is the probe, reaches the primary and closes the circuit
      yield* TestClock.adjust("1 millis")
      const probe = yield* router.chat(request())
      assert.strictEqual(probe.provider, "primary")
      assert.strictEqual(probe.text, PRIMARY_ANSWER)
      assert.deepStrictEqual(summary(probe.attempts), [expected("primary", "success", 1)])
      assert.strictEqual(yield* count(primary), 5)
      assert.deepStrictEqual(yield* breaker.state(PRIMARY_KEY), { _tag: "Closed", failures: 0 })
      assert.strictEqual(yield* count(backup), 4)

      yield* waitUntil("3 transitions", Effect.sync(() => transitions.length >= 3))
      assert.deepStrictEqual(
        transitions.map(({ at, from, key, to }) => ({ key, from, to, at })),
        [
          { key: PRIMARY_KEY, from: "Closed", to: "Open", at: 2000 },
          { key: PRIMARY_KEY, from: "Open", to: "HalfOpen", at: 12_000 },
          { key: PRIMARY_KEY, from: "HalfOpen", to: "Closed", at: 12_000 }
        ]
      )
      assert.strictEqual(transitions[0]!.openForMillis, 10_000)
    }))
})

// ---------------------------------------------------------------------------
// Retry-After
// ---------------------------------------------------------------------------

describe("router over the wire: Retry-After", () => {
  it.effect("a 429 with retry-after: 2 is waited out on the primary (longer than the 1 s backoff); the backup gets nothing", () =>
    Effect.gen(function*() {
      const { backup, primary, router } = yield* setupRouter({
        primary: [MockProviderServer.rateLimited({ retryAfterSeconds: 2 })]
      })
      const fiber = yield* Effect.forkChild(router.chat(request()))
      yield* waitCalls(primary, 1)
      yield* settle
      yield* TestClock.adjust("1999 millis")
      yield* settle
      assert.strictEqual(yield* count(primary), 1, "the second request waits for the full Retry-After")
      yield* TestClock.adjust("1 millis")
      yield* waitCalls(primary, 2)

      const response = yield* Fiber.join(fiber)
      assert.strictEqual(response.provider, "primary")
      assert.strictEqual(response.text, PRIMARY_ANSWER)
      assert.deepStrictEqual(summary(response.attempts), [expected("primary", "success", 2)])
      assert.strictEqual(response.attempts[0]!.latencyMillis, 2000)
      assert.strictEqual(yield* count(primary), 2)
      assert.strictEqual(yield* count(backup), 0)
    }))

  it.effect("a 429 with retry-after: 60 fails over at once; the primary is skipped without a request until then", () =>
    Effect.gen(function*() {
      const { backup, breaker, control, primary, router } = yield* setupRouter({
        primary: [MockProviderServer.rateLimited({ retryAfterSeconds: 60 })]
      })
      // nothing waits: no clock move needed
      const first = yield* router.chat(request())
      assert.strictEqual(first.provider, "backup")
      assert.deepStrictEqual(summary(first.attempts), [
        expected("primary", "failure", 1, "RateLimited"),
        expected("backup", "success", 1)
      ])
      assert.strictEqual(yield* count(primary), 1)

      const second = yield* router.chat(request())
      assert.strictEqual(second.provider, "backup")
      assert.deepStrictEqual(summary(second.attempts), [
        expected("primary", "skipped", 0, "CircuitOpen"),
        expected("backup", "success", 1)
      ])
      const skip = second.attempts[0]!.error
      assert.strictEqual(skip?._tag === "CircuitOpen" ? skip.state : undefined, "RateLimited")
      assert.strictEqual(skip?._tag === "CircuitOpen" && skip.retryAfter !== undefined ? Duration.toMillis(skip.retryAfter) : undefined, 60_000)
      assert.strictEqual(yield* count(primary), 1, "no request while rate limited")
      assert.strictEqual(yield* count(backup), 2)
      assert.deepStrictEqual(yield* breaker.state(PRIMARY_KEY), { _tag: "Closed", failures: 0 }, "a 429 is not a health failure")
      const status = (yield* control.status).find((entry) => entry.name === "primary")
      assert.strictEqual(status?.rateLimitedUntil, 60_000)

      // once the Retry-After has passed, the primary is asked again
      yield* TestClock.adjust("60 seconds")
      const third = yield* router.chat(request())
      assert.strictEqual(third.provider, "primary")
      assert.strictEqual(yield* count(primary), 2)
    }))
})

// ---------------------------------------------------------------------------
// streams
// ---------------------------------------------------------------------------

describe("router over the wire: streams before content", () => {
  const faults: ReadonlyArray<readonly [string, MockProviderServer.Reply, string]> = [
    ["503", MockProviderServer.serverError(503), "ServerError"],
    ["reset before headers", MockProviderServer.reset(), "Connection"],
    [
      "in-band error event before any content",
      MockProviderServer.inBandError({ message: "boom", type: "server_error" }, { afterChunks: 0 }),
      "ServerError"
    ]
  ]
  for (const [label, fault, reason] of faults) {
    it.effect(`primary ${label}: fails over invisibly, the consumer sees only the backup`, () =>
      Effect.gen(function*() {
        const { backup, primary, router } = yield* setupRouter({
          primary: [fault],
          policy: { retry: noRetries, streamPolicy: "fail" }
        })
        const parts = [...(yield* Stream.runCollect(router.stream(request())))]
        assert.deepStrictEqual(
          parts.map((part) => part.type),
          [...BACKUP_ANSWER.split(" ").map(() => "text-delta"), "finish"],
          "no restart, no resume, nothing from the primary"
        )
        assert.strictEqual(textOf(parts), BACKUP_ANSWER)
        const finish = finishOf(parts)
        assert.strictEqual(finish.provider, "backup")
        assert.deepStrictEqual(summary(finish.attempts ?? []), [
          expected("primary", "failure", 1, reason),
          expected("backup", "success", 1)
        ])
        assert.strictEqual(yield* count(primary), 1)
        assert.strictEqual(yield* count(backup), 1)
      }))
  }
})

describe("router over the wire: the streamed body cap", () => {
  const capped = { maxStreamBytes: 4096 }

  it.effect("a body past maxStreamBytes before any content fails over invisibly", () =>
    Effect.gen(function*() {
      const { backup, primary, router } = yield* setupRouter({
        primary: [MockProviderServer.text("big", { chunks: ["y".repeat(10_000)] })],
        primaryClient: capped,
        policy: { retry: noRetries, streamPolicy: "fail" }
      })
      const parts = [...(yield* Stream.runCollect(router.stream(request())))]
      assert.strictEqual(textOf(parts), BACKUP_ANSWER)
      assert.deepStrictEqual(summary(finishOf(parts).attempts ?? []), [
        expected("primary", "failure", 1, "MalformedResponse"),
        expected("backup", "success", 1)
      ])
      assert.strictEqual(yield* count(backup), 1)
      assert.strictEqual(yield* count(primary), 1)
    }))

  it.effect("past it after content: StreamInterrupted with the partial text (policy fail), never a finish", () =>
    Effect.gen(function*() {
      const piece = "z".repeat(1500)
      const { backup, router } = yield* setupRouter({
        primary: [MockProviderServer.text("big", { chunks: [piece, piece, piece, piece], chunkDelayMillis: 20 })],
        primaryClient: capped,
        policy: { retry: noRetries, streamPolicy: "fail" }
      })
      const { fiber, parts } = yield* consume(router.stream(request()))
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.isFalse(parts.some((part) => part.type === "finish"), "a capped stream never finishes")
      assert.isAbove(textOf(parts).length, 0, "content came before the cap")
      const reason = reasonOf(error)
      assert.strictEqual(reason._tag, "StreamInterrupted")
      assert.strictEqual(reason._tag === "StreamInterrupted" ? reason.partialText : undefined, textOf(parts))
      // the provider's own StreamInterrupted: its cause says the cap, with the partial text kept
      assert.match(reason._tag === "StreamInterrupted" ? reason.cause ?? "" : "", /^MalformedResponse: the streamed response body is larger/)
      assert.strictEqual(yield* count(backup), 0)
    }))

  it.effect("past it after content under `restart`: the backup's complete answer follows a restart part", () =>
    Effect.gen(function*() {
      const piece = "z".repeat(1500)
      const { router } = yield* setupRouter({
        primary: [MockProviderServer.text("big", { chunks: [piece, piece, piece, piece], chunkDelayMillis: 20 })],
        primaryClient: capped,
        policy: { retry: noRetries, streamPolicy: "restart" }
      })
      const parts = [...(yield* Stream.runCollect(router.stream(request())))]
      const restart = parts.findIndex((part) => part.type === "restart")
      assert.isAbove(restart, 0)
      assert.strictEqual(textOf(parts.slice(restart)), BACKUP_ANSWER)
      assert.strictEqual(finishOf(parts).provider, "backup")
    }))
})

describe("router over the wire: streams after content", () => {
  const cut = MockProviderServer.cutAfter(2, "one two three four")
  // The backup answers in one network read (finish included): a switch must still deliver it
  const whole = (content: string) => MockProviderServer.text(content)

  it.effect("a cut after 2 chunks under `fail`: StreamInterrupted with the partial text, backup untouched", () =>
    Effect.gen(function*() {
      const { backup, breaker, primary, router } = yield* setupRouter({
        primary: [cut],
        policy: { retry: noRetries, streamPolicy: "fail" }
      })
      const { fiber, parts } = yield* consume(router.stream(request()))
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(textOf(parts), "one two ")
      assert.isFalse(parts.some((part) => part.type === "finish"), "a cut stream never finishes")
      assert.strictEqual(error._tag === "ProviderError" ? error.provider : undefined, "primary")
      const reason = reasonOf(error)
      assert.strictEqual(reason._tag, "StreamInterrupted")
      assert.strictEqual(reason._tag === "StreamInterrupted" ? reason.partialText : undefined, "one two ")
      assert.strictEqual(yield* count(primary), 1)
      assert.strictEqual(yield* count(backup), 0)
      assert.deepStrictEqual(yield* breaker.state(PRIMARY_KEY), { _tag: "Closed", failures: 1 }, "a cut counts against health")
      assert.isFalse(yield* closedByClient(primary, 0), "the server cut this one, the client did not drop it")
    }))

  it.effect("a cut after 2 chunks under `restart`: a restart part, then the backup's complete answer", () =>
    Effect.gen(function*() {
      const { backup, primary, router } = yield* setupRouter({
        primary: [cut],
        backup: [whole(BACKUP_ANSWER)],
        policy: { retry: noRetries, streamPolicy: "restart" }
      })
      const parts = [...(yield* Stream.runCollect(router.stream(request())))]
      const restartAt = parts.findIndex((part) => part.type === "restart")
      assert.strictEqual(restartAt, 2, "after the two primary chunks")
      assert.strictEqual(textOf(parts.slice(0, restartAt)), "one two ")
      const restart = parts[restartAt]
      assert.strictEqual(restart?.type === "restart" ? restart.provider : undefined, "backup")
      assert.strictEqual(textOf(parts.slice(restartAt + 1)), BACKUP_ANSWER)
      const finish = finishOf(parts)
      assert.strictEqual(finish.provider, "backup")
      // the provider reports the cut body as StreamInterrupted (partial text, cause Connection)
      assert.strictEqual(restart?.type === "restart" ? restart.reason : undefined, "StreamInterrupted")
      assert.deepStrictEqual(summary(finish.attempts ?? []), [
        expected("primary", "failure", 1, "StreamInterrupted"),
        expected("backup", "success", 1)
      ])
      assert.strictEqual(yield* count(primary), 1)
      assert.strictEqual(yield* count(backup), 1)
      // a restart asks the backup the original question, with no prefill
      assert.deepStrictEqual(yield* messagesOf(backup, 0), [{ role: "user", content: "hello there" }])
    }))

  it.effect("a cut after 2 chunks under `continue`: a resume part; the backup gets the partial text as assistant prefill", () =>
    Effect.gen(function*() {
      const { backup, primary, router } = yield* setupRouter({
        primary: [cut],
        backup: [whole("three four")],
        policy: { retry: noRetries, streamPolicy: "continue" }
      })
      const parts = [...(yield* Stream.runCollect(router.stream(request())))]
      assert.deepStrictEqual(parts.map((part) => part.type), ["text-delta", "text-delta", "resume", "text-delta", "text-delta", "finish"])
      const resume = parts[2]
      assert.strictEqual(resume?.type === "resume" ? resume.provider : undefined, "backup")
      assert.strictEqual(textOf(parts), "one two three four", "one continuous answer")
      assert.strictEqual(finishOf(parts).provider, "backup")
      assert.strictEqual(yield* count(primary), 1)
      assert.strictEqual(yield* count(backup), 1)
      assert.deepStrictEqual(yield* messagesOf(backup, 0), [
        { role: "user", content: "hello there" },
        { role: "assistant", content: "one two " }
      ])
    }))

  it.effect("a stall after content under `restart`: the idle timeout (virtual) switches to the backup", () =>
    Effect.gen(function*() {
      const { backup, primary, router } = yield* setupRouter({
        primary: [MockProviderServer.stallAfter(2, "one two three four")],
        backup: [whole(BACKUP_ANSWER)],
        policy: { retry: noRetries, streamPolicy: "restart", idleTimeout: "5 seconds" }
      })
      const { fiber, parts } = yield* consume(router.stream(request()))
      yield* waitUntil("two primary chunks", Effect.sync(() => parts.length >= 2))
      yield* settle
      yield* TestClock.adjust("4999 millis")
      yield* settle
      assert.strictEqual(parts.length, 2, "nothing happens before the idle timeout")
      assert.strictEqual(yield* count(backup), 0)
      yield* TestClock.adjust("1 millis")
      yield* Fiber.join(fiber)

      assert.strictEqual(textOf(parts.slice(0, 2)), "one two ")
      const restart = parts[2]
      assert.strictEqual(restart?.type, "restart")
      assert.strictEqual(restart?.type === "restart" ? restart.reason : undefined, "Timeout")
      assert.strictEqual(textOf(parts.slice(3)), BACKUP_ANSWER)
      const finish = finishOf(parts)
      assert.strictEqual(finish.provider, "backup")
      assert.deepStrictEqual(summary(finish.attempts ?? []), [
        expected("primary", "failure", 1, "Timeout"),
        expected("backup", "success", 1)
      ])
      assert.strictEqual(yield* count(primary), 1)
      assert.strictEqual(yield* count(backup), 1)
      // the stalled request was ended, not left holding a connection
      yield* waitUntil("the primary's connection closed", closedByClient(primary, 0))
    }))

  it.effect("a consumer that stops after the first part ends the request: the server sees the connection close", () =>
    Effect.gen(function*() {
      const { backup, primary, router } = yield* setupRouter({
        primary: [MockProviderServer.stallAfter(2, "one two three four")],
        policy: { retry: noRetries }
      })
      const parts = yield* Stream.runCollect(Stream.take(router.stream(request()), 1))
      assert.strictEqual(textOf(parts), "one ")
      yield* waitUntil("the primary's connection closed", closedByClient(primary, 0))
      assert.strictEqual(yield* count(backup), 0)
    }))
})

// Issue 11: a corrupted event is a broken attempt, and the deadline bounds the whole stream
describe("router over the wire: a corrupted stream event", () => {
  it.effect("before any content it fails over invisibly (the default policy)", () =>
    Effect.gen(function*() {
      const { backup, router } = yield* setupRouter({
        primary: [MockProviderServer.malformedEvent("never shown", 0)],
        policy: { retry: noRetries }
      })
      const parts = [...(yield* Stream.runCollect(router.stream(request())))]
      assert.strictEqual(textOf(parts), BACKUP_ANSWER)
      assert.deepStrictEqual(summary(finishOf(parts).attempts ?? []), [
        expected("primary", "failure", 1, "MalformedResponse"),
        expected("backup", "success", 1)
      ])
      assert.strictEqual(yield* count(backup), 1)
    }))

  it.effect("after content under `fail`: StreamInterrupted with the partial text, never a complete answer", () =>
    Effect.gen(function*() {
      const { backup, router } = yield* setupRouter({
        primary: [MockProviderServer.malformedEvent("Transfer NOT one million dollars", 1, { chunkDelayMillis: 20 })],
        policy: { retry: noRetries, streamPolicy: "fail" }
      })
      const { fiber, parts } = yield* consume(router.stream(request()))
      const reason = reasonOf(yield* Effect.flip(Fiber.join(fiber)))
      assert.isFalse(parts.some((part) => part.type === "finish"), "a stream that lost an event never finishes")
      assert.strictEqual(textOf(parts), "Transfer ")
      assert.strictEqual(reason._tag, "StreamInterrupted")
      assert.strictEqual(reason._tag === "StreamInterrupted" ? reason.partialText : undefined, "Transfer ")
      assert.strictEqual(reason._tag === "StreamInterrupted" ? reason.cause : undefined, "MalformedResponse")
      assert.strictEqual(yield* count(backup), 0)
    }))

  it.effect("after content under `restart`: a restart part, then the backup's complete answer", () =>
    Effect.gen(function*() {
      const { router } = yield* setupRouter({
        primary: [MockProviderServer.malformedEvent("Transfer NOT one million dollars", 1, { chunkDelayMillis: 20 })],
        policy: { retry: noRetries, streamPolicy: "restart" }
      })
      const parts = [...(yield* Stream.runCollect(router.stream(request())))]
      const restart = parts.findIndex((part) => part.type === "restart")
      assert.isAbove(restart, 0)
      assert.deepStrictEqual(parts[restart], { type: "restart", provider: "backup", reason: "MalformedResponse" })
      assert.strictEqual(textOf(parts.slice(restart)), BACKUP_ANSWER)
      assert.strictEqual(finishOf(parts).provider, "backup")
    }))

  it.effect("`onMalformedEvent: skip` in the policy (opt-in) drops the event with a warning and goes on", () =>
    Effect.gen(function*() {
      const { router } = yield* setupRouter({
        primary: [MockProviderServer.malformedEvent("x y z", 1)],
        policy: { retry: noRetries, onMalformedEvent: "skip" }
      })
      const parts = [...(yield* Stream.runCollect(router.stream(request())))]
      assert.strictEqual(textOf(parts), "x y z")
      assert.strictEqual(finishOf(parts).provider, "primary")
    }))
})

describe("router over the wire: the deadline after content", () => {
  it.effect("a stream that stalls after content fails at the deadline with the partial text, and its request is dropped", () =>
    Effect.gen(function*() {
      const { backup, breaker, primary, router } = yield* setupRouter({
        primary: [MockProviderServer.stallAfter(2, "one two three four")],
        policy: { retry: noRetries, streamPolicy: "restart", deadline: "5 seconds", idleTimeout: "60 seconds" }
      })
      const { fiber, parts } = yield* consume(router.stream(request()))
      // real time only for the sockets: until the two chunks arrived (the router then waits on the clock)
      yield* waitUntil("two chunks", Effect.sync(() => textOf(parts) === "one two "))
      yield* settle
      yield* TestClock.adjust("5 seconds")
      const reason = reasonOf(yield* Effect.flip(Fiber.join(fiber)))
      assert.strictEqual(reason._tag, "StreamInterrupted")
      assert.strictEqual(reason._tag === "StreamInterrupted" ? reason.cause : undefined, "DeadlineExceeded")
      assert.strictEqual(reason._tag === "StreamInterrupted" ? reason.partialText : undefined, "one two ")
      assert.isFalse(parts.some((part) => part.type === "restart" || part.type === "finish"), "no restart past the deadline")
      assert.strictEqual(yield* count(backup), 0)
      yield* waitUntil("the client to drop the request", closedByClient(primary, 0))
      assert.deepStrictEqual(yield* breaker.state(PRIMARY_KEY), { _tag: "Closed", failures: 0 }, "the deadline is not the provider's fault")
    }))
})
