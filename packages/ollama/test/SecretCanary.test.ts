// The optional bearer key (hosted Ollama) must never appear in anything the library emits across
// the fault suite: error messages, String(error), JSON.stringify(error), any log line (all levels),
// or any span (names, attributes, events, status), Effect's HTTP client spans with their headers
// included.
import { assert, describe, it } from "@effect/vitest"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import * as SecretCanary from "@flexiai/testing/SecretCanary"
import { Cause, Effect, Redacted, Stream } from "effect"
import { request, setup } from "./helpers.ts"

const canary = "olk-canary-3b8e1f07c5d94a26b1e0f9d7c3a5e8b2"
const fragments = [canary, "3b8e1f07", canary.slice(0, 12), canary.slice(-8), "b1e0f9d7"]

const faults: ReadonlyArray<MockProviderServer.Reply> = [
  MockProviderServer.error(401, { message: `unauthorized: key ${canary} is not valid` }),
  MockProviderServer.error(429, { message: `slow down ${canary}` }, { headers: { "retry-after": "1" } }),
  MockProviderServer.error(400, { message: `bad request for key ${canary.slice(0, 20)}****${canary.slice(-4)}` }),
  MockProviderServer.ollamaNotPulled(canary),
  MockProviderServer.serverError(500),
  MockProviderServer.reset(),
  MockProviderServer.cutAfter(1),
  MockProviderServer.inBandError({ message: `runner failed for ${canary}` }, { afterChunks: 1 }),
  MockProviderServer.hang()
]

describe("secret canary", () => {
  it.live("the bearer key appears in no error, log line or span across the fault suite", () =>
    Effect.gen(function*() {
      const recorder = SecretCanary.recorder()
      const { provider, server } = yield* setup({ replies: faults }, {
        client: { apiKey: Redacted.make(canary), timeouts: { firstByte: "150 millis", idle: "150 millis" }, httpSpans: true }
      })
      for (let index = 0; index < faults.length; index++) {
        yield* recorder.run(index % 2 === 0 ? provider.chat(request("hi")) : Stream.runCollect(provider.stream(request("hi"))))
      }
      // fault 7 (an error line) goes to a chat, which gets a plain answer: every other call fails
      assert.strictEqual(recorder.failures.length, faults.length - 1)
      assert.isAbove(recorder.lines.length, 0)
      assert.isTrue(SecretCanary.recordedHeaders(recorder.spans))
      assert.deepStrictEqual(SecretCanary.leaks(fragments, recorder.texts()), [])
      // the server did receive the real key (masked in its own records): the canary was in play
      assert.strictEqual((yield* server.calls)[0]?.headers.authorization, `Bearer ****${canary.slice(-4)}`)
    }))

  // Not with httpSpans: Effect's own client span records response headers as they came (see the
  // package README), so a server that echoes the key into one is checked on the default path.
  it.live("a key echoed into the request-id header and the message comes back masked", () =>
    Effect.gen(function*() {
      const recorder = SecretCanary.recorder()
      const { provider } = yield* setup({
        replies: [MockProviderServer.error(400, { message: `bad key ${canary}` }, { headers: { "x-request-id": canary } })]
      }, { client: { apiKey: Redacted.make(canary) } })
      yield* recorder.run(provider.chat(request("hi")))
      assert.strictEqual(recorder.failures.length, 1)
      const error = Cause.squash(recorder.failures[0]!) as { readonly requestId?: string }
      assert.strictEqual(error.requestId, "[REDACTED]")
      assert.deepStrictEqual(SecretCanary.leaks(fragments, recorder.texts()), [])
    }))
})
