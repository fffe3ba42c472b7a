// Vertex AI's service-account token, end to end on loopback under TestClock: a throwaway RSA key
// (generated here, never committed) signs the JWT, a loopback token endpoint verifies it with the
// public key and hands out numbered tokens, and MockProviderServer records which token each
// chat carried. Fetched once for many concurrent first calls, reused, renewed before expiry, and
// refreshed once on a 401 before the failure counts.
import { assert, describe, it } from "@effect/vitest"
import * as Loopback from "@flexiai/testing/Loopback"
import * as Mock from "@flexiai/testing/MockProviderServer"
import { Effect, Redacted } from "effect"
import { TestClock } from "effect/testing"
import { verify, type KeyObject } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as GoogleProvider from "../src/GoogleProvider.ts"
import { reasonOf, request, setupVertex, throwawayKey } from "./helpers.ts"

interface TokenRequest {
  readonly grantType: string | null
  readonly header: Record<string, unknown>
  readonly claims: Record<string, unknown>
  readonly signatureValid: boolean
}

/** A token endpoint on loopback: verifies each assertion with `publicKey`, answers `token-<n>`. */
const tokenEndpoint = (publicKey: KeyObject, expiresIn = 3600) =>
  Effect.gen(function*() {
    const seen: Array<TokenRequest> = []
    const server = yield* Loopback.serve(Loopback.bodyThen((_request, response, body) => {
      const form = new URLSearchParams(body.toString("utf8"))
      const jwt = form.get("assertion") ?? ""
      const [header = "", claims = "", signature = ""] = jwt.split(".")
      const signatureValid = verify("sha256", Buffer.from(`${header}.${claims}`), publicKey, Buffer.from(signature, "base64url"))
      seen.push({
        grantType: form.get("grant_type"),
        header: JSON.parse(Buffer.from(header, "base64url").toString("utf8")),
        claims: JSON.parse(Buffer.from(claims, "base64url").toString("utf8")),
        signatureValid
      })
      response.writeHead(signatureValid ? 200 : 400, { "content-type": "application/json" })
      response.end(JSON.stringify(
        signatureValid
          ? { access_token: `ya29.access-token-${String(seen.length).padStart(4, "0")}`, expires_in: expiresIn, token_type: "Bearer" }
          : { error: "invalid_grant", error_description: "Invalid JWT Signature." }
      ))
    }))
    return { url: `${server.url}/token`, seen }
  })

const bearerTails = (calls: ReadonlyArray<Mock.RecordedCall>) => calls.map((call) => call.headers.authorization)

describe("Vertex AI service-account token", () => {
  it.effect("fetched once for many concurrent first calls, reused, renewed before expiry, refreshed once on a 401", () =>
    Effect.gen(function*() {
      const key = throwawayKey()
      const endpoint = yield* tokenEndpoint(key.publicKey)
      const { provider, server } = yield* setupVertex({}, {
        serviceAccount: GoogleProvider.serviceAccountKey({
          clientEmail: "flexiai-test@test-project.iam.gserviceaccount.com",
          privateKey: key.privateKeyPem,
          privateKeyId: "key-1",
          tokenUri: "https://oauth2.googleapis.com/token"
        }),
        tokenUri: endpoint.url
      })

      // twenty calls start together with no token: one fetch
      const answers = yield* Effect.all(Array.from({ length: 20 }, () => provider.chat(request())), { concurrency: "unbounded" })
      assert.strictEqual(answers.length, 20)
      assert.strictEqual(endpoint.seen.length, 1)
      assert.deepStrictEqual(new Set(bearerTails(yield* server.calls)), new Set(["Bearer ****0001"]))

      // the JWT: RS256 with the key id, signed by the key, for the token endpoint, an hour long
      const [first] = endpoint.seen
      assert.isTrue(first?.signatureValid)
      assert.strictEqual(first?.grantType, "urn:ietf:params:oauth:grant-type:jwt-bearer")
      assert.deepStrictEqual(first?.header, { alg: "RS256", typ: "JWT", kid: "key-1" })
      assert.deepStrictEqual(first?.claims, {
        iss: "flexiai-test@test-project.iam.gserviceaccount.com",
        scope: "https://www.googleapis.com/auth/cloud-platform",
        aud: endpoint.url,
        iat: 0,
        exp: 3600
      })

      // half an hour later: the same token
      yield* TestClock.adjust("30 minutes")
      yield* server.clearCalls
      yield* provider.chat(request())
      assert.strictEqual(endpoint.seen.length, 1)
      assert.deepStrictEqual(bearerTails(yield* server.calls), ["Bearer ****0001"])

      // within a minute of its expiry: renewed before the call goes out
      yield* TestClock.adjust("1770 seconds")
      yield* server.clearCalls
      yield* provider.chat(request())
      assert.strictEqual(endpoint.seen.length, 2)
      assert.strictEqual(endpoint.seen[1]?.claims.iat, 3570)
      assert.deepStrictEqual(bearerTails(yield* server.calls), ["Bearer ****0002"])

      // a 401 (the token revoked early): one refresh and one more try, which succeeds
      yield* server.setScript({ replies: [Mock.unauthorized()] })
      yield* server.clearCalls
      const recovered = yield* provider.chat(request())
      assert.include(recovered.text, "hello there")
      assert.strictEqual(endpoint.seen.length, 3)
      assert.deepStrictEqual(bearerTails(yield* server.calls), ["Bearer ****0002", "Bearer ****0003"])

      // two 401s in a row: one refresh only, then the failure counts
      yield* server.setScript({ replies: [Mock.unauthorized(), Mock.unauthorized()] })
      yield* server.clearCalls
      const error = yield* Effect.flip(provider.chat(request()))
      assert.strictEqual(reasonOf(error), "Authentication")
      assert.strictEqual(endpoint.seen.length, 4)
      assert.strictEqual((yield* server.calls).length, 2)
    }).pipe(Effect.scoped))

  it.effect("a key file (GOOGLE_APPLICATION_CREDENTIALS) is read, its project_id and token_uri used", () =>
    Effect.gen(function*() {
      const key = throwawayKey()
      const endpoint = yield* tokenEndpoint(key.publicKey)
      const directory = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "flexiai-vertex-"))),
        (path) => Effect.sync(() => rmSync(path, { recursive: true, force: true }))
      )
      const file = join(directory, "generated-for-test-service-account.json")
      writeFileSync(file, JSON.stringify({
        type: "service_account",
        project_id: "key-project",
        private_key_id: "k2",
        private_key: key.privateKeyPem,
        client_email: "sa@key-project.iam.gserviceaccount.com",
        token_uri: endpoint.url
      }))
      const { provider, server } = yield* setupVertex({}, { credentialsFile: file, project: undefined, location: "global" })
      yield* provider.chat(request())
      const [call] = yield* server.calls
      assert.strictEqual(call?.path, "/v1/projects/key-project/locations/global/publishers/google/models/gemini-test:generateContent")
      assert.strictEqual(call?.headers.authorization, "Bearer ****0001")
      assert.strictEqual(endpoint.seen[0]?.claims.aud, endpoint.url)
    }).pipe(Effect.scoped))

  it.effect("a key the endpoint refuses, an unreadable file, a non-RSA key and no project fail as Authentication without a call", () =>
    Effect.gen(function*() {
      const signer = throwawayKey()
      const other = throwawayKey()
      // the endpoint checks with another key: the signature is refused
      const endpoint = yield* tokenEndpoint(other.publicKey)
      const refused = yield* setupVertex({}, {
        serviceAccount: GoogleProvider.serviceAccountKey({ clientEmail: "sa@x", privateKey: signer.privateKeyPem }),
        tokenUri: endpoint.url
      })
      const error = yield* Effect.flip(refused.provider.chat(request()))
      assert.strictEqual(reasonOf(error), "Authentication")
      assert.include((error as unknown as { reason: { message: string } }).reason.message, "invalid_grant")
      const missing = yield* setupVertex({}, { credentialsFile: "/nonexistent/flexiai-key.json" })
      const notPem = yield* setupVertex({}, {
        serviceAccount: GoogleProvider.serviceAccountKey({ clientEmail: "sa@x", privateKey: "not a key" }),
        tokenUri: endpoint.url
      })
      const noProject = yield* setupVertex({}, { project: undefined, accessToken: Redacted.make("ya29.fixed-token-abcd") })
      const noProjectError = yield* Effect.flip(noProject.provider.chat(request()))
      assert.include((noProjectError as unknown as { reason: { message: string } }).reason.message, "no Vertex AI project")
      for (const { provider, server } of [missing, notPem, noProject]) {
        assert.strictEqual(reasonOf(yield* Effect.flip(provider.chat(request()))), "Authentication")
        assert.strictEqual((yield* server.calls).length, 0)
      }
      assert.strictEqual((yield* refused.server.calls).length, 0)
    }).pipe(Effect.scoped))

  it.effect("a fixed access token and a token command are sent as bearer tokens", () =>
    Effect.gen(function*() {
      const fixed = yield* setupVertex({}, { accessToken: Redacted.make("ya29.fixed-token-abcd") })
      yield* fixed.provider.chat(request())
      assert.deepStrictEqual(bearerTails(yield* fixed.server.calls), ["Bearer ****abcd"])
      const command = yield* setupVertex({}, { tokenCommand: "echo ya29.from-command-wxyz" })
      yield* command.provider.chat(request())
      assert.deepStrictEqual(bearerTails(yield* command.server.calls), ["Bearer ****wxyz"])
    }).pipe(Effect.scoped))
})
