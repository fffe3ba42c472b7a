/**
 * FlexiAI configured from the environment only: with `OPENAI_API_KEY` (or `ANTHROPIC_API_KEY`,
 * `OLLAMA_HOST`, … see @flexiai/config's README) set, providers are detected; `FLEXIAI_*`
 * variables (`FLEXIAI_POLICY_PRESET=reliable`, `FLEXIAI_PROVIDERS_0_MODEL=…`) and a
 * `flexiai.config.yaml` in the working directory are read too. A bad or missing config prints
 * the one `FlexiConfigError` listing every problem.
 *
 * Run: `OPENAI_API_KEY=sk-... pnpm exec node examples/quickstart-env.ts`
 */
import { Console, Effect } from "effect"
import { chat, FlexiAI } from "flexiai"

const program = Effect.gen(function*() {
  const answer = yield* chat("In one sentence: what is a circuit breaker?")
  yield* Console.log(`${answer.text}\n(from ${answer.provider} / ${answer.model})`)
  const health = yield* FlexiAI.health
  yield* Console.log(`health: ${health.status}`)
})

Effect.runPromise(program.pipe(Effect.provide(FlexiAI.layerConfig()))).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
