// Shared wiring for the wire-level tests: a MockProviderServer on 127.0.0.1 that checks SigV4
// (the same signer), and the real client (undici) pointed at it, so signing, framing, timeouts
// and error mapping run over real sockets.
import { NodeHttpClient } from "@effect/platform-node"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Context, Effect, Layer, Redacted } from "effect"
import type { Scope } from "effect"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as BedrockChat from "../src/BedrockChat.ts"
import * as BedrockClient from "../src/BedrockClient.ts"

export const keys = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  sessionToken: "IQoJb3JpZ2luX2VjEXAMPLEsessionTOKEN0123456789abcdef",
  region: "us-east-1"
} as const

export const credentials = {
  accessKeyId: Redacted.make(keys.accessKeyId),
  secretAccessKey: Redacted.make(keys.secretAccessKey),
  sessionToken: Redacted.make(keys.sessionToken)
}

export const model = "us.amazon.nova-micro-v1:0"

export const request = (text = "hello there", extra: Partial<ChatRequest.ChatRequest> = {}): ChatRequest.ChatRequest => ({
  messages: [{ role: "user", content: text }],
  ...extra
})

export const verifyingEncoders = (apiKey?: string) => [
  MockProviderServer.bedrockEncoderVerifying({ ...keys, apiKey }),
  ...MockProviderServer.encoders
]

/** Starts a signature-checking server with `script` and builds a Bedrock provider against it. */
export const setup = (
  script: MockProviderServer.Script,
  options: { readonly client?: BedrockClient.Options | undefined; readonly chat?: BedrockChat.Options | undefined; readonly verify?: boolean } = {}
): Effect.Effect<{
  readonly server: MockProviderServer.MockProviderServer["Service"]
  readonly provider: ChatProvider.ChatProvider["Service"]
  readonly client: BedrockClient.BedrockClient["Service"]
}, never, Scope.Scope> =>
  Effect.gen(function*() {
    const server = yield* MockProviderServer.make(script, options.verify === false ? {} : { encoders: verifyingEncoders() })
    const clientLayer = BedrockClient.layer({
      region: keys.region,
      endpoint: server.url,
      credentials,
      defaultModel: model,
      environment: {},
      ...options.client
    }).pipe(Layer.provide(NodeHttpClient.layerUndici))
    const context = yield* Layer.build(BedrockChat.layer(options.chat).pipe(Layer.provideMerge(clientLayer)))
    return { server, provider: Context.get(context, ChatProvider.ChatProvider), client: Context.get(context, BedrockClient.BedrockClient) }
  })

export const reasonOf = (error: { readonly _tag: string }) => {
  if (error._tag !== "ProviderError") throw new Error(`expected a ProviderError, got ${error._tag}`)
  return (error as unknown as { readonly reason: { readonly _tag: string; readonly message: string } }).reason
}

/** A folder of the repository's test data. */
export const fixturesDir = (): string => {
  const directory = fileURLToPath(new URL("../../../test-data/fixtures/bedrock/", import.meta.url))
  if (!existsSync(directory)) throw new Error(`test data not found at ${directory}`)
  return directory
}
