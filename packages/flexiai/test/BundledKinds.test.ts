// The bundled descriptors (the OpenAI family, Anthropic) reach config the way any provider package's do: the
// config schema, the JSON Schema flexiai commits, FLEXIAI_PROVIDERS_* variables, the standard
// variables and detection all come from `Providers.bundled`, and nothing in config names a kind.
import { assert, describe, it } from "@effect/vitest"
import { NodeServices } from "@effect/platform-node"
import { FlexiConfig } from "@flexiai/config"
import { Ajv2020 } from "ajv/dist/2020.js"
import { ConfigProvider, Effect, Redacted } from "effect"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as Yaml from "yaml"
import * as Providers from "../src/Providers.ts"

const at = (relative: string) => fileURLToPath(new URL(relative, import.meta.url))
const providers = Providers.bundled
const kinds = providers.map((descriptor) => descriptor.kind)
const secret = (value: unknown) => Redacted.value(value as Redacted.Redacted<string>)

const loadWith = (env: Record<string, string>, options: FlexiConfig.LoadOptions = { file: false }) =>
  FlexiConfig.load({ providers, ...options }).pipe(
    Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env })),
    Effect.provide(NodeServices.layer)
  )

const validator = () => new Ajv2020({ strict: false, allErrors: true }).compile(FlexiConfig.jsonSchema({ providers }))

describe("the bundled kinds in config", () => {
  it("the committed flexiai.schema.json and annotated example are the generated ones (run `pnpm --filter flexiai gen:schema`)", () => {
    assert.deepStrictEqual(JSON.parse(readFileSync(at("../flexiai.schema.json"), "utf8")), Providers.jsonSchema())
    assert.strictEqual(
      readFileSync(at("../../../examples/flexiai.config.yaml"), "utf8"),
      Providers.exampleConfig("../packages/flexiai/flexiai.schema.json")
    )
  })

  it.effect("the annotated example has one entry per bundled kind, decodes, and every commented-out field is one the schema takes", () =>
    Effect.gen(function*() {
      const text = Providers.exampleConfig("flexiai.schema.json")
      const config = yield* FlexiConfig.fromObject(Yaml.parse(text) as FlexiConfig.Input, { providers })
      assert.deepStrictEqual(config.providers.map((provider) => provider.kind), kinds)
      // uncomment every field line (not the prose): the result still decodes, so no comment names a field the schema lacks
      const uncommented = text.split("\n").map((line) => line.replace(/^(\s*)# (\s*[a-z][A-Za-z]*:(?: |$))/u, "$1$2")).join("\n")
      assert.notStrictEqual(uncommented, text)
      const everything = Yaml.parse(uncommented) as FlexiConfig.Input
      assert.isDefined(everything.breaker)
      const loaded = yield* FlexiConfig.fromObject(everything, { providers })
      assert.strictEqual(loaded.providers.length, kinds.length)
    }))

  it("the JSON Schema names exactly the bundled kinds, and validates the example configs", () => {
    const schema = JSON.stringify(FlexiConfig.jsonSchema({ providers }))
    for (const kind of kinds) assert.include(schema, `"enum":["${kind}"]`)
    const validate = validator()
    const yamlText = readFileSync(at("../../../examples/flexiai.config.yaml"), "utf8")
    assert.isTrue(yamlText.startsWith("# yaml-language-server: $schema=../packages/flexiai/flexiai.schema.json"))
    assert.isTrue(validate(Yaml.parse(yamlText)), JSON.stringify(validate.errors))
    assert.isTrue(validate(JSON.parse(readFileSync(at("../../../examples/flexiai.config.json"), "utf8"))), JSON.stringify(validate.errors))
    assert.isFalse(validate({ providers: [{ kind: "openai", model: "m" }] })) // openai needs apiKey
    assert.isFalse(validate({ providers: [{ kind: "mistral", model: "m", apiKey: "k" }] })) // not bundled
    assert.isFalse(validate({ providers: [{ kind: "ollama", model: "m", hots: "typo" }] }))
  })

  it.effect("the example JSON config loads", () =>
    Effect.gen(function*() {
      const config = yield* loadWith({ OPENAI_API_KEY: "sk-a", OPENROUTER_API_KEY: "or-b" }, { file: at("../../../examples/flexiai.config.json") })
      assert.deepStrictEqual(config.providers.map((provider) => provider.name), ["openai", "openrouter", "ollama-native"])
      assert.strictEqual(config.preset, "fast")
    }))

  it.effect("every bundled kind is configurable from a file alone, with its own fields", () =>
    Effect.gen(function*() {
      const config = yield* FlexiConfig.fromObject({
        providers: [
          { kind: "openai", model: "gpt-4o-mini", apiKey: "k1" },
          { kind: "azure-openai", model: "gpt-4o", endpoint: "https://r.openai.azure.com", deployment: "d1", apiVersion: "2024-10-21", bearerToken: "t1" },
          { kind: "foundry", model: "phi-4", endpoint: "https://f.services.ai.azure.com", apiKey: "k2" },
          { kind: "openrouter", model: "openai/gpt-4o-mini", apiKey: "k3", appUrl: "https://app.example", appTitle: "App" },
          { kind: "ollama-openai", model: "llama3.2", host: "http://localhost:11434" },
          // the old name of ollama-openai, as old config files write it
          { kind: "ollama", model: "llama3.2", host: "http://old:11434" },
          { kind: "openai-compatible", model: "qwen", baseUrl: "http://localhost:8000/v1" },
          { kind: "anthropic", model: "claude-haiku-4-5", apiKey: "k4", maxTokens: 1000, cache: { system: true, ttl: "1h" } },
          { kind: "gemini", model: "gemini-2.5-flash", apiKey: "k4", schemaField: "json", includeThoughts: true },
          { kind: "vertex", model: "gemini-2.5-flash", project: "p", location: "global", tokenCommand: "gcloud auth print-access-token" },
          { kind: "bedrock", model: "us.amazon.nova-micro-v1:0", region: "eu-west-1", accessKeyId: "AKIA1", secretAccessKey: "s1" },
          { kind: "ollama-native", model: "qwen3", host: "127.0.0.1:11434", keepAlive: "10m", thinkLevel: "high", numCtx: 8192, topK: 40 },
          { kind: "flow", model: "google:gemini-2.5-pro", baseUrl: "https://flow.example", tenant: "acme", clientId: "c1", clientSecret: "cs1", googlePath: "/gw/gemini" }
        ]
      }, { providers })
      assert.deepStrictEqual(config.providers.map((provider) => provider.kind), kinds)
      const [, azure, , openRouter, ollama, old, , , gemini, vertex, , native] = config.providers
      assert.strictEqual(gemini?.schemaField, "json")
      assert.strictEqual(vertex?.tokenCommand, "gcloud auth print-access-token")
      assert.strictEqual(secret(azure?.bearerToken), "t1")
      assert.strictEqual(azure?.deployment, "d1")
      assert.strictEqual(openRouter?.appTitle, "App")
      assert.strictEqual(ollama?.host, "http://localhost:11434")
      const anthropic = config.providers[7] as { maxTokens?: number; cache?: unknown } | undefined
      assert.strictEqual(anthropic?.maxTokens, 1000)
      assert.deepStrictEqual(anthropic?.cache, { system: true, ttl: "1h" })
      assert.strictEqual(old?.host, "http://old:11434")
      assert.strictEqual(native?.keepAlive, "10m")
      assert.strictEqual(native?.thinkLevel, "high")
      assert.strictEqual(native?.numCtx, 8192)
      const flow = config.providers[12]
      assert.strictEqual(secret(flow?.clientSecret), "cs1")
      assert.strictEqual(flow?.googlePath, "/gw/gemini")
    }))

  it.effect("the descriptors' own checks and requirements apply", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(FlexiConfig.fromObject({
        providers: [
          { kind: "azure-openai", model: "gpt-4o", endpoint: "https://r" }, // neither apiKey nor bearerToken
          { kind: "openai-compatible", name: "c", model: "m" }, // baseUrl required
          { kind: "openrouter", name: "o", model: "m" } // apiKey required
        ]
      }, { providers }))
      assert.deepStrictEqual(error.problems.map((problem) => problem.path).sort(), [
        "providers[0].apiKey",
        "providers[1].baseUrl",
        "providers[2].apiKey"
      ])
      assert.include(error.message, "providers[0].apiKey: missing (set apiKey or bearerToken)")
    }))

  it.effect("every bundled kind is configurable from FLEXIAI_PROVIDERS_<index>_* variables alone", () =>
    Effect.gen(function*() {
      const entries: Array<Record<string, string>> = [
        { KIND: "openai", MODEL: "gpt-4o-mini", API_KEY: "k1" },
        { KIND: "azure-openai", MODEL: "gpt-4o", ENDPOINT: "https://r", DEPLOYMENT: "d1", BEARER_TOKEN: "t" },
        { KIND: "foundry", MODEL: "phi-4", ENDPOINT: "https://f", API_KEY: "k2" },
        { KIND: "openrouter", MODEL: "x/y", API_KEY: "k3", APP_TITLE: "App" },
        { KIND: "ollama-openai", MODEL: "llama3.2", HOST: "http://h:11434" },
        { KIND: "ollama", MODEL: "llama3.2", HOST: "http://h:11434" },
        { KIND: "openai-compatible", MODEL: "qwen", BASE_URL: "http://localhost:8000/v1", CAPABILITIES_ASSISTANT_PREFILL: "true" },
        { KIND: "anthropic", MODEL: "claude-haiku-4-5", API_KEY: "k4", MAX_TOKENS: "1000", CACHE_SYSTEM: "true" },
        { KIND: "gemini", MODEL: "gemini-2.5-flash", API_KEY: "k4" },
        { KIND: "vertex", MODEL: "gemini-2.5-flash", PROJECT: "p", CREDENTIALS_FILE: "/keys/sa.json" },
        { KIND: "bedrock", MODEL: "us.amazon.nova-micro-v1:0", REGION: "eu-west-1", PROFILE: "dev" },
        { KIND: "ollama-native", MODEL: "qwen3", HOST: "h:11434", THINK: "true", NUM_CTX: "4096" },
        { KIND: "flow", MODEL: "azure-openai:gpt-4o", BASE_URL: "https://flow.example", TENANT: "acme", CLIENT_ID: "c1", CLIENT_SECRET: "cs1", BEDROCK_PATH: "/gw/br" }
      ]
      const env = Object.fromEntries(entries.flatMap((entry, index) =>
        Object.entries(entry).map(([name, value]) => [`FLEXIAI_PROVIDERS_${index}_${name}`, value])
      ))
      const config = yield* loadWith(env)
      assert.deepStrictEqual(config.providers.map((provider) => provider.kind), kinds)
      assert.strictEqual(secret(config.providers[1]?.bearerToken), "t")
      assert.strictEqual(config.providers[3]?.appTitle, "App")
      assert.deepStrictEqual(config.providers[6]?.capabilities, { assistantPrefill: true })
      assert.deepStrictEqual((config.providers[7] as { cache?: unknown } | undefined)?.cache, { system: true })
      assert.strictEqual(config.providers[9]?.credentialsFile, "/keys/sa.json")
      assert.strictEqual(config.providers[11]?.think, true)
      assert.strictEqual(config.providers[11]?.numCtx, 4096)
      assert.strictEqual(secret(config.providers[12]?.clientSecret), "cs1")
      assert.strictEqual(config.providers[12]?.bedrockPath, "/gw/br")
    }))

  it.effect("detected from the standard variables the descriptors declare, in their priority order", () =>
    Effect.gen(function*() {
      const config = yield* loadWith({
        OLLAMA_HOST: "http://h:11434",
        OPENROUTER_API_KEY: "or",
        AZURE_OPENAI_API_KEY: "az",
        AZURE_OPENAI_ENDPOINT: "https://r",
        AZURE_OPENAI_DEPLOYMENT: "prod-4o",
        OPENAI_API_KEY: "oa",
        ANTHROPIC_API_KEY: "an",
        MISTRAL_API_KEY: "mi" // no bundled kind reads it
      })
      // OLLAMA_HOST detects the native API (ollama-openai and its old name ollama are not detected)
      assert.deepStrictEqual(config.providers.map((provider) => provider.kind), ["openai", "anthropic", "azure-openai", "openrouter", "ollama-native"])
      assert.deepStrictEqual(
        config.providers.map((provider) => provider.priority),
        config.providers.map((provider) => providers.find((descriptor) => descriptor.kind === provider.kind)?.environment?.detection?.priority)
      )
      assert.strictEqual(config.providers[2]?.model, "prod-4o")
      assert.strictEqual(secret(config.providers[0]?.apiKey), "oa")
    }))

  it.effect("no variable set: the error names every bundled kind's variables", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(loadWith({}))
      assert.strictEqual(error.problems[0]?.path, "providers")
      for (const variable of ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "AZURE_OPENAI_API_KEY + AZURE_OPENAI_ENDPOINT", "OPENROUTER_API_KEY", "OLLAMA_HOST"]) {
        assert.include(error.message, variable)
      }
      assert.notInclude(error.message, "MISTRAL_API_KEY")
    }))
})
