/**
 * flexiai: the package applications install. `FlexiAI.layer(config)` (or `layerConfig()` for
 * file + environment) sets up providers, failover, circuit breakers, retries and logging from one
 * config; `chat` / `stream` call it; `FlexiAI.make(config)` does the same for code not written in
 * Effect. The building blocks are re-exported so one import is enough.
 *
 * @since 0.1.0
 */
export * as FlexiAI from "./FlexiAI.ts"
export * as ProviderLayers from "./ProviderLayers.ts"
export * as Providers from "./Providers.ts"
export { ChatProvider, ChatRequest, ChatResponse, CircuitBreaker, ProviderError, Router, RouterPolicy, StreamPart } from "@flexiai/core"
export { chat, stream } from "@flexiai/core"
export { FlexiConfig, FlexiConfigError } from "@flexiai/config"
