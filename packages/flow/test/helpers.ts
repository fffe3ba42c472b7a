// Wiring for Flow's wire-level tests: MockProviderServer in Flow mode on 127.0.0.1 and the Flow
// provider (undici) pointed at it, so tokens, model lists and every upstream's codec run over
// real sockets.
import { NodeHttpClient } from "@effect/platform-node"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import type * as ProviderError from "@flexiai/core/ProviderError"
import * as Mock from "@flexiai/testing/MockProviderServer"
import { Effect, Layer, Redacted } from "effect"
import type { Scope } from "effect"
import * as FlowProvider from "../src/FlowProvider.ts"

export const request = (text = "hello there", extra: Partial<ChatRequest.ChatRequest> = {}): ChatRequest.ChatRequest => ({
  messages: [{ role: "user", content: text }],
  ...extra
})

export const setup = (
  script: Mock.Script = {},
  options: Partial<FlowProvider.Options> = {},
  gatewayOptions: Parameters<typeof Mock.makeFlowGateway>[0] = {}
): Effect.Effect<{
  readonly server: Mock.MockProviderServer["Service"]
  readonly gateway: Mock.FlowGateway
  readonly flow: FlowProvider.Service
}, never, Scope.Scope> =>
  Effect.gen(function*() {
    const gateway = Mock.makeFlowGateway(gatewayOptions)
    const server = yield* Mock.make(script, { encoders: Mock.flowEncoders(gateway) })
    // built in the test's scope: the undici dispatcher lives as long as the test
    const http = yield* Layer.build(NodeHttpClient.layerUndici)
    const flow = yield* FlowProvider.makeService({
      baseUrl: server.url,
      clientId: gateway.clientId,
      clientSecret: Redacted.make(gateway.clientSecret),
      tenant: gateway.tenant,
      appId: "agent-7",
      ...options
    }).pipe(Effect.provide(http))
    return { server, gateway, flow }
  })

export const tokenCalls = (calls: ReadonlyArray<Mock.RecordedCall>) => calls.filter((call) => call.path === Mock.flowPaths.token)

/** The reason of a ProviderError (undefined for the router's own errors). */
export const reasonOf = (error: ProviderError.ChatError): ProviderError.ProviderErrorReason | undefined =>
  error._tag === "ProviderError" ? error.reason : undefined
