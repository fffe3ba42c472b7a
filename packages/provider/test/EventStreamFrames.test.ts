// AWS event-stream binary frames: any split of the bytes gives the same frames; both CRCs checked.
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import * as EventStreamFrames from "../src/EventStreamFrames.ts"
import { frameAll, splitAt } from "./helpers.ts"

const decoder = new TextDecoder()
const concat = (frames: ReadonlyArray<Uint8Array>) => {
  const whole = new Uint8Array(frames.reduce((sum, frame) => sum + frame.length, 0))
  let at = 0
  for (const frame of frames) {
    whole.set(frame, at)
    at += frame.length
  }
  return whole
}
const text = fc.string({ unit: fc.constantFrom("a", "{", "}", ":", "é", "€", "\n", "0"), maxLength: 40 })
const frameSpec = fc.tuple(fc.dictionary(fc.constantFrom(":event-type", ":content-type", ":message-type", "x"), text, { maxKeys: 3 }), text)

const readable = (frames: ReadonlyArray<EventStreamFrames.Frame>) =>
  frames.map((frame) => ({ headers: frame.headers, payload: decoder.decode(frame.payload) }))

describe("event-stream framing", () => {
  it("any split of the input gives the same frames, equal to what was encoded", () => {
    fc.assert(
      fc.property(fc.array(frameSpec, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 16 }), (specs, cuts) => {
        const bytes = concat(specs.map(([headers, payload]) => EventStreamFrames.encode(headers, payload)))
        const expected = specs.map(([headers, payload]) => ({ headers, payload }))
        const whole = frameAll(EventStreamFrames.framing(), [bytes])
        assert.isUndefined(whole.error)
        assert.deepStrictEqual(readable(whole.events), expected)
        const split = frameAll(EventStreamFrames.framing(), splitAt(bytes, cuts))
        assert.isUndefined(split.error)
        assert.deepStrictEqual(readable(split.events), expected)
      }),
      { numRuns: 500 }
    )
  })

  it("CRC-32 is zlib's", () => {
    assert.strictEqual(EventStreamFrames.crc32(new TextEncoder().encode("123456789")), 0xcbf43926)
  })

  it("a bad message CRC is a framing error; the frames before it were handed out", () => {
    const good = EventStreamFrames.encode({ ":event-type": "chunk" }, "{\"a\":1}")
    const bad = EventStreamFrames.encode({ ":event-type": "chunk" }, "{\"b\":2}")
    bad[bad.length - 6] = bad[bad.length - 6]! ^ 0xff // a payload byte
    const result = frameAll(EventStreamFrames.framing(), [concat([good, bad])])
    assert.strictEqual(result.events.length, 1)
    assert.match(result.error ?? "", /message CRC/)
  })

  it("a bad prelude CRC is a framing error before the frame's length is trusted", () => {
    const frame = EventStreamFrames.encode({}, "x")
    frame[1] = frame[1]! ^ 0x7f // the total length
    assert.match(frameAll(EventStreamFrames.framing(), [frame]).error ?? "", /prelude CRC/)
  })

  it("the body ending inside a frame is an error; a frame past the size limit too", () => {
    const frame = EventStreamFrames.encode({ ":message-type": "event" }, "payload")
    assert.match(frameAll(EventStreamFrames.framing(), [frame.slice(0, frame.length - 3)]).error ?? "", /ended inside a binary frame/)
    assert.match(frameAll(EventStreamFrames.framing(32), [frame]).error ?? "", /larger than 32 bytes/)
  })

  it("decodes every header type", () => {
    // name "b" true, "i" int32 -2, "l" int64 5, "s" string "hé", "y" bytes [1,2], "u" uuid
    const headers = [
      1, 98, 0,
      1, 105, 4, 0xff, 0xff, 0xff, 0xfe,
      1, 108, 5, 0, 0, 0, 0, 0, 0, 0, 5,
      1, 115, 7, 0, 3, 0x68, 0xc3, 0xa9,
      1, 121, 6, 0, 2, 1, 2,
      1, 117, 9, ...Array.from({ length: 16 }, (_, i) => i)
    ]
    const total = 12 + headers.length + 4
    const frame = new Uint8Array(total)
    const view = new DataView(frame.buffer)
    view.setUint32(0, total)
    view.setUint32(4, headers.length)
    view.setUint32(8, EventStreamFrames.crc32(frame, 0, 8))
    frame.set(headers, 12)
    view.setUint32(total - 4, EventStreamFrames.crc32(frame, 0, total - 4))
    const result = frameAll(EventStreamFrames.framing(), [frame])
    assert.isUndefined(result.error)
    assert.deepStrictEqual(result.events[0]?.headers, {
      b: true,
      i: -2,
      l: 5n,
      s: "hé",
      y: Uint8Array.of(1, 2),
      u: "000102030405060708090a0b0c0d0e0f"
    })
    assert.strictEqual(result.events[0]?.payload.length, 0)
  })
})
