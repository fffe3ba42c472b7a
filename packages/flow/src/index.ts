/**
 * @flexiai/flow: the Flow enterprise LLM gateway as a `ChatProvider` (Azure OpenAI, Gemini,
 * Bedrock and Azure AI Foundry models as `provider:modelId`), reusing the openai, google and
 * bedrock codecs. Provide an `HttpClient`.
 *
 * @since 0.3.0
 */
export * as FlowProvider from "./FlowProvider.ts"
export * as FlowModels from "./FlowModels.ts"
export * as FlowToken from "./FlowToken.ts"
export * as FlowKind from "./FlowKind.ts"
