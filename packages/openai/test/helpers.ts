// Shared wiring for the wire-level tests: a MockProviderServer on 127.0.0.1 and the real client
// (undici) pointed at it, so framing, timeouts and error mapping run over real sockets.
import { NodeHttpClient } from "@effect/platform-node"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import { Context, Effect, Layer, Redacted } from "effect"
import type { Scope } from "effect"
import * as OpenAiChat from "../src/OpenAiChat.ts"
import * as OpenAiClient from "../src/OpenAiClient.ts"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"

export const apiKey = "sk-test-0123456789abcdefghijklmnop"

export const request = (text = "hello there", extra: Partial<ChatRequest.ChatRequest> = {}): ChatRequest.ChatRequest => ({
  messages: [{ role: "user", content: text }],
  ...extra
})

/** Starts a server with `script` and builds an OpenAI provider against it. */
export const setup = (
  script: MockProviderServer.Script,
  options: {
    readonly client?: OpenAiClient.Options | undefined
    readonly chat?: OpenAiChat.Options | undefined
  } = {}
): Effect.Effect<{
  readonly server: MockProviderServer.MockProviderServer["Service"]
  readonly provider: ChatProvider.ChatProvider["Service"]
  readonly client: OpenAiClient.OpenAiClient["Service"]
}, never, Scope.Scope> =>
  Effect.gen(function*() {
    const server = yield* MockProviderServer.make(script)
    const clientLayer = OpenAiClient.layer({
      apiKey: Redacted.make(apiKey),
      apiUrl: `${server.url}/v1`,
      ...options.client
    }).pipe(Layer.provide(NodeHttpClient.layerUndici))
    return { server, ...(yield* build(OpenAiChat.layer(options.chat).pipe(Layer.provideMerge(clientLayer)))) }
  })

/** Builds a provider layer (and its client) into the current scope, so its HTTP client outlives construction. */
export const build = (
  layer: Layer.Layer<ChatProvider.ChatProvider | OpenAiClient.OpenAiClient>
) =>
  Effect.map(Layer.build(layer), (context) => ({
    provider: Context.get(context, ChatProvider.ChatProvider),
    client: Context.get(context, OpenAiClient.OpenAiClient)
  }))

/** The JSON body of the last recorded call. */
export const lastBody = (server: MockProviderServer.MockProviderServer["Service"]) =>
  Effect.map(server.calls, (calls) => calls.at(-1)?.body as Record<string, unknown> | undefined)

/**
 * A folder of the repository's test data (`test-data/<name>` at the repo root: recorded provider
 * responses and the providers' API specs, each with its SOURCES.md). Missing data fails loudly.
 */
export const testDataDir = (name: "fixtures" | "specs"): string => {
  const directory = fileURLToPath(new URL(`../../../test-data/${name}/`, import.meta.url))
  if (!existsSync(directory)) throw new Error(`test data not found at ${directory}`)
  return directory
}

export { splitAt } from "@flexiai/testing/Chunks"
