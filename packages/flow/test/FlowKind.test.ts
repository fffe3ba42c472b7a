// The flow descriptor on its own: its standard variables and detection, and its check, which
// rejects a model that is not provider:modelId, an unknown upstream and a bad failover id with a
// message naming the field (config prefixes it with the entry's path; see
// packages/flexiai/test/FlowConfig.test.ts for the same through FlexiConfig).
import { assert, describe, it } from "@effect/vitest"
import * as ProviderKind from "@flexiai/provider/ProviderKind"
import { Redacted } from "effect"
import { FlowKind } from "../src/index.ts"

type Written = Parameters<NonNullable<typeof FlowKind.flow.check>>[0]

const written = (fields: Partial<Written> = {}): Written => ({
  kind: "flow",
  model: "azure-openai:gpt-4o",
  baseUrl: "https://flow.example.com",
  tenant: "acme",
  clientId: "my-client",
  clientSecret: Redacted.make("flow-secret"),
  ...fields
})

describe("flow descriptor", () => {
  it("is found by its kind; FLOW_* variables fill its fields, four of them detect it", () => {
    assert.strictEqual(ProviderKind.find(FlowKind.kinds, "flow"), FlowKind.flow)
    const environment = FlowKind.flow.environment
    assert.deepStrictEqual(environment?.fields.map((field) => [field.field, field.variables, field.secret === true]), [
      ["baseUrl", ["FLOW_BASE_URL"], false],
      ["tenant", ["FLOW_TENANT"], false],
      ["clientId", ["FLOW_CLIENT_ID"], false],
      ["clientSecret", ["FLOW_CLIENT_SECRET"], true],
      ["appId", ["FLOW_APP_ID"], false]
    ])
    assert.deepStrictEqual(environment?.detection?.requires, ["baseUrl", "tenant", "clientId", "clientSecret"])
    assert.strictEqual(environment?.detection?.model, "azure-openai:gpt-4o")
    assert.deepStrictEqual(FlowKind.flow.secretFields, ["clientSecret"])
    assert.isFalse(FlowKind.flow.requiresApiKey)
    assert.isTrue(FlowKind.flow.requiresBaseUrl)
  })

  it("check accepts a good entry and names the field of a bad one", () => {
    const check = FlowKind.flow.check!
    assert.isUndefined(check(written({ upstreams: "google, bedrock", failover: "azure-foundry:gpt-4o,google:gemini-2.5-pro" })))

    const model = check(written({ model: "gpt-4o" }))
    assert.strictEqual(model?.path, "model")
    assert.include(model?.message, "provider:modelId")
    assert.include(model?.message, "\"gpt-4o\"")
    assert.strictEqual(check(written({ model: "openai:gpt-4o" }))?.path, "model")

    const upstream = check(written({ upstreams: "google,vertex" }))
    assert.strictEqual(upstream?.path, "upstreams")
    assert.include(upstream?.message, "unknown upstream vertex")

    const failover = check(written({ failover: "google:gemini-2.5-pro, DeepSeek-R1" }))
    assert.strictEqual(failover?.path, "failover")
    assert.include(failover?.message, "DeepSeek-R1")
    assert.notInclude(failover?.message, "gemini")
  })
})
