/**
 * The secret canary, as a kit: run calls while recording everything the library emits (log lines
 * at every level, spans with every HTTP header recorded on them, the failures' messages, `String`,
 * JSON and `Cause.pretty`), then ask which recorded text holds a piece of a secret.
 *
 * ```ts
 * const recorder = SecretCanary.recorder()
 * for (const call of calls) yield* recorder.run(call)
 * assert.deepStrictEqual(SecretCanary.leaks(SecretCanary.fragments(key), recorder.texts()), [])
 * ```
 *
 * Decisions: it returns findings instead of asserting, so it needs no test runner and one failing
 * spec lists every leak at once. `fragments` are the pieces a log or an error would keep of a key
 * when it is cut, shortened or masked badly (start, end, a middle run); a spec adds its own for
 * forms it knows (a JWT's signature, `sk-...abcd`). A recorder records spans only of calls it
 * runs, and records every request and response header on Effect's HTTP client spans
 * (`HttpClient.TracerHeaderFilter`): the worst case for a leak.
 *
 * @since 0.1.0
 */
import { Cause, Effect, type Exit, Logger, References, type Tracer } from "effect"
import { HttpClient } from "effect/http"
import * as RecordingTracer from "./RecordingTracer.ts"

/** A recorded text and where it came from (`log line`, `span http.client POST`, `failure 3 JSON`). @category models */
export interface Text {
  readonly label: string
  readonly text: string
}

/** What a recorder has seen so far, and the way to run calls under it. @category models */
export interface Recorder {
  /** Every log line: its message as JSON and as text, and its cause pretty-printed. */
  readonly lines: ReadonlyArray<string>
  readonly spans: ReadonlyArray<Tracer.NativeSpan>
  /** The failures of the calls run, in order. */
  readonly failures: ReadonlyArray<Cause.Cause<unknown>>
  /**
   * Runs `effect` with every log level going to the recorder, the recording tracer installed and
   * every header recorded on HTTP spans. A failure is logged at Error (as an app would log it)
   * and kept; the exit is returned, so the run never fails. (Typed loosely so a spec can pass
   * `chat` or a collected `stream` from one expression.)
   */
  readonly run: <R>(effect: Effect.Effect<unknown, unknown, R>) => Effect.Effect<Exit.Exit<unknown, unknown>, never, R>
  /** Everything recorded, as labelled texts for `leaks`. */
  readonly texts: () => ReadonlyArray<Text>
}

/** A recorder with nothing recorded yet. @category constructors */
export const recorder = (): Recorder => {
  const lines: Array<string> = []
  const failures: Array<Cause.Cause<unknown>> = []
  const { spans, tracer } = RecordingTracer.make()
  const logger = Logger.make((options) => {
    lines.push(JSON.stringify(options.message), String(options.message), Cause.pretty(options.cause))
  })
  const run = <R>(effect: Effect.Effect<unknown, unknown, R>): Effect.Effect<Exit.Exit<unknown, unknown>, never, R> =>
    Effect.exit(effect).pipe(
      Effect.tap((exit) =>
        exit._tag === "Failure"
          ? Effect.andThen(Effect.sync(() => failures.push(exit.cause)), Effect.logError("call failed", exit.cause))
          : Effect.void
      ),
      Effect.provide(Logger.layer([logger])),
      Effect.provideService(References.MinimumLogLevel, "All"),
      Effect.withTracer(tracer),
      Effect.provideService(HttpClient.TracerHeaderFilter, () => true)
    )
  const texts = (): ReadonlyArray<Text> => [
    ...failures.flatMap((cause, index) => failureTexts(`failure ${index}`, cause)),
    ...lines.map((text) => ({ label: "log line", text })),
    ...spans.flatMap(spanTexts)
  ]
  return { lines, spans, failures, run, texts }
}

/** A failure as the places a key could show: the error's message, `String`, JSON, and the cause printed. @category utils */
export const failureTexts = (label: string, cause: Cause.Cause<unknown>): ReadonlyArray<Text> => {
  const error = Cause.squash(cause)
  return [
    { label: `${label} message`, text: error instanceof Error ? error.message : "" },
    { label: `${label} String`, text: String(error) },
    { label: `${label} JSON`, text: JSON.stringify(error) ?? "" },
    { label: `${label} cause`, text: Cause.pretty(cause) }
  ]
}

/** A span as text: its name, attributes, events and status together, then each attribute value alone. @category utils */
export const spanTexts = (span: Tracer.NativeSpan): ReadonlyArray<Text> => [
  {
    label: `span ${span.name}`,
    text: JSON.stringify({ name: span.name, attributes: [...span.attributes], events: span.events, status: span.status._tag })
  },
  ...[...span.attributes].map(([key, value]) => ({ label: `span ${span.name} ${key}`, text: String(value) }))
]

/** Whether some span recorded request headers: a canary over spans proves nothing without them. @category utils */
export const recordedHeaders = (spans: ReadonlyArray<Tracer.NativeSpan>): boolean =>
  spans.some((span) => [...span.attributes.keys()].some((key) => key.startsWith("http.request.header.")))

/**
 * The pieces of `secret` a leak would keep: all of it, its last 8 characters, and two 8-character
 * runs from its middle (for a secret of 24 characters or more). Not its start: key families share
 * public prefixes (`sk-ant-api03-`, `AKIA`) that a spec may rightly see.
 *
 * @category utils
 */
export const fragments = (secret: string): ReadonlyArray<string> => {
  if (secret.length < 24) return [secret]
  const third = Math.floor(secret.length / 3)
  return [secret, secret.slice(-8), secret.slice(third, third + 8), secret.slice(2 * third - 4, 2 * third + 4)]
}

/** Each text that holds one of `secrets`, as `label: fragment`; empty when nothing leaked. @category utils */
export const leaks = (secrets: ReadonlyArray<string>, texts: ReadonlyArray<Text>): ReadonlyArray<string> =>
  texts.flatMap(({ label, text }) => secrets.filter((secret) => text.includes(secret)).map((secret) => `${label}: ${secret}`))
