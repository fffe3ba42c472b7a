// The flow kind through FlexiConfig: FLOW_* variables detect it (the secret read as Redacted) and
// fill an entry's missing fields; its check's rejections come back naming the entry's field.
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
const flowEnv = { FLOW_BASE_URL: "https://flow.example.com", FLOW_TENANT: "acme", FLOW_CLIENT_ID: "my-client", FLOW_CLIENT_SECRET: "flow-env-secret" }
const flowEntry = { kind: "flow", model: "azure-openai:gpt-4o", baseUrl: "https://flow.example.com", tenant: "acme", clientId: "c", clientSecret: "s" }

describe("flow from the environment and config", () => {
  it.effect("the four FLOW_* variables detect a flow entry; FLOW_APP_ID is read; three are not enough", () =>
    Effect.gen(function*() {
      const config = yield* loadWith({ ...flowEnv, FLOW_APP_ID: "agent-7" })
      const [entry] = config.providers as ReadonlyArray<Record<string, unknown>>
      assert.strictEqual(entry?.kind, "flow")
      assert.strictEqual(entry?.model, "azure-openai:gpt-4o")
      assert.strictEqual(entry?.baseUrl, "https://flow.example.com")
      assert.strictEqual(entry?.tenant, "acme")
      assert.strictEqual(entry?.clientId, "my-client")
      assert.strictEqual(entry?.appId, "agent-7")
      assert.isTrue(Redacted.isRedacted(entry?.clientSecret))
      assert.strictEqual(Redacted.value(entry?.clientSecret as Redacted.Redacted<string>), "flow-env-secret")

      const { FLOW_CLIENT_SECRET: _, ...withoutSecret } = flowEnv
      const error = yield* Effect.flip(loadWith(withoutSecret))
      assert.include(error.message, "FLOW_CLIENT_SECRET")
    }))

  it.effect("a declared flow entry takes its missing fields from FLOW_*", () =>
    Effect.gen(function*() {
      const config = yield* loadWith(flowEnv, { file: false, overrides: { providers: [{ kind: "flow", model: "google:gemini-2.5-pro" }] } })
      const [entry] = config.providers as ReadonlyArray<Record<string, unknown>>
      assert.strictEqual(entry?.tenant, "acme")
      assert.strictEqual(entry?.model, "google:gemini-2.5-pro")
    }))

  it.effect("bad values are rejected with a message naming the field", () =>
    Effect.gen(function*() {
      const reject = (fields: Record<string, unknown>) =>
        Effect.map(Effect.flip(FlexiConfig.fromObject({ providers: [{ ...flowEntry, ...fields }] }, { providers: Providers.bundled })), (error) => error.message)
      const model = yield* reject({ model: "gpt-4o" })
      assert.include(model, "providers[0].model")
      assert.include(model, "provider:modelId")
      assert.include(yield* reject({ upstreams: "azure-openai,vertex" }), "providers[0].upstreams")
      assert.include(yield* reject({ failover: "gpt-4o" }), "providers[0].failover")
      assert.include(yield* reject({ tenant: "" }), "tenant")
      assert.include(yield* reject({ modelsTtlSeconds: -1 }), "modelsTtlSeconds")
    }))
})
