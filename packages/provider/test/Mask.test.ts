import { assert, describe, it } from "@effect/vitest"
import { Redacted } from "effect"
import * as fc from "fast-check"
import * as Mask from "../src/Mask.ts"

describe("Mask", () => {
  const key = "sk-CANARY0123456789abcdef"
  const mask = Mask.make([Redacted.make(key), "short"])

  it("masks the whole secret, any 8-character piece of it, and starred keys", () => {
    assert.strictEqual(mask(`bad key ${key}.`), "bad key [REDACTED].")
    assert.notInclude(mask(`tail ${key.slice(-10)}`), key.slice(-8))
    assert.strictEqual(mask("Incorrect API key provided: sk-proj-****wxyz"), "Incorrect API key provided: [REDACTED]")
  })

  it("leaves secrets under 8 characters and ordinary text alone", () => {
    assert.strictEqual(mask("a short answer"), "a short answer")
  })

  it("a run of text covered by pieces of a secret becomes one [REDACTED], the text around it kept", () => {
    const long = Mask.make([Redacted.make(`eyJ${"a1b2c3d4e5".repeat(100)}`)])
    const piece = "a1b2c3d4e5".repeat(3)
    assert.strictEqual(long(`before ${piece} middle ${piece.slice(3)} after`), "before [REDACTED] middle [REDACTED] after")
    assert.strictEqual(long("nothing to see"), "nothing to see")
  })

  it("masks shortened forms of a secret: its first characters, filler, its last four", () => {
    for (const form of ["sk-C...cdef", "sk-CANxxxxxxxxabcdef", "sk-CAN\u2026cdef", "sk-CA**cdef", "sk-CANARY0...789abcdef", "xxxxxxxx9abcdef"]) {
      assert.strictEqual(mask(`key (${form}) rejected`), "key ([REDACTED]) rejected", form)
    }
  })

  it("leaves ellipses, other keys' shapes and words ending like the secret alone", () => {
    for (const text of ["Wait...abcdef", "sk-...", "ok...cdef", "no cdefg", "sk-other...zzzz", "abcdef"]) {
      assert.strictEqual(mask(text), text)
    }
  })

  it("masks every shortened form of any secret, wherever it sits in a sentence", () => {
    const keyChars = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
    const secret = fc.array(keyChars, { minLength: 12, maxLength: 60 }).map((chars) => `sk-${chars.join("")}`)
    const filler = fc.oneof(
      fc.constantFrom("..", "...", "\u2026", "****", "xxxxxxxx", "XXXX", "\u2022\u2022\u2022", "###"),
      fc.array(fc.constantFrom("*", "x", "."), { minLength: 3, maxLength: 12 }).map((chars) => chars.join(""))
    )
    fc.assert(
      fc.property(secret, fc.integer({ min: 3, max: 8 }), filler, fc.integer({ min: 4, max: 8 }), fc.constantFrom(" ", "=", "(", "\"", ": "), (value, head, fill, tail, around) => {
        const form = `${value.slice(0, head)}${fill}${value.slice(-tail)}`
        const masked = Mask.make([value])(`rejected key${around}${form}${around === "(" ? ")" : around} try again`)
        assert.notInclude(masked, value.slice(-tail), form)
        assert.include(masked, "[REDACTED]")
        assert.include(masked, "try again")
      }),
      { numRuns: 2000 }
    )
  })
})
