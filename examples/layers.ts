/**
 * The pieces `FlexiAI.layer` assembles, composed by hand: an OpenAI provider reading
 * `OPENAI_API_KEY` (as a `Redacted` value), a local OpenAI-compatible server as the second
 * provider, the failover router with its policy, an in-process circuit breaker, and Node's undici
 * HTTP client. This is the README's "layer by layer" snippet, kept here so `pnpm check` compiles it.
 *
 * Run (needs a key and a reachable server): `OPENAI_API_KEY=sk-... pnpm exec node examples/layers.ts`.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { ChatProvider, CircuitBreaker, Router } from "@flexiai/core"
import { OpenAiChat, OpenAiClient, OpenAiCompatible } from "@flexiai/openai"
import { Effect, Layer } from "effect"

const OpenAi = OpenAiChat.layer().pipe(Layer.provide(OpenAiClient.layerConfig())) // OPENAI_API_KEY, as Redacted
const Local = OpenAiCompatible.layerCompatible({ name: "vllm", apiUrl: "http://gpu-box:8000/v1", defaultModel: "qwen2.5" })

const AppLayer = Router.layer({
  providers: [OpenAi, { layer: Local, priority: 1 }],
  policy: { streamPolicy: "restart", deadline: "30 seconds" }
}).pipe(Layer.provide(CircuitBreaker.layerMemory()), Layer.provide(NodeHttpClient.layerUndici))

if (import.meta.main) {
  Effect.runPromise(ChatProvider.chat("hi").pipe(Effect.provide(AppLayer))).then(
    (response) => console.log(response.text),
    (error: unknown) => {
      console.error(String(error))
      process.exitCode = 1
    }
  )
}
