/**
 * Failover between two scripted providers, with no network and no keys. The primary answers 503
 * three times (one try and two retries with backoff), so the router answers from the backup; then
 * a stream from the primary breaks after two chunks and, under the `restart` stream policy, a
 * `restart` part tells the consumer to discard them before the backup's complete answer.
 *
 * Run: `pnpm exec node examples/failover.ts` (Node >= 22 runs TypeScript directly).
 */
import { ChatProvider, CircuitBreaker, Router } from "@flexiai/core"
import { TestChatProvider } from "@flexiai/testing"
import { Console, Effect, Layer, Stream } from "effect"

const primary = TestChatProvider.layer({
  name: "primary",
  script: ({ index }) =>
    index < 3 ? { fail: TestChatProvider.serverError(503) } : { reply: "The primary is back, briefly.", cutAfter: 2 }
})
const backup = TestChatProvider.layer({
  name: "backup",
  script: [{ reply: "Hello from the backup provider." }]
})

const AppLayer = Router.layer({
  providers: [primary, backup],
  policy: { streamPolicy: "restart" }
}).pipe(Layer.provide(CircuitBreaker.layerMemory()))

const program = Effect.gen(function*() {
  const response = yield* ChatProvider.chat("Say hello")
  yield* Console.log(`answer: ${response.text} (from ${response.provider})`)
  for (const attempt of response.attempts) {
    yield* Console.log(`  attempt ${attempt.provider}: ${attempt.outcome}${attempt.reason ? ` (${attempt.reason})` : ""}`)
  }

  const control = yield* Router.Router
  for (const status of yield* control.status) {
    yield* Console.log(`status ${status.name}: ${status.successes} ok, ${status.failures} failed, last error: ${status.lastError?.reason ?? "none"}`)
  }

  yield* Console.log("stream:")
  yield* ChatProvider.stream("Stream something").pipe(
    Stream.runForEach((part) => {
      switch (part.type) {
        case "text-delta":
          return Console.log(`  text ${JSON.stringify(part.text)}`)
        case "restart":
          return Console.log(`  -- restart on ${part.provider} (${part.reason}): discard the text above`)
        case "finish":
          return Console.log(`  finish: ${part.finishReason} from ${part.provider}`)
        default:
          return Effect.void
      }
    })
  )
})

Effect.runPromise(program.pipe(Effect.provide(AppLayer))).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
