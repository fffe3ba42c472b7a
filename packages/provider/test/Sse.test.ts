// The SSE framer against Effect's Sse.makeParser (the reference it follows): generated event
// streams with every line-end kind, comments, named events, ids, retries and multi-line data,
// split anywhere, give the same events.
import { assert, describe, it } from "@effect/vitest"
import { Sse } from "effect/encoding"
import * as fc from "fast-check"
import * as KitSse from "../src/Sse.ts"
import { makeFramer } from "../src/Sse.ts"
import { frameAll, splitAt } from "./helpers.ts"

interface Framed {
  readonly data: string
  readonly event: string
}

const reference = (pieces: ReadonlyArray<string>): Array<Framed> => {
  const events: Array<Framed> = []
  const parser = Sse.makeParser((event) => {
    if (event._tag === "Event") events.push({ data: event.data, event: event.event })
  })
  for (const piece of pieces) parser.feed(piece)
  return events
}

const framed = (pieces: ReadonlyArray<string>): Array<Framed> => {
  const events: Array<Framed> = []
  const framer = makeFramer((data, event) => events.push({ data, event }))
  for (const piece of pieces) assert.isUndefined(framer.feed(piece))
  return events
}

// text without line ends (values may hold colons, spaces, unicode)
const value = fc.string({ unit: fc.constantFrom("a", "b", " ", ":", "{", "}", "\"", "é", "€", "0") , maxLength: 12 })
const lineEnd = fc.constantFrom("\n", "\r\n", "\r")
const line = fc.oneof(
  { weight: 6, arbitrary: value.map((text) => `data: ${text}`) },
  { weight: 2, arbitrary: value.map((text) => `data:${text}`) },
  { weight: 1, arbitrary: fc.constant("data") },
  { weight: 2, arbitrary: value.map((text) => `event: ${text}`) },
  { weight: 1, arbitrary: value.map((text) => `: ${text}`) },
  { weight: 1, arbitrary: value.map((text) => `id: ${text}`) },
  { weight: 1, arbitrary: fc.nat({ max: 5000 }).map((millis) => `retry: ${millis}`) },
  { weight: 1, arbitrary: value.map((text) => `other:${text}`) }
)
const event = fc.tuple(fc.array(fc.tuple(line, lineEnd), { minLength: 1, maxLength: 5 }), lineEnd)
  .map(([lines, end]) => lines.map(([text, ending]) => text + ending).join("") + end)
const stream = fc.tuple(fc.boolean(), fc.array(event, { maxLength: 8 })).map(([bom, events]) => (bom ? "\uFEFF" : "") + events.join(""))

describe("SSE framing", () => {
  it("gives Effect's Sse.makeParser events on generated streams, however they are split", () => {
    let nonEmpty = 0
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 12 }), (text, cuts) => {
        const expected = reference([text])
        if (expected.length > 0) nonEmpty++
        assert.deepStrictEqual(framed([text]), expected)
        assert.deepStrictEqual(framed(splitAt(text, cuts)), expected)
      }),
      { numRuns: 1500 }
    )
    // the generator reaches events, not only comments and empty ones
    assert.isAbove(nonEmpty, 500)
  })

  it("over bytes: UTF-8 is decoded inside the framing, a character split between reads included", () => {
    const encoder = new TextEncoder()
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 12 }), (text, cuts) => {
        const bytes = encoder.encode(text)
        const result = frameAll(KitSse.framing(), splitAt(bytes, cuts))
        assert.isUndefined(result.error)
        assert.deepStrictEqual(result.events, reference([text]))
      }),
      { numRuns: 500 }
    )
    // "€" is three bytes: one at a time
    const bytes = encoder.encode("data: €é\n\n")
    assert.deepStrictEqual(frameAll(KitSse.framing(), Array.from(bytes, (byte) => Uint8Array.of(byte))).events, [
      { data: "€é", event: "message" }
    ])
  })

  it("one character at a time, CR and LF of one line end in different pieces", () => {
    const text = "data: a\r\ndata: b\r\r\nevent: x\rdata: c\r\r: note\ndata\n\n"
    assert.deepStrictEqual(framed(Array.from(text)), reference([text]))
    assert.deepStrictEqual(framed([text]), [{ data: "a\nb", event: "message" }, { data: "c", event: "x" }, { data: "", event: "message" }])
  })

  it("an event the body ends in without its blank line: dropped by default, kept with lastEvent keep", () => {
    const bytes = new TextEncoder().encode("data: one\n\ndata: two")
    assert.deepStrictEqual(frameAll(KitSse.framing(), [bytes]).events, [{ data: "one", event: "message" }])
    assert.deepStrictEqual(frameAll(KitSse.framing(KitSse.defaultMaxEventSize, { lastEvent: "keep" }), [bytes]).events, [
      { data: "one", event: "message" },
      { data: "two", event: "message" }
    ])
    // a body ending right after a complete event gives no extra one
    const whole = new TextEncoder().encode("data: one\n\n")
    assert.deepStrictEqual(frameAll(KitSse.framing(KitSse.defaultMaxEventSize, { lastEvent: "keep" }), [whole]).events, [
      { data: "one", event: "message" }
    ])
  })

  it("an event past the size limit is an error, and framing goes on after it", () => {
    const events: Array<string> = []
    const framer = makeFramer((data) => events.push(data), 32)
    assert.match(framer.feed(`data: ${"x".repeat(40)}`) ?? "", /larger than 32 bytes/)
    assert.isUndefined(framer.feed("\n\ndata: ok\n\n"))
    assert.deepStrictEqual(events, ["ok"])
  })
})
