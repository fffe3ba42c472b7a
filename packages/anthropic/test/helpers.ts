// Shared wiring for the wire-level tests: a MockProviderServer on 127.0.0.1 and the real client
// (undici) pointed at it, so framing, timeouts and error mapping run over real sockets.
import { NodeHttpClient } from "@effect/platform-node"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import type { ChatError, ProviderErrorReason } from "@flexiai/core/ProviderError"
import type * as StreamPart from "@flexiai/core/StreamPart"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Context, Effect, Layer, Redacted } from "effect"
import type { Scope } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as AnthropicChat from "../src/AnthropicChat.ts"
import * as AnthropicClient from "../src/AnthropicClient.ts"

export const apiKey = "sk-ant-api03-test-0123456789abcdefghijklmnop"

export const request = (text = "hello there", extra: Partial<ChatRequest.ChatRequest> = {}): ChatRequest.ChatRequest => ({
  messages: [{ role: "user", content: text }],
  ...extra
})

/** Starts a server with `script` and builds an Anthropic provider against it. */
export const setup = (
  script: MockProviderServer.Script,
  options: {
    readonly client?: Partial<AnthropicClient.Options> | undefined
    readonly chat?: AnthropicChat.Options | undefined
  } = {}
): Effect.Effect<{
  readonly server: MockProviderServer.MockProviderServer["Service"]
  readonly provider: ChatProvider.ChatProvider["Service"]
}, never, Scope.Scope> =>
  Effect.gen(function*() {
    const server = yield* MockProviderServer.make(script)
    const clientLayer = AnthropicClient.layer({
      apiKey: Redacted.make(apiKey),
      apiUrl: server.url,
      defaultModel: "claude-sonnet-4-5",
      ...options.client
    }).pipe(Layer.provide(NodeHttpClient.layerUndici))
    const context = yield* Layer.build(AnthropicChat.layer(options.chat).pipe(Layer.provide(clientLayer)))
    return { server, provider: Context.get(context, ChatProvider.ChatProvider) }
  })

// oxlint-disable-next-line no-explicit-any -- a recorded wire body, read by path in assertions
export type Body = Record<string, any>

/** The reason of a provider's error (a provider's calls fail with `ProviderError` only). */
export const reasonOf = (error: ChatError): ProviderErrorReason => {
  if (error._tag !== "ProviderError") throw new Error(`expected a ProviderError, got ${error._tag}`)
  return error.reason
}

/** The partial text a `StreamInterrupted` carries (`undefined` for another reason). */
export const partialText = (error: ChatError): string | undefined => {
  const reason = reasonOf(error)
  return reason._tag === "StreamInterrupted" ? reason.partialText : undefined
}

/** The JSON body of the last recorded call. */
export const lastBody = (server: MockProviderServer.MockProviderServer["Service"]) =>
  Effect.map(server.calls, (calls) => calls.at(-1)?.body as Body | undefined)

/** A folder of the repository's test data (`test-data/<name>`). Missing data fails loudly. */
export const testDataDir = (name: "fixtures" | "specs"): string => {
  const directory = fileURLToPath(new URL(`../../../test-data/${name}/`, import.meta.url))
  if (!existsSync(directory)) throw new Error(`test data not found at ${directory}`)
  return directory
}

export const fixture = (name: string): string => join(testDataDir("fixtures"), "anthropic", name)

/** A `.chunks.txt` fixture's lines as SSE with event names, as Anthropic sends them. */
export const framedChunks = (name: string): string =>
  readFileSync(fixture(name), "utf8").split("\n").filter((line) => line.trim() !== "").map((line) =>
    `event: ${(JSON.parse(line) as { type: string }).type}\ndata: ${line}\n\n`
  ).join("")

/** Named SSE events from payloads. */
export const events = (...payloads: ReadonlyArray<{ readonly type: string; readonly [key: string]: unknown }>): string =>
  payloads.map((payload) => `event: ${payload.type}\ndata: ${JSON.stringify(payload)}\n\n`).join("")

export const sseReply = (body: string) =>
  MockProviderServer.raw(body, { headers: { "content-type": "text/event-stream" } })

export const textOf = (parts: ReadonlyArray<StreamPart.StreamPart>): string =>
  parts.map((part) => (part.type === "text-delta" ? part.text : "")).join("")

export { splitAt } from "@flexiai/testing/Chunks"
