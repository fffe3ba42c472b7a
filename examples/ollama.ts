/**
 * Ollama's native API with no Ollama installed: a MockProviderServer on 127.0.0.1 speaks
 * `/api/chat` (NDJSON streams), `/api/tags` and `/api/show` the way a local Ollama does. The
 * example lists the pulled models, reads a model's context length and capabilities, asks a
 * question, streams an answer with the model's thinking, and shows what a model that is not
 * pulled fails with (and how FlexiAI fails over from it to a second provider).
 *
 * Against a real Ollama: drop the mock and set `host` (or `OLLAMA_HOST`); hosted Ollama
 * (ollama.com) takes `apiKey` (`OLLAMA_API_KEY`).
 *
 * Run: `pnpm exec node examples/ollama.ts` (Node >= 22 runs TypeScript directly).
 */
import { NodeHttpClient } from "@effect/platform-node"
import { OllamaChat, OllamaClient, OllamaCodec } from "@flexiai/ollama"
import { MockProviderServer } from "@flexiai/testing"
import { Effect, Layer, Stream } from "effect"
import { chat, FlexiAI, stream } from "flexiai"

/** What the example printed and found, for its test. */
export interface OllamaReport {
  readonly models: ReadonlyArray<string>
  readonly contextLength: number | undefined
  readonly capabilities: ReadonlyArray<string>
  readonly answer: string
  readonly reasoning: string
  readonly streamed: string
  readonly notPulled: string
  readonly failoverProvider: string
}

const thinking = (model: string) =>
  MockProviderServer.raw([
    MockProviderServer.ollamaLines.chunk(model, { thinking: "The user wants a greeting." }),
    MockProviderServer.ollamaLines.chunk(model, { content: "Hello " }),
    MockProviderServer.ollamaLines.chunk(model, { content: "from qwen3!" }),
    MockProviderServer.ollamaLines.done(model, { prompt_eval_count: 12, eval_count: 5 })
  ], { headers: { "content-type": "application/x-ndjson" } })

/** Runs the example against its own mock servers, writing what it does to `write`. */
export const runOllamaExample = async (write: (line: string) => void = (line) => console.log(line)): Promise<OllamaReport> => {
  const ollama = await MockProviderServer.start({
    models: ["llama3.2:latest", "qwen3:8b"],
    byModel: { "qwen3:8b": [thinking("qwen3:8b")], "mistral:7b": [MockProviderServer.ollamaNotPulled("mistral:7b"), MockProviderServer.ollamaNotPulled("mistral:7b")] },
    byPath: { "/api/show": [MockProviderServer.ollamaShowReply({ architecture: "qwen3", contextLength: 40960, capabilities: ["completion", "tools", "thinking"] })] },
    fallback: MockProviderServer.echo({ prefix: "llama heard: " })
  })
  const backup = await MockProviderServer.start({ fallback: MockProviderServer.text("the backup answers") })
  try {
    // 1. The provider's own layer: OllamaClient (HTTP) + OllamaChat (the ChatProvider)
    const direct = OllamaChat.layer({ think: true, keepAlive: "10m" }).pipe(
      Layer.provideMerge(OllamaClient.layer({ host: ollama.url, defaultModel: "llama3.2:latest" })),
      Layer.provide(NodeHttpClient.layerUndici)
    )
    const first = await Effect.runPromise(Effect.gen(function*() {
      const models = (yield* OllamaClient.listModels).map((model) => model.id)
      write(`pulled: ${models.join(", ")}`)
      const details = yield* OllamaClient.show("qwen3:8b")
      write(`qwen3:8b: context ${details.contextLength}, capabilities ${details.capabilities.join(", ")}`)
      write(`as FlexiAI capabilities: ${JSON.stringify(OllamaCodec.capabilitiesOf(details))}`)
      const answer = yield* chat("Say hello")
      write(`answer: ${answer.text} (${answer.usage?.completionTokens} tokens)`)
      let reasoning = ""
      let streamed = ""
      yield* stream({ model: "qwen3:8b", messages: [{ role: "user", content: "Greet me" }] }).pipe(
        Stream.runForEach((part) =>
          Effect.sync(() => {
            if (part.type === "reasoning-delta") reasoning += part.text
            if (part.type === "text-delta") streamed += part.text
          })
        )
      )
      write(`thinking: ${reasoning}`)
      write(`streamed: ${streamed}`)
      const notPulled = yield* Effect.flip(chat({ model: "mistral:7b", messages: [{ role: "user", content: "hi" }] }))
      const message = notPulled._tag === "ProviderError" ? `${notPulled.reason._tag}: ${notPulled.reason.message}` : notPulled._tag
      write(`mistral:7b → ${message}`)
      return { models, contextLength: details.contextLength, capabilities: details.capabilities, answer: answer.text, reasoning, streamed, notPulled: message }
    }).pipe(Effect.provide(direct)))

    // 2. The same from config, in a router: kind ollama-native first, an OpenAI-compatible backup
    const config: FlexiAI.Input = {
      providers: [
        { kind: "ollama-native", name: "ollama", model: "mistral:7b", host: ollama.url, priority: 1 },
        { kind: "openai-compatible", name: "backup", model: "mock-model", baseUrl: `${backup.url}/v1`, priority: 2 }
      ],
      policy: { retry: { maxRetries: 0 } },
      logging: { level: "none" }
    }
    const routed = await Effect.runPromise(chat("hi").pipe(Effect.provide(FlexiAI.layer(config))))
    write(`router: ${routed.text} (from ${routed.provider}; ollama said ${routed.attempts[0]?.reason})`)
    return { ...first, failoverProvider: routed.provider }
  } finally {
    await Promise.all([ollama.stop(), backup.stop()])
  }
}

if (import.meta.main) {
  runOllamaExample().catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
}
