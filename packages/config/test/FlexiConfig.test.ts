import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Redacted } from "effect"
import * as RouterPolicy from "@flexiai/core/RouterPolicy"
import * as FlexiConfig from "../src/FlexiConfig.ts"
import * as Presets from "../src/Presets.ts"
import { loadWith, tempFiles, fromObject } from "./helpers.ts"

const millis = (duration: Duration.Duration) => Duration.toMillis(duration)
const secret = (value: unknown) => Redacted.value(value as Redacted.Redacted<string>)

describe("precedence: code > environment > file > defaults", () => {
  it.effect("each source overrides the next, field by field", () =>
    Effect.gen(function*() {
      const directory = yield* tempFiles({
        "flexiai.config.yaml": [
          "policy:",
          "  deadline: 90 seconds",
          "  attemptTimeout: 50 seconds",
          "  idleTimeout: 40 seconds",
          "providers:",
          "  - kind: openai",
          "    model: from-file",
          "    apiKey: sk-file",
          "    priority: 5"
        ].join("\n")
      })
      const config = yield* loadWith(
        {
          FLEXIAI_POLICY_DEADLINE: "80 seconds",
          FLEXIAI_POLICY_ATTEMPT_TIMEOUT: "45000",
          FLEXIAI_PROVIDERS_0_MODEL: "from-env",
          FLEXIAI_PROVIDERS_0_PRIORITY: "7"
        },
        {
          file: `${directory}/flexiai.config.yaml`,
          overrides: { policy: { deadline: "70 seconds" }, providers: [{ priority: 3 }] }
        }
      )
      assert.strictEqual(millis(config.policy.deadline), 70_000) // code
      assert.strictEqual(millis(config.policy.attemptTimeout), 45_000) // env
      assert.strictEqual(millis(config.policy.idleTimeout), 40_000) // file
      assert.strictEqual(millis(config.policy.maxRetryAfter), 5_000) // default
      const [provider] = config.providers
      assert.strictEqual(provider?.model, "from-env")
      assert.strictEqual(provider?.priority, 3)
      assert.strictEqual(secret(provider?.apiKey), "sk-file")
      assert.strictEqual(config.file, `${directory}/flexiai.config.yaml`)
    }))

  it.effect("FLEXIAI_CONFIG_FILE names the file", () =>
    Effect.gen(function*() {
      const directory = yield* tempFiles({
        "custom.json": JSON.stringify({ providers: [{ kind: "ollama-native", model: "llama3.2", host: "http://box:11434" }] })
      })
      const config = yield* loadWith({ FLEXIAI_CONFIG_FILE: `${directory}/custom.json` }, {})
      assert.strictEqual(config.providers[0]?.kind, "ollama-native")
      assert.strictEqual(config.file, `${directory}/custom.json`)
    }))

  it.effect("standard variables fill what a file's provider leaves out, never what it sets", () =>
    Effect.gen(function*() {
      const directory = yield* tempFiles({
        "flexiai.config.yaml": [
          "providers:",
          "  - { kind: openai, name: main, model: gpt-4o }",
          "  - { kind: openai, name: other, model: gpt-4o-mini, apiKey: env:OTHER_KEY }",
          "  - { kind: bedrock, model: m, region: us-west-2 }"
        ].join("\n")
      })
      const config = yield* loadWith({
        OPENAI_API_KEY: "sk-standard",
        OTHER_KEY: "sk-other",
        AWS_ACCESS_KEY_ID: "AKIA1",
        AWS_SECRET_ACCESS_KEY: "aws-secret",
        AWS_REGION: "eu-west-1"
      }, { file: `${directory}/flexiai.config.yaml` })
      const [main, other, bedrock] = config.providers
      assert.strictEqual(secret(main?.apiKey), "sk-standard")
      assert.strictEqual(secret(other?.apiKey), "sk-other")
      assert.strictEqual(bedrock?.kind === "bedrock" && bedrock.region, "us-west-2")
      assert.strictEqual(bedrock?.kind === "bedrock" && secret(bedrock.secretAccessKey), "aws-secret")
    }))
})

const everyKindYaml = [
  "providers:",
  "  - { kind: openai, model: gpt-4o-mini, apiKey: k1 }",
  "  - { kind: azure-openai, model: gpt-4o, endpoint: https://r.openai.azure.com, deployment: d1, apiVersion: '2024-10-21', bearerToken: t1 }",
  "  - { kind: foundry, model: phi-4, endpoint: https://f.services.ai.azure.com, apiVersion: '2024-05-01-preview', apiKey: k2 }",
  "  - { kind: openrouter, model: openai/gpt-4o-mini, apiKey: k3, appUrl: https://app.example, appTitle: App }",
  "  - { kind: ollama-native, model: llama3.2, host: http://localhost:11434 }",
  "  - { kind: openai-compatible, model: qwen, baseUrl: http://localhost:8000/v1 }",
  "  - { kind: anthropic, model: claude-haiku-4-5, apiKey: k4, apiVersion: '2023-06-01' }",
  "  - { kind: gemini, model: gemini-2.5-flash, apiKey: k5 }",
  "  - { kind: vertex, model: gemini-2.5-flash, project: p1, location: europe-west4, credentialsFile: /etc/sa.json }",
  "  - { kind: bedrock, model: m, region: us-east-1, accessKeyId: a1, secretAccessKey: s1, sessionToken: st1 }",
  "  - { kind: flow, model: openai:gpt-4o, baseUrl: https://flow.example, tenant: acme, clientId: c1, clientSecret: cs1 }"
].join("\n")

const expectedKinds = [
  "openai",
  "azure-openai",
  "foundry",
  "openrouter",
  "ollama-native",
  "openai-compatible",
  "anthropic",
  "gemini",
  "vertex",
  "bedrock",
  "flow"
]

describe("every provider kind", () => {
  it.effect("is configurable from a file alone", () =>
    Effect.gen(function*() {
      const directory = yield* tempFiles({ "flexiai.config.yaml": everyKindYaml })
      const config = yield* loadWith({}, { file: `${directory}/flexiai.config.yaml` })
      assert.deepStrictEqual(config.providers.map((provider) => provider.kind), expectedKinds)
      const byKind = new Map(config.providers.map((provider) => [provider.kind, provider]))
      const azure = byKind.get("azure-openai")
      assert.strictEqual(azure?.kind === "azure-openai" && secret(azure.bearerToken), "t1")
      const vertex = byKind.get("vertex")
      assert.strictEqual(vertex?.kind === "vertex" && vertex.location, "europe-west4")
      const flow = byKind.get("flow")
      assert.strictEqual(flow?.kind === "flow" && flow.tenant, "acme")
      assert.strictEqual(flow?.kind === "flow" && secret(flow.clientSecret), "cs1")
      const openRouter = byKind.get("openrouter")
      assert.strictEqual(openRouter?.kind === "openrouter" && openRouter.appTitle, "App")
    }))

  it.effect("is configurable from FLEXIAI_PROVIDERS_<index>_* variables alone", () =>
    Effect.gen(function*() {
      const fields: Array<Record<string, string>> = [
        { KIND: "openai", MODEL: "gpt-4o-mini", API_KEY: "k1" },
        { KIND: "azure-openai", MODEL: "gpt-4o", ENDPOINT: "https://r", DEPLOYMENT: "d1", API_KEY: "k" },
        { KIND: "foundry", MODEL: "phi-4", ENDPOINT: "https://f", API_KEY: "k2" },
        { KIND: "openrouter", MODEL: "x/y", API_KEY: "k3", APP_TITLE: "App" },
        { KIND: "ollama-native", MODEL: "llama3.2", HOST: "http://h:11434" },
        { KIND: "openai-compatible", MODEL: "qwen", BASE_URL: "http://localhost:8000/v1" },
        { KIND: "anthropic", MODEL: "claude", API_KEY: "k4" },
        { KIND: "gemini", MODEL: "gemini", API_KEY: "k5" },
        { KIND: "vertex", MODEL: "gemini", PROJECT: "p1", CREDENTIALS_FILE: "/sa.json" },
        { KIND: "bedrock", MODEL: "m", REGION: "us-east-1", ACCESS_KEY_ID: "a", SECRET_ACCESS_KEY: "s" },
        { KIND: "flow", MODEL: "openai:gpt-4o", BASE_URL: "https://flow", TENANT: "t", CLIENT_ID: "c", CLIENT_SECRET: "cs" }
      ]
      const env = Object.fromEntries(
        fields.flatMap((provider, index) =>
          Object.entries(provider).map(([name, value]) => [`FLEXIAI_PROVIDERS_${index}_${name}`, value])
        )
      )
      const config = yield* loadWith(env)
      assert.deepStrictEqual(config.providers.map((provider) => provider.kind), expectedKinds)
      const vertex = config.providers[8]
      assert.strictEqual(vertex?.kind === "vertex" && vertex.credentialsFile, "/sa.json")
    }))

  it.effect("is detected from standard variables alone (except foundry and openai-compatible, which have none)", () =>
    Effect.gen(function*() {
      const config = yield* loadWith({
        OLLAMA_HOST: "http://h:11434",
        FLOW_BASE_URL: "https://flow",
        FLOW_TENANT: "t",
        FLOW_CLIENT_ID: "c",
        FLOW_CLIENT_SECRET: "cs",
        OPENROUTER_API_KEY: "or",
        AWS_ACCESS_KEY_ID: "a",
        AWS_SECRET_ACCESS_KEY: "s",
        GOOGLE_APPLICATION_CREDENTIALS: "/sa.json",
        GOOGLE_CLOUD_PROJECT: "p",
        AZURE_OPENAI_API_KEY: "az",
        AZURE_OPENAI_ENDPOINT: "https://r",
        AZURE_OPENAI_DEPLOYMENT: "prod-4o",
        GOOGLE_API_KEY: "g",
        ANTHROPIC_API_KEY: "an",
        OPENAI_API_KEY: "oa"
      })
      assert.deepStrictEqual(config.providers.map((provider) => provider.kind), [
        "openai",
        "anthropic",
        "gemini",
        "azure-openai",
        "vertex",
        "bedrock",
        "openrouter",
        "flow",
        "ollama-native"
      ])
      assert.deepStrictEqual(config.providers.map((provider) => provider.priority), [10, 20, 30, 40, 50, 60, 70, 80, 90])
      const azure = config.providers[3]
      assert.strictEqual(azure?.model, "prod-4o")
      const vertex = config.providers[4]
      assert.strictEqual(vertex?.kind === "vertex" && vertex.location, "us-central1")
      const bedrock = config.providers[5]
      assert.strictEqual(bedrock?.kind === "bedrock" && bedrock.region, "us-east-1")
    }))
})

describe("detection", () => {
  it.effect("only OPENAI_API_KEY → one openai provider with a default model", () =>
    Effect.gen(function*() {
      const config = yield* loadWith({ OPENAI_API_KEY: "sk-only" })
      assert.strictEqual(config.providers.length, 1)
      const [openai] = config.providers
      assert.strictEqual(openai?.kind, "openai")
      assert.strictEqual(openai?.name, "openai")
      assert.strictEqual(openai?.model, "gpt-4o-mini")
      assert.strictEqual(secret(openai?.apiKey), "sk-only")
    }))

  it.effect("GEMINI_API_KEY wins over GOOGLE_API_KEY; several keys come in the documented order", () =>
    Effect.gen(function*() {
      const config = yield* loadWith({ GOOGLE_API_KEY: "google", GEMINI_API_KEY: "gemini", ANTHROPIC_API_KEY: "an" })
      assert.deepStrictEqual(config.providers.map((provider) => provider.kind), ["anthropic", "gemini"])
      assert.strictEqual(secret(config.providers[1]?.apiKey), "gemini")
    }))

  it.effect("no variables → one error naming the variables looked for", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(loadWith({ AZURE_OPENAI_API_KEY: "half-configured" }))
      assert.strictEqual(error._tag, "FlexiConfigError")
      assert.strictEqual(error.problems.length, 1)
      assert.strictEqual(error.problems[0]?.path, "providers")
      for (const variable of ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY or GOOGLE_API_KEY", "AZURE_OPENAI_ENDPOINT", "OLLAMA_HOST", "FLOW_CLIENT_SECRET"]) {
        assert.include(error.message, variable)
      }
    }))
})

describe("presets", () => {
  it.effect("balanced is the default and equals RouterPolicy.defaults", () =>
    Effect.gen(function*() {
      const config = yield* loadWith({ OPENAI_API_KEY: "k" })
      assert.strictEqual(config.preset, "balanced")
      assert.deepStrictEqual(config.policy, RouterPolicy.defaults)
    }))

  it.effect("fast and reliable differ from the default the documented way", () =>
    Effect.gen(function*() {
      const fast = yield* loadWith({ OPENAI_API_KEY: "k", FLEXIAI_POLICY_PRESET: "fast" })
      const reliable = yield* loadWith({ OPENAI_API_KEY: "k", FLEXIAI_POLICY_PRESET: "Reliable" })
      assert.strictEqual(fast.policy.retry.maxRetries, 1)
      assert.isTrue(millis(fast.policy.deadline) < millis(RouterPolicy.defaults.deadline))
      assert.isTrue(millis(fast.policy.maxRetryAfter) < millis(RouterPolicy.defaults.maxRetryAfter))
      assert.isTrue(reliable.policy.retry.maxRetries > RouterPolicy.defaults.retry.maxRetries)
      assert.isTrue(millis(reliable.policy.deadline) > millis(RouterPolicy.defaults.deadline))
      assert.strictEqual(reliable.policy.streamPolicy, "restart")
    }))

  it.effect("any field overrides the preset; the rest stays the preset's", () =>
    Effect.gen(function*() {
      const config = yield* fromObject({
        providers: [{ kind: "ollama-native", model: "llama3.2" }],
        policy: { preset: "reliable", deadline: 60_000, retry: { maxRetries: 9 } }
      })
      assert.strictEqual(millis(config.policy.deadline), 60_000)
      assert.strictEqual(config.policy.retry.maxRetries, 9)
      assert.strictEqual(millis(config.policy.retry.maxDelay), millis(Presets.reliable.retry.maxDelay))
      assert.strictEqual(config.policy.streamPolicy, "restart")
    }))

  it.effect("a provider's retry and breaker fall back to the policy's and the top-level breaker", () =>
    Effect.gen(function*() {
      const config = yield* fromObject({
        providers: [
          { kind: "ollama-native", model: "a", retry: { maxRetries: 0 }, breaker: { failureThreshold: 2 } },
          { kind: "ollama-native", name: "b", model: "b", timeouts: { total: "1 minute" } }
        ],
        policy: { preset: "fast" },
        breaker: { openDuration: "5 seconds" }
      })
      const [first, second] = config.providers
      assert.strictEqual(first?.retry.maxRetries, 0)
      assert.strictEqual(second?.retry.maxRetries, Presets.fast.retry.maxRetries)
      assert.strictEqual(first?.breaker.failureThreshold, 2)
      assert.strictEqual(millis(first?.breaker.openDuration ?? Duration.zero), 5_000)
      assert.strictEqual(second?.breaker.failureThreshold, Presets.breakerDefaults.failureThreshold)
      assert.strictEqual(millis(second?.timeouts.total ?? Duration.zero), 60_000)
      assert.strictEqual(config.logging.level, "Info")
    }))
})

describe("resolution", () => {
  it.effect("providers are sorted by priority; equal priorities keep declared order; disabled ones are dropped", () =>
    Effect.gen(function*() {
      const config = yield* fromObject({
        providers: [
          { kind: "ollama-native", name: "c", model: "m" },
          { kind: "ollama-native", name: "a", model: "m", priority: 1 },
          { kind: "ollama-native", name: "d", model: "m" },
          { kind: "ollama-native", name: "off", model: "m", priority: 0, enabled: false },
          { kind: "ollama-native", name: "b", model: "m", priority: 1 }
        ]
      })
      assert.deepStrictEqual(config.providers.map((provider) => provider.name), ["a", "b", "c", "d"])
    }))

  it.effect("duplicate names are an error", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(fromObject({
        providers: [{ kind: "ollama-native", model: "m" }, { kind: "ollama-native", model: "n" }]
      }))
      assert.deepStrictEqual(error.problems.map((problem) => problem.path), ["providers[1].name"])
    }))

  it.effect("logging level and format decode", () =>
    Effect.gen(function*() {
      const config = yield* loadWith({ OLLAMA_HOST: "h", FLEXIAI_LOGGING_LEVEL: "DEBUG", FLEXIAI_LOGGING_FORMAT: "json" })
      assert.deepStrictEqual(config.logging, { level: "Debug", format: "json" })
    }))
})

describe("errors", () => {
  it.effect("five mistakes → one error listing five paths", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(fromObject({
        providers: [
          { kind: "openai", model: "gpt-4o-mini", apiKey: "k" },
          { kind: "anthropic", apiKey: "k" } as unknown as FlexiConfig.Input["providers"] & object,
          { kind: "gemini", model: "g", apiKey: "k", modle: "typo" } as unknown as FlexiConfig.Input["providers"] & object
        ],
        policy: { deadline: "soon", preset: "fastest" as "fast" },
        breaker: { jitter: 3 }
      } as unknown as FlexiConfig.Input))
      assert.deepStrictEqual(error.problems.map((problem) => problem.path).sort(), [
        "breaker.jitter",
        "policy.deadline",
        "policy.preset",
        "providers[1].model",
        "providers[2].modle"
      ])
      assert.include(error.message, "providers[1].model: missing")
      assert.include(error.message, "policy.deadline: expected a duration")
      assert.include(error.message, "providers[2].modle: unknown key")
      assert.include(error.message, "5 problems")
      assert.notInclude(error.stack ?? "", "    at ")
    }))

  it.effect("an unknown kind names the kinds", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(fromObject({
        providers: [{ kind: "openai-ish", model: "m" }]
      } as unknown as FlexiConfig.Input))
      assert.strictEqual(error.problems[0]?.path, "providers[0].kind")
      assert.include(error.problems[0]?.message ?? "", "\"openai-compatible\"")
    }))

  it.effect("environment mistakes name the variable", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(loadWith({
        OPENAI_API_KEY: "k",
        FLEXIAI_POLICY_DEADLINE: "whenever",
        FLEXIAI_POLICY_DEADLNE: "5 seconds",
        FLEXIAI_POLICY_RETRY_MAX_RETRIES: "many",
        FLEXIAI_GATEWAY_PORT: "8080" // another tool's variable: not ours to judge
      }))
      const lines = error.problems.map((problem) => `${problem.path}: ${problem.message}`)
      assert.strictEqual(lines.length, 3)
      assert.include(lines.join("\n"), "FLEXIAI_POLICY_DEADLNE: unknown variable")
      assert.include(lines.join("\n"), "policy.deadline: expected a duration")
      assert.include(lines.join("\n"), "(from FLEXIAI_POLICY_DEADLINE)")
      assert.include(lines.join("\n"), "policy.retry.maxRetries: expected a number (from FLEXIAI_POLICY_RETRY_MAX_RETRIES)")
    }))

  it.effect("a missing file is a typed error with its path", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(loadWith({}, { file: "/nonexistent/flexiai.config.yaml" }))
      assert.strictEqual(error.file, "/nonexistent/flexiai.config.yaml")
      assert.include(error.message, "/nonexistent/flexiai.config.yaml: config file not found")
    }))

  it.effect("a YAML syntax error reports line and column", () =>
    Effect.gen(function*() {
      const directory = yield* tempFiles({ "bad.yaml": "policy:\n  deadline: 5 seconds\nproviders: [1, 2\nlogging: {}\n" })
      const error = yield* Effect.flip(loadWith({}, { file: `${directory}/bad.yaml` }))
      const [problem] = error.problems
      assert.strictEqual(problem?.path, `${directory}/bad.yaml`)
      assert.strictEqual(problem?.line, 4)
      assert.strictEqual(problem?.column, 1)
      assert.include(error.message, "bad.yaml:4:1: ")
    }))

  it.effect("a JSON syntax error reports line and column without quoting the source", () =>
    Effect.gen(function*() {
      const directory = yield* tempFiles({ "bad.json": "{\n  \"providers\": [\n    { \"apiKey\": sk-CANARY }\n  ]\n}\n" })
      const error = yield* Effect.flip(loadWith({}, { file: `${directory}/bad.json` }))
      const [problem] = error.problems
      assert.strictEqual(problem?.line, 3)
      assert.strictEqual(problem?.column, 17)
      assert.notInclude(error.message, "CANARY")
    }))
})

describe("per-provider capabilities", () => {
  it.effect("a provider may override any capability of its kind; the override is kept as written", () =>
    Effect.gen(function*() {
      const config = yield* loadWith({}, {
        file: false,
        overrides: {
          providers: [{
            kind: "openai-compatible",
            model: "m",
            baseUrl: "http://127.0.0.1:1/v1",
            capabilities: { assistantPrefill: true, temperature: { min: 0, max: 1 }, maxStopSequences: 2 }
          }]
        }
      })
      assert.deepStrictEqual(config.providers[0]?.capabilities, {
        assistantPrefill: true,
        temperature: { min: 0, max: 1 },
        maxStopSequences: 2
      })
    }))

  it.effect("an unknown capability or a wrong type is a problem at its path", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(loadWith({}, {
        file: false,
        overrides: {
          providers: [{
            kind: "openai-compatible",
            model: "m",
            baseUrl: "http://127.0.0.1:1/v1",
            capabilities: { prefill: true, tools: "yes" } as never
          }]
        }
      }))
      assert.strictEqual(error._tag, "FlexiConfigError")
      const paths = error.problems.map((problem) => problem.path).sort()
      assert.deepStrictEqual(paths, ["providers[0].capabilities.prefill", "providers[0].capabilities.tools"])
    }))
})
