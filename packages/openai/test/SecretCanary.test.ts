// A distinctive key must never appear in anything the library emits across the fault suite:
// error messages, String(error), JSON.stringify(error), any log line (all levels), or any span
// (names, attributes, events, status) — HttpClient's own spans carry request headers.
import { assert, describe, it } from "@effect/vitest"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import * as SecretCanary from "@flexiai/testing/SecretCanary"
import { Cause, Effect, Redacted, Stream } from "effect"
import { NodeHttpClient } from "@effect/platform-node"
import { Layer } from "effect"
import * as OpenAiChat from "../src/OpenAiChat.ts"
import * as OpenAiClient from "../src/OpenAiClient.ts"
import * as OpenAiCompatible from "../src/OpenAiCompatible.ts"
import { build, request, setup } from "./helpers.ts"

const canary = "sk-canary-7f3a9c51d2e84b06a9f1c3d5e7b9a2c4"
const fragments = [canary, "7f3a9c51", canary.slice(0, 12), canary.slice(-8), "a9f1c3d5"]

const faults: ReadonlyArray<MockProviderServer.Reply> = [
  MockProviderServer.unauthorized(),
  MockProviderServer.rateLimited({ retryAfterSeconds: 2, message: `slow down ${canary}` }),
  MockProviderServer.error(400, { message: `bad request for key ${canary.slice(0, 20)}****${canary.slice(-4)}` }),
  MockProviderServer.serverError(500),
  MockProviderServer.contentFiltered(),
  MockProviderServer.reset(),
  MockProviderServer.cutAfter(1),
  MockProviderServer.malformedEvent("a b", 1),
  MockProviderServer.inBandError({ message: `in-band ${canary}`, type: "server_error" }),
  MockProviderServer.hang()
]

describe("secret canary", () => {
  it.live("the key appears in no error and no log line across the fault suite (bearer and api-key auth)", () =>
    Effect.gen(function*() {
      const recorder = SecretCanary.recorder()
      const openAi = yield* setup({ replies: faults }, {
        // with effect's HTTP spans (off by default) and their header attributes: the worst case for a leak
        client: { apiKey: Redacted.make(canary), timeouts: { firstByte: "150 millis", idle: "150 millis" }, httpSpans: true }
      })
      const azureServer = yield* MockProviderServer.make({ replies: faults })
      const azurePreset = OpenAiCompatible.azure({
        endpoint: azureServer.url,
        apiKey: Redacted.make(canary),
        timeouts: { firstByte: "150 millis", idle: "150 millis" },
        httpSpans: true
      })
      const azure = yield* build(
        OpenAiChat.layer(azurePreset.chat).pipe(
          Layer.provideMerge(OpenAiClient.layer(azurePreset.client)),
          Layer.provide(NodeHttpClient.layerUndici)
        )
      )
      for (const provider of [openAi.provider, azure.provider]) {
        for (let index = 0; index < faults.length; index++) {
          yield* recorder.run(
            index % 2 === 0
              ? provider.chat(request("hi", { model: "deploy" }))
              : Stream.runCollect(provider.stream(request("hi", { model: "deploy" })))
          )
        }
      }
      // stream-only faults sent as a chat (cut, in-band error) succeed; a malformed event fails the stream
      assert.strictEqual(recorder.failures.length, (faults.length - 2) * 2)
      assert.isAbove(recorder.lines.length, 0)
      // HttpClient's client spans were recorded, with their request header attributes
      assert.isTrue(SecretCanary.recordedHeaders(recorder.spans))
      assert.deepStrictEqual(SecretCanary.leaks(fragments, recorder.texts()), [])
      // the server did receive the real key (masked in its own records): the canary was in play
      assert.strictEqual((yield* azureServer.calls)[0]?.headers["api-key"], `****${canary.slice(-4)}`)
    }))

  // a provider (or a proxy in front of it) that echoes the key whole into `param` and its request
  // id header, or shortened in the ways people shorten keys: first characters, filler, last four
  const tail = canary.slice(-4)
  const shortened = [
    `${canary.slice(0, 4)}...${tail}`,
    `${canary.slice(0, 6)}xxxxxxxx${canary.slice(-6)}`,
    `${canary.slice(0, 7)}\u2026${tail}`,
    `********${canary.slice(-8)}`
  ]
  const echoes: ReadonlyArray<MockProviderServer.Reply> = [
    MockProviderServer.error(400, { message: `Invalid key ${canary}`, type: "invalid_request_error", param: canary }, {
      headers: { "x-request-id": canary }
    }),
    ...shortened.map((form) =>
      MockProviderServer.error(400, { message: `key ${form} rejected`, type: "invalid_request_error", param: `auth=${form}` }, {
        headers: { "x-request-id": `req_${form}` }
      })
    ),
    MockProviderServer.inBandError({ message: `in-band ${shortened[0]}`, type: "invalid_request_error", param: canary })
  ]

  // every call fails; the errors and every log line are in the recorder (no spans: httpSpans is off)
  const runAll = (
    provider: { readonly chat: (r: ReturnType<typeof request>) => Effect.Effect<unknown, unknown>; readonly stream: (r: ReturnType<typeof request>) => Stream.Stream<unknown, unknown> },
    count: number,
    recorder: SecretCanary.Recorder
  ) =>
    Effect.gen(function*() {
      const before = recorder.failures.length
      for (let index = 0; index < count; index++) {
        const exit = yield* recorder.run(index === count - 1 ? Stream.runCollect(provider.stream(request("hi"))) : provider.chat(request("hi")))
        assert.strictEqual(exit._tag, "Failure", `call ${index}`)
      }
      return recorder.failures.slice(before).map((cause) => Cause.squash(cause))
    })

  const assertNoForm = (label: string, text: string) => {
    assert.deepStrictEqual(SecretCanary.leaks([...fragments, ...shortened], [{ label, text }]), [])
  }

  it.live("an echoed key in param, the request id and the message, whole or shortened, comes back masked", () =>
    Effect.gen(function*() {
      const recorder = SecretCanary.recorder()
      const { provider } = yield* setup({ replies: echoes }, { client: { apiKey: Redacted.make(canary) } })
      const errors = yield* runAll(provider, echoes.length, recorder)
      for (const [index, error] of errors.entries()) {
        const text = [error instanceof Error ? error.message : "", String(error), JSON.stringify(error)].join("\n")
        assertNoForm(`echo ${index}`, text)
        // not even the last four characters survive, the part a shortened echo keeps
        assert.notInclude(text, tail, `echo ${index} keeps the key's tail`)
      }
      const first = errors[0] as { readonly requestId?: string; readonly reason: { readonly _tag: string; readonly param?: string } }
      assert.strictEqual(first.reason._tag, "InvalidRequest")
      assert.strictEqual(first.reason.param, "[REDACTED]")
      assert.strictEqual(first.requestId, "[REDACTED]")
      assert.isAbove(recorder.lines.length, 0)
      assert.deepStrictEqual(SecretCanary.leaks([...fragments, ...shortened], recorder.texts()), [])
    }))

  it.live("a key in the base URL's query is sent as a query after the path and masked out of every error and log line", () =>
    Effect.gen(function*() {
      const recorder = SecretCanary.recorder()
      const server = yield* MockProviderServer.make({
        replies: [MockProviderServer.error(401, { message: `Incorrect API key provided: ${canary}`, type: "invalid_request_error" })]
      })
      const down = `http://127.0.0.1:1/v1?api-key=${canary}`
      const errors: Array<unknown> = []
      for (const apiUrl of [`${server.url}/v1?api-key=${canary}`, down]) {
        const { provider } = yield* build(
          OpenAiChat.layer().pipe(
            Layer.provideMerge(OpenAiClient.layer({ apiUrl, auth: { type: "none" }, timeouts: { firstByte: "2 seconds" } })),
            Layer.provide(NodeHttpClient.layerUndici)
          )
        )
        errors.push(...(yield* runAll(provider, 1, recorder)))
      }
      const [call] = yield* server.calls
      assert.strictEqual(call?.path, "/v1/chat/completions")
      const reasons = errors.map((error) => (error as { readonly reason: { readonly _tag: string } }).reason._tag)
      assert.deepStrictEqual(reasons, ["Authentication", "Connection"])
      assert.isAbove(recorder.lines.length, 0)
      assert.deepStrictEqual(SecretCanary.leaks(fragments, recorder.texts()), [])
    }))
})
