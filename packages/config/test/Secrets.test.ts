import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as Secrets from "../src/Secrets.ts"
import { captureLogs, loadWith, printed, tempFiles, fromObject } from "./helpers.ts"

const CANARY = "sk-CANARY-4f1d2c9e"
const secret = (value: unknown) => Redacted.value(value as Redacted.Redacted<string>)

const yaml = (...lines: Array<string>) => lines.join("\n")

describe("secret references", () => {
  it("parse recognises env:, file: and keychain:, and reports malformed ones", () => {
    assert.deepStrictEqual(Secrets.parse("env:OPENAI_KEY"), { _tag: "Env", name: "OPENAI_KEY" })
    assert.deepStrictEqual(Secrets.parse("file:./key.txt"), { _tag: "File", path: "./key.txt" })
    assert.deepStrictEqual(Secrets.parse("keychain:flexiai/openai"), {
      _tag: "Keychain",
      service: "flexiai",
      account: "openai"
    })
    assert.isString(Secrets.parse("keychain:no-account"))
    assert.isString(Secrets.parse("env:not a name"))
    assert.isUndefined(Secrets.parse("sk-inline"))
  })

  it.effect("env: reads the variable through the ConfigProvider", () =>
    Effect.gen(function*() {
      const directory = yield* tempFiles({
        "flexiai.config.yaml": yaml("providers:", "  - { kind: anthropic, model: m, apiKey: env:MY_ANTHROPIC }")
      })
      const config = yield* loadWith({ MY_ANTHROPIC: "sk-from-env" }, { file: `${directory}/flexiai.config.yaml` })
      assert.strictEqual(secret(config.providers[0]?.apiKey), "sk-from-env")
    }))

  it.effect("file: reads a file relative to the config file, trailing newline trimmed", () =>
    Effect.gen(function*() {
      const directory = yield* tempFiles({
        "conf/flexiai.config.yaml": yaml("providers:", "  - { kind: gemini, model: m, apiKey: file:secrets/gemini.key }"),
        "conf/secrets/gemini.key": "gm-key-123\n"
      })
      const config = yield* loadWith({}, { file: `${directory}/conf/flexiai.config.yaml` })
      assert.strictEqual(secret(config.providers[0]?.apiKey), "gm-key-123")
    }))

  it.effect("FLEXIAI_ variables may hold references too", () =>
    Effect.gen(function*() {
      const directory = yield* tempFiles({ "key": "from-file\r\n" })
      const config = yield* loadWith({
        FLEXIAI_PROVIDERS_0_KIND: "openrouter",
        FLEXIAI_PROVIDERS_0_MODEL: "x/y",
        FLEXIAI_PROVIDERS_0_API_KEY: `file:${directory}/key`
      })
      assert.strictEqual(secret(config.providers[0]?.apiKey), "from-file")
    }))

  it.effect("unresolvable references are problems naming the reference, all reported together", () =>
    Effect.gen(function*() {
      const directory = yield* tempFiles({
        "flexiai.config.yaml": yaml(
          "providers:",
          "  - { kind: openai, model: m, apiKey: env:NOT_SET }",
          "  - { kind: anthropic, model: m, apiKey: file:missing.key }",
          "  - { kind: gemini, model: m, apiKey: 'keychain:broken' }",
          "  - { kind: ollama-native, model: m, apiKey: env:ALSO_NOT_SET, enabled: false }",
          "  - { kind: ollama-native, name: two }"
        )
      })
      const error = yield* Effect.flip(loadWith({}, { file: `${directory}/flexiai.config.yaml` }))
      assert.deepStrictEqual(error.problems.map((problem) => problem.path), [
        "providers[0].apiKey",
        "providers[1].apiKey",
        "providers[2].apiKey",
        "providers[4].model"
      ])
      assert.include(error.message, "env:NOT_SET: NOT_SET is not set")
      assert.include(error.message, "file:missing.key: cannot read")
    }))

  it.effect("keychain: without the native binding fails with a clear error", () =>
    Effect.gen(function*() {
      const directory = yield* tempFiles({
        "flexiai.config.yaml": yaml("providers:", "  - { kind: openai, model: m, apiKey: keychain:flexiai/openai }")
      })
      const error = yield* Effect.flip(
        loadWith({}, { file: `${directory}/flexiai.config.yaml` }).pipe(
          // What a machine without @napi-rs/keyring sees: the dynamic import itself fails.
          Effect.provideService(Secrets.KeyringLoader, () => import("@flexiai/no-such-keyring-binding" as string))
        )
      )
      assert.strictEqual(error.problems[0]?.path, "providers[0].apiKey")
      assert.match(error.problems[0]?.message ?? "", /^keychain: .*not available on this platform/)
    }))

  it.effect("keychain: reads through the binding", () =>
    Effect.gen(function*() {
      const requested: Array<string> = []
      const fakeKeyring: Secrets.KeyringModule = {
        AsyncEntry: class {
          readonly account: string
          constructor(service: string, account: string) {
            this.account = account
            requested.push(`${service}/${account}`)
          }
          getPassword() {
            return Promise.resolve(this.account === "openai" ? "sk-from-keychain" : null)
          }
        }
      }
      const directory = yield* tempFiles({
        "flexiai.config.yaml": yaml("providers:", "  - { kind: openai, model: m, apiKey: keychain:flexiai/openai }")
      })
      const config = yield* loadWith({}, { file: `${directory}/flexiai.config.yaml` }).pipe(
        Effect.provideService(Secrets.KeyringLoader, () => Promise.resolve(fakeKeyring))
      )
      assert.deepStrictEqual(requested, ["flexiai/openai"])
      assert.strictEqual(secret(config.providers[0]?.apiKey), "sk-from-keychain")
    }))
})

describe("secrets never leak", () => {
  it.effect("an inline key in a file is accepted with a warning that does not print it", () =>
    Effect.gen(function*() {
      const logs = captureLogs()
      const directory = yield* tempFiles({
        "flexiai.config.yaml": yaml("providers:", `  - { kind: openai, model: m, apiKey: ${CANARY} }`)
      })
      const config = yield* loadWith({}, { file: `${directory}/flexiai.config.yaml` }).pipe(Effect.provide(logs.layer))
      assert.strictEqual(secret(config.providers[0]?.apiKey), CANARY)
      const warnings = logs.lines.filter((line) => line.startsWith("Warn"))
      assert.strictEqual(warnings.length, 1)
      assert.include(warnings[0] ?? "", "providers[0].apiKey holds a secret inline")
      assert.notInclude(logs.lines.join("\n"), CANARY)
      assert.notInclude(printed(config), CANARY)
    }))

  it.effect("a canary never appears in an error, whatever is wrong around it", () =>
    Effect.gen(function*() {
      const logs = captureLogs()
      const directory = yield* tempFiles({
        "flexiai.config.yaml": yaml(
          "providers:",
          `  - { kind: openai, apiKey: ${CANARY} }`, // model missing: the error is about this very provider
          `  - { kind: bedrock, model: m, region: r, accessKeyId: 12345, secretAccessKey: ${CANARY} }`,
          `  - { kind: anthropic, model: m, apiKey: "keychain:${CANARY}" }`,
          `  - { kind: gemini, model: m, apiKey: "env:${CANARY}" }`,
          `  - { kind: flow, model: m, baseUrl: b, tenant: t, clientId: c, clientSecret: ${CANARY}, extra: ${CANARY} }`
        )
      })
      const error = yield* Effect.flip(
        loadWith({ FLEXIAI_PROVIDERS_5_KIND: "openai", FLEXIAI_PROVIDERS_5_API_KEY: 42 + CANARY }, {
          file: `${directory}/flexiai.config.yaml`
        }).pipe(Effect.provide(logs.layer))
      )
      assert.isAtLeast(error.problems.length, 5)
      assert.notInclude(printed(error), CANARY.slice(3))
      assert.notInclude(error.stack ?? "", CANARY.slice(3))
      assert.notInclude(logs.lines.join("\n"), CANARY.slice(3))
    }))

  it.effect("Redacted values from code are taken as they are, and never printed", () =>
    Effect.gen(function*() {
      const config = yield* fromObject({
        providers: [{ kind: "openai", model: "m", apiKey: Redacted.make(`env:${CANARY}`) }]
      })
      assert.strictEqual(secret(config.providers[0]?.apiKey), `env:${CANARY}`)
      assert.notInclude(printed(config), CANARY)
      assert.notInclude(printed(config.providers), CANARY)
    }))
})
