/**
 * @flexiai/ollama: Ollama's native API (`/api/chat` with NDJSON streaming, `/api/tags`,
 * `/api/show`) as a FlexiAI `ChatProvider`, and its `ollama-native` config kind.
 *
 * @since 0.1.0
 */
export * as OllamaSchema from "./OllamaSchema.ts"
export * as OllamaCodec from "./OllamaCodec.ts"
export * as OllamaStream from "./OllamaStream.ts"
export * as OllamaClient from "./OllamaClient.ts"
export * as OllamaChat from "./OllamaChat.ts"
export * as OllamaKind from "./OllamaKind.ts"
