/**
 * @flexiai/core: the unified chat domain, typed errors, the circuit breaker, retry policies and
 * the failover router. Knows no provider: providers depend on it, never the other way.
 *
 * @since 0.1.0
 */
export * as Capabilities from "./Capabilities.ts"
export * as ChatProvider from "./ChatProvider.ts"
export * as ChatRequest from "./ChatRequest.ts"
export * as ChatResponse from "./ChatResponse.ts"
export * as GenAiSpans from "./GenAiSpans.ts"
export * as CircuitBreaker from "./CircuitBreaker.ts"
export * as Middleware from "./Middleware.ts"
export * as OptionSchema from "./OptionSchema.ts"
export * as ProviderError from "./ProviderError.ts"
export * as Reasoning from "./Reasoning.ts"
export * as RetryPolicy from "./RetryPolicy.ts"
export * as Router from "./Router.ts"
export * as RouterEvent from "./RouterEvent.ts"
export * as RouterEvents from "./RouterEvents.ts"
export * as RouterMetrics from "./RouterMetrics.ts"
export * as RouterPolicy from "./RouterPolicy.ts"
export * as Spans from "./Spans.ts"
export * as StreamPart from "./StreamPart.ts"
export * as TimeLimit from "./TimeLimit.ts"
export { chat, stream } from "./ChatProvider.ts"
export * as Budget from "./Budget.ts"
export * as Estimate from "./Estimate.ts"
export * as Ledger from "./Ledger.ts"
export * as Metering from "./Metering.ts"
export * as Pricing from "./Pricing.ts"
export * as PriceTable from "./PriceTable.ts"
export * as ResponseCache from "./ResponseCache.ts"
