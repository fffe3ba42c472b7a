/**
 * @flexiai/testing: a scripted, TestClock-friendly `ChatProvider` and a mock provider HTTP server
 * for specs that need no network.
 *
 * @since 0.1.0
 */
export * as TestChatProvider from "./TestChatProvider.ts"
export * as MockProviderServer from "./MockProviderServer.ts"
export * as Chunks from "./Chunks.ts"
export * as RecordingTracer from "./RecordingTracer.ts"
export * as SecretCanary from "./SecretCanary.ts"
