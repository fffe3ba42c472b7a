/**
 * A real HTTP server on 127.0.0.1 that speaks providers' wire formats, for wire-level tests and the
 * demo. Replies are scripted per model or per path; besides answers it injects the faults real
 * providers produce: error statuses with provider-shaped bodies, resets before headers, streams cut
 * or stalled mid-body, malformed events, missing terminators, error events inside a 200 stream.
 *
 * This module is the one to import; it gathers the parts, each in its own module:
 * - `MockReply`: the reply DSL (`text`, `rateLimited`, `cutAfter`, `fixture`, ...) and the `Script`;
 * - `MockServer`: the server, its routing and faults (`start`, the Promise `Handle`);
 * - `MockEncoder`: the `Encoder` seam, one per wire format; built in are OpenAI SSE
 *   (`encoders/OpenAiEncoder`), Anthropic's named SSE events, Ollama's NDJSON and Bedrock's AWS
 *   event-stream binary frames, Gemini's SSE (`encoders/GoogleEncoder`); pass your own with `options.encoders`;
 * - Flow mode (`encoders/FlowEncoder`): `flowEncoders(makeFlowGateway())` as `options.encoders`;
 * - `MockFixture`: replay of recorded fixtures per file format.
 *
 * Gotchas: a queue that runs dry falls back to `fallback` (echo by default), so a test that expects
 * N faults should script exactly N; the server is stopped (every socket closed, hung ones too)
 * when its scope closes.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import type { Scope } from "effect"
import { type Options, type RecordedCall, start } from "./MockServer.ts"
import type { Script } from "./MockReply.ts"

export * from "./MockReply.ts"
export type { Answer, Encoder, Frame, IncomingRequest, Refusal, StreamFrames } from "./MockEncoder.ts"
export { encoders, type Handle, type Options, type RecordedCall, start } from "./MockServer.ts"
export { anthropicEncoder } from "./encoders/AnthropicEncoder.ts"
export { bedrockEncoder, bedrockEncoderVerifying, eventStreamFrame, exceptionFor, type SigningKeys, verifySignature } from "./encoders/BedrockEncoder.ts"
export { googleEncoder } from "./encoders/GoogleEncoder.ts"
export { ollamaEncoder, ollamaLines, ollamaNotPulled, ollamaShow, ollamaShowReply } from "./encoders/OllamaEncoder.ts"
export { openAiEncoder } from "./encoders/OpenAiEncoder.ts"
export { type FlowGateway, type FlowModel, flowEncoders, flowPaths, makeFlowGateway } from "./encoders/FlowEncoder.ts"

/**
 * The running server as a service: `url`, the recorded `calls`, and `setScript` to change the
 * replies at run time.
 *
 * @category services
 */
export class MockProviderServer extends Context.Service<MockProviderServer, {
  readonly url: string
  readonly calls: Effect.Effect<ReadonlyArray<RecordedCall>>
  readonly clearCalls: Effect.Effect<void>
  readonly setScript: (script: Script) => Effect.Effect<void>
}>()("@flexiai/testing/MockProviderServer") {}

/** Starts a server for the life of the current scope. @category constructors */
export const make = (script: Script, options: Options = {}): Effect.Effect<MockProviderServer["Service"], never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => start(script, options)),
    (handle) => Effect.promise(() => handle.stop())
  ).pipe(Effect.map((handle) =>
    MockProviderServer.of({
      url: handle.url,
      calls: Effect.sync(() => handle.calls()),
      clearCalls: Effect.sync(() => handle.clearCalls()),
      setScript: (replacement) => Effect.sync(() => handle.setScript(replacement))
    })
  ))

/** A layer providing a running `MockProviderServer`. @category layers */
export const layer = (script: Script, options: Options = {}): Layer.Layer<MockProviderServer> =>
  Layer.effect(MockProviderServer, make(script, options))
