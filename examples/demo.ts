/**
 * `pnpm demo`: FlexiAI's main job in one run, with no keys and no network.
 *
 * Two `MockProviderServer`s on 127.0.0.1 stand in for providers: a flaky primary and a healthy
 * backup. The real OpenAI provider layer talks to them over real sockets (undici), under a
 * router with short retries, a `restart` stream policy and a circuit breaker that opens for a
 * couple of seconds, so a whole failure-and-recovery cycle fits in a few seconds. Each scene
 * scripts the primary's next replies (`setScript`), makes one or more calls and prints every
 * attempt; a background fiber prints circuit transitions as they happen; the run ends with the
 * router's status table.
 *
 * A last scene puts three wire formats in one failover chain (OpenAI Chat Completions, Anthropic
 * Messages, Gemini), each spoken by its own provider layer to its own mock: a chat that fails over
 * from the first to the third, and a stream cut on the first that Anthropic continues from the
 * text already shown (stream policy `continue`, through assistant prefill).
 *
 * With `FLEXIAI_DEMO_REAL=1` and `OPENAI_API_KEY` set, the primary is the real OpenAI API
 * (`OpenAiClient.layerConfig`) and the backup stays a mock; scenes that need scripted faults on
 * the primary are skipped, and the circuit is opened by hand instead of by a 503 burst.
 *
 * Run: `pnpm demo` (or `pnpm exec node examples/demo.ts`). A test runs `runDemo` with fast timings.
 */
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { ChatProvider, CircuitBreaker, Router } from "@flexiai/core"
import type { Attempt, ChatError } from "@flexiai/core/ProviderError"
import type { Finish, Resume } from "@flexiai/core/StreamPart"
import { AnthropicChat, AnthropicClient } from "@flexiai/anthropic"
import { GoogleProvider } from "@flexiai/google"
import { OpenAiChat, OpenAiClient, OpenAiCompatible } from "@flexiai/openai"
import { MockProviderServer } from "@flexiai/testing"
import type { Config } from "effect"
import { Clock, Duration, Effect, Layer, Redacted, References, Stream } from "effect"
import type { HttpClient } from "effect/http"
import * as Terminal from "./demo/terminal.ts"

// ---------------------------------------------------------------------------
// options and report
// ---------------------------------------------------------------------------

/** Every delay the demo depends on, so a test can run the same story fast. */
export interface Timings {
  /** Pause before each streamed chunk: slow enough to see tokens arrive. */
  readonly chunkDelayMillis: number
  /** A Retry-After the router waits out on the same provider. */
  readonly shortRetryAfterMillis: number
  /** Longest Retry-After waited out (`maxRetryAfter`); anything longer fails over at once. */
  readonly maxRetryAfterMillis: number
  /** A Retry-After long enough to skip the provider for the rest of the run. */
  readonly longRetryAfterSeconds: number
  /** First backoff before a retry. */
  readonly retryDelayMillis: number
  /** How long an opened circuit stays open before its half-open probe. */
  readonly openDurationMillis: number
}

export const normalTimings: Timings = {
  chunkDelayMillis: 45,
  shortRetryAfterMillis: 1000,
  maxRetryAfterMillis: 2000,
  longRetryAfterSeconds: 30,
  retryDelayMillis: 150,
  openDurationMillis: 2500
}

export const fastTimings: Timings = {
  chunkDelayMillis: 2,
  shortRetryAfterMillis: 150,
  maxRetryAfterMillis: 500,
  longRetryAfterSeconds: 30,
  retryDelayMillis: 20,
  openDurationMillis: 500
}

export interface DemoOptions {
  /** Receives raw output text (newlines included; streamed tokens arrive without one). */
  readonly write: (text: string) => void
  /** ANSI colour. Default: only on a TTY without `NO_COLOR`. */
  readonly color?: boolean | undefined
  readonly timings?: Timings | undefined
  /** Point the primary at the real OpenAI API (reads `OPENAI_API_KEY` through `Config`). */
  readonly real?: boolean | undefined
}

/** One call the demo made, as the router reported it. */
export interface CallRecord {
  readonly scene: string
  readonly label: string
  readonly provider: string
  readonly text: string
  readonly restarted: boolean
  /** The provider that continued the stream from the text already received (stream policy `continue`). */
  readonly resumedOn?: string | undefined
  readonly attempts: ReadonlyArray<Attempt>
}

/** What happened, for a test to check without parsing the terminal output. */
export interface DemoReport {
  readonly real: boolean
  readonly calls: ReadonlyArray<CallRecord>
  readonly transitions: ReadonlyArray<CircuitBreaker.Transition>
  /** Requests the flaky mock had received just before and just after the calls made while its circuit was open. */
  readonly whileOpen: { readonly before: number; readonly after: number } | undefined
  readonly status: ReadonlyArray<Router.ProviderStatus>
  readonly stats: Router.Stats
  readonly elapsedMillis: number
}

// ---------------------------------------------------------------------------
// wiring
// ---------------------------------------------------------------------------

const apiKey = Redacted.make("demo-key")
const mockModel = "demo-model"
const openThreshold = 3

type ProviderLayer = Layer.Layer<ChatProvider.ChatProvider, Config.ConfigError, HttpClient.HttpClient>

const mockProvider = (name: string, server: MockProviderServer.MockProviderServer["Service"]): ProviderLayer =>
  OpenAiCompatible.layerCompatible({ name, apiUrl: `${server.url}/v1`, apiKey, defaultModel: mockModel })

// OPENAI_API_KEY (required), OPENAI_BASE_URL, OPENAI_MODEL … are read through Config, never printed
const realOpenAi: ProviderLayer = OpenAiChat.layer({ name: "openai" }).pipe(Layer.provide(OpenAiClient.layerConfig()))

const appLayer = (primary: ProviderLayer, backup: ProviderLayer, timings: Timings) =>
  Router.layer({
    providers: [primary, backup],
    policy: {
      // jitter off: the demo's timings (and its test) should not wobble from run to run
      retry: { maxRetries: 1, initialDelay: Duration.millis(timings.retryDelayMillis), jitter: false },
      maxRetryAfter: Duration.millis(timings.maxRetryAfterMillis),
      streamPolicy: "restart",
      attemptTimeout: "20 seconds",
      firstTokenTimeout: "15 seconds",
      idleTimeout: "10 seconds",
      deadline: "45 seconds"
    }
  }).pipe(
    Layer.provideMerge(
      CircuitBreaker.layerMemory({
        failureThreshold: openThreshold,
        openDuration: Duration.millis(timings.openDurationMillis),
        jitter: 0
      })
    ),
    Layer.provide(NodeHttpClient.layerUndici)
  )

// ---------------------------------------------------------------------------
// the session
// ---------------------------------------------------------------------------

interface Session {
  readonly style: Terminal.Style
  readonly timings: Timings
  readonly write: (text: string) => Effect.Effect<void>
  readonly line: (text?: string) => Effect.Effect<void>
  readonly flaky: MockProviderServer.MockProviderServer["Service"] | undefined
  readonly healthy: MockProviderServer.MockProviderServer["Service"]
  readonly primaryName: string
  readonly startedAt: number
  readonly calls: Array<CallRecord>
  readonly transitions: Array<CircuitBreaker.Transition>
}

const elapsed = (session: Session) =>
  Effect.map(Clock.currentTimeMillis, (now) => session.style.dim(`[+${Terminal.seconds(now - session.startedAt)}]`))

// Transitions are printed by another fiber; a short pause after each call lets the ones the call
// caused reach the terminal before the call's own summary, so the output reads in order.
const settle = Effect.sleep(Duration.millis(15))

const section = (session: Session, title: string, note: string) =>
  Effect.gen(function*() {
    yield* session.line()
    yield* session.line(`${session.style.bold(session.style.magenta(`▌ ${title}`))} ${yield* elapsed(session)}`)
    yield* session.line(session.style.dim(`  ${note}`))
  })

const printAttempts = (session: Session, attempts: ReadonlyArray<Attempt>) =>
  Effect.forEach(attempts, (attempt) => session.line(Terminal.attemptLine(session.style, attempt)), { discard: true })

const chatCall = (session: Session, scene: string, label: string, prompt: string) =>
  Effect.gen(function*() {
    const { bold, cyan, dim } = session.style
    // the question goes out before the call, so a transition the call causes prints under it
    yield* session.line(`  ${cyan("›")} ${label} ${dim(JSON.stringify(prompt))}`)
    const response = yield* ChatProvider.chat(prompt)
    yield* settle
    yield* session.line(`    ${response.text}`)
    yield* session.line(`    answered by ${bold(response.provider)} in ${Terminal.millis(response.latencyMillis)}`)
    yield* printAttempts(session, response.attempts)
    session.calls.push({ scene, label, provider: response.provider, text: response.text, restarted: false, attempts: response.attempts })
  })

const streamCall = (session: Session, scene: string, label: string, prompt: string) =>
  Effect.gen(function*() {
    const { bold, cyan, yellow } = session.style
    const state: { text: string; restarted: boolean; resumed: Resume | undefined; finish: Finish | undefined } = {
      text: "",
      restarted: false,
      resumed: undefined,
      finish: undefined
    }
    yield* session.line(`  ${cyan("›")} ${label} ${session.style.dim(`${JSON.stringify(prompt)}, streamed`)}`)
    yield* session.write("    ")
    yield* ChatProvider.stream(prompt).pipe(
      Stream.runForEach((part) => {
        switch (part.type) {
          case "text-delta":
            state.text += part.text
            return session.write(part.text)
          case "restart":
            state.restarted = true
            state.text = ""
            return Effect.andThen(
              session.line(),
              session.line(yellow(`    ↺ restart (${part.reason}): discard the text above; ${part.provider} answers from the start`))
            ).pipe(Effect.andThen(session.write("    ")))
          case "resume":
            // said after the answer, so the sentence on screen reads as the caller got it
            state.resumed = part
            return Effect.void
          case "finish":
            state.finish = part
            return Effect.void
          default:
            return Effect.void
        }
      })
    )
    yield* session.line()
    if (state.resumed !== undefined) {
      yield* session.line(
        yellow(`    ↪ resume (${state.resumed.reason}): ${state.resumed.provider} continued from the text already shown, nothing was discarded`)
      )
    }
    yield* settle
    const finish = state.finish
    const provider = finish?.provider ?? "?"
    const attempts = finish?.attempts ?? []
    yield* session.line(`    answered by ${bold(provider)} (finish: ${finish?.finishReason ?? "none"})`)
    yield* printAttempts(session, attempts)
    session.calls.push({ scene, label, provider, text: state.text, restarted: state.restarted, resumedOn: state.resumed?.provider, attempts })
  })

const chatRequests = (server: MockProviderServer.MockProviderServer["Service"]) =>
  Effect.map(server.calls, (calls) => calls.filter((call) => call.path.endsWith("/chat/completions")).length)

const needsMock = (session: Session, title: string) =>
  section(session, title, "skipped: this scene scripts faults on the primary, which only the mock can do")

// ---------------------------------------------------------------------------
// scenes
// ---------------------------------------------------------------------------

const streamedAnswer = (session: Session) =>
  Effect.gen(function*() {
    yield* section(session, "1. A streamed answer", "The primary is healthy: its answer streams token by token as it arrives.")
    if (session.flaky !== undefined) {
      yield* session.flaky.setScript({
        replies: [
          MockProviderServer.text("Failover means your program keeps answering when one provider does not.", {
            chunkDelayMillis: session.timings.chunkDelayMillis
          })
        ]
      })
    }
    yield* streamCall(session, "stream", "ask", "In one sentence: why does an LLM app need failover?")
  })

const shortRetryAfter = (session: Session, flaky: MockProviderServer.MockProviderServer["Service"]) =>
  Effect.gen(function*() {
    const { maxRetryAfterMillis, shortRetryAfterMillis } = session.timings
    yield* section(
      session,
      "2. 429 with a short Retry-After",
      `The primary answers 429 with retry-after-ms ${shortRetryAfterMillis} (≤ maxRetryAfter ${maxRetryAfterMillis} ms): waited out on the same provider.`
    )
    yield* flaky.setScript({
      replies: [
        MockProviderServer.rateLimited({ retryAfterMillis: shortRetryAfterMillis }),
        MockProviderServer.text("Answered by the primary after waiting out its Retry-After.")
      ]
    })
    yield* chatCall(session, "short-429", "call", "Hello again")
  })

const circuitBreaker = (session: Session) =>
  Effect.gen(function*() {
    const { openDurationMillis, retryDelayMillis } = session.timings
    const breaker = yield* CircuitBreaker.CircuitBreaker
    const router = yield* Router.Router
    const flaky = session.flaky
    const scene = "circuit"
    yield* section(
      session,
      "3. The circuit breaker",
      flaky === undefined
        ? `The primary's circuit is opened by hand (forceOpen) for ${Terminal.seconds(openDurationMillis)}: calls skip it, then one probe closes it.`
        : `The primary answers 503 to everything: each call tries it twice (${retryDelayMillis} ms backoff), then fails over. ` +
          `${openThreshold} failed calls in a row open its circuit for ${Terminal.seconds(openDurationMillis)}.`
    )
    yield* session.healthy.setScript({ fallback: MockProviderServer.text("The backup covers while the primary is down.") })
    const start = flaky === undefined ? 0 : yield* chatRequests(flaky)
    if (flaky === undefined) {
      const primary = (yield* router.status).find((status) => status.name === session.primaryName)
      yield* breaker.forceOpen(`${session.primaryName}:${primary?.defaultModel ?? ""}`, Duration.millis(openDurationMillis))
      yield* settle
    } else {
      yield* flaky.setScript({
        replies: [
          ...Array.from({ length: openThreshold * 2 }, () => MockProviderServer.serverError(503)),
          MockProviderServer.text("The primary is back: the half-open probe succeeded.")
        ]
      })
      for (let call = 1; call <= openThreshold; call++) {
        yield* chatCall(session, scene, `call ${call}`, `Status check ${call}`)
      }
    }
    const before = flaky === undefined ? undefined : yield* chatRequests(flaky)
    // numbered on from the burst's calls, if there was a burst
    const first = flaky === undefined ? 1 : openThreshold + 1
    for (let call = first; call <= first + 1; call++) {
      yield* chatCall(session, scene, `call ${call}`, `Status check ${call}`)
    }
    const after = flaky === undefined ? undefined : yield* chatRequests(flaky)
    if (before !== undefined && after !== undefined) {
      yield* session.line(
        session.style.bold(
          `    the primary's mock got ${before - start} requests for calls 1–${openThreshold} and ` +
            `${after - before} for calls ${openThreshold + 1}–${openThreshold + 2}: an open circuit is skipped without a request`
        )
      )
    }
    yield* session.line(session.style.dim(`    … waiting ${Terminal.seconds(openDurationMillis)} for the open duration to pass`))
    yield* Effect.sleep(Duration.millis(openDurationMillis + 100))
    yield* chatCall(session, scene, `call ${first + 2} (the half-open probe)`, "Status check, once more")
    return before === undefined || after === undefined ? undefined : { before, after }
  })

const streamCut = (session: Session, flaky: MockProviderServer.MockProviderServer["Service"]) =>
  Effect.gen(function*() {
    const chunkDelayMillis = session.timings.chunkDelayMillis
    yield* section(
      session,
      "4. A stream cut mid-answer",
      "The primary's connection drops after four tokens. Stream policy `restart`: a restart part, then the backup's complete answer."
    )
    yield* flaky.setScript({
      replies: [MockProviderServer.cutAfter(4, "The primary starts a long answer and then its connection drops", { chunkDelayMillis })]
    })
    yield* session.healthy.setScript({
      replies: [MockProviderServer.text("A complete answer from the backup, streamed from the start.", { chunkDelayMillis })]
    })
    yield* streamCall(session, "cut", "ask", "Tell me something long")
  })

const longRetryAfter = (session: Session, flaky: MockProviderServer.MockProviderServer["Service"]) =>
  Effect.gen(function*() {
    const { longRetryAfterSeconds, maxRetryAfterMillis } = session.timings
    yield* section(
      session,
      "5. 429 with a long Retry-After",
      `The primary answers 429 with Retry-After ${longRetryAfterSeconds} s (> maxRetryAfter ${maxRetryAfterMillis} ms): ` +
        "fail over at once, and skip the primary until then."
    )
    yield* flaky.setScript({ replies: [MockProviderServer.rateLimited({ retryAfterSeconds: longRetryAfterSeconds })] })
    yield* session.healthy.setScript({ fallback: MockProviderServer.text("The backup answers while the primary is rate limited.") })
    const before = yield* chatRequests(flaky)
    yield* chatCall(session, "long-429", "call 1", "First question")
    yield* chatCall(session, "long-429", "call 2", "Second question")
    const after = yield* chatRequests(flaky)
    yield* session.line(session.style.bold(`    the primary's mock received ${after - before} request for both calls`))
  })

/**
 * Three wire formats in one chain, on a router of their own (so the summary above stays the main
 * router's): OpenAI Chat Completions SSE, Anthropic Messages (named SSE events) and Gemini
 * (`streamGenerateContent?alt=sse`), each provider layer talking to its own mock.
 */
const threeFormats = (session: Session) =>
  Effect.scoped(Effect.gen(function*() {
    const chunkDelayMillis = session.timings.chunkDelayMillis
    yield* section(
      session,
      "6. Three wire formats in one chain",
      "openai (Chat Completions) → anthropic (Messages) → gemini (generateContent), each its own provider layer and wire format. " +
        "Stream policy `continue`: a stream cut on openai resumes on anthropic from the text already shown."
    )
    const openai = yield* MockProviderServer.make({})
    const anthropic = yield* MockProviderServer.make({})
    const gemini = yield* MockProviderServer.make({})
    const chain = Router.layer({
      providers: [
        OpenAiCompatible.layerCompatible({ name: "openai", apiUrl: `${openai.url}/v1`, apiKey, defaultModel: "gpt-4o-mini" }),
        AnthropicChat.layer({ name: "anthropic", defaultModel: "claude-sonnet-4-5" }).pipe(
          Layer.provide(AnthropicClient.layer({ name: "anthropic", apiKey, apiUrl: anthropic.url }))
        ),
        GoogleProvider.gemini({ name: "gemini", apiKey, baseUrl: `${gemini.url}/v1beta`, defaultModel: "gemini-2.5-flash" })
      ],
      policy: { retry: { maxRetries: 0 }, streamPolicy: "continue", deadline: "45 seconds" }
    }).pipe(Layer.provide(CircuitBreaker.layerMemory()), Layer.provide(NodeHttpClient.layerUndici))

    yield* openai.setScript({ replies: [MockProviderServer.serverError(503)] })
    yield* anthropic.setScript({ replies: [MockProviderServer.overloaded(529)] })
    yield* gemini.setScript({ replies: [MockProviderServer.text("Gemini answers after OpenAI's 503 and Anthropic's 529.")] })
    yield* chatCall(session, "formats", "call", "Which provider is up?").pipe(Effect.provide(chain))

    yield* openai.setScript({
      replies: [MockProviderServer.cutAfter(4, "Failover keeps an answer going when a provider drops mid-stream", { chunkDelayMillis })]
    })
    yield* anthropic.setScript({ replies: [MockProviderServer.text(" going when a provider drops mid-stream.", { chunkDelayMillis })] })
    yield* streamCall(session, "formats-continue", "ask", "What does failover do for a stream?").pipe(Effect.provide(chain))
    const prefill = (yield* anthropic.calls).at(-1)
    yield* session.line(session.style.dim(`    anthropic was sent the text so far as a trailing assistant message: ${JSON.stringify(trailingAssistant(prefill?.body))}`))
  }))

/** The content of the last message of an Anthropic request body, when it is the assistant's. */
const trailingAssistant = (body: unknown): unknown => {
  const messages = typeof body === "object" && body !== null && "messages" in body && Array.isArray(body.messages) ? body.messages : []
  const last: unknown = messages.at(-1)
  return typeof last === "object" && last !== null && "role" in last && last.role === "assistant" && "content" in last ? last.content : undefined
}

const summary = (session: Session) =>
  Effect.gen(function*() {
    const router = yield* Router.Router
    const status = yield* router.status
    const stats = yield* router.stats
    const now = yield* Clock.currentTimeMillis
    yield* section(session, "Summary: Router.status", "Per provider: calls, outcomes, latency, circuit state, last error.")
    yield* Effect.forEach(Terminal.statusTable(session.style, status, now), (row) => session.line(row), { discard: true })
    yield* session.line()
    yield* session.line(
      `  router: ${stats.requests} calls, ${stats.attempts} attempts, ${stats.failovers} failovers (failed or skipped attempts), ` +
        `${stats.failed} calls failed — in ${Terminal.seconds(now - session.startedAt)}`
    )
    return { status, stats, elapsedMillis: now - session.startedAt }
  })

const watchTransitions = (session: Session) =>
  Effect.gen(function*() {
    const breaker = yield* CircuitBreaker.CircuitBreaker
    yield* breaker.transitions.pipe(
      Stream.runForEach((transition) =>
        Effect.gen(function*() {
          session.transitions.push(transition)
          const colour = transition.to === "Open" ? session.style.red : transition.to === "Closed" ? session.style.green : session.style.yellow
          const open = transition.openForMillis === undefined ? "" : ` for ${Terminal.seconds(transition.openForMillis)}`
          yield* session.line(
            `    ${colour(`⚡ circuit ${transition.key}: ${transition.from} → ${transition.to}${open}`)} ${yield* elapsed(session)}`
          )
        })
      ),
      Effect.forkChild
    )
    // let the subscriber attach before the first call can trip anything
    yield* Effect.yieldNow
  })

// ---------------------------------------------------------------------------
// entry points
// ---------------------------------------------------------------------------

/** The whole demo as an Effect: starts the servers, runs the scenes, stops everything. */
export const demo = (options: DemoOptions): Effect.Effect<DemoReport, ChatError | Config.ConfigError> =>
  Effect.scoped(Effect.gen(function*() {
    const timings = options.timings ?? normalTimings
    const style = Terminal.makeStyle(options.color ?? Terminal.defaultColor())
    const real = options.real === true
    const flaky = real ? undefined : yield* MockProviderServer.make({})
    const healthy = yield* MockProviderServer.make({})
    const write = (text: string) => Effect.sync(() => options.write(text))
    const session: Session = {
      style,
      timings,
      write,
      line: (text = "") => write(`${text}\n`),
      flaky,
      healthy,
      primaryName: flaky === undefined ? "openai" : "primary",
      startedAt: yield* Clock.currentTimeMillis,
      calls: [],
      transitions: []
    }
    const primary = flaky === undefined ? realOpenAi : mockProvider("primary", flaky)

    yield* session.line(style.bold("FlexiAI demo: one chat interface, two providers, failover, retries and a circuit breaker"))
    yield* session.line(
      `  primary  ${flaky === undefined ? "OpenAI via OpenAiClient.layerConfig (OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL)" : `${flaky.url}/v1  (flaky mock)`}`
    )
    yield* session.line(`  backup   ${healthy.url}/v1  (healthy mock)`)
    yield* session.line(
      `  policy   1 retry after ${timings.retryDelayMillis} ms, Retry-After up to ${timings.maxRetryAfterMillis} ms waited out, ` +
        `stream policy "restart"; circuit opens after ${openThreshold} failed calls, for ${Terminal.seconds(timings.openDurationMillis)}`
    )

    const report = yield* Effect.gen(function*() {
      yield* watchTransitions(session)
      yield* streamedAnswer(session)
      if (flaky === undefined) yield* needsMock(session, "2. 429 with a short Retry-After")
      else yield* shortRetryAfter(session, flaky)
      const whileOpen = yield* circuitBreaker(session)
      if (flaky === undefined) {
        yield* needsMock(session, "4. A stream cut mid-answer")
        yield* needsMock(session, "5. 429 with a long Retry-After")
      } else {
        yield* streamCut(session, flaky)
        yield* longRetryAfter(session, flaky)
      }
      yield* threeFormats(session)
      const { elapsedMillis, stats, status } = yield* summary(session)
      return { real, calls: session.calls, transitions: session.transitions, whileOpen, status, stats, elapsedMillis }
    }).pipe(Effect.provide(appLayer(primary, mockProvider("backup", healthy), timings)))
    return report
  })).pipe(
    // the router logs each failed attempt as a warning; here the demo prints them itself
    Effect.provideService(References.MinimumLogLevel, "Error")
  )

/** Runs the demo and resolves with what happened; servers and clients are stopped before it resolves. */
export const runDemo = (options: DemoOptions): Promise<DemoReport> => Effect.runPromise(demo(options))

if (import.meta.main) {
  const wantsReal = process.env["FLEXIAI_DEMO_REAL"] === "1"
  const hasKey = (process.env["OPENAI_API_KEY"] ?? "") !== ""
  if (wantsReal && !hasKey) {
    process.stderr.write("FLEXIAI_DEMO_REAL=1 but OPENAI_API_KEY is not set: running against the mock providers.\n")
  }
  NodeRuntime.runMain(demo({ write: (text) => process.stdout.write(text), real: wantsReal && hasKey }).pipe(Effect.asVoid))
}
