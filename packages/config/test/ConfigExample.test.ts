// The annotated example is written from the schemas and the registered descriptors: each kind gets
// an entry whose required fields are filled (a descriptor's example, else a placeholder; secrets as
// env: references to the kind's standard variable), and every field it shows is one the schema has.
import { assert, describe, it } from "@effect/vitest"
import * as ProviderKind from "@flexiai/provider/ProviderKind"
import { Ajv2020 } from "ajv/dist/2020.js"
import { Schema } from "effect"
import * as Yaml from "yaml"
import * as ConfigExample from "../src/ConfigExample.ts"
import { jsonSchema } from "./helpers.ts"
import { bedrock, kinds, ollama } from "./kinds.ts"

describe("ConfigExample", () => {
  it("writes one entry per registered kind that the config's JSON Schema accepts", () => {
    const text = ConfigExample.yaml({ providers: kinds, schemaPath: "flexiai.schema.json" })
    assert.isTrue(text.startsWith("# yaml-language-server: $schema=flexiai.schema.json\n"))
    const parsed = Yaml.parse(text) as { readonly providers: ReadonlyArray<{ readonly kind: string }> }
    assert.deepStrictEqual(parsed.providers.map((entry) => entry.kind), kinds.map((descriptor) => descriptor.kind))
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(jsonSchema())
    assert.isTrue(validate(parsed), JSON.stringify(validate.errors))
  })

  it("fills secrets from the kind's standard variables, other required fields with placeholders, and comments out optional ones", () => {
    const text = ConfigExample.yaml({ providers: [bedrock, ollama], schemaPath: "s.json" })
    const [entry] = (Yaml.parse(text) as { readonly providers: ReadonlyArray<Record<string, unknown>> }).providers
    assert.deepStrictEqual(entry, {
      kind: "bedrock",
      model: "anthropic.claude-3-haiku-20240307-v1:0", // the detection's model
      region: "<region>",
      accessKeyId: "env:AWS_ACCESS_KEY_ID",
      secretAccessKey: "env:AWS_SECRET_ACCESS_KEY"
    })
    assert.include(text, "    # sessionToken: env:AWS_SESSION_TOKEN")
    assert.include(text, "# Detected from AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (priority 60).")
    // policy and breaker fields carry their defaults from the schemas
    assert.include(text, "  # maxRetryAfter: 5 seconds")
    assert.include(text, "#   failureThreshold: 5")
    assert.include(text, "#   maxOpenDuration: 25 seconds")
  })
})

describe("ConfigExample placeholders", () => {
  it("an optional option without an example is shown with a value of its own type, so uncommenting it still decodes", () => {
    const flags = ProviderKind.make({
      ...ollama,
      kind: "flags",
      options: Schema.Struct({
        strict: Schema.optionalKey(Schema.Boolean),
        retries: Schema.optionalKey(Schema.Int),
        mode: Schema.optionalKey(Schema.Literals(["a", "b"]))
      })
    })
    const text = ConfigExample.yaml({ providers: [flags], schemaPath: "s.json" })
    assert.include(text, "    # strict: false")
    assert.include(text, "    # retries: 0")
    assert.include(text, "    # mode: a")
  })
})
