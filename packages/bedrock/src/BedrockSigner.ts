/**
 * SigV4 for Bedrock, through the kit's per-request signer hook (`Auth.signer`): the AWS SDK's own
 * `@smithy/signature-v4` with Node's SHA-256 (`@smithy/hash-node`), over the request exactly as
 * the transport sends it (method, URL, headers, body bytes). The service name is `bedrock`.
 *
 * What is easy to get wrong: the model id in the path is URL-encoded once on the wire
 * (`us.amazon.nova-micro-v1%3A0`) and encoded again in the canonical request (the signer does that,
 * as the SDK's does: `uriEscapePath`); the `host` signed must be the one the client sends
 * (`url.host`, port included); and the signing time comes from Effect's `Clock`, so a test under
 * `TestClock` gets the same signature every run.
 *
 * @since 0.2.0
 */
import { Clock, Effect, Redacted } from "effect"
import { Hash } from "@smithy/hash-node"
import { HttpRequest } from "@smithy/protocol-http"
import { SignatureV4 } from "@smithy/signature-v4"
import { Authentication } from "@flexiai/core/ProviderError"
import * as Auth from "@flexiai/provider/Auth"
import type { AwsCredentials, CredentialSource } from "./BedrockCredentials.ts"

/** The SigV4 service name of every Bedrock endpoint (runtime included). @category constants */
export const service = "bedrock"

/** The headers a signature adds that carry secrets (redacted wherever Effect prints headers). @category constants */
export const secretHeaders: ReadonlyArray<string> = ["authorization", "x-amz-security-token"]

/** Node's SHA-256 as the signer's hash constructor. */
const Sha256 = Hash.bind(null, "sha256")

/** A signer for one set of keys (it caches its signing key per day and region). @category constructors */
export const signatureV4 = (credentials: AwsCredentials, region: string): SignatureV4 =>
  new SignatureV4({
    service,
    region,
    sha256: Sha256,
    credentials: {
      accessKeyId: Redacted.value(credentials.accessKeyId),
      secretAccessKey: Redacted.value(credentials.secretAccessKey),
      ...(credentials.sessionToken === undefined ? {} : { sessionToken: Redacted.value(credentials.sessionToken) })
    }
  })

/** The request the signer sees: the transport's input, with the `host` the client will send. @category utils */
export const httpRequestOf = (input: Auth.SignInput): HttpRequest => {
  const query: Record<string, string> = {}
  for (const [key, value] of input.url.searchParams) query[key] = value
  return new HttpRequest({
    method: input.method,
    protocol: input.url.protocol,
    hostname: input.url.hostname,
    ...(input.url.port === "" ? {} : { port: Number(input.url.port) }),
    path: input.url.pathname,
    query,
    headers: { ...input.headers, host: input.url.host },
    body: input.body
  })
}

/**
 * The kit `Auth` that signs every request with the source's current keys (renewed ones are
 * masked out of provider messages too).
 *
 * @category constructors
 */
export const auth = (source: CredentialSource, region: string): Auth.Auth => {
  let cached: { readonly credentials: AwsCredentials; readonly signer: SignatureV4 } | undefined
  const signerFor = (credentials: AwsCredentials) => {
    if (cached?.credentials !== credentials) cached = { credentials, signer: signatureV4(credentials, region) }
    return cached.signer
  }
  const sign: Auth.Signer = (input) =>
    Effect.flatMap(Effect.zip(source.get, Clock.currentTimeMillis), ([credentials, now]) =>
      Effect.tryPromise({
        try: () => signerFor(credentials).sign(httpRequestOf(input), { signingDate: new Date(now) }),
        // the signer's own errors hold no secret, but say nothing useful either
        catch: () => new Authentication({ message: "could not sign the request with the AWS credentials" })
      }).pipe(Effect.map((signed) => {
        const added: Record<string, string> = {}
        for (const [name, value] of Object.entries(signed.headers)) {
          const lower = name.toLowerCase()
          if (lower !== "host" && input.headers[lower] === undefined) added[lower] = value
        }
        return added
      })))
  return Auth.signer(sign, { secrets: [], recentSecrets: source.recent, redactedNames: secretHeaders })
}
