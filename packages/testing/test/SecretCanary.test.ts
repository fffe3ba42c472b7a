// The canary kit finds what it is for: a secret in a log line, a failure, or a span attribute,
// and nothing when the secret is not there.
import { assert, describe, it } from "@effect/vitest"
import * as SecretCanary from "@flexiai/testing/SecretCanary"
import { Data, Effect } from "effect"

const secret = "kit-canary-0d1c2b3a49586776f5e4d3c2"

class Leaky extends Data.TaggedError("Leaky")<{ readonly message: string }> {}

describe("SecretCanary", () => {
  it.effect("finds a secret in a log line, an error and a span, each by label", () =>
    Effect.gen(function*() {
      const recorder = SecretCanary.recorder()
      yield* recorder.run(Effect.logDebug(`token ${secret.slice(-8)}`))
      yield* recorder.run(Effect.fail(new Leaky({ message: `bad ${secret}` })))
      yield* recorder.run(Effect.void.pipe(Effect.withSpan("call", { attributes: { key: secret.slice(11, 19) } })))
      const found = SecretCanary.leaks(SecretCanary.fragments(secret), recorder.texts())
      assert.strictEqual(recorder.failures.length, 1)
      assert.isTrue(found.includes(`failure 0 message: ${secret}`))
      assert.isTrue(found.includes(`log line: ${secret.slice(-8)}`))
      assert.isTrue(found.some((line) => line.startsWith("span call key: ")))
    }))

  it.effect("finds nothing when the secret never shows, while still recording", () =>
    Effect.gen(function*() {
      const recorder = SecretCanary.recorder()
      const exit = yield* recorder.run(Effect.logInfo("nothing to see").pipe(Effect.as(1), Effect.withSpan("quiet")))
      assert.strictEqual(exit._tag, "Success")
      assert.isAbove(recorder.lines.length, 0)
      assert.strictEqual(recorder.spans.length, 1)
      assert.deepStrictEqual(SecretCanary.leaks(SecretCanary.fragments(secret), recorder.texts()), [])
    }))

  it("fragments keep the end and the middle of a long secret, not its shared prefix", () => {
    const pieces = SecretCanary.fragments(secret)
    assert.strictEqual(pieces[0], secret)
    assert.include(pieces, secret.slice(-8))
    assert.isTrue(pieces.every((piece) => piece === secret || !piece.startsWith("kit-")))
    assert.deepStrictEqual(SecretCanary.fragments("short"), ["short"])
  })
})
