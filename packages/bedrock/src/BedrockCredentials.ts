/**
 * AWS credentials for Bedrock without the AWS SDK: what a user of the AWS CLI expects to work,
 * found in this order (the first that gives something wins):
 *
 * 1. a Bedrock API key, `AWS_BEARER_TOKEN_BEDROCK` (sent as `Authorization: Bearer`, not signed);
 * 2. `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`);
 * 3. the profile `AWS_PROFILE` (default `default`) in `AWS_SHARED_CREDENTIALS_FILE`
 *    (`~/.aws/credentials`) or `AWS_CONFIG_FILE` (`~/.aws/config`, `[profile NAME]`): static keys,
 *    or a `credential_process` whose JSON output (with its `Expiration`) is renewed before it
 *    expires.
 *
 * Keys given in config come before all of these (see `BedrockClient.Options`). Every secret is
 * `Redacted`; the access key id is too (it names the account's user, and appears in signatures'
 * credential scope only).
 *
 * What users get wrong: temporary credentials expire. A source over `credential_process` (or any
 * `fetch` with an expiry) is a `renewing` one: cached, renewed 60 s before `Expiration` on the
 * kit's `TokenSource` (one renewal shared by concurrent requests), so no request is signed with
 * keys about to lapse. SSO and instance-metadata credentials are not read: use `credential_process`
 * (`aws configure export-credentials --format process` works as one).
 *
 * The INI files are read with a few lines of our own rather than `@smithy/core/config`'s loader:
 * that one caches each file for the life of the process and finds the home directory itself,
 * which would stop a renewed profile (or a test's file) from being read again.
 *
 * @since 0.2.0
 */
import { execFile } from "node:child_process"
import { readFile } from "node:fs/promises"
import { homedir } from "node:os"
import { join } from "node:path"
import { Effect, Redacted } from "effect"
import type * as ProviderError from "@flexiai/core/ProviderError"
import { Authentication } from "@flexiai/core/ProviderError"
import * as TokenSource from "@flexiai/provider/TokenSource"

type Reason = ProviderError.ProviderErrorReason

/** One set of AWS keys; `expiresAtMillis` for temporary ones. @category models */
export interface AwsCredentials {
  readonly accessKeyId: Redacted.Redacted<string>
  readonly secretAccessKey: Redacted.Redacted<string>
  readonly sessionToken?: Redacted.Redacted<string> | undefined
  readonly expiresAtMillis?: number | undefined
}

/**
 * Where keys come from: `get` the current ones (renewed when due), `recent` every secret handed
 * out lately (masked out of provider messages; the same array until the next renewal).
 *
 * @category models
 */
export interface CredentialSource {
  readonly get: Effect.Effect<AwsCredentials, Reason>
  readonly recent: () => ReadonlyArray<Redacted.Redacted<string>>
}

/** What the chain found: keys to sign with, or a Bedrock API key to send as a bearer token. @category models */
export type Resolved =
  | { readonly _tag: "Keys"; readonly source: CredentialSource }
  | { readonly _tag: "ApiKey"; readonly key: Redacted.Redacted<string> }

/** The environment the chain reads (default `process.env`). @category models */
export type Environment = Readonly<Record<string, string | undefined>>

const secretsOf = (credentials: AwsCredentials): ReadonlyArray<Redacted.Redacted<string>> =>
  credentials.sessionToken === undefined
    ? [credentials.secretAccessKey, credentials.accessKeyId]
    : [credentials.secretAccessKey, credentials.sessionToken, credentials.accessKeyId]

/** Keys that never change. @category constructors */
export const fromStatic = (credentials: AwsCredentials): CredentialSource => {
  const recent = secretsOf(credentials)
  return { get: Effect.succeed(credentials), recent: () => recent }
}

// The kit's TokenSource caches one `Redacted<string>`: the keys travel in it as JSON, so the
// renewal logic (shared renewal, renew-before, interruption safety) is the kit's, not a copy.
const packed = (credentials: AwsCredentials): TokenSource.Token => ({
  value: Redacted.make(JSON.stringify([
    Redacted.value(credentials.accessKeyId),
    Redacted.value(credentials.secretAccessKey),
    credentials.sessionToken === undefined ? null : Redacted.value(credentials.sessionToken)
  ])),
  expiresAtMillis: credentials.expiresAtMillis
})

const unpacked = (token: Redacted.Redacted<string>): AwsCredentials => {
  const [accessKeyId, secretAccessKey, sessionToken] = JSON.parse(Redacted.value(token)) as [string, string, string | null]
  return {
    accessKeyId: Redacted.make(accessKeyId),
    secretAccessKey: Redacted.make(secretAccessKey),
    ...(sessionToken === null ? {} : { sessionToken: Redacted.make(sessionToken) })
  }
}

/**
 * Keys from `fetch`, cached and renewed `renewBefore` (default 60 s) before they expire; keys
 * without an expiry are fetched once.
 *
 * @category constructors
 */
export const renewing = (
  fetch: Effect.Effect<AwsCredentials, Reason>,
  options: TokenSource.Options = {}
): CredentialSource => {
  const source = TokenSource.make(Effect.map(fetch, packed), options)
  // parsed once per renewal (the token is the same object until then)
  let last: { readonly token: Redacted.Redacted<string>; readonly credentials: AwsCredentials } | undefined
  let recentOf: { readonly tokens: ReadonlyArray<Redacted.Redacted<string>>; readonly secrets: ReadonlyArray<Redacted.Redacted<string>> } | undefined
  const get = Effect.map(source.get, (token) => {
    if (last?.token !== token) last = { token, credentials: unpacked(token) }
    return last.credentials
  })
  const recent = () => {
    const tokens = source.recent()
    if (recentOf?.tokens !== tokens) recentOf = { tokens, secrets: tokens.flatMap((token) => secretsOf(unpacked(token))) }
    return recentOf.secrets
  }
  return { get, recent }
}

// ---------------------------------------------------------------------------
// the environment
// ---------------------------------------------------------------------------

const nonEmpty = (value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value.trim())

/** Keys from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, if both keys are set. @category constructors */
export const fromEnvironment = (env: Environment): AwsCredentials | undefined => {
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID)
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY)
  if (accessKeyId === undefined || secretAccessKey === undefined) return undefined
  const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN)
  return {
    accessKeyId: Redacted.make(accessKeyId),
    secretAccessKey: Redacted.make(secretAccessKey),
    ...(sessionToken === undefined ? {} : { sessionToken: Redacted.make(sessionToken) })
  }
}

/** The region: `AWS_REGION`, else `AWS_DEFAULT_REGION`. @category utils */
export const regionFromEnvironment = (env: Environment): string | undefined =>
  nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION)

// ---------------------------------------------------------------------------
// profiles
// ---------------------------------------------------------------------------

/** The sections of an AWS INI file: `[name]` (credentials) and `[profile name]` (config) both give `name`. @category utils */
export const parseIni = (text: string, config: boolean): Map<string, Record<string, string>> => {
  const sections = new Map<string, Record<string, string>>()
  let current: Record<string, string> | undefined
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue
    const section = /^\[\s*([^\]]+?)\s*\]$/.exec(line)
    if (section !== undefined && section !== null) {
      const name = section[1]!
      const profile = config ? (name === "default" ? "default" : /^profile\s+(.+)$/.exec(name)?.[1]) : name
      current = profile === undefined ? undefined : (sections.get(profile) ?? {})
      if (profile !== undefined && current !== undefined) sections.set(profile, current)
      continue
    }
    const equals = line.indexOf("=")
    if (current !== undefined && equals > 0) current[line.slice(0, equals).trim().toLowerCase()] = line.slice(equals + 1).trim()
  }
  return sections
}

/** Where the profile files are. @category models */
export interface ProfileOptions {
  readonly profile?: string | undefined
  readonly credentialsFile?: string | undefined
  readonly configFile?: string | undefined
}

const readIfThere = (path: string): Effect.Effect<string | undefined> =>
  Effect.promise(() => readFile(path, "utf8").catch(() => undefined))

const noCredentials = (message: string) => new Authentication({ message })

/** What a `credential_process` prints (version 1). */
interface ProcessOutput {
  readonly Version?: number
  readonly AccessKeyId?: string
  readonly SecretAccessKey?: string
  readonly SessionToken?: string
  readonly Expiration?: string
}

/**
 * Runs a profile's `credential_process` (a command line, split on spaces, quotes kept together;
 * no shell) and reads its JSON. Its output never appears in an error.
 *
 * @category constructors
 */
export const runCredentialProcess = (command: string): Effect.Effect<AwsCredentials, Reason> =>
  Effect.callback<string, Reason>((resume) => {
    const words = (command.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).map((word) => word.replace(/^(["'])(.*)\1$/, "$2"))
    const [file, ...args] = words
    if (file === undefined) {
      resume(Effect.fail(noCredentials("the profile's credential_process is empty")))
      return
    }
    const child = execFile(file, args, { timeout: 60_000, maxBuffer: 1024 * 1024 }, (error, stdout) => {
      if (error !== null) resume(Effect.fail(noCredentials(`the profile's credential_process failed (${file}: exit ${String(error.code ?? "?")})`)))
      else resume(Effect.succeed(stdout))
    })
    return Effect.sync(() => child.kill())
  }).pipe(Effect.flatMap((stdout) => {
    let output: ProcessOutput
    try {
      output = JSON.parse(stdout) as ProcessOutput
    } catch {
      return Effect.fail(noCredentials("the profile's credential_process did not print JSON"))
    }
    if (typeof output.AccessKeyId !== "string" || typeof output.SecretAccessKey !== "string") {
      return Effect.fail(noCredentials("the profile's credential_process printed no AccessKeyId/SecretAccessKey"))
    }
    const expiresAtMillis = output.Expiration === undefined ? undefined : Date.parse(output.Expiration)
    return Effect.succeed<AwsCredentials>({
      accessKeyId: Redacted.make(output.AccessKeyId),
      secretAccessKey: Redacted.make(output.SecretAccessKey),
      ...(typeof output.SessionToken === "string" ? { sessionToken: Redacted.make(output.SessionToken) } : {}),
      ...(expiresAtMillis === undefined || Number.isNaN(expiresAtMillis) ? {} : { expiresAtMillis })
    })
  }))

/**
 * The profile's keys, read (and its `credential_process` run) on every call: wrap it in
 * `renewing`. Fails with `Authentication` when the profile has none.
 *
 * @category constructors
 */
export const fromProfile = (options: ProfileOptions, env: Environment = process.env): Effect.Effect<AwsCredentials, Reason> =>
  Effect.suspend(() => {
    const profile = options.profile ?? nonEmpty(env.AWS_PROFILE) ?? "default"
    const credentialsFile = options.credentialsFile ?? nonEmpty(env.AWS_SHARED_CREDENTIALS_FILE) ?? join(homedir(), ".aws", "credentials")
    const configFile = options.configFile ?? nonEmpty(env.AWS_CONFIG_FILE) ?? join(homedir(), ".aws", "config")
    return Effect.flatMap(Effect.all([readIfThere(credentialsFile), readIfThere(configFile)]), ([credentialsText, configText]) => {
      // the credentials file wins field by field, as the AWS CLI merges them
      const fields = {
        ...(configText === undefined ? {} : parseIni(configText, true).get(profile)),
        ...(credentialsText === undefined ? {} : parseIni(credentialsText, false).get(profile))
      }
      const accessKeyId = nonEmpty(fields.aws_access_key_id)
      const secretAccessKey = nonEmpty(fields.aws_secret_access_key)
      if (accessKeyId !== undefined && secretAccessKey !== undefined) {
        const sessionToken = nonEmpty(fields.aws_session_token)
        return Effect.succeed<AwsCredentials>({
          accessKeyId: Redacted.make(accessKeyId),
          secretAccessKey: Redacted.make(secretAccessKey),
          ...(sessionToken === undefined ? {} : { sessionToken: Redacted.make(sessionToken) })
        })
      }
      const process = nonEmpty(fields.credential_process)
      if (process !== undefined) return runCredentialProcess(process)
      return Effect.fail(
        noCredentials(
          `no AWS credentials: set AWS_BEARER_TOKEN_BEDROCK, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or profile "${profile}" in ${credentialsFile}`
        )
      )
    })
  })

/**
 * The standard chain (see the module header) over `env`: an API key, the environment's keys, or
 * the profile's (renewing).
 *
 * @category constructors
 */
export const fromChain = (env: Environment = process.env, profile: ProfileOptions = {}, renew: TokenSource.Options = {}): Resolved => {
  const apiKey = nonEmpty(env.AWS_BEARER_TOKEN_BEDROCK)
  if (apiKey !== undefined) return { _tag: "ApiKey", key: Redacted.make(apiKey) }
  const keys = fromEnvironment(env)
  if (keys !== undefined) return { _tag: "Keys", source: fromStatic(keys) }
  return { _tag: "Keys", source: renewing(fromProfile(profile, env), renew) }
}
