/**
 * @flexiai/anthropic: Anthropic Messages (`POST /v1/messages`) as a `ChatProvider`: chat and
 * streaming, tools, images, thinking blocks as reasoning, prompt caching. Provide an
 * `HttpClient` (`NodeHttpClient.layerUndici` or `FetchHttpClient.layer`).
 *
 * @since 0.2.0
 */
export * as AnthropicChat from "./AnthropicChat.ts"
export * as AnthropicClient from "./AnthropicClient.ts"
export * as AnthropicCodec from "./AnthropicCodec.ts"
export * as AnthropicKind from "./AnthropicKind.ts"
export * as AnthropicSchema from "./AnthropicSchema.ts"
export * as AnthropicStream from "./AnthropicStream.ts"
