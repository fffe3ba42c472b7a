/**
 * FlexiAI in one line to set up and one line to call, with no keys: two MockProviderServer
 * instances on 127.0.0.1 stand in for real providers (the primary fails with 503, so the answer
 * comes from the backup after a failover), then a streamed answer and the status of both.
 *
 * Run: `pnpm exec node examples/quickstart.ts` (Node >= 22 runs TypeScript directly).
 */
import { MockProviderServer } from "@flexiai/testing"
import { Console, Effect, Stream } from "effect"
import { chat, FlexiAI, stream } from "flexiai"

const program = Effect.gen(function*() {
  const answer = yield* chat("Say hello")
  yield* Console.log(`answer: ${answer.text} (from ${answer.provider}, ${answer.attempts.length} attempts)`)

  yield* stream("Stream a few words please").pipe(
    Stream.runForEach((part) => part.type === "text-delta" ? Effect.sync(() => process.stdout.write(part.text)) : Effect.void)
  )
  yield* Console.log("")

  for (const provider of yield* FlexiAI.status) {
    yield* Console.log(
      `${provider.name}: circuit ${provider.circuit}, ${provider.successes}/${provider.requests} ok, last error ${provider.lastError?.reason ?? "none"}`
    )
  }
})

const primary = await MockProviderServer.start({
  replies: [MockProviderServer.overloaded(503)], // the first call fails over; later ones succeed
  fallback: MockProviderServer.echo({ prefix: "primary heard: " })
})
const backup = await MockProviderServer.start({ fallback: MockProviderServer.echo({ prefix: "backup heard: " }) })

const config: FlexiAI.Input = {
  providers: [
    { kind: "openai-compatible", name: "primary", model: "mock-model", baseUrl: `${primary.url}/v1`, priority: 1 },
    { kind: "openai-compatible", name: "backup", model: "mock-model", baseUrl: `${backup.url}/v1`, priority: 2 }
  ],
  policy: { preset: "fast", retry: { maxRetries: 0 } },
  logging: { level: "error" }
}

try {
  await Effect.runPromise(program.pipe(Effect.provide(FlexiAI.layer(config))))
} catch (error) {
  console.error(error)
  process.exitCode = 1
} finally {
  await Promise.all([primary.stop(), backup.stop()])
}
