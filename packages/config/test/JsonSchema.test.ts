import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Ajv2020 } from "ajv/dist/2020.js"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as Yaml from "yaml"
import * as FlexiConfig from "../src/FlexiConfig.ts"
import { loadWith } from "./helpers.ts"

const at = (relative: string) => fileURLToPath(new URL(relative, import.meta.url))
const schemaFile = at("../flexiai.schema.json")
const exampleYaml = at("../../../examples/flexiai.config.yaml")
const exampleJson = at("../../../examples/flexiai.config.json")

const validator = () => new Ajv2020({ strict: false, allErrors: true }).compile(FlexiConfig.jsonSchema())

describe("JSON Schema", () => {
  it("the committed flexiai.schema.json is the generated one (run `pnpm --filter @flexiai/config gen:schema`)", () => {
    assert.deepStrictEqual(JSON.parse(readFileSync(schemaFile, "utf8")), FlexiConfig.jsonSchema())
  })

  it("validates the example configs", () => {
    const validate = validator()
    const yamlText = readFileSync(exampleYaml, "utf8")
    assert.isTrue(yamlText.startsWith("# yaml-language-server: $schema=../packages/config/flexiai.schema.json"))
    assert.isTrue(validate(Yaml.parse(yamlText)), JSON.stringify(validate.errors))
    assert.isTrue(validate(JSON.parse(readFileSync(exampleJson, "utf8"))), JSON.stringify(validate.errors))
  })

  it("rejects a broken config", () => {
    const validate = validator()
    const broken = [
      { providers: [{ kind: "openai", model: "m" }] }, // openai needs apiKey
      { providers: [{ kind: "nope", model: "m" }] },
      { providers: [{ kind: "ollama", model: "m", modle: "typo" }] },
      { policy: { deadline: "soon" } },
      { policy: { preset: "fastest" } },
      { breaker: { jitter: 2 } }
    ]
    for (const config of broken) assert.isFalse(validate(config), JSON.stringify(config))
    assert.isTrue(validate({ policy: { deadline: "5 seconds", attemptTimeout: 500 } }))
  })

  it.effect("the example JSON config loads", () =>
    Effect.gen(function*() {
      const config = yield* loadWith({ OPENAI_API_KEY: "sk-a", GEMINI_API_KEY: "g-b" }, { file: exampleJson })
      assert.deepStrictEqual(config.providers.map((provider) => provider.name), ["openai", "gemini", "ollama"])
      assert.strictEqual(config.preset, "fast")
    }))
})
