/**
 * @flexiai/provider: the kit every provider package is built on. What is the same for every
 * provider lives here once: the HTTP transport and its auth seam, the status → reason table, body
 * limits, masking, byte framing, the generic stream decoder, and the `ProviderKind` descriptor
 * through which config and `flexiai` learn about a provider.
 *
 * @since 0.2.0
 */
export * as Mask from "./Mask.ts"
export * as BaseUrl from "./BaseUrl.ts"
export * as StatusReasons from "./StatusReasons.ts"
export * as BodyLimit from "./BodyLimit.ts"
export * as Framing from "./Framing.ts"
export * as Sse from "./Sse.ts"
export * as Ndjson from "./Ndjson.ts"
export * as EventStreamFrames from "./EventStreamFrames.ts"
export * as Idle from "./Idle.ts"
export * as Accumulators from "./Accumulators.ts"
export * as StreamDecoder from "./StreamDecoder.ts"
export * as TokenSource from "./TokenSource.ts"
export * as ProviderKind from "./ProviderKind.ts"
export * as Auth from "./Auth.ts"
export * as HttpTransport from "./HttpTransport.ts"
export * as RateLimitHeaders from "./RateLimitHeaders.ts"
