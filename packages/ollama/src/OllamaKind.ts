/**
 * The `ollama-native` descriptor: Ollama's own `/api/chat` (NDJSON streaming, `think`, `keep_alive`,
 * `/api/tags`, `/api/show`). Config and `flexiai` know the kind only through it.
 *
 * Kind names say which API each uses: `ollama-native` is this one; `ollama-openai` (in
 * `@flexiai/openai`) is Ollama's OpenAI-compatible `/v1`, and `ollama` is the old name of
 * `ollama-openai`, still accepted. Detection from `OLLAMA_HOST` picks `ollama-native`.
 *
 * Mapping notes: `host` is the server root (`http://localhost:11434`, scheme optional); an explicit
 * `baseUrl` wins over it. `apiKey` is optional (a bearer for hosted Ollama, `OLLAMA_API_KEY`). The
 * router times every attempt, so the client gets only the limits an entry sets.
 *
 * @since 0.1.0
 */
import * as ProviderKind from "@flexiai/provider/ProviderKind"
import { Duration, Layer, Schema } from "effect"
import * as OllamaChat from "./OllamaChat.ts"
import * as OllamaClient from "./OllamaClient.ts"

const optional = Schema.optionalKey
// 0 is "unset" (the server's default), so the annotated example's neutral 0 still decodes
const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const unsetIfZero = (value: number | undefined) => (value === 0 ? undefined : value)

// a number in config text is seconds, as Ollama reads a JSON number ("300" as a string would be
// an invalid Go duration there)
const keepAliveOf = (value: string): string | number => (/^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value)

/** What the native API can do: `OllamaChat.defaultCapabilities`. @category models */
export const capabilities = OllamaChat.defaultCapabilities

/** Ollama's native /api/chat. @category descriptors */
export const ollamaNative = ProviderKind.make({
  kind: "ollama-native",
  description: "Ollama's native /api/chat (NDJSON streams, think, keep_alive); host defaults to http://localhost:11434, apiKey only for hosted Ollama.",
  options: Schema.Struct({
    host: optional(Schema.NonEmptyString.annotate({
      description: "The server root, scheme optional (127.0.0.1:11434). Default: http://localhost:11434. baseUrl, when set, wins."
    })),
    keepAlive: optional(Schema.NonEmptyString.annotate({
      description: "keep_alive on every request: how long the model stays loaded (\"5m\", \"1h\"; a number is seconds, 0 unloads, -1 keeps it)."
    })),
    think: optional(Schema.Boolean.annotate({
      description: "think on every request: return the model's reasoning as its own parts (or not). Default: the model's."
    })),
    thinkLevel: optional(Schema.Literals(["low", "medium", "high"]).annotate({
      description: "think as a level, for the models that take one (gpt-oss); wins over think."
    })),
    numCtx: optional(Count.annotate({ description: "options.num_ctx: the context window the model is loaded with. 0: the server's default." })),
    topK: optional(Count.annotate({ description: "options.top_k on every request. 0: the model's default." }))
  }),
  example: { model: "llama3.2", host: "http://localhost:11434" },
  requiresApiKey: false,
  secretFields: [],
  environment: {
    fields: [
      { field: "host", variables: ["OLLAMA_HOST"] },
      { field: "apiKey", variables: ["OLLAMA_API_KEY"], secret: true }
    ],
    detection: { requires: ["host"], model: "llama3.2", priority: 90 }
  },
  capabilities,
  listsModels: true,
  layer: (entry) =>
    OllamaChat.layer({
      name: entry.name,
      defaultModel: entry.model,
      capabilities: entry.capabilities,
      keepAlive: entry.keepAlive === undefined ? undefined : keepAliveOf(entry.keepAlive),
      think: entry.thinkLevel ?? entry.think,
      numCtx: unsetIfZero(entry.numCtx),
      topK: unsetIfZero(entry.topK)
    }).pipe(Layer.provide(OllamaClient.layer({
      name: entry.name,
      host: entry.baseUrl ?? entry.host,
      apiKey: entry.apiKey,
      defaultModel: entry.model,
      timeouts: {
        firstByte: entry.timeouts.firstByte ?? Duration.infinity,
        idle: Duration.infinity,
        total: entry.timeouts.total ?? Duration.infinity
      }
    })))
})

/** The package's kinds, in the order `flexiai` registers them. @category descriptors */
export const kinds = [ollamaNative] as const
