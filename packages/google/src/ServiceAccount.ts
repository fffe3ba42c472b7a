/**
 * Vertex AI access tokens without an auth SDK: a service-account key file's JWT (RS256, signed
 * with `node:crypto`), exchanged at the key's `token_uri` for an OAuth access token
 * (`urn:ietf:params:oauth:grant-type:jwt-bearer`, RFC 7523), or the output of a command
 * (`gcloud auth print-access-token`). Each is a `TokenSource` of the kit: fetched once, shared
 * by concurrent callers, renewed before it expires, refreshed once on a 401.
 *
 * Why not `google-auth-library`: it pulls in gaxios, gtoken, jws and a metadata-server client (a
 * dozen packages) for one signed POST; `node:crypto` signs RS256 itself.
 *
 * What users get wrong: the private key never leaves the process (only the JWT signed with it
 * does), and it is `Redacted` from the moment the key file is read: no error, log or span shows
 * it, nor the JWT. Only `service_account` key files are read (an `authorized_user` file from
 * `gcloud auth application-default login` is refused with a message saying so: use `tokenCommand`).
 * `tokenUri` overrides the key's `token_uri` (tests point it at loopback).
 *
 * @since 0.1.0
 */
import { createPrivateKey, sign } from "node:crypto"
import { exec } from "node:child_process"
import { readFileSync } from "node:fs"
import { Clock, Duration, Effect, Redacted, Result } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import { Authentication } from "@flexiai/core/ProviderError"
import type * as ProviderError from "@flexiai/core/ProviderError"
import * as BodyLimit from "@flexiai/provider/BodyLimit"
import * as Mask from "@flexiai/provider/Mask"
import * as StatusReasons from "@flexiai/provider/StatusReasons"
import * as TokenSource from "@flexiai/provider/TokenSource"

type Reason = ProviderError.ProviderErrorReason

/** The scope Vertex AI needs. @category constants */
export const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

/** Google's token endpoint, where a key file names none. @category constants */
export const defaultTokenUri = "https://oauth2.googleapis.com/token"

/** A service account's key, as read from its key file; the private key redacted. @category models */
export interface ServiceAccountKey {
  readonly clientEmail: string
  readonly privateKey: Redacted.Redacted<string>
  readonly privateKeyId?: string | undefined
  readonly tokenUri: string
  readonly projectId?: string | undefined
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * Reads a key file's JSON. The error never quotes the file (it holds the private key).
 *
 * @category constructors
 */
export const parseKey = (json: string): Result.Result<ServiceAccountKey, Authentication> => {
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch {
    return Result.fail(new Authentication({ message: "the service-account key file is not JSON" }))
  }
  if (!isRecord(parsed)) return Result.fail(new Authentication({ message: "the service-account key file is not a JSON object" }))
  if (parsed.type !== undefined && parsed.type !== "service_account") {
    return Result.fail(
      new Authentication({
        message: `the credentials file is of type "${String(parsed.type).slice(0, 40)}": only service_account key files are read ` +
          "(for user credentials set tokenCommand, e.g. gcloud auth print-access-token)"
      })
    )
  }
  const { client_email, private_key, private_key_id, project_id, token_uri } = parsed
  if (typeof client_email !== "string" || client_email === "" || typeof private_key !== "string" || private_key === "") {
    return Result.fail(new Authentication({ message: "the service-account key file has no client_email or private_key" }))
  }
  return Result.succeed({
    clientEmail: client_email,
    privateKey: Redacted.make(private_key),
    ...(typeof private_key_id === "string" ? { privateKeyId: private_key_id } : {}),
    tokenUri: typeof token_uri === "string" && token_uri !== "" ? token_uri : defaultTokenUri,
    ...(typeof project_id === "string" && project_id !== "" ? { projectId: project_id } : {})
  })
}

/**
 * Reads and parses a key file now (a missing or unreadable file is an `Authentication` failure
 * naming the path, never its content).
 *
 * @category constructors
 */
export const readKeyFile = (path: string): Result.Result<ServiceAccountKey, Authentication> => {
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch (error) {
    const code = isRecord(error) && typeof error.code === "string" ? error.code : "unreadable"
    return Result.fail(new Authentication({ message: `cannot read the service-account key file ${path} (${code})` }))
  }
  return parseKey(text)
}

const base64Url = (input: string | Uint8Array): string => Buffer.from(input).toString("base64url")

/**
 * The signed JWT (RS256) a key exchanges for an access token, valid for an hour from `nowMillis`.
 *
 * @category constructors
 */
export const assertion = (
  key: ServiceAccountKey,
  options: { readonly nowMillis: number; readonly audience: string; readonly scopes: ReadonlyArray<string> }
): Result.Result<Redacted.Redacted<string>, Authentication> => {
  const issuedAt = Math.floor(options.nowMillis / 1000)
  const header = { alg: "RS256", typ: "JWT", ...(key.privateKeyId === undefined ? {} : { kid: key.privateKeyId }) }
  const claims = {
    iss: key.clientEmail,
    scope: options.scopes.join(" "),
    aud: options.audience,
    iat: issuedAt,
    exp: issuedAt + 3600
  }
  const unsigned = `${base64Url(JSON.stringify(header))}.${base64Url(JSON.stringify(claims))}`
  try {
    const privateKey = createPrivateKey(Redacted.value(key.privateKey))
    return Result.succeed(Redacted.make(`${unsigned}.${base64Url(sign("sha256", Buffer.from(unsigned), privateKey))}`))
  } catch {
    // node's message can quote the key's first bytes: say only what failed
    return Result.fail(new Authentication({ message: "the service-account private key is not a valid RSA private key (PEM)" }))
  }
}

/** @category models */
export interface Options {
  readonly key: ServiceAccountKey
  /** Replaces the key's `token_uri` (tests: a loopback endpoint). */
  readonly tokenUri?: string | undefined
  /** Default: cloud-platform. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** The longest a token fetch may take. Default 30 s. */
  readonly timeout?: Duration.Input | undefined
  readonly renewBefore?: Duration.Input | undefined
}

const tokenResponse = (text: string): { readonly token: string; readonly expiresIn: number | undefined } | undefined => {
  try {
    const parsed: unknown = JSON.parse(text)
    if (!isRecord(parsed) || typeof parsed.access_token !== "string" || parsed.access_token === "") return undefined
    const expiresIn = typeof parsed.expires_in === "number" ? parsed.expires_in : Number(parsed.expires_in)
    return { token: parsed.access_token, expiresIn: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : undefined }
  } catch {
    return undefined
  }
}

const oauthError = (text: string): string | undefined => {
  try {
    const parsed: unknown = JSON.parse(text)
    if (!isRecord(parsed)) return undefined
    const code = typeof parsed.error === "string" ? parsed.error : undefined
    const description = typeof parsed.error_description === "string" ? parsed.error_description : undefined
    return code === undefined ? description : description === undefined ? code : `${code}: ${description}`
  } catch {
    return undefined
  }
}

/**
 * One token fetch: sign a JWT, POST it to the token endpoint, read `access_token` and
 * `expires_in`. Uses the `HttpClient` given (the provider's own).
 *
 * @category constructors
 */
export const fetchToken = (client: HttpClient.HttpClient, options: Options): Effect.Effect<TokenSource.Token, Reason> => {
  const uri = options.tokenUri ?? options.key.tokenUri
  const scopes = options.scopes ?? [cloudPlatformScope]
  const timeout = Duration.fromInputUnsafe(options.timeout ?? Duration.seconds(30))
  return Effect.flatMap(Clock.currentTimeMillis, (nowMillis) => {
    const signed = assertion(options.key, { nowMillis, audience: uri, scopes })
    if (Result.isFailure(signed)) return Effect.fail<Reason>(signed.failure)
    const mask = Mask.make([signed.success, options.key.privateKey])
    const request = HttpClientRequest.post(uri).pipe(
      HttpClientRequest.acceptJson,
      HttpClientRequest.bodyUrlParams({
        grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion: Redacted.value(signed.success)
      })
    )
    const exchange = Effect.flatMap(client.execute(request), (response) =>
      Effect.flatMap(BodyLimit.readText(response, 1024 * 1024), (text): Effect.Effect<TokenSource.Token, Reason> => {
        if (response.status < 200 || response.status >= 300) {
          const detail = oauthError(text)
          return Effect.fail(
            new Authentication({
              message: mask(`the token endpoint refused the service account (HTTP ${response.status}${detail === undefined ? "" : `: ${detail.slice(0, 300)}`})`)
            })
          )
        }
        const token = tokenResponse(text)
        if (token === undefined) return Effect.fail(new Authentication({ message: "the token endpoint answered without an access_token" }))
        return Effect.succeed({
          value: Redacted.make(token.token),
          expiresAtMillis: token.expiresIn === undefined ? nowMillis + 3_600_000 : nowMillis + token.expiresIn * 1000
        })
      }))
    return exchange.pipe(
      Effect.catchTag("HttpClientError", (error) => Effect.fail(StatusReasons.reasonFromHttpClientError(error, mask))),
      Effect.timeoutOrElse({
        duration: timeout,
        orElse: () => Effect.fail<Reason>(new Authentication({ message: `no answer from the token endpoint within ${Duration.format(timeout)}` }))
      })
    )
  })
}

/**
 * A renewing token source over a service-account key.
 *
 * @category constructors
 */
export const tokenSource = (client: HttpClient.HttpClient, options: Options): TokenSource.TokenSource<Reason> =>
  TokenSource.make(fetchToken(client, options), { renewBefore: options.renewBefore })

/**
 * A token source running `command` (a shell command line) and taking its trimmed output as the
 * token, valid for `lifetime` (the command says nothing about expiry; default 5 minutes, so a
 * cached token the command hands out is not kept long past its own expiry).
 *
 * @category constructors
 */
export const commandTokenSource = (
  command: string,
  options: { readonly lifetime?: Duration.Input | undefined; readonly timeout?: Duration.Input | undefined } = {}
): TokenSource.TokenSource<Reason> => {
  const lifetime = Duration.toMillis(Duration.fromInputUnsafe(options.lifetime ?? Duration.minutes(5)))
  const timeoutMillis = Duration.toMillis(Duration.fromInputUnsafe(options.timeout ?? Duration.seconds(30)))
  const run = Effect.callback<string, Reason>((resume) => {
    const child = exec(command, { timeout: timeoutMillis, windowsHide: true }, (error, stdout) => {
      // the command's stderr can hold anything (a token, a path): say only that it failed
      if (error !== null) {
        const code = (error as { readonly code?: unknown }).code
        resume(Effect.fail(new Authentication({ message: `the token command failed (exit ${String(code ?? "?")})` })))
        return
      }
      const token = String(stdout).trim()
      resume(
        token === ""
          ? Effect.fail(new Authentication({ message: "the token command printed no token" }))
          : Effect.succeed(token)
      )
    })
    return Effect.sync(() => {
      child.kill()
    })
  })
  const fetch = Effect.flatMap(run, (token) =>
    Effect.map(Clock.currentTimeMillis, (now): TokenSource.Token => ({ value: Redacted.make(token), expiresAtMillis: now + lifetime })))
  // the lifetime is short: renew 10% before it ends rather than the default minute
  return TokenSource.make(fetch, { renewBefore: Duration.millis(Math.min(60_000, lifetime / 10)) })
}
