// A kind renamed by its provider package stays loadable under its old name the way the bundled
// `ollama` (old name of `ollama-openai`) does: a second descriptor, the same options under the
// old `kind`, with no detection of its own. Config needs nothing for it: the old name decodes, is
// in the JSON Schema, and detection finds only the kinds that declare one.
import { assert, describe, it } from "@effect/vitest"
import * as ProviderKind from "@flexiai/provider/ProviderKind"
import { ConfigProvider, Effect, Schema } from "effect"
import { NodeServices } from "@effect/platform-node"
import * as FlexiConfig from "../src/FlexiConfig.ts"
import { ollama as ollamaNative } from "./kinds.ts"

const renamed = ProviderKind.make({
  ...ollamaNative,
  kind: "ollama-openai",
  description: "stand-in: Ollama's /v1",
  options: Schema.Struct({ host: Schema.optionalKey(Schema.NonEmptyString) }),
  environment: { fields: [{ field: "host", variables: ["OLLAMA_HOST"] }] }
})
const oldName = ProviderKind.make({ ...renamed, kind: "ollama", description: "Deprecated: the old name of ollama-openai." })
const providers = [renamed, oldName, ollamaNative]

describe("a kind kept under its old name", () => {
  it.effect("an old file decodes to the old kind with the same fields; the new name too", () =>
    Effect.gen(function*() {
      const config = yield* FlexiConfig.fromObject({
        providers: [{ kind: "ollama", model: "m", host: "http://old:11434" }, { kind: "ollama-openai", name: "new", model: "m", host: "http://new:11434" }]
      }, { providers })
      assert.deepStrictEqual(config.providers.map((provider) => [provider.kind, provider.name, provider.host]), [
        ["ollama", "ollama", "http://old:11434"],
        ["ollama-openai", "new", "http://new:11434"]
      ])
      const schema = JSON.stringify(FlexiConfig.jsonSchema({ providers }))
      assert.include(schema, "\"enum\":[\"ollama\"]")
      assert.include(schema, "Deprecated: the old name of ollama-openai.")
    }))

  it.effect("detection from OLLAMA_HOST finds the one kind that declares it", () =>
    Effect.gen(function*() {
      const config = yield* FlexiConfig.load({ providers, file: false }).pipe(
        Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env: { OLLAMA_HOST: "http://h:11434" } })),
        Effect.provide(NodeServices.layer)
      )
      assert.deepStrictEqual(config.providers.map((provider) => provider.kind), ["ollama-native"])
    }))
})
