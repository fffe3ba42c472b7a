// The gemini and vertex kinds from the environment: their standard variables fill the fields an
// entry leaves out, and detect them when no provider is declared (GEMINI_API_KEY before
// GOOGLE_API_KEY; GOOGLE_APPLICATION_CREDENTIALS + GOOGLE_CLOUD_PROJECT, with GOOGLE_CLOUD_LOCATION).
import { assert, describe, it } from "@effect/vitest"
import { NodeServices } from "@effect/platform-node"
import { FlexiConfig } from "@flexiai/config"
import { ConfigProvider, Effect, Redacted } from "effect"
import * as Providers from "../src/Providers.ts"

const loadWith = (env: Record<string, string>, options: FlexiConfig.LoadOptions = { file: false }) =>
  FlexiConfig.load({ providers: Providers.bundled, ...options }).pipe(
    Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env })),
    Effect.provide(NodeServices.layer)
  )
const secret = (value: unknown) => Redacted.value(value as Redacted.Redacted<string>)

describe("gemini and vertex from the environment", () => {
  it.effect("GEMINI_API_KEY is read before GOOGLE_API_KEY; GOOGLE_API_KEY alone detects gemini too", () =>
    Effect.gen(function*() {
      const both = yield* loadWith({ GEMINI_API_KEY: "gem-key", GOOGLE_API_KEY: "goog-key" })
      assert.deepStrictEqual(both.providers.map((provider) => [provider.kind, provider.model]), [["gemini", "gemini-2.5-flash"]])
      assert.strictEqual(secret(both.providers[0]?.apiKey), "gem-key")
      const fallback = yield* loadWith({ GOOGLE_API_KEY: "goog-key" })
      assert.strictEqual(secret(fallback.providers[0]?.apiKey), "goog-key")
    }))

  it.effect("GOOGLE_APPLICATION_CREDENTIALS + GOOGLE_CLOUD_PROJECT detect vertex, GOOGLE_CLOUD_LOCATION sets its region", () =>
    Effect.gen(function*() {
      const config = yield* loadWith({
        GOOGLE_APPLICATION_CREDENTIALS: "/keys/sa.json",
        GOOGLE_CLOUD_PROJECT: "my-project",
        GOOGLE_CLOUD_LOCATION: "europe-west4",
        OPENAI_API_KEY: "sk-x"
      })
      assert.deepStrictEqual(config.providers.map((provider) => provider.kind), ["openai", "vertex"])
      const vertex = config.providers[1]!
      assert.strictEqual(vertex.credentialsFile, "/keys/sa.json")
      assert.strictEqual(vertex.project, "my-project")
      assert.strictEqual(vertex.location, "europe-west4")
    }))

  it.effect("a declared vertex entry without credentials is refused, naming the fields", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(FlexiConfig.fromObject({
        providers: [{ kind: "vertex", model: "gemini-2.5-flash", project: "p" }, { kind: "vertex", name: "v2", model: "m", tokenCommand: "x" }]
      }, { providers: Providers.bundled }))
      assert.deepStrictEqual(error.problems.map((problem) => problem.path), ["providers[0].credentialsFile", "providers[1].project"])
    }))
})
