/**
 * The response cache with no keys: a MockProviderServer on 127.0.0.1 answers; the config turns the
 * cache on (`cache: { enabled: true }`). The program asks the same question twice (the second
 * answer comes from the cache: no request reaches the server, and it costs nothing), asks it for
 * another tenant (`metadata.tag`: a miss), streams twice (the second stream is replayed), and
 * bypasses the cache for one call (`ResponseCache.bypass`).
 *
 * Run: `pnpm exec node examples/cache.ts` (Node >= 22 runs TypeScript directly).
 */
import { ResponseCache } from "@flexiai/core"
import { MockProviderServer } from "@flexiai/testing"
import { Effect, Stream } from "effect"
import { chat, FlexiAI, stream } from "flexiai"

export interface CacheReport {
  /** Where each answer came from, in order: `cache` or `provider`. */
  readonly sources: ReadonlyArray<"cache" | "provider">
  /** Requests the mock server received. */
  readonly requests: number
  readonly streamsEqual: boolean
  /** The ledger's total: only the answers the provider gave cost anything. */
  readonly costUsd: number
}

const source = (metadata: Record<string, unknown> | undefined): "cache" | "provider" =>
  metadata?.["flexiai"] === undefined ? "provider" : "cache"

export const runCache = async (write: (line: string) => void = (line) => console.log(line)): Promise<CacheReport> => {
  const server = await MockProviderServer.start({
    fallback: MockProviderServer.text("Paris is the capital of France.", { usage: { promptTokens: 9, completionTokens: 7 } })
  })
  const config: FlexiAI.Input = {
    providers: [{ kind: "openai-compatible", name: "main", model: "gpt-4o-mini", baseUrl: `${server.url}/v1` }],
    cache: { enabled: true, ttl: "10 minutes", maxEntries: 500 },
    logging: { level: "error" }
  }
  const question = (tag: string) => ({ messages: [{ role: "user" as const, content: "Capital of France?" }] as const, metadata: { tag } })

  const program = Effect.gen(function*() {
    const sources: Array<"cache" | "provider"> = []
    for (const tag of ["team-a", "team-a", "team-b"]) {
      const answer = yield* chat(question(tag))
      sources.push(source(answer.providerMetadata))
      write(`${tag}: "${answer.text}" from the ${source(answer.providerMetadata)}`)
    }
    const first = yield* Stream.runCollect(stream(question("team-a")))
    const second = yield* Stream.runCollect(stream(question("team-a")))
    const text = (parts: typeof first) => parts.map((part) => (part.type === "text-delta" ? part.text : "")).join("")
    write(`stream replayed: ${text(second)}`)
    const bypassed = yield* ResponseCache.bypass(chat(question("team-a")))
    sources.push(source(bypassed.providerMetadata))
    write(`bypass: from the ${source(bypassed.providerMetadata)}`)
    const costs = yield* FlexiAI.costs
    return {
      sources,
      requests: server.calls().filter((call) => call.path === "/v1/chat/completions").length,
      streamsEqual: text(first) === text(second),
      costUsd: costs.usage?.total.costUsd ?? 0
    }
  })

  try {
    return await Effect.runPromise(program.pipe(Effect.provide(FlexiAI.layer(config))))
  } finally {
    await server.stop()
  }
}

if (import.meta.main) {
  runCache().catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
