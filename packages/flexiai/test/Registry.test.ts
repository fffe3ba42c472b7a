// Until @flexiai/config builds its schema and detection from the registered descriptors (issue 10,
// still open), the same facts sit in two places: each bundled descriptor and config's own tables.
// This test holds them equal, so neither can drift while both exist.
import { assert, describe, it } from "@effect/vitest"
import { ConfigSchema, Environment } from "@flexiai/config"
import type * as ProviderKind from "@flexiai/provider/ProviderKind"
import * as Providers from "../src/Providers.ts"

const fieldsOf = (schema: unknown): ReadonlyArray<string> =>
  Object.keys((schema as { readonly fields: Record<string, unknown> }).fields).sort()

const configMember = (kind: string) =>
  ConfigSchema.Provider.members.find((member) => {
    const literal = (member.fields.kind as unknown as { readonly literal: unknown }).literal
    return literal === kind
  })

const commonFields = fieldsOf(ConfigSchema.OpenAiCompatible).filter((field) => field !== "kind")

describe.each(Providers.bundled.map((descriptor) => [descriptor.kind, descriptor] as const))(
  "descriptor %s and config's tables",
  (kind, descriptor: ProviderKind.Any) => {
    it("config knows the kind, with the common fields plus exactly the descriptor's own", () => {
      assert.include(ConfigSchema.providerKinds as ReadonlyArray<string>, kind)
      const member = configMember(kind)
      assert.isDefined(member, `no config schema for ${kind}`)
      const own = fieldsOf(descriptor.options)
      assert.deepStrictEqual(fieldsOf(member), [...new Set(["kind", ...commonFields, ...own])].sort())
    })

    it("its secret fields are config's secret fields", () => {
      for (const field of descriptor.secretFields) assert.isTrue(ConfigSchema.secretFields.has(field), field)
    })

    it("its standard variables and detection are config's", () => {
      const fields = (descriptor.environment?.fields ?? []).map((entry) => ({
        field: entry.field,
        variables: entry.variables,
        secret: entry.secret ?? false
      }))
      assert.deepStrictEqual(Environment.standardFields[kind as ConfigSchema.ProviderKind], fields)
      const position = Environment.detections.findIndex((detection) => detection.kind === kind)
      const detection = descriptor.environment?.detection
      if (detection === undefined) {
        assert.strictEqual(position, -1)
        return
      }
      const config = Environment.detections[position]!
      assert.deepStrictEqual(
        { requires: config.requires, model: config.model, modelFrom: config.modelFrom, defaults: config.defaults },
        { requires: detection.requires, model: detection.model, modelFrom: detection.modelFrom, defaults: detection.defaults }
      )
      // config ranks detected kinds by position: 10, 20, …
      assert.strictEqual((position + 1) * 10, detection.priority)
    })
  }
)
