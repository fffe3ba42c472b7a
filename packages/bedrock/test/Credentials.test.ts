// The credential chain without the SDK: API key, environment keys, profiles (credentials and
// config files), credential_process with its Expiration renewed before it lapses (TestClock
// drives the clock; the process is a real child process).
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { TestClock } from "effect/testing"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Credentials from "../src/BedrockCredentials.ts"
import * as Signer from "../src/BedrockSigner.ts"

const temp = () => mkdtempSync(join(tmpdir(), "flexiai-bedrock-"))

const value = (secret: Redacted.Redacted<string> | undefined) => (secret === undefined ? undefined : Redacted.value(secret))

describe("the chain", () => {
  it.effect("a Bedrock API key wins, then the environment's keys, then the profile", () =>
    Effect.gen(function*() {
      const both = Credentials.fromChain({ AWS_BEARER_TOKEN_BEDROCK: "ABSK-key", AWS_ACCESS_KEY_ID: "AKIA1", AWS_SECRET_ACCESS_KEY: "s" })
      assert.strictEqual(both._tag, "ApiKey")
      assert.strictEqual(both._tag === "ApiKey" ? Redacted.value(both.key) : "", "ABSK-key")
      const keys = Credentials.fromChain({ AWS_ACCESS_KEY_ID: "AKIA1", AWS_SECRET_ACCESS_KEY: "s1", AWS_SESSION_TOKEN: "t1" })
      assert.strictEqual(keys._tag, "Keys")
      if (keys._tag === "Keys") {
        const got = yield* keys.source.get
        assert.deepStrictEqual([value(got.accessKeyId), value(got.secretAccessKey), value(got.sessionToken)], ["AKIA1", "s1", "t1"])
      }
      const dir = temp()
      writeFileSync(join(dir, "credentials"), "[default]\naws_access_key_id = AKIADEF\naws_secret_access_key = sdef\n\n[work]\naws_access_key_id=AKIAWORK\naws_secret_access_key=swork\naws_session_token=twork\n")
      const profile = Credentials.fromChain({ AWS_PROFILE: "work", AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"), AWS_CONFIG_FILE: join(dir, "none") })
      if (profile._tag !== "Keys") throw new Error("expected keys")
      const work = yield* profile.source.get
      assert.deepStrictEqual([value(work.accessKeyId), value(work.sessionToken)], ["AKIAWORK", "twork"])
    }))

  it.effect("a [profile NAME] section of the config file; a missing profile is Authentication naming it", () =>
    Effect.gen(function*() {
      const dir = temp()
      writeFileSync(join(dir, "config"), "[profile dev]\nregion = eu-west-1\naws_access_key_id = AKIADEV\naws_secret_access_key = sdev\n")
      const env = { AWS_SHARED_CREDENTIALS_FILE: join(dir, "missing"), AWS_CONFIG_FILE: join(dir, "config") }
      const dev = yield* Credentials.fromProfile({ profile: "dev" }, env)
      assert.strictEqual(value(dev.accessKeyId), "AKIADEV")
      const missing = yield* Effect.flip(Credentials.fromProfile({ profile: "nope" }, env))
      assert.strictEqual(missing._tag, "Authentication")
      assert.include(missing.message, "\"nope\"")
      assert.strictEqual(Credentials.regionFromEnvironment({ AWS_DEFAULT_REGION: "ap-south-1" }), "ap-south-1")
      assert.strictEqual(Credentials.regionFromEnvironment({ AWS_REGION: "eu-central-1", AWS_DEFAULT_REGION: "ap-south-1" }), "eu-central-1")
    }))
})

describe("temporary credentials", () => {
  it.effect("credential_process keys are renewed 60 s before their Expiration, not before", () =>
    Effect.gen(function*() {
      const dir = temp()
      const counter = join(dir, "runs")
      writeFileSync(counter, "0")
      const script = join(dir, "process.mjs")
      // each run prints new keys, valid for 10 minutes from 2030-01-01T00:00Z times the run number
      writeFileSync(script, `import { readFileSync, writeFileSync } from "node:fs"
const run = Number(readFileSync(${JSON.stringify(counter)}, "utf8")) + 1
writeFileSync(${JSON.stringify(counter)}, String(run))
const expires = new Date(Date.UTC(2030, 0, 1) + run * 600000).toISOString()
console.log(JSON.stringify({ Version: 1, AccessKeyId: "AKIARUN" + run, SecretAccessKey: "secret-" + run, SessionToken: "token-" + run, Expiration: expires }))
`)
      writeFileSync(join(dir, "config"), `[profile temp]\ncredential_process = ${process.execPath} ${script}\n`)
      const env = { AWS_PROFILE: "temp", AWS_SHARED_CREDENTIALS_FILE: join(dir, "none"), AWS_CONFIG_FILE: join(dir, "config") }
      const resolved = Credentials.fromChain(env)
      if (resolved._tag !== "Keys") throw new Error("expected keys")
      const source = resolved.source
      yield* TestClock.setTime(Date.UTC(2030, 0, 1))
      const first = yield* source.get
      assert.strictEqual(value(first.accessKeyId), "AKIARUN1")
      yield* TestClock.adjust("8 minutes")
      assert.strictEqual(value((yield* source.get).accessKeyId), "AKIARUN1")
      assert.strictEqual(readFileSync(counter, "utf8"), "1")
      // 00:09:01: within 60 s of the 00:10 expiry
      yield* TestClock.adjust("61 seconds")
      const renewed = yield* source.get
      assert.deepStrictEqual([value(renewed.accessKeyId), value(renewed.sessionToken)], ["AKIARUN2", "token-2"])
      assert.strictEqual(readFileSync(counter, "utf8"), "2")
      // the old and the new secrets are both masked
      const masked = source.recent().map(Redacted.value)
      for (const secret of ["secret-1", "token-1", "secret-2", "token-2"]) assert.include(masked, secret)
      // requests are signed with the renewed keys
      const auth = Signer.auth(source, "us-east-1")
      if (auth._tag !== "Signer") throw new Error("expected a signer")
      const headers = yield* auth.sign({ method: "POST", url: new URL("https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse"), headers: { "content-type": "application/json" }, body: new Uint8Array() })
      assert.include(headers.authorization, "Credential=AKIARUN2/20300101/us-east-1/bedrock/aws4_request")
      assert.strictEqual(headers["x-amz-security-token"], "token-2")
      assert.strictEqual(headers["x-amz-date"], "20300101T000901Z")
    }))

  it.effect("a failing credential_process is Authentication without its output", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Credentials.runCredentialProcess(`${process.execPath} -e process.exit(3)`))
      assert.strictEqual(error._tag, "Authentication")
      assert.include(error.message, "credential_process failed")
      const garbage = yield* Effect.flip(Credentials.runCredentialProcess(`${process.execPath} -e console.log("AKIASECRET")`))
      assert.notInclude(garbage.message, "AKIASECRET")
    }))
})
