// Distinctive AWS secrets (secret access key, session token, a Bedrock API key, and the access
// key id) must never appear in anything the library emits across the fault suite: error
// messages, String(error), JSON.stringify(error), any log line (all levels), any span (Effect's
// HTTP spans on, every request header recorded). The faults echo the secrets back, as a proxy
// or a confused server might, in HTTP error bodies and in exception frames.
import { assert, describe, it } from "@effect/vitest"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import * as SecretCanary from "@flexiai/testing/SecretCanary"
import { Effect, Redacted, Stream } from "effect"
import * as Credentials from "../src/BedrockCredentials.ts"
import { request, setup } from "./helpers.ts"

const accessKeyId = "AKIACANARY7F3A9C51D2"
const secretAccessKey = "canarySecret/7f3a9c51d2e84b06a9f1c3d5e7b9a2c4XYZ"
const sessionToken = "IQoJcanarySessionToken0b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2"
const apiKey = "ABSKcanaryBedrockApiKey5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0"
const renewedSecret = "canaryRenewed/1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f"

const secrets = [accessKeyId, secretAccessKey, sessionToken, apiKey, renewedSecret]
const fragments = secrets.flatMap((secret) => [secret, secret.slice(0, 12), secret.slice(-10)])

const faults = (echo: string): ReadonlyArray<MockProviderServer.Reply> => [
  MockProviderServer.error(403, { message: `The security token ${echo} is invalid` }, { headers: { "x-amzn-errortype": "UnrecognizedClientException" } }),
  MockProviderServer.rateLimited({ retryAfterSeconds: 1, message: `slow down ${echo}` }),
  // (an echo in a response header is left out here: Effect's own HTTP span records response
  // headers as they came, which the kit's masking does not reach; see the package README)
  MockProviderServer.error(400, { message: `bad request, key ${echo}` }, { headers: { "x-amzn-errortype": "ValidationException" } }),
  MockProviderServer.serverError(500),
  MockProviderServer.reset(),
  MockProviderServer.cutAfter(1),
  MockProviderServer.malformedEvent("a b", 1),
  MockProviderServer.inBandError({ message: `in-band ${echo}`, type: "ThrottlingException" }),
  MockProviderServer.inBandError({ message: `in-band before content ${echo}`, type: "ModelStreamErrorException" }, { afterChunks: 0 })
]

describe("secret canary (AWS keys, session tokens, Bedrock API keys)", () => {
  const cases = [
    { name: "SigV4 with a session token", echo: `${secretAccessKey} ${sessionToken} ${accessKeyId}`, client: { credentials: { accessKeyId: Redacted.make(accessKeyId), secretAccessKey: Redacted.make(secretAccessKey), sessionToken: Redacted.make(sessionToken) } } },
    { name: "a Bedrock API key", echo: apiKey, client: { credentials: undefined, environment: { AWS_BEARER_TOKEN_BEDROCK: apiKey } } },
    {
      name: "renewed keys",
      echo: renewedSecret,
      client: {
        credentials: Credentials.renewing(Effect.succeed({ accessKeyId: Redacted.make(accessKeyId), secretAccessKey: Redacted.make(renewedSecret), expiresAtMillis: Date.now() + 3_600_000 }))
      }
    }
  ]
  for (const testCase of cases) {
    it.live(`no secret in any error, log line or span: ${testCase.name}`, () =>
      Effect.gen(function*() {
        const replies = faults(testCase.echo)
        const recorder = SecretCanary.recorder()
        const { provider, server } = yield* setup({ replies }, {
          verify: false,
          client: { ...testCase.client, timeouts: { firstByte: "2 seconds", idle: "2 seconds" }, httpSpans: true }
        })
        for (let index = 0; index < replies.length; index++) {
          yield* recorder.run(index < 5 && index % 2 === 0 ? provider.chat(request("hi")) : Stream.runCollect(provider.stream(request("hi"))))
        }
        assert.strictEqual(recorder.failures.length, replies.length)
        assert.isAbove(recorder.lines.length, 0)
        assert.isTrue(SecretCanary.recordedHeaders(recorder.spans))
        assert.deepStrictEqual(SecretCanary.leaks(fragments, recorder.texts()), [])
        // the secrets were in play: the server received a signature or the bearer key
        const sent = (yield* server.calls)[0]?.headers ?? {}
        assert.isTrue((sent.authorization ?? "").startsWith("Bearer ****") || /^\d{8}T\d{6}Z$/.test(sent["x-amz-date"] ?? ""))
      }))
  }
})
