// A distinctive Gemini API key, a service account's private key (generated here, throwaway) and
// the tokens and JWTs made from it must never appear in anything the library emits across the
// fault suite: error messages, String(error), JSON.stringify(error), Cause.pretty, any log line
// (all levels), or any span (names, attributes, events), HttpClient's header-carrying spans included.
import { assert, describe, it } from "@effect/vitest"
import * as Loopback from "@flexiai/testing/Loopback"
import * as Mock from "@flexiai/testing/MockProviderServer"
import * as SecretCanary from "@flexiai/testing/SecretCanary"
import { Effect, Redacted, Stream } from "effect"
import * as GoogleProvider from "../src/GoogleProvider.ts"
import { request, setup, setupVertex, throwawayKey } from "./helpers.ts"
import type { Provider } from "./helpers.ts"

const canary = "AIzaSyCanary-7f3a9c51d2e84b06a9f1c3d5e7b9"
const key = throwawayKey()
const pemBody = key.privateKeyPem.split("\n").filter((line) => line !== "" && !line.startsWith("-----"))
const issuedToken = "ya29.canary-token-5c8e1f2a9b7d4e6c"

const secrets = [
  canary,
  "7f3a9c51",
  canary.slice(0, 12),
  canary.slice(-8),
  key.privateKeyPem,
  pemBody[0]!.slice(0, 16),
  pemBody[5]!.slice(20, 40),
  pemBody.at(-2)!,
  issuedToken,
  issuedToken.slice(-10)
]
// JWTs signed during the run: their signature part is a secret too
const jwts: Array<string> = []

// a JWT is a credential as a whole: its claims and its signature must not show
const allSecrets = (): ReadonlyArray<string> => [
  ...secrets,
  ...jwts.flatMap((jwt) => [jwt.split(".")[1]!.slice(0, 24), jwt.split(".")[2]!.slice(0, 24)])
]

const assertClean = (label: string, text: string) => {
  assert.deepStrictEqual(SecretCanary.leaks(allSecrets(), [{ label, text }]), [])
}

const faults = (echo: string): ReadonlyArray<Mock.Reply> => [
  Mock.error(400, { message: `API key not valid: ${echo}` }, {
    rawBody: JSON.stringify({
      error: {
        code: 400,
        message: `API key not valid. Key ${echo} rejected`,
        status: "INVALID_ARGUMENT",
        details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID" }]
      }
    })
  }),
  Mock.error(429, { message: `Resource exhausted for ${echo}`, type: "RESOURCE_EXHAUSTED" }),
  Mock.error(403, { message: `Permission denied for ${echo.slice(0, 20)}****${echo.slice(-4)}`, type: "PERMISSION_DENIED" }),
  Mock.serverError(500),
  Mock.reset(),
  Mock.cutAfter(1),
  Mock.malformedEvent("a b", 1),
  Mock.inBandError({ message: `in-band ${echo}`, code: 500, type: "INTERNAL" }),
  Mock.hang()
]

const runFaults = (provider: Provider, count: number, recorder: SecretCanary.Recorder) =>
  Effect.gen(function*() {
    for (let index = 0; index < count; index++) {
      yield* recorder.run(index % 2 === 0 ? provider.chat(request("hi")) : Stream.runCollect(provider.stream(request("hi"))))
    }
    return recorder.failures.length
  })

describe("secret canary", () => {
  it.live("the Gemini API key appears in no error, log line or span across the fault suite", () =>
    Effect.gen(function*() {
      const recorder = SecretCanary.recorder()
      const suite = faults(canary)
      const { provider, server } = yield* setup({ replies: suite }, {
        apiKey: Redacted.make(canary),
        timeouts: { firstByte: "150 millis", idle: "150 millis" },
        httpSpans: true
      })
      const failures = yield* runFaults(provider, suite.length, recorder)
      // a chat of the stream-only faults (a cut, an in-band error) succeeds
      assert.strictEqual(failures, suite.length - 1)
      assert.isAbove(recorder.lines.length, 0)
      assert.isTrue(SecretCanary.recordedHeaders(recorder.spans))
      assert.deepStrictEqual(SecretCanary.leaks(allSecrets(), recorder.texts()), [])
      // the server did receive the key, in its header (masked in its own records)
      assert.strictEqual((yield* server.calls)[0]?.headers["x-goog-api-key"], `****${canary.slice(-4)}`)
    }))

  it.live("a key echoed into the request id header comes back masked in the error", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [Mock.error(429, { message: `slow down ${canary}`, type: "RESOURCE_EXHAUSTED" }, { headers: { "x-request-id": canary } })]
      }, { apiKey: Redacted.make(canary) })
      const error = yield* Effect.flip(provider.chat(request("hi")))
      assert.strictEqual(error._tag === "ProviderError" ? error.requestId : undefined, "[REDACTED]")
      assertClean("echo", `${error.message} ${String(error)} ${JSON.stringify(error)}`)
    }))

  it.live("the service account's private key, its JWTs and its tokens appear nowhere either (Vertex)", () =>
    Effect.gen(function*() {
      let tokenCalls = 0
      // the token endpoint refuses once, echoing the assertion (and a piece of the key) back, then hands out a token
      const endpoint = yield* Loopback.serve(Loopback.bodyThen((_request, response, body) => {
        tokenCalls++
        const assertion = new URLSearchParams(body.toString("utf8")).get("assertion") ?? ""
        jwts.push(assertion)
        response.writeHead(tokenCalls === 1 ? 400 : 200, { "content-type": "application/json" })
        response.end(JSON.stringify(
          tokenCalls === 1
            ? { error: "invalid_grant", error_description: `key ${pemBody[0]} bad assertion ${assertion}` }
            : { access_token: issuedToken, expires_in: 3600 }
        ))
      }))
      const recorder = SecretCanary.recorder()
      const suite = faults(issuedToken)
      const { provider } = yield* setupVertex({ replies: suite }, {
        serviceAccount: GoogleProvider.serviceAccountKey({ clientEmail: "sa@p.iam.gserviceaccount.com", privateKey: key.privateKeyPem }),
        tokenUri: `${endpoint.url}/token`,
        timeouts: { firstByte: "150 millis", idle: "150 millis" },
        httpSpans: true
      })
      // the first call fails at the token endpoint; then the fault suite runs with the token
      const failures = yield* runFaults(provider, suite.length + 1, recorder)
      // the token failure, then the suite shifted by one: two of its chats succeed
      assert.strictEqual(failures, suite.length - 1)
      assert.strictEqual(tokenCalls, 2)
      assert.strictEqual(jwts.length, 2)
      assert.isAbove(recorder.lines.length, 0)
      assert.isTrue(SecretCanary.recordedHeaders(recorder.spans))
      assert.deepStrictEqual(SecretCanary.leaks(allSecrets(), recorder.texts()), [])
      // the key itself prints as redacted wherever the options are printed
      const options = GoogleProvider.serviceAccountKey({ clientEmail: "sa@p", privateKey: key.privateKeyPem })
      assertClean("String(options)", `${String(options.privateKey)} ${JSON.stringify(options)}`)
    }))
})
