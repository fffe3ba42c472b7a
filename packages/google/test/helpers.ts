// Shared wiring for the wire-level tests: a MockProviderServer on 127.0.0.1 and the real client
// (undici) pointed at it, so framing, timeouts and error mapping run over real sockets.
import { NodeHttpClient } from "@effect/platform-node"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import { Context, Effect, Layer, Redacted } from "effect"
import type { Scope } from "effect"
import { generateKeyPairSync } from "node:crypto"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as GoogleProvider from "../src/GoogleProvider.ts"

export const apiKey = "AIzaSyTest-0123456789abcdefghijklmnopqrs"

export const request = (text = "hello there", extra: Partial<ChatRequest.ChatRequest> = {}): ChatRequest.ChatRequest => ({
  messages: [{ role: "user", content: text }],
  ...extra
})

export type Server = MockProviderServer.MockProviderServer["Service"]
export type Provider = ChatProvider.ChatProvider["Service"]

/** Builds a provider layer into the current scope, so its HTTP client outlives construction. */
export const build = (layer: Layer.Layer<ChatProvider.ChatProvider>) =>
  Effect.map(Layer.build(layer), (context) => Context.get(context, ChatProvider.ChatProvider))

/** Starts a server with `script` and builds a Gemini API provider against it. */
export const setup = (
  script: MockProviderServer.Script,
  options: Partial<GoogleProvider.GeminiOptions> = {}
): Effect.Effect<{ readonly server: Server; readonly provider: Provider }, never, Scope.Scope> =>
  Effect.gen(function*() {
    const server = yield* MockProviderServer.make(script)
    const provider = yield* build(
      GoogleProvider.gemini({ apiKey: Redacted.make(apiKey), baseUrl: `${server.url}/v1beta`, defaultModel: "gemini-test", ...options })
        .pipe(Layer.provide(NodeHttpClient.layerUndici))
    )
    return { server, provider }
  })

/** Starts a server and builds a Vertex provider against it with a fixed access token (or the options' auth). */
export const setupVertex = (
  script: MockProviderServer.Script,
  options: Partial<GoogleProvider.VertexOptions> = {}
): Effect.Effect<{ readonly server: Server; readonly provider: Provider }, never, Scope.Scope> =>
  Effect.gen(function*() {
    const server = yield* MockProviderServer.make(script)
    const provider = yield* build(
      GoogleProvider.vertex({
        project: "test-project",
        location: "europe-west4",
        baseUrl: `${server.url}/v1`,
        defaultModel: "gemini-test",
        ...(options.tokenSource === undefined && options.serviceAccount === undefined && options.credentialsFile === undefined &&
            options.tokenCommand === undefined
          ? { accessToken: Redacted.make("ya29.test-access-token-0123456789") }
          : {}),
        ...options
      }).pipe(Layer.provide(NodeHttpClient.layerUndici))
    )
    return { server, provider }
  })

/** The JSON body of the last recorded call. */
export const lastBody = (server: Server) => Effect.map(server.calls, (calls) => calls.at(-1)?.body as Record<string, unknown> | undefined)

/** A folder of the repository's test data (`test-data/<name>`); missing data fails loudly. */
export const testDataDir = (name: "fixtures" | "specs" | "schemas"): string => {
  const directory = fileURLToPath(new URL(`../../../test-data/${name}/`, import.meta.url))
  if (!existsSync(directory)) throw new Error(`test data not found at ${directory}`)
  return directory
}

/** A throwaway RSA key pair, generated per test run (never a committed key). */
export const throwawayKey = () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 })
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKey
  }
}

/** The reason tag of a failure. */
export const reasonOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "reason" in error
    ? (error as { readonly reason: { readonly _tag: string } }).reason._tag
    : undefined

export { splitAt } from "@flexiai/testing/Chunks"
