// NDJSON framing: any split of the bytes gives the same lines, UTF-8 split inside a character included.
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import * as Ndjson from "../src/Ndjson.ts"
import { frameAll, splitAt } from "./helpers.ts"

const encoder = new TextEncoder()
const lineText = fc.string({ unit: fc.constantFrom("a", "{", "}", "\"", ":", " ", "é", "€", "0", "\r"), minLength: 1, maxLength: 16 })
  .filter((text) => text.trim() !== "" && !text.endsWith("\r"))
const body = fc.tuple(fc.array(fc.tuple(lineText, fc.constantFrom("\n", "\r\n", "\n\n")), { maxLength: 10 }), fc.option(lineText))
  .map(([lines, last]) => ({
    text: lines.map(([line, end]) => line + end).join("") + (last ?? ""),
    lines: [...lines.map(([line]) => line), ...(last === null ? [] : [last])]
  }))

describe("NDJSON framing", () => {
  it("any split of the input gives the same lines", () => {
    fc.assert(
      fc.property(body, fc.array(fc.nat(), { maxLength: 12 }), ({ lines, text }, cuts) => {
        const bytes = encoder.encode(text)
        const whole = frameAll(Ndjson.framing(), [bytes])
        assert.deepStrictEqual(whole, { events: lines, error: undefined })
        assert.deepStrictEqual(frameAll(Ndjson.framing(), splitAt(bytes, cuts)), whole)
      }),
      { numRuns: 800 }
    )
  })

  it("one byte at a time; blank lines are skipped; the last line without LF comes at the end", () => {
    const bytes = encoder.encode("{\"a\":\"€\"}\r\n\n  \n{\"b\":1}")
    const result = frameAll(Ndjson.framing(), Array.from(bytes, (byte) => Uint8Array.of(byte)))
    assert.deepStrictEqual(result, { events: ["{\"a\":\"€\"}", "{\"b\":1}"], error: undefined })
  })

  it("a line past the size limit is an error", () => {
    const result = frameAll(Ndjson.framing(16), [encoder.encode("{\"ok\":1}\n"), encoder.encode("x".repeat(10)), encoder.encode("y".repeat(10))])
    assert.deepStrictEqual(result.events, ["{\"ok\":1}"])
    assert.match(result.error ?? "", /larger than 16 bytes/)
  })
})
