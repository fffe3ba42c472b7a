// Every request the provider sends must be valid under Google's OpenAPI export of the Gemini API:
// the representative requests go through the real client to MockProviderServer (chat and
// stream), and the recorded bodies are validated with Ajv. Negative controls prove the validator
// is not accepting everything.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { setup } from "./helpers.ts"
import { representative } from "./requests.ts"
import * as SpecValidator from "./specValidator.ts"

const gemini = SpecValidator.generateContentRequest()
const hi = [{ role: "user", parts: [{ text: "hi" }] }]

describe("Gemini spec: GenerateContentRequest", () => {
  it("rejects invalid bodies (negative control)", () => {
    assert.isNotEmpty(gemini.validate({}))
    assert.isNotEmpty(gemini.validate({ contents: "hi" }))
    assert.isNotEmpty(gemini.validate({ contents: hi, generationConfig: { maxTokens: 5 } }))
    assert.isNotEmpty(gemini.validate({ contents: hi, generationConfig: { temperature: "hot" } }))
    assert.isNotEmpty(gemini.validate({ contents: [{ role: "user", parts: [{ txt: "hi" }] }] }))
    assert.isNotEmpty(gemini.validate({ contents: hi, toolConfig: { functionCallingConfig: { mode: "SOMETIMES" } } }))
    assert.isNotEmpty(gemini.validate({
      contents: hi,
      generationConfig: { responseMimeType: "application/json", responseSchema: { type: "object" } }
    }))
    assert.isNotEmpty(gemini.validate({ contents: [{ role: "user", parts: [{ text: "", thoughtSignature: "not base64!" }] }] }))
  })

  it("accepts a minimal valid body (positive control)", () => {
    assert.deepStrictEqual(gemini.validate({ contents: hi }), [])
  })

  it.effect("every recorded request body (chat and stream) is valid", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      for (const { request } of representative) {
        yield* provider.chat(request)
        yield* Stream.runDrain(provider.stream(request))
      }
      const calls = yield* server.calls
      assert.strictEqual(calls.length, representative.length * 2)
      for (const [index, call] of calls.entries()) {
        const name = representative[Math.floor(index / 2)]?.name
        assert.deepStrictEqual(gemini.validate(call.body), [], `${name} (${index % 2 === 0 ? "chat" : "stream"})`)
      }
    }).pipe(Effect.scoped))

  it.effect("with schemaField json too (responseJsonSchema, parametersJsonSchema)", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({}, { schemaField: "json", thinking: { includeThoughts: true, thinkingBudget: 1024 } })
      for (const { request } of representative) yield* provider.chat(request)
      for (const [index, call] of (yield* server.calls).entries()) {
        assert.deepStrictEqual(gemini.validate(call.body), [], representative[index]?.name)
      }
    }).pipe(Effect.scoped))
})
