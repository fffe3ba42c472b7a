// The generic stream decoder, driven by a made-up provider ("toy": JSON events, over NDJSON or
// over binary event-stream frames) through real byte streams split at random points: the parts,
// their order against errors, interruption, the malformed-event policy, time to first token and
// the drain before the finish part.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Logger, Stream } from "effect"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import * as ProviderError from "@flexiai/core/ProviderError"
import * as RouterPolicy from "@flexiai/core/RouterPolicy"
import type * as StreamPart from "@flexiai/core/StreamPart"
import * as Accumulators from "../src/Accumulators.ts"
import * as BodyLimit from "../src/BodyLimit.ts"
import * as EventStreamFrames from "../src/EventStreamFrames.ts"
import type * as Framing from "../src/Framing.ts"
import * as Ndjson from "../src/Ndjson.ts"
import * as StreamDecoder from "../src/StreamDecoder.ts"
import { splitAt } from "./helpers.ts"

// --- the toy provider -------------------------------------------------------------------------

type ToyEvent =
  | { readonly text: string }
  | { readonly tool: { readonly index: number; readonly id?: string; readonly name?: string; readonly args: string } }
  | { readonly finish: string }
  | { readonly error: string }
  | { readonly done: true }

interface ToyState {
  readonly toolCalls: Accumulators.ToolCalls
}

/** The toy's machine over whatever carries its JSON (an NDJSON line, a frame's payload). */
const toyMachine = <Event>(payload: (event: Event) => string): StreamDecoder.Machine<Event, ToyState> => ({
  initial: { toolCalls: Accumulators.noToolCalls },
  step: (state, raw) => {
    let event: ToyEvent
    try {
      event = JSON.parse(payload(raw)) as ToyEvent
    } catch {
      return { _tag: "Malformed", message: "undecodable toy event" }
    }
    if ("done" in event) return { _tag: "Done" }
    if ("error" in event) return { _tag: "Error", reason: Effect.succeed(new ProviderError.ServerError({ message: event.error, status: 500 })) }
    if ("text" in event) {
      // the text is the decoder's to keep (it hands it to end and lost)
      return { _tag: "Parts", state, parts: [{ type: "text-delta", text: event.text }] }
    }
    if ("tool" in event) {
      const { args, id, index, name } = event.tool
      return {
        _tag: "Parts",
        state: { ...state, toolCalls: Accumulators.addToolDelta(state.toolCalls, index, id, name, args) },
        parts: [{ type: "tool-call-delta", index, ...(id === undefined ? {} : { id }), ...(name === undefined ? {} : { name }), argumentsDelta: args }]
      }
    }
    const [toolCalls, toolParts] = Accumulators.completeToolCalls(state.toolCalls)
    return {
      _tag: "Parts",
      state: { ...state, toolCalls },
      parts: [...toolParts, Accumulators.finishPart({ finishReason: "stop", rawFinishReason: event.finish }, undefined, "toy", "m")]
    }
  },
  end: (state, text) => ({ _tag: "Interrupted", reason: Accumulators.interrupted(text(), state.toolCalls, "the stream ended without a finish") }),
  lost: (state, cause, text) => Accumulators.hasContent(text(), state.toolCalls) ? Accumulators.interrupted(text(), state.toolCalls, cause) : undefined
})

interface Wire<Event> {
  readonly name: string
  readonly framing: Framing.Framing<Event>
  readonly payload: (event: Event) => string
  /** One event on the wire; `raw` is its payload as it is (malformed ones too). */
  readonly encode: (raw: string) => Uint8Array
}

const utf8 = new TextDecoder()
const ndjson: Wire<string> = {
  name: "NDJSON",
  framing: Ndjson.framing(),
  payload: (line) => line,
  encode: (raw) => new TextEncoder().encode(`${raw}\n`)
}
const frames: Wire<EventStreamFrames.Frame> = {
  name: "event-stream frames",
  framing: EventStreamFrames.framing(),
  payload: (frame) => utf8.decode(frame.payload),
  encode: (raw) => EventStreamFrames.encode({ ":event-type": "chunk" }, raw)
}

const concat = (pieces: ReadonlyArray<Uint8Array>): Uint8Array => {
  const whole = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0))
  let at = 0
  for (const piece of pieces) {
    whole.set(piece, at)
    at += piece.length
  }
  return whole
}

const body = <Event>(wire: Wire<Event>, events: ReadonlyArray<ToyEvent | string>): Uint8Array =>
  concat(events.map((event) => wire.encode(typeof event === "string" ? event : JSON.stringify(event))))

const options = <Event>(wire: Wire<Event>, onMalformedEvent?: "skip" | "fail"): StreamDecoder.Options<Event, ToyState> => ({
  provider: "toy",
  model: "m",
  requestId: "req-1",
  framing: wire.framing,
  machine: toyMachine(wire.payload),
  ...(onMalformedEvent === undefined ? {} : { onMalformedEvent })
})

const decode = <Event>(
  wire: Wire<Event>,
  pieces: ReadonlyArray<Uint8Array>,
  onMalformedEvent?: "skip" | "fail",
  after: Stream.Stream<Uint8Array, ProviderError.ProviderError> = Stream.empty
) => StreamDecoder.decode(Stream.concat(Stream.fromIterable(pieces), after), options(wire, onMalformedEvent))

/** Parts until the stream ends, and how it ended. */
const run = <Event>(
  wire: Wire<Event>,
  pieces: ReadonlyArray<Uint8Array>,
  onMalformedEvent?: "skip" | "fail",
  after?: Stream.Stream<Uint8Array, ProviderError.ProviderError>
) => {
  const parts: Array<StreamPart.StreamPart> = []
  const exit = Effect.runSyncExit(Stream.runForEach(decode(wire, pieces, onMalformedEvent, after), (part) => Effect.sync(() => parts.push(part))))
  return { parts, error: Exit.isFailure(exit) ? Exit.findErrorOption(exit) : undefined }
}

const reasonOf = (error: ReturnType<typeof run>["error"]) => {
  assert.isDefined(error)
  assert.strictEqual(error!._tag, "Some")
  return error!._tag === "Some" ? error!.value.reason : undefined
}

// --- generated answers --------------------------------------------------------------------------

const text = fc.string({ unit: fc.constantFrom("a", "é", "€", "{", "\"", " ", "\\"), minLength: 1, maxLength: 12 })
const contentEvent: fc.Arbitrary<ToyEvent> = fc.oneof(
  text.map((value) => ({ text: value })),
  fc.record({ index: fc.integer({ min: 0, max: 2 }), name: fc.option(fc.constantFrom("get", "put"), { nil: undefined }), args: text })
    .map(({ args, index, name }) => ({ tool: { index, id: `call_${index}`, ...(name === undefined ? {} : { name }), args } }))
)

/** What the machine should make of `events`, worked out without the decoder. */
const expectedParts = (events: ReadonlyArray<ToyEvent>): Array<StreamPart.StreamPart> => {
  const machine = toyMachine<string>((payload) => payload)
  let state = machine.initial
  const parts: Array<StreamPart.StreamPart> = []
  for (const event of events) {
    const result = machine.step(state, JSON.stringify(event))
    if (result._tag !== "Parts") throw new Error(`unexpected ${result._tag}`)
    state = result.state
    parts.push(...result.parts)
  }
  return parts
}

const cuts = fc.array(fc.nat(), { maxLength: 24 })

/** The same behaviour over each wire. */
const behaviour = <Event>(wire: Wire<Event>) =>
    describe(wire.name, () => {
      it("any split of the body gives the same parts, ending with one finish part", () => {
        fc.assert(
          fc.property(fc.array(contentEvent, { maxLength: 8 }), cuts, fc.boolean(), (content, at, withDone) => {
            const answer: Array<ToyEvent> = [...content, { finish: "stop" }]
            const bytes = body(wire, withDone ? [...answer, { done: true }] : answer)
            const expected = expectedParts(answer)
            const { error, parts } = run(wire, splitAt(bytes, at))
            assert.isUndefined(error)
            assert.deepStrictEqual(parts, expected)
            assert.strictEqual(parts.filter((part) => part.type === "finish").length, 1)
            assert.strictEqual(parts.at(-1)?.type, "finish")
          }),
          { numRuns: 150 }
        )
      })

      it("a body ending without a finish is StreamInterrupted with the text and the completed tool calls", () => {
        fc.assert(
          fc.property(fc.array(contentEvent, { minLength: 1, maxLength: 8 }), cuts, (content, at) => {
            const { error, parts } = run(wire, splitAt(body(wire, content), at))
            assert.deepStrictEqual(parts, expectedParts(content))
            const reason = reasonOf(error)
            assert.strictEqual(reason?._tag, "StreamInterrupted")
            if (reason?._tag !== "StreamInterrupted") return
            assert.strictEqual(reason.partialText, content.map((event) => "text" in event ? event.text : "").join(""))
            // the tool calls never completed (no finish): none is reported as received
            assert.isUndefined(reason.partialToolCalls)
          }),
          { numRuns: 80 }
        )
      })

      it("Done before the finish reason ends the stream through the machine's end", () => {
        const { error, parts } = run(wire, [body(wire, [{ text: "half" }, { done: true }, { text: "never" }])])
        assert.deepStrictEqual(parts, [{ type: "text-delta", text: "half" }])
        assert.strictEqual(reasonOf(error)?._tag, "StreamInterrupted")
      })

      it("a connection lost after content is StreamInterrupted; before content it stays the connection error", () => {
        const lost = Stream.fail(ProviderError.make("toy", new ProviderError.Connection({ message: "socket reset" })))
        fc.assert(
          fc.property(fc.array(contentEvent, { minLength: 1, maxLength: 6 }), cuts, (content, at) => {
            const { error, parts } = run(wire, splitAt(body(wire, content), at), undefined, lost)
            assert.deepStrictEqual(parts, expectedParts(content))
            const reason = reasonOf(error)
            assert.strictEqual(reason?._tag, "StreamInterrupted")
            if (reason?._tag === "StreamInterrupted") assert.strictEqual(reason.cause, "Connection: socket reset")
          }),
          { numRuns: 40 }
        )
        const before = run(wire, [], undefined, lost)
        assert.deepStrictEqual(before.parts, [])
        assert.strictEqual(reasonOf(before.error)?._tag, "Connection")
      })

      it("a body past its cap after content is StreamInterrupted with the partial output; before content it stays MalformedResponse", () => {
        // the kit's own cap over the bytes, as HttpTransport puts it on a streamed body
        const capped = (events: ReadonlyArray<ToyEvent>, pad: number) => {
          const bytes = concat([body(wire, events), new Uint8Array(pad)])
          return StreamDecoder.decode(
            // two reads: the events, then the padding that takes the body past its cap
            BodyLimit.capStream(Stream.concat(Stream.make(bytes.subarray(0, bytes.length - pad)), Stream.make(bytes.subarray(bytes.length - pad))), bytes.length - 1, () =>
              ProviderError.make("toy", BodyLimit.streamTooLarge(bytes.length - 1))),
            options(wire)
          )
        }
        const collect = (stream: Stream.Stream<StreamPart.StreamPart, ProviderError.ProviderError>) => {
          const parts: Array<StreamPart.StreamPart> = []
          const exit = Effect.runSyncExit(Stream.runForEach(stream, (part) => Effect.sync(() => parts.push(part))))
          return { parts, error: Exit.isFailure(exit) ? Exit.findErrorOption(exit) : undefined }
        }
        const after = collect(capped([{ text: "Transfer " }, { text: "NOT" }], 64))
        assert.deepStrictEqual(after.parts.map((part) => part.type === "text-delta" ? part.text : part.type), ["Transfer ", "NOT"])
        const reason = reasonOf(after.error)
        assert.strictEqual(reason?._tag, "StreamInterrupted")
        if (reason?._tag === "StreamInterrupted") {
          assert.strictEqual(reason.partialText, "Transfer NOT")
          assert.match(reason.cause ?? "", /^MalformedResponse: the streamed response body is larger than/)
        }
        const before = collect(capped([], 64))
        assert.deepStrictEqual(before.parts, [])
        assert.strictEqual(reasonOf(before.error)?._tag, "MalformedResponse")
      })

      it("tool calls completed by the finish go out once each, in index order", () => {
        const { parts } = run(wire, [body(wire, [
          { tool: { index: 1, id: "b", name: "put", args: "{\"x\":" } },
          { tool: { index: 0, id: "a", name: "get", args: "{}" } },
          { tool: { index: 1, args: "1}" } },
          { finish: "tool_calls" }
        ])])
        assert.deepStrictEqual(parts.filter((part) => part.type === "tool-call"), [
          { type: "tool-call", index: 0, toolCall: { id: "a", name: "get", arguments: "{}" } },
          { type: "tool-call", index: 1, toolCall: { id: "b", name: "put", arguments: "{\"x\":1}" } }
        ])
      })

      it("by default an undecodable event fails the stream with MalformedResponse, never a complete answer", () => {
        fc.assert(
          fc.property(cuts, (at) => {
            const { error, parts } = run(wire, splitAt(body(wire, [{ text: "Transfer " }, "{\"text\":\"NOT", { text: " one million" }, { finish: "stop" }]), at))
            assert.deepStrictEqual(parts.map((part) => part.type === "text-delta" ? part.text : part.type), ["Transfer "])
            assert.strictEqual(reasonOf(error)?._tag, "MalformedResponse")
          }),
          { numRuns: 40 }
        )
      })

      it.effect("unset in the options, the rule is RouterPolicy.OnMalformedEvent as the stream runs (what a router provides)", () =>
        Effect.gen(function*() {
          const bytes = body(wire, [{ text: "a" }, "{not json", { text: "b" }, { finish: "stop" }])
          const skipped = yield* Stream.runCollect(decode(wire, [bytes])).pipe(
            Effect.provideService(RouterPolicy.OnMalformedEvent, "skip"),
            Effect.provide(Logger.layer([]))
          )
          assert.deepStrictEqual(skipped.map((part) => part.type === "text-delta" ? part.text : part.type), ["a", "b", "finish"])
          const failed = yield* Effect.flip(Stream.runCollect(decode(wire, [bytes])))
          assert.strictEqual(failed.reason._tag, "MalformedResponse")
          // a provider's own option wins over the context
          const own = yield* Effect.flip(Stream.runCollect(decode(wire, [bytes], "fail")).pipe(
            Effect.provideService(RouterPolicy.OnMalformedEvent, "skip")
          ))
          assert.strictEqual(own.reason._tag, "MalformedResponse")
        }))

      it.effect("onMalformedEvent skip (opt-in): an undecodable event is skipped with one warning, at any split", () =>
        Effect.gen(function*() {
          const events = [{ text: "a" }, "{not json", { text: "b" }, { finish: "stop" }]
          const bytes = body(wire, events)
          for (const pieces of [[bytes], Array.from(bytes, (byte) => Uint8Array.of(byte))]) {
            const warnings: Array<string> = []
            const logger = Logger.make((entry) => {
              if (entry.logLevel === "Warn") warnings.push(String((entry.message as ReadonlyArray<unknown>)[0]))
            })
            const parts = yield* Stream.runCollect(decode(wire, pieces, "skip")).pipe(Effect.provide(Logger.layer([logger])))
            assert.deepStrictEqual(parts.map((part) => part.type === "text-delta" ? part.text : part.type), ["a", "b", "finish"])
            assert.deepStrictEqual(warnings, ["skipped undecodable stream events"])
          }
        }))

      it("onMalformedEvent fail: the parts before it, then MalformedResponse carrying the request id", () => {
        fc.assert(
          fc.property(cuts, (at) => {
            const { error, parts } = run(wire, splitAt(body(wire, [{ text: "a" }, { text: "b" }, "{not json", { text: "c" }]), at), "fail")
            assert.deepStrictEqual(parts.map((part) => part.type === "text-delta" ? part.text : part.type), ["a", "b"])
            assert.strictEqual(reasonOf(error)?._tag, "MalformedResponse")
            assert.strictEqual(error?._tag === "Some" ? error.value.requestId : undefined, "req-1")
          }),
          { numRuns: 40 }
        )
      })

      it("an error sent in the stream fails it after the parts that came before it in the same read", () => {
        const { error, parts } = run(wire, [body(wire, [{ text: "a" }, { text: "b" }, { error: "overloaded" }, { text: "c" }])])
        assert.deepStrictEqual(parts.map((part) => part.type === "text-delta" ? part.text : part.type), ["a", "b"])
        const reason = reasonOf(error)
        assert.strictEqual(reason?._tag, "ServerError")
        assert.strictEqual(reason?.message, "overloaded")
      })

      it.effect("the first parts go out before the rest of the read that carried them is decoded", () =>
        Effect.gen(function*() {
          const pull = yield* Stream.toPull(decode(wire, [body(wire, [{ text: "Hello" }, { text: " world" }, { finish: "stop" }])]))
          const texts = (parts: ReadonlyArray<StreamPart.StreamPart>) => parts.map((part) => part.type === "text-delta" ? part.text : part.type)
          assert.deepStrictEqual(texts(yield* pull), ["Hello"])
          assert.deepStrictEqual(texts(yield* pull), [" world"])
          assert.deepStrictEqual(texts(yield* pull), ["finish"])
        }).pipe(Effect.scoped))

      it.effect("the finish part waits for the rest of the body, at most the drain grace", () =>
        Effect.gen(function*() {
          // the server keeps the response open after the answer
          const pull = yield* Stream.toPull(decode(wire, [body(wire, [{ text: "a" }]), body(wire, [{ finish: "stop" }])], undefined, Stream.never))
          assert.deepStrictEqual((yield* pull).map((part) => part.type), ["text-delta"])
          const finish = yield* Effect.forkChild(pull)
          yield* TestClock.adjust("99 millis")
          assert.isUndefined(finish.pollUnsafe())
          yield* TestClock.adjust("1 millis")
          assert.deepStrictEqual((yield* Fiber.join(finish)).map((part) => part.type), ["finish"])
        }).pipe(Effect.scoped))
    })

describe("StreamDecoder", () => {
  behaviour(ndjson)
  behaviour(frames)

  it("a framing error waits for the events framed before it in the same read, deferred ones too", () => {
    const good = body(frames, [{ text: "a" }, { text: "b" }])
    const corrupt = frames.encode(JSON.stringify({ text: "c" }))
    corrupt[corrupt.length - 1] = corrupt[corrupt.length - 1]! ^ 0xff
    const { error, parts } = run(frames, [concat([good, corrupt, body(frames, [{ finish: "stop" }])])])
    assert.deepStrictEqual(parts.map((part) => part.type === "text-delta" ? part.text : part.type), ["a", "b"])
    assert.strictEqual(reasonOf(error)?._tag, "MalformedResponse")
  })

  it("an NDJSON line past the size limit fails after the lines before it", () => {
    const decoder = StreamDecoder.decode(
      Stream.make(concat([body(ndjson, [{ text: "a" }, { text: "b" }]), new TextEncoder().encode("x".repeat(64))])),
      { ...options(ndjson), framing: Ndjson.framing(32) }
    )
    const parts: Array<StreamPart.StreamPart> = []
    const exit = Effect.runSyncExit(Stream.runForEach(decoder, (part) => Effect.sync(() => parts.push(part))))
    assert.deepStrictEqual(parts.map((part) => part.type === "text-delta" ? part.text : part.type), ["a", "b"])
    assert.strictEqual(reasonOf(Exit.isFailure(exit) ? Exit.findErrorOption(exit) : undefined)?._tag, "MalformedResponse")
  })
})
