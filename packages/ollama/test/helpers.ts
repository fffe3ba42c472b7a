// Shared wiring for the wire-level tests: a MockProviderServer on 127.0.0.1 and the real client
// (undici) pointed at it, so NDJSON framing, timeouts and error mapping run over real sockets.
import { NodeHttpClient } from "@effect/platform-node"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import type * as ChatResponse from "@flexiai/core/ChatResponse"
import type * as ProviderError from "@flexiai/core/ProviderError"
import type * as StreamPart from "@flexiai/core/StreamPart"
import { Context, Effect, Layer, type Stream } from "effect"
import type { Scope } from "effect"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as OllamaChat from "../src/OllamaChat.ts"
import * as OllamaClient from "../src/OllamaClient.ts"

export const request = (text = "hello there", extra: Partial<ChatRequest.ChatRequest> = {}): ChatRequest.ChatRequest => ({
  messages: [{ role: "user", content: text }],
  ...extra
})

/** The provider as OllamaChat builds it: its failures are `ProviderError`s. */
export type Provider = Omit<ChatProvider.ChatProvider["Service"], "chat" | "stream"> & {
  readonly chat: (request: ChatRequest.ChatRequest) => Effect.Effect<ChatResponse.ChatResponse, ProviderError.ProviderError>
  readonly stream: (request: ChatRequest.ChatRequest) => Stream.Stream<StreamPart.StreamPart, ProviderError.ProviderError>
}

/** Starts a server with `script` and builds an Ollama provider against it. */
export const setup = (
  script: MockProviderServer.Script,
  options: { readonly client?: OllamaClient.Options | undefined; readonly chat?: OllamaChat.Options | undefined } = {}
): Effect.Effect<{
  readonly server: MockProviderServer.MockProviderServer["Service"]
  readonly provider: Provider
  readonly client: OllamaClient.OllamaClient["Service"]
}, never, Scope.Scope> =>
  Effect.gen(function*() {
    const server = yield* MockProviderServer.make(script)
    const clientLayer = OllamaClient.layer({ host: server.url, defaultModel: "llama3.2", ...options.client }).pipe(
      Layer.provide(NodeHttpClient.layerUndici)
    )
    const context = yield* Layer.build(OllamaChat.layer(options.chat).pipe(Layer.provideMerge(clientLayer)))
    return {
      server,
      // OllamaChat fails with ProviderError only (no router here): typed so, for the assertions
      provider: Context.get(context, ChatProvider.ChatProvider) as Provider,
      client: Context.get(context, OllamaClient.OllamaClient)
    }
  })

/** The JSON body of the last recorded call. */
export const lastBody = (server: MockProviderServer.MockProviderServer["Service"]) =>
  Effect.map(server.calls, (calls) => calls.at(-1)?.body as Record<string, unknown> | undefined)

/** A folder of the repository's test data (`test-data/<name>`); missing data fails loudly. */
export const testDataDir = (name: "fixtures" | "specs"): string => {
  const directory = fileURLToPath(new URL(`../../../test-data/${name}/`, import.meta.url))
  if (!existsSync(directory)) throw new Error(`test data not found at ${directory}`)
  return directory
}

/** The reason tag of a failure (or "none"). */
export const reasonOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "reason" in error
    ? ((error as { readonly reason: { readonly _tag: string } }).reason._tag)
    : "none"
