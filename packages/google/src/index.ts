/**
 * @flexiai/google: Google Gemini as a `ChatProvider`, on the Gemini API (an API key) and on
 * Vertex AI (an OAuth token from a service account, a command or any token source), one codec
 * for both. Provide an `HttpClient` (`NodeHttpClient.layerUndici` or `FetchHttpClient.layer`).
 *
 * @since 0.1.0
 */
export * as GoogleProvider from "./GoogleProvider.ts"
export * as GoogleChat from "./GoogleChat.ts"
export * as GoogleClient from "./GoogleClient.ts"
export * as GoogleCodec from "./GoogleCodec.ts"
export * as GoogleStream from "./GoogleStream.ts"
export * as GoogleSchema from "./GoogleSchema.ts"
export * as GoogleKind from "./GoogleKind.ts"
export * as JsonSchemaToGemini from "./JsonSchemaToGemini.ts"
export * as ServiceAccount from "./ServiceAccount.ts"
