// Rate limits in virtual time (TestClock) over real MockProviderServers on 127.0.0.1: a request over
// the limit waits when `maxWait` allows and `TestClock.adjust` releases it; the providers' own
// headers (OpenAI/Azure durations, Anthropic RFC 3339 times) stop sending until their reset; the
// events say what was decided, in order.
import { assert, describe, it } from "@effect/vitest"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import type { RouterEvent } from "@flexiai/core/RouterEvent"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Duration, Effect, Fiber, Layer, Redacted } from "effect"
import { readFileSync } from "node:fs"
import * as ConfigFile from "../../config/src/ConfigFile.ts"
import * as FlexiConfig from "../../config/src/FlexiConfig.ts"
import * as Providers from "../src/Providers.ts"
import { PrometheusMetrics } from "effect/observability"
import { TestClock } from "effect/testing"
import { FlexiAI } from "../src/index.ts"
import { canary } from "./helpers.ts"

type Server = MockProviderServer.MockProviderServer["Service"]

// the call's own limits far away, so virtual minutes pass without a timeout firing
const policy = { retry: { maxRetries: 0 }, attemptTimeout: "1 hour", deadline: "1 hour" } as const

const completions = (server: Server) =>
  Effect.map(server.calls, (calls) => calls.filter((call) => call.path === "/v1/chat/completions" || call.path === "/v1/messages").length)

const client = (input: FlexiAI.Input, metrics = false) =>
  Effect.gen(function*() {
    const events: Array<RouterEvent> = []
    const context = yield* Layer.build(FlexiAI.layer(input, { metrics, observers: [(event) => Effect.sync(() => void events.push(event))] }))
    const chat = (text: string) => ChatProvider.chat(text).pipe(Effect.provideContext(context))
    return { chat, events }
  })

// lets forked fibers and the observers' fiber run up to their next real wait
const settle = Effect.gen(function*() {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow
})

describe("the README's rate-limit config", () => {
  it.effect("decodes as written, durations and all", () =>
    Effect.gen(function*() {
      const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8")
      const section = readme.slice(readme.indexOf("## Rate limits"))
      const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!
      const parsed = (yield* ConfigFile.parse("README.md", yaml)) as { providers: Array<Record<string, unknown>> }
      // the key is a reference to an unset variable here: a literal stands in for it
      // parsed YAML is unknown until decoded: fromObject is the check
      const input = { providers: parsed.providers.map((entry) => ({ ...entry, apiKey: canary })) } as unknown as FlexiConfig.Input
      const resolved = yield* FlexiConfig.fromObject(input, { providers: Providers.withExtra([]) })
      const limits = resolved.providers[0]!.rateLimit!
      assert.deepStrictEqual(
        [limits.requestsPerMinute, limits.tokensPerMinute, limits.concurrency, Duration.toMillis(limits.maxWait!)],
        [500, 200000, 8, 2000]
      )
    }))
})

describe("rate limits in virtual time", () => {
  it.effect("maxWait: a request over requestsPerMinute waits for the window and is then sent to the same provider", () =>
    Effect.gen(function*() {
      const primary = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from primary") })
      const backup = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from backup") })
      const { chat, events } = yield* client({
        providers: [
          { kind: "openai-compatible", name: "primary", model: "m", baseUrl: `${primary.url}/v1`, apiKey: canary, priority: 1, rateLimit: { requestsPerMinute: 1, maxWait: "2 minutes" } },
          { kind: "openai-compatible", name: "backup", model: "m", baseUrl: `${backup.url}/v1`, apiKey: canary, priority: 2 }
        ],
        policy: { ...policy, maxRetryAfter: "5 minutes" },
        logging: { level: "none" }
      }, true)
      assert.strictEqual((yield* chat("one")).provider, "primary")
      const waiting = yield* Effect.forkChild(chat("two"))
      yield* settle
      assert.isUndefined(waiting.pollUnsafe())
      assert.strictEqual(yield* completions(primary), 1)
      yield* TestClock.adjust("1 minute")
      const second = yield* Fiber.join(waiting)
      assert.strictEqual(second.provider, "primary")
      assert.strictEqual(yield* completions(primary), 2)
      assert.strictEqual(yield* completions(backup), 0)
      yield* settle
      const decisions = events.filter((event) => event.type === "rate-limit")
      assert.deepStrictEqual(decisions.map((event) => event.type === "rate-limit" ? [event.provider, event.decision, event.limit, event.waitMillis] : []), [
        ["primary", "wait", "requests", 60_000]
      ])
      // the metrics: one wait decision, its 60 s in the wait histogram; no key in any of it
      const text = yield* PrometheusMetrics.format()
      assert.match(text, /flexiai_rate_limit_decisions_total\{[^}]*decision="wait"[^}]*\} 1\b/)
      assert.match(text, /flexiai_rate_limit_wait_seconds_sum\{[^}]*provider="primary"[^}]*\} 60\b/)
      assert.notInclude(text, canary)
    }))

  it.effect("OpenAI headers: remaining-requests 0 with reset 6m0s stops sending there until then", () =>
    Effect.gen(function*() {
      const primary = yield* MockProviderServer.make({
        fallback: MockProviderServer.text("from primary", {
          headers: { "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "6m0s", "x-ratelimit-remaining-tokens": "9000", "x-ratelimit-reset-tokens": "20ms" }
        })
      })
      const backup = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from backup") })
      const { chat, events } = yield* client({
        providers: [
          // no limits of its own: `providerHeaders: true` alone only listens to the provider's headers
          { kind: "openai-compatible", name: "primary", model: "m", baseUrl: `${primary.url}/v1`, apiKey: canary, priority: 1, rateLimit: { providerHeaders: true } },
          { kind: "openai-compatible", name: "backup", model: "m", baseUrl: `${backup.url}/v1`, apiKey: canary, priority: 2 }
        ],
        policy,
        logging: { level: "none" }
      })
      assert.strictEqual((yield* chat("one")).provider, "primary")
      const second = yield* chat("two")
      assert.strictEqual(second.provider, "backup")
      assert.strictEqual(second.attempts[0]?.reason, "RateLimited")
      assert.strictEqual(yield* completions(primary), 1)
      yield* TestClock.adjust("5 minutes")
      assert.strictEqual((yield* chat("three")).provider, "backup")
      assert.strictEqual(yield* completions(primary), 1)
      yield* TestClock.adjust("1 minute")
      assert.strictEqual((yield* chat("four")).provider, "primary")
      assert.strictEqual(yield* completions(primary), 2)
      yield* settle
      const decision = events.find((event) => event.type === "rate-limit")
      assert.isTrue(decision?.type === "rate-limit" && decision.decision === "failover" && decision.limit === "requests")
      assert.strictEqual(decision?.type === "rate-limit" ? decision.waitMillis : -1, 360_000)
      // in order: the decision inside the attempt, its finish, the failover
      const types = events.map((event) => event.type)
      const at = types.indexOf("rate-limit")
      assert.deepStrictEqual(types.slice(at, at + 3), ["rate-limit", "attempt-finish", "failover"])
    }))

  it.effect("Anthropic headers: tokens-remaining below the next request's reservation, until its RFC 3339 reset", () =>
    Effect.gen(function*() {
      // TestClock starts at the epoch: the reset is 30 s in
      const anthropic = yield* MockProviderServer.make({
        fallback: MockProviderServer.text("from claude", {
          headers: {
            "anthropic-ratelimit-tokens-remaining": "100",
            "anthropic-ratelimit-tokens-reset": "1970-01-01T00:00:30Z",
            "anthropic-ratelimit-requests-remaining": "50",
            "anthropic-ratelimit-requests-reset": "1970-01-01T00:00:30Z"
          }
        })
      })
      const backup = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from backup") })
      const { chat } = yield* client({
        providers: [
          { kind: "anthropic", name: "claude", model: "claude-sonnet-4-5", baseUrl: anthropic.url, apiKey: Redacted.make(canary), priority: 1, rateLimit: { providerHeaders: true } },
          { kind: "openai-compatible", name: "backup", model: "m", baseUrl: `${backup.url}/v1`, apiKey: canary, priority: 2 }
        ],
        policy,
        logging: { level: "none" }
      })
      assert.strictEqual((yield* chat("one")).provider, "claude")
      // the next request reserves its estimate + 1024 output tokens: more than the 100 left
      assert.strictEqual((yield* chat("two")).provider, "backup")
      assert.strictEqual(yield* completions(anthropic), 1)
      yield* TestClock.adjust("30 seconds")
      assert.strictEqual((yield* chat("three")).provider, "claude")
      assert.strictEqual(yield* completions(anthropic), 2)
    }))

  it.effect("tokensPerMinute settles from real usage: usage above the reservation is counted too", () =>
    Effect.gen(function*() {
      // each answer reports 900 tokens used, far above the ~610 reserved (estimate + maxTokens 600)
      const primary = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from primary", { usage: { promptTokens: 300, completionTokens: 600 } }) })
      const backup = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from backup") })
      const { chat } = yield* client({
        providers: [
          { kind: "openai-compatible", name: "primary", model: "m", baseUrl: `${primary.url}/v1`, apiKey: canary, priority: 1, rateLimit: { tokensPerMinute: 1500, outputReserve: 600 } },
          { kind: "openai-compatible", name: "backup", model: "m", baseUrl: `${backup.url}/v1`, apiKey: canary, priority: 2 }
        ],
        policy,
        logging: { level: "none" }
      })
      assert.strictEqual((yield* chat("one")).provider, "primary")
      // reserved ~610 + settled 290 more = ~900 of 1500: another ~610 would be over
      assert.strictEqual((yield* chat("two")).provider, "backup")
      assert.strictEqual(yield* completions(primary), 1)
      yield* TestClock.adjust("10 minutes")
      assert.strictEqual((yield* chat("three")).provider, "primary")
    }))
})
