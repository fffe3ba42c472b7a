/**
 * The generic stream decoder: a streamed body's bytes to `StreamPart`s, for any provider. The
 * provider supplies its framing (`Sse.framing()`, `Ndjson.framing()`, `EventStreamFrames.framing()`)
 * and a `Machine`: its event decoder and state machine in one `step(state, event)`, and `end`
 * and `lost` for the two ways a body stops. Everything else is here, once: the order of parts and
 * errors, the malformed-event policy, time to first token, draining the body, interruption.
 *
 * Written as a pull over the body's pull rather than a pipeline of stream operators: those cost
 * an Effect (or several) per event, which dominated FlexiAI's CPU per streamed chunk; here the
 * Effect machinery runs once per network read, however many events the read carries. A read is
 * framed and stepped in one synchronous pass and its parts go out as one chunk.
 *
 * What it guarantees (what providers no longer each get wrong):
 * - The stream's first parts go out as soon as they are decoded, before the rest of the read
 *   that carried them (time to first token). Later reads are decoded whole.
 * - An undecodable event fails the stream with `MalformedResponse` (`onMalformedEvent: "fail"`,
 *   the default: a dropped event could have been any part of the answer, so a stream that lost
 *   one must not end as if complete), or, opt-in, is skipped with one warning per read
 *   (`"skip"`). Unset in the options, the rule is `RouterPolicy.OnMalformedEvent` as the stream
 *   runs: the router's policy for that provider, else the default.
 * - Parts produced before a failure in the same read are delivered before it; a framing error
 *   (an event past its size limit, a corrupt frame) waits for the events framed before it,
 *   deferred ones included.
 * - The answer ends at the step that emits the `finish` part (it must be that step's last part)
 *   or at `Done`; the body is then read to its end, briefly (`drainGrace`), before the finish
 *   part is handed out, so a consumer that closes the stream at its finish part returns the
 *   connection to the pool instead of aborting it.
 * - A body that fails after content (a lost connection, or its cap: `MalformedResponse`), and a
 *   body that ends without a finish, fail with `StreamInterrupted` carrying the partial output
 *   (the machine's `lost` and `end`); a stream never ends as if complete.
 *
 * @since 0.2.0
 */
import { Cause, Duration, Effect, Pull, Stream } from "effect"
import type * as Arr from "effect/Array"
import { constVoid } from "effect/Function"
import * as ProviderError from "@flexiai/core/ProviderError"
import * as RouterPolicy from "@flexiai/core/RouterPolicy"
import * as TimeLimit from "@flexiai/core/TimeLimit"
import type * as StreamPart from "@flexiai/core/StreamPart"
import { MalformedResponse, type StreamInterrupted } from "@flexiai/core/ProviderError"
import type * as Framing from "./Framing.ts"

/**
 * What one event did.
 *
 * - `Parts`: the new state and the parts to emit (often none). A step whose last part is the
 *   `finish` part completes the answer.
 * - `Done`: the provider's end-of-stream marker (OpenAI's `[DONE]`): `end` decides.
 * - `Malformed`: the event could not be decoded (`message` says how, without its content).
 * - `Error`: an error the provider sent inside the stream; `reason` may read the clock (a retry
 *   delay) or anything else, and runs only then.
 *
 * @category models
 */
export type Step<State> =
  | { readonly _tag: "Parts"; readonly state: State; readonly parts: ReadonlyArray<StreamPart.StreamPart> }
  | { readonly _tag: "Done" }
  | { readonly _tag: "Malformed"; readonly message: string }
  | { readonly _tag: "Error"; readonly reason: Effect.Effect<ProviderError.ProviderErrorReason> }

/** The stream stopped (`Done` or the end of the body): the last parts, or the interruption. @category models */
export type End =
  | { readonly _tag: "Parts"; readonly parts: ReadonlyArray<StreamPart.StreamPart> }
  | { readonly _tag: "Interrupted"; readonly reason: StreamInterrupted }

/**
 * A provider's stream, from its framed events. One per stream (it may close over the call's
 * model or masking).
 *
 * @category models
 */
export interface Machine<Event, State> {
  readonly initial: State
  /** Decodes one framed event and feeds it to the state machine. Runs once per event: keep it lean. */
  readonly step: (state: State, event: Event) => Step<State>
  /**
   * The stream stopped before the answer completed: its remaining parts (a `finish`), or
   * `Interrupted`. `text()` is the text of every `text-delta` part the machine emitted.
   */
  readonly end: (state: State, text: () => string) => End
  /**
   * The body failed (`cause` says how: a lost connection, its cap): `StreamInterrupted` when
   * content arrived, `undefined` to fail with the body's error as it is. `text()` as for `end`.
   */
  readonly lost: (state: State, cause: string, text: () => string) => StreamInterrupted | undefined
}

/** One stream's decoder. @category models */
export interface Options<Event, State> {
  /** The provider name errors carry. */
  readonly provider: string
  /** The model errors carry. */
  readonly model: string
  /** Read only when an error is built (a getter may compute it lazily). */
  readonly requestId?: string | undefined
  readonly framing: Framing.Framing<Event>
  readonly machine: Machine<Event, State>
  /** An undecodable event fails the stream, or is skipped with a warning. Default: `RouterPolicy.OnMalformedEvent` as the stream runs (`fail` unless a router says otherwise). */
  readonly onMalformedEvent?: RouterPolicy.MalformedEventPolicy | undefined
}

/**
 * How long the body is read after the answer completed, before its finish part goes out. A
 * server that keeps the response open is left after this.
 *
 * @category constants
 */
export const drainGrace: Duration.Duration = Duration.millis(100)

/** @category models */
export type PartsPull = Effect.Effect<Arr.NonEmptyReadonlyArray<StreamPart.StreamPart>, ProviderError.ProviderError | Cause.Done>

/**
 * A body's bytes to parts, as a stream.
 *
 * @category constructors
 */
export const decode = <Event, State, R>(
  bytes: Stream.Stream<Uint8Array, ProviderError.ProviderError, R>,
  options: Options<Event, State>
): Stream.Stream<StreamPart.StreamPart, ProviderError.ProviderError, R> =>
  Stream.transformPull(bytes, (pull) => Effect.sync(() => pullParts(pull, options)))

/**
 * The pull behind `decode`, over a pull of the body's bytes (`Channel.toPullScoped` of the body):
 * for a provider that opens its stream in a channel transform, one step less per pull than
 * `decode`.
 *
 * @category constructors
 */
export const pullParts = <Event, State>(
  pull: Pull.Pull<Arr.NonEmptyReadonlyArray<Uint8Array>, ProviderError.ProviderError, void>,
  options: Options<Event, State>
): PartsPull => {
  const provider = options.provider
  const machine = options.machine
  // unset in the options: read from the context at the first read (the router provides it)
  let failOnMalformed = options.onMalformedEvent === undefined ? undefined : options.onMalformedEvent === "fail"
  // the request id is read only here, when an error is built: it may be computed lazily
  const errorOf = (reason: ProviderError.ProviderErrorReason) =>
    ProviderError.make(provider, reason, { model: options.model, requestId: options.requestId })
  const failWith = (reason: ProviderError.ProviderErrorReason) => Effect.fail(errorOf(reason))
  let state = machine.initial
  let finished = false
  // The answer is complete (finish part, or `Done`): the body is about to end, and reading it
  // to its end lets the connection go back to the pool instead of being aborted (an abort
  // costs an error with its stack, and a socket)
  let drainPending = false
  let heldFinish: StreamPart.StreamPart | undefined
  let out: Array<StreamPart.StreamPart> = []
  // The text the machine emitted, for `end` and `lost`: kept here, as its pieces, so a machine's
  // state need not carry it. A copy of the state per text event, and a `+=` rope keeping one
  // more object alive per delta for the whole stream, were the largest costs per streamed chunk
  // left above the JSON parse (`pnpm bench`, 16 streams: about 0.25 µs of 2.6).
  const pieces: Array<string> = []
  const text = (): string => pieces.join("")
  let skipped = 0
  let failure: Effect.Effect<never, ProviderError.ProviderError> | undefined
  // a framing error waits until the events framed before it are decoded, deferred ones
  // included: they came first, so they are delivered first
  let framingFailure: Effect.Effect<never, ProviderError.ProviderError> | undefined
  // The stream's first parts go out as soon as they are decoded: the events after them in the
  // same read wait here for the next pull (time to first token). Later reads are decoded whole.
  let delivered = false
  let mayDefer = false
  let deferred: Array<Event> | undefined

  const stop = () => {
    finished = true
    const result = machine.end(state, text)
    if (result._tag === "Parts") {
      if (result.parts.length > 0) out.push(...result.parts)
    } else {
      failure = failWith(result.reason)
    }
  }

  const onEvent = (event: Event) => {
    const result = machine.step(state, event)
    switch (result._tag) {
      case "Parts": {
        state = result.state
        const parts = result.parts
        if (parts.length > 0) {
          // one push per part, not a spread call: this runs once per event
          for (let i = 0; i < parts.length; i++) {
            const part = parts[i]!
            if (part.type === "text-delta" && part.text !== "") pieces.push(part.text)
            out.push(part)
          }
          if (parts[parts.length - 1]!.type === "finish") {
            finished = true
            drainPending = true
          }
        }
        return
      }
      case "Done":
        drainPending = true
        return stop()
      case "Malformed":
        if (failOnMalformed) failure = failWith(new MalformedResponse({ message: result.message }))
        else skipped++
        return
      case "Error":
        finished = true
        failure = Effect.flatMap(result.reason, failWith)
        return
    }
  }

  const framer = options.framing.make((event) => {
    if (finished || failure !== undefined || framingFailure !== undefined) return
    if (deferred !== undefined) {
      deferred.push(event)
      return
    }
    onEvent(event)
    if (mayDefer && out.length > 0) deferred = []
  })

  const framingError = (error: string | undefined) => {
    if (error !== undefined && failure === undefined && framingFailure === undefined) {
      framingFailure = failWith(new MalformedResponse({ message: error }))
    }
  }

  // The answer is complete: hold its finish part back until the body is drained (see `drain`).
  const holdFinish = () => {
    if (drainPending) {
      drainPending = false
      if (out.at(-1)?.type === "finish") heldFinish = out.pop()
    }
  }

  const decodeDeferred = () => {
    const events = deferred!
    deferred = undefined
    for (const event of events) {
      if (finished || failure !== undefined) break
      onEvent(event)
    }
    holdFinish()
  }

  // hands out what this read produced; `undefined` when it produced nothing
  const flush = (): PartsPull | undefined => {
    if (framingFailure !== undefined && deferred === undefined && failure === undefined) {
      failure = framingFailure
      framingFailure = undefined
    }
    const warn = skipped === 0 ? undefined : Effect.logWarning("skipped undecodable stream events", {
      provider,
      events: skipped
    })
    skipped = 0
    if (out.length > 0) {
      const parts = out as unknown as Arr.NonEmptyReadonlyArray<StreamPart.StreamPart>
      out = []
      delivered = true
      // parts produced before a failure in the same read are delivered first
      return warn === undefined ? Effect.succeed(parts) : Effect.as(warn, parts)
    }
    if (failure !== undefined) {
      const fail = failure
      failure = undefined
      finished = true
      return warn === undefined ? fail : Effect.andThen(warn, fail)
    }
    if (warn !== undefined) {
      // nothing to hand out yet: log, then go on reading
      return Effect.andThen(warn, Effect.suspend(() => next))
    }
    return undefined
  }

  const onEnd = (): PartsPull => {
    if (!finished) framingError(framer.end())
    if (framingFailure !== undefined && failure === undefined) {
      failure = framingFailure
      framingFailure = undefined
    }
    if (!finished && failure === undefined) stop()
    finished = true
    return flush() ?? Cause.done()
  }

  // After the answer, before handing out its finish part (the content goes out at once): read
  // what is left of the body (normally the end marker and the end), briefly, ignoring whatever it
  // holds. So whoever closes the stream at its finish part (the router does) returns the
  // connection to the pool instead of aborting the request.
  const drainLoop: Effect.Effect<void> = Pull.matchEffect(pull, {
    onSuccess: () => drainLoop,
    onFailure: () => Effect.void,
    onDone: () => Effect.void
  })
  const drain = Effect.ignore(TimeLimit.within(drainLoop, drainGrace, constVoid))

  const next: PartsPull = Effect.suspend(() => {
    const pending = flush()
    if (pending !== undefined) return pending
    if (deferred !== undefined) {
      decodeDeferred()
      const rest = flush()
      if (rest !== undefined) return rest
    }
    if (heldFinish !== undefined) {
      const finish: Arr.NonEmptyReadonlyArray<StreamPart.StreamPart> = [heldFinish]
      heldFinish = undefined
      return Effect.as(drain, finish)
    }
    if (finished) return Cause.done()
    return failOnMalformed === undefined ? Effect.withFiber((fiber) => {
      failOnMalformed = fiber.getRef(RouterPolicy.OnMalformedEvent) === "fail"
      return read
    }) : read
  })

  const read: PartsPull = Pull.matchEffect(pull, {
      onSuccess: (chunks) => {
        mayDefer = !delivered
        for (const chunk of chunks) {
          framingError(framer.feed(chunk))
          if (finished || failure !== undefined || framingFailure !== undefined) break
        }
        mayDefer = false
        holdFinish()
        return next
      },
      onFailure: (cause) => {
        const error = Cause.findErrorOption(cause)
        if (error._tag === "None") return Effect.failCause(cause)
        finished = true
        const lost = error.value
        // after content, a body that broke loses nothing: the partial output goes with the error
        const cut = lost.reason._tag === "Connection" || lost.reason._tag === "MalformedResponse"
          ? machine.lost(state, `${lost.reason._tag}: ${lost.reason.message}`, text)
          : undefined
        return Effect.fail(cut === undefined ? lost : errorOf(cut))
      },
      onDone: onEnd
    })
  return next
}
