// The JSON Schema config builds for whatever descriptors it is given (here the stand-in kinds):
// it accepts what the decoder accepts and rejects what it rejects. The schema flexiai commits
// for its bundled kinds, and the example configs, are tested in packages/flexiai.
import { assert, describe, it } from "@effect/vitest"
import { Ajv2020 } from "ajv/dist/2020.js"
import * as FlexiConfig from "../src/FlexiConfig.ts"
import { jsonSchema } from "./helpers.ts"
import { kinds } from "./kinds.ts"

const validator = () => new Ajv2020({ strict: false, allErrors: true }).compile(jsonSchema())

describe("JSON Schema", () => {
  it("has one provider entry per registered kind, and none without descriptors", () => {
    const text = JSON.stringify(jsonSchema())
    for (const descriptor of kinds) assert.include(text, `"enum":["${descriptor.kind}"]`)
    const empty = new Ajv2020({ strict: false }).compile(FlexiConfig.jsonSchema())
    assert.isFalse(empty({ providers: [{ kind: "openai", model: "m", apiKey: "k" }] }))
    assert.isTrue(empty({ policy: { deadline: "5 seconds" } }))
  })

  it("accepts a config of the registered kinds", () => {
    const validate = validator()
    const config = {
      policy: { preset: "fast", deadline: "20 seconds" },
      providers: [
        { kind: "openai", priority: 10, model: "gpt-4o-mini", apiKey: "env:OPENAI_API_KEY" },
        { kind: "bedrock", model: "m", region: "eu-west-1", accessKeyId: "env:A", secretAccessKey: "env:B" },
        { kind: "ollama-native", model: "llama3.2", host: "http://localhost:11434", capabilities: { assistantPrefill: true } }
      ]
    }
    assert.isTrue(validate(config), JSON.stringify(validate.errors))
  })

  it("rejects a broken config", () => {
    const validate = validator()
    const broken = [
      { providers: [{ kind: "openai", model: "m" }] }, // openai needs apiKey
      { providers: [{ kind: "nope", model: "m" }] },
      { providers: [{ kind: "ollama-native", model: "m", modle: "typo" }] },
      { providers: [{ kind: "bedrock", model: "m", region: "r", accessKeyId: "a" }] }, // secretAccessKey missing
      { policy: { deadline: "soon" } },
      { policy: { preset: "fastest" } },
      { breaker: { jitter: 2 } }
    ]
    for (const config of broken) assert.isFalse(validate(config), JSON.stringify(config))
    assert.isTrue(validate({ policy: { deadline: "5 seconds", attemptTimeout: 500 } }))
  })
})
