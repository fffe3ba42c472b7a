// The secret canary for Flow: the client secret and every access token handed out stay out of
// errors, even when the token endpoint or an upstream echoes them back in its body.
import { assert, describe, it } from "@effect/vitest"
import * as Mock from "@flexiai/testing/MockProviderServer"
import { Effect } from "effect"
import { inspect } from "node:util"
import { request, setup } from "./helpers.ts"

const printed = (value: unknown) => `${inspect(value, { depth: 10 })} ${JSON.stringify(value)} ${String(value)}`

describe("Flow secret canary", () => {
  it.effect("an upstream echoing the token and the secret: both masked in the error", () =>
    Effect.gen(function*() {
      const { flow, gateway, server } = yield* setup()
      yield* flow.provider.chat(request("hi", { model: "azure-openai:gpt-4o" }))
      const token = gateway.issued[0]!
      yield* server.setScript({
        byModel: {
          "gpt-4o": [Mock.error(400, { message: "x" }, {
            rawBody: JSON.stringify({ error: { message: `bad request with ${token} and ${gateway.clientSecret}`, type: "invalid_request_error" } })
          })]
        }
      })
      const error = yield* Effect.flip(flow.provider.chat(request("hi", { model: "azure-openai:gpt-4o" })))
      const text = printed(error)
      assert.include(text, "bad request")
      assert.notInclude(text, token)
      assert.notInclude(text, gateway.clientSecret)
    }))

  it.effect("a token endpoint echoing the secret: masked in the Authentication error", () =>
    Effect.gen(function*() {
      const gatewaySecret = "flow-secret-0123456789"
      const { flow } = yield* setup({
        byPath: {
          [Mock.flowPaths.token]: [Mock.error(401, { message: "x" }, {
            rawBody: JSON.stringify({ error: "invalid_client", error_description: `client secret ${gatewaySecret} refused` })
          })]
        }
      })
      const error = yield* Effect.flip(flow.provider.chat(request("hi", { model: "google:gemini-2.5-pro" })))
      const text = printed(error)
      assert.include(text, "invalid_client")
      assert.notInclude(text, gatewaySecret)
    }))
})
