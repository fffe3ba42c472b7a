// The secret canary for the Anthropic key: across the fault suite (HTTP errors that echo the key,
// resets, cuts, malformed and in-band error events, a hang), the key appears in no error message,
// String(error), JSON.stringify(error), Cause.pretty, log line (every level) or span, with
// Effect's HTTP spans and every request header recorded on them: the worst case for a leak,
// since the key travels in the x-api-key header.
import { assert, describe, it } from "@effect/vitest"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import * as SecretCanary from "@flexiai/testing/SecretCanary"
import { Effect, Redacted, Stream } from "effect"
import { request, setup } from "./helpers.ts"

const canary = "sk-ant-api03-canary-7f3a9c51d2e84b06a9f1c3d5e7b9a2c4"
const fragments = [canary, "7f3a9c51", canary.slice(0, 24), canary.slice(-8), "a9f1c3d5"]
const shortened = `${canary.slice(0, 10)}...${canary.slice(-4)}`

const faults: ReadonlyArray<MockProviderServer.Reply> = [
  MockProviderServer.error(401, { message: `invalid x-api-key ${canary}` }),
  MockProviderServer.error(403, { message: `key ${shortened} may not use this model` }),
  MockProviderServer.rateLimited({ retryAfterSeconds: 2, message: `slow down ${canary}` }),
  MockProviderServer.overloaded(529),
  MockProviderServer.error(400, { message: `prompt is too long for ${canary}` }),
  MockProviderServer.serverError(500),
  MockProviderServer.reset(),
  MockProviderServer.cutAfter(1),
  MockProviderServer.malformedEvent("a b", 1),
  MockProviderServer.inBandError({ message: `in-band ${canary}`, type: "overloaded_error" }),
  MockProviderServer.hang()
]

const assertClean = (label: string, text: string) => {
  assert.deepStrictEqual(SecretCanary.leaks([...fragments, shortened], [{ label, text }]), [])
}

describe("secret canary (Anthropic key)", () => {
  it.live("the key appears in no error, log line or span across the fault suite", () =>
    Effect.gen(function*() {
      const recorder = SecretCanary.recorder()
      const { provider, server } = yield* setup({ replies: faults }, {
        client: { apiKey: Redacted.make(canary), timeouts: { firstByte: "150 millis", idle: "150 millis" }, httpSpans: true }
      })
      for (let index = 0; index < faults.length; index++) {
        yield* recorder.run(index % 2 === 0 ? provider.chat(request("hi")) : Stream.runCollect(provider.stream(request("hi"))))
      }
      // the cut (index 7) is a stream and fails; the malformed event (8) sent as a chat succeeds, the
      // in-band error (9) is a stream and fails: every fault but the chat-served malformed one fails
      assert.strictEqual(recorder.failures.length, faults.length - 1)
      assert.isAbove(recorder.lines.length, 0)
      assert.isTrue(SecretCanary.recordedHeaders(recorder.spans))
      assert.deepStrictEqual(SecretCanary.leaks([...fragments, shortened], recorder.texts()), [])
      // the server did receive the real key (masked in its own records): the canary was in play
      assert.strictEqual((yield* server.calls)[0]?.headers["x-api-key"], `****${canary.slice(-4)}`)
    }))

  // a provider (or a proxy) that echoes the key into its request-id header: the id is masked.
  // (With httpSpans on, the span's copy of the header is masked by the kit too: see
  // packages/provider/test/HttpTransport.test.ts.)
  it.live("a key echoed into the request-id header comes back masked in the error", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [MockProviderServer.error(400, { message: `bad key ${canary}` }, { headers: { "request-id": canary } })]
      }, { client: { apiKey: Redacted.make(canary) } })
      const error = yield* Effect.flip(provider.chat(request("hi")))
      assert.strictEqual(error._tag === "ProviderError" && error.requestId, "[REDACTED]")
      assertClean("echo", [error.message, String(error), JSON.stringify(error)].join("\n"))
    }))
})
