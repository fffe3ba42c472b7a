// FlexiAI.layer's observability options over real HTTP (MockProviderServer on 127.0.0.1): metrics
// in Prometheus text after a known failover and stream, the GenAI span attributes of the call and
// of each attempt, observers (one that fails is logged and changes nothing), middleware around the
// router and around one provider (one that fails fails the call with its own error), and the secret
// canary over metrics, spans and events: neither the key nor the prompt appears in any of them.
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider, ProviderError } from "@flexiai/core"
import type { Middleware, RouterEvent } from "@flexiai/core"
import { RecordingTracer } from "@flexiai/testing"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Deferred, Effect, Exit, Layer, Logger, Metric, Stream } from "effect"
import { PrometheusMetrics } from "effect/observability"
import * as FlexiAI from "../src/FlexiAI.ts"
import { canary, twoProviders } from "./helpers.ts"

const promptCanary = "PROMPT-CANARY-7c41e0d9"

interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

// The exposition format's sample lines: `name{label="value",...} number`
const parse = (text: string): ReadonlyArray<Sample> =>
  text.split("\n").filter((line) => line !== "" && !line.startsWith("#")).map((line) => {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    assert.isNotNull(match, `not a sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const pair of (match![2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!
    return { name: match![1]!, labels, value: Number(match![3]) }
  })

const valueOf = (samples: ReadonlyArray<Sample>, name: string, labels: Readonly<Record<string, string>>) =>
  samples.filter((sample) =>
    sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value)
  ).reduce((sum, sample) => sum + sample.value, 0)

const usage = { promptTokens: 7, completionTokens: 3, cachedTokens: 2, reasoningTokens: 1 }

const servers = Effect.gen(function*() {
  const primary = yield* MockProviderServer.make({
    replies: [MockProviderServer.serverError(500), MockProviderServer.serverError(500)]
  })
  const backup = yield* MockProviderServer.make({ fallback: MockProviderServer.text("fine answer", { usage }) })
  return { primary, backup }
})

describe("FlexiAI observability", () => {
  it.live("metrics: a failover and a stream, read back from Prometheus text", () =>
    Effect.gen(function*() {
      const { backup, primary } = yield* servers
      const layer = FlexiAI.layer(twoProviders(primary.url, backup.url), { metrics: true })
      yield* Effect.gen(function*() {
        const answer = yield* ChatProvider.chat(`hello ${promptCanary}`)
        assert.strictEqual(answer.provider, "backup")
        yield* Stream.runDrain(ChatProvider.stream(`stream ${promptCanary}`))
      }).pipe(Effect.provide(layer))

      const text = yield* PrometheusMetrics.format()
      const samples = parse(text)
      const model = "mock-model"
      assert.strictEqual(
        valueOf(samples, "flexiai_requests_total", { provider: "backup", model, operation: "chat", outcome: "success" }),
        1
      )
      assert.strictEqual(
        valueOf(samples, "flexiai_requests_total", { provider: "backup", model, operation: "stream", outcome: "success" }),
        1
      )
      assert.strictEqual(
        valueOf(samples, "flexiai_attempts_total", { provider: "primary", model, outcome: "failure", reason: "ServerError" }),
        1
      )
      // the second call skips primary: its circuit opened on the first failure
      assert.strictEqual(
        valueOf(samples, "flexiai_attempts_total", { provider: "primary", model, outcome: "skipped", reason: "Open" }),
        1
      )
      assert.strictEqual(valueOf(samples, "flexiai_retries_total", { provider: "primary", reason: "ServerError" }), 1)
      assert.strictEqual(valueOf(samples, "flexiai_failovers_total", { provider: "primary", reason: "ServerError" }), 1)
      assert.strictEqual(valueOf(samples, "flexiai_tokens_total", { provider: "backup", kind: "input" }), 14)
      assert.strictEqual(valueOf(samples, "flexiai_tokens_total", { provider: "backup", kind: "output" }), 6)
      assert.strictEqual(valueOf(samples, "flexiai_tokens_total", { provider: "backup", kind: "cached" }), 4)
      assert.strictEqual(valueOf(samples, "flexiai_tokens_total", { provider: "backup", kind: "reasoning" }), 2)
      assert.strictEqual(valueOf(samples, "flexiai_request_duration_seconds_count", { provider: "backup" }), 2)
      assert.strictEqual(valueOf(samples, "flexiai_time_to_first_token_seconds_count", { provider: "backup" }), 1)
      assert.strictEqual(valueOf(samples, "flexiai_circuit_state", { provider: "primary", model }), 2)

      // the secret canary: no key, no prompt in any metric name, label or value
      assert.notInclude(text, canary)
      assert.notInclude(text, promptCanary)
      assert.notInclude(text, "hello")
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))

  it.live("spans: the call and each attempt carry the GenAI attributes", () =>
    Effect.gen(function*() {
      const { backup, primary } = yield* servers
      const { spans, tracer } = RecordingTracer.make()
      const layer = FlexiAI.layer(twoProviders(primary.url, backup.url))
      yield* ChatProvider.chat({ model: "mock-model", temperature: 0.5, messages: [{ role: "user", content: promptCanary }] }).pipe(
        Effect.provide(layer),
        Effect.withTracer(tracer)
      )
      const call = spans.find((span) => span.name === "Router.chat")!
      const attributes = Object.fromEntries(call.attributes)
      assert.strictEqual(attributes["gen_ai.operation.name"], "chat")
      assert.strictEqual(attributes["gen_ai.request.model"], "mock-model")
      assert.strictEqual(attributes["gen_ai.request.temperature"], 0.5)
      assert.strictEqual(attributes["gen_ai.provider.name"], "backup")
      assert.strictEqual(attributes["gen_ai.response.model"], "mock-model")
      assert.deepStrictEqual(attributes["gen_ai.response.finish_reasons"], ["stop"])
      assert.strictEqual(attributes["gen_ai.usage.input_tokens"], 7)
      assert.strictEqual(attributes["gen_ai.usage.output_tokens"], 3)
      assert.strictEqual(attributes["gen_ai.usage.cache_read.input_tokens"], 2)
      assert.isUndefined(attributes["gen_ai.system"])

      const attempts = spans.filter((span) => span.name === "chat mock-model")
      // one span per try: primary's retry is a request of its own
      assert.deepStrictEqual(attempts.map((span) => span.attributes.get("gen_ai.provider.name")), ["primary", "primary", "backup"])
      assert.strictEqual(attempts[0]!.attributes.get("error.type"), "ServerError")
      assert.strictEqual(attempts[0]!.kind, "client")
      for (const attempt of attempts) {
        assert.strictEqual(attempt.parent._tag === "Some" ? attempt.parent.value.spanId : undefined, call.spanId)
      }

      const everything = JSON.stringify(spans.map((span) => [span.name, Object.fromEntries(span.attributes)]))
      assert.notInclude(everything, canary)
      assert.notInclude(everything, promptCanary)
    }))

  it.live("observers: every event reaches them; one that fails is logged and the call answers", () =>
    Effect.gen(function*() {
      const { backup, primary } = yield* servers
      const seen: Array<RouterEvent.RouterEvent> = []
      const finished = yield* Deferred.make<void>()
      const warnings: Array<string> = []
      const layer = FlexiAI.layer(twoProviders(primary.url, backup.url, { level: "warn" }), {
        observers: [
          () => Effect.fail("observer broke"),
          (event) =>
            Effect.sync(() => seen.push(event)).pipe(
              Effect.andThen(event.type === "call-finish" ? Deferred.succeed(finished, undefined) : Effect.void)
            )
        ]
      })
      const answer = yield* ChatProvider.chat(promptCanary).pipe(
        Effect.andThen((answer) => Effect.as(Deferred.await(finished), answer)),
        Effect.provide(layer),
        Effect.provide(Logger.layer([Logger.make(({ message }) => warnings.push(String(message)))]))
      )
      assert.strictEqual(answer.text, "fine answer")
      // the breaker's transition comes on a fiber of its own: left out of the order
      assert.deepStrictEqual(seen.map((event) => event.type).filter((type) => type !== "circuit-transition"), [
        "call-start",
        "attempt-start",
        "retry",
        "attempt-finish",
        "failover",
        "attempt-start",
        "attempt-finish",
        "call-finish"
      ])
      assert.isTrue(warnings.some((line) => line.includes("observer failed")))
      const everything = JSON.stringify(seen)
      assert.notInclude(everything, canary)
      assert.notInclude(everything, promptCanary)
    }))

  it.live("middleware: around the router and around one provider; a failing one fails with its own error", () =>
    Effect.gen(function*() {
      const { backup, primary } = yield* servers
      const seenBy: Array<string> = []
      const systemPrompt: Middleware.Middleware<ProviderError.ChatError> = {
        name: "system-prompt",
        request: (request) =>
          Effect.succeed({ ...request, messages: [{ role: "system", content: "Be brief." }, ...request.messages] })
      }
      const tagBackup: Middleware.Middleware<ProviderError.ChatError> = {
        name: "tag",
        chat: (next, request, context) => {
          seenBy.push(context.provider)
          return Effect.map(next(request), (response) => ({ ...response, text: `[${context.provider}] ${response.text}` }))
        }
      }
      const refuse: Middleware.Middleware<ProviderError.ChatError> = {
        name: "refuse",
        request: (request) =>
          JSON.stringify(request.messages).includes("4111111111111111")
            ? Effect.fail(ProviderError.make("policy", new ProviderError.InvalidRequest({ message: "card number in the prompt" })))
            : Effect.succeed(request)
      }
      const layer = FlexiAI.layer(twoProviders(primary.url, backup.url), {
        middleware: { all: [refuse, systemPrompt], providers: { backup: [tagBackup] } }
      })
      yield* Effect.gen(function*() {
        const answer = yield* ChatProvider.chat("hello")
        assert.strictEqual(answer.text, "[backup] fine answer")
        assert.deepStrictEqual(seenBy, ["backup"])
        const [sent] = yield* backup.calls
        const body = sent?.body as { messages: ReadonlyArray<{ role: string; content: string }> }
        assert.deepStrictEqual(body.messages[0], { role: "system", content: "Be brief." })

        yield* backup.clearCalls
        const refused = yield* Effect.exit(ChatProvider.chat("pay with 4111111111111111"))
        assert.isTrue(Exit.isFailure(refused))
        const error = Exit.isFailure(refused) ? refused.cause.reasons[0] : undefined
        const failure = error?._tag === "Fail" ? error.error : undefined
        assert.strictEqual(failure?._tag, "ProviderError")
        assert.strictEqual(failure?._tag === "ProviderError" ? failure.provider : "", "policy")
        assert.strictEqual(failure?._tag === "ProviderError" ? failure.reason._tag : "", "InvalidRequest")
        assert.strictEqual((yield* backup.calls).length, 0)
      }).pipe(Effect.provide(Layer.fresh(layer)))
    }))
})
