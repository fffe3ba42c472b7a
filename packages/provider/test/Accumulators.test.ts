import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import * as Accumulators from "../src/Accumulators.ts"

describe("Accumulators.Text", () => {
  it("any sequence of appends reads back as the string concatenation, version by version", () => {
    fc.assert(fc.property(fc.array(fc.string({ maxLength: 6 }), { maxLength: 30 }), (pieces) => {
      let text = Accumulators.emptyText
      let expected = ""
      const versions: Array<readonly [Accumulators.Text, string]> = [[text, expected]]
      for (const piece of pieces) {
        text = Accumulators.appendText(text, piece)
        expected += piece
        versions.push([text, expected])
      }
      // every version still reads as it did when made: later appends never show through
      for (const [version, string] of versions) {
        assert.strictEqual(Accumulators.textOf(version), string)
        assert.strictEqual(version.length, string.length)
      }
    }))
  })

  it("appending to an older version branches: both lines keep their own text", () => {
    const ab = Accumulators.appendText(Accumulators.appendText(Accumulators.emptyText, "a"), "b")
    const abc = Accumulators.appendText(ab, "c")
    const abx = Accumulators.appendText(ab, "x")
    const abxy = Accumulators.appendText(abx, "y")
    assert.strictEqual(Accumulators.textOf(abc), "abc")
    assert.strictEqual(Accumulators.textOf(abxy), "abxy")
    assert.strictEqual(Accumulators.textOf(ab), "ab")
    // two lines from the empty text do not share either
    const one = Accumulators.appendText(Accumulators.emptyText, "1")
    const two = Accumulators.appendText(Accumulators.emptyText, "2")
    assert.deepStrictEqual([Accumulators.textOf(one), Accumulators.textOf(two), Accumulators.textOf(Accumulators.emptyText)], ["1", "2", ""])
  })

  it("interrupted and hasContent take the pieces as they take a string", () => {
    const text = Accumulators.appendText(Accumulators.appendText(Accumulators.emptyText, "Hel"), "lo")
    const cut = Accumulators.interrupted(text, Accumulators.noToolCalls, "connection lost")
    assert.strictEqual(cut.partialText, "Hello")
    assert.include(cut.message, "after 5 characters")
    assert.isTrue(Accumulators.hasContent(text, Accumulators.noToolCalls))
    assert.isFalse(Accumulators.hasContent(Accumulators.emptyText, Accumulators.noToolCalls))
  })
})
