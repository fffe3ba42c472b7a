import { assert, describe, it } from "@effect/vitest"
import { Redacted } from "effect"
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
})
