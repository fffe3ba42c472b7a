/**
 * @flexiai/openai: OpenAI Chat Completions as a `ChatProvider`, and the OpenAI-compatible family
 * (Azure OpenAI, Azure AI Foundry, OpenRouter, Ollama's /v1, any compatible base URL) on the same
 * codec. Provide an `HttpClient` (`NodeHttpClient.layerUndici` or `FetchHttpClient.layer`).
 *
 * @since 0.1.0
 */
export * as OpenAiChat from "./OpenAiChat.ts"
export * as OpenAiCodec from "./OpenAiCodec.ts"
export * as OpenAiStream from "./OpenAiStream.ts"
export * as OpenAiClient from "./OpenAiClient.ts"
export * as OpenAiSchema from "./OpenAiSchema.ts"
export * as OpenAiCompatible from "./OpenAiCompatible.ts"
export * as OpenAiKind from "./OpenAiKind.ts"
