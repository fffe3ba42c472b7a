// Every request the OpenAI provider sends must be valid under OpenAI's official OpenAPI spec:
// the representative requests go through the real client to MockProviderServer, and the recorded
// bodies are validated with Ajv. Negative controls prove the validator is not accepting everything.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { setup } from "./helpers.ts"
import { representative } from "./requests.ts"
import * as SpecValidator from "./specValidator.ts"

const openAi = SpecValidator.openAiChatRequest()

describe("OpenAI spec: CreateChatCompletionRequest", () => {
  it("rejects invalid bodies (negative control)", () => {
    assert.isNotEmpty(openAi.validate({ model: 1, messages: [{ role: "user", content: "hi" }] }))
    assert.isNotEmpty(openAi.validate({ model: "gpt-4o", messages: [{ role: "wizard", content: "hi" }] }))
    assert.isNotEmpty(openAi.validate({ model: "gpt-4o" }))
    assert.isNotEmpty(openAi.validate({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }], temperature: 9 }))
    assert.isNotEmpty(openAi.validate({
      model: "gpt-4o",
      messages: [{ role: "user", content: "hi" }],
      tool_choice: { type: "function", function: {} }
    }))
  })

  it("accepts a minimal valid body (positive control)", () => {
    assert.deepStrictEqual(openAi.validate({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] }), [])
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
        assert.deepStrictEqual(openAi.validate(call.body), [], `${name} (${index % 2 === 0 ? "chat" : "stream"})`)
      }
    }))
})
