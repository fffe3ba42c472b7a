/**
 * The router's metrics, as Effect `Metric`s fed from its events (`RouterEvents`): requests and
 * attempts by provider, model and outcome, latency and time-to-first-token histograms, tokens by
 * kind, retries, failovers, a circuit state gauge, and rate-limit decisions and waits (from
 * `rate-limit` events: labels `provider`, `limit`, `decision`). Export them with `effect/observability`'s
 * `PrometheusMetrics` (`format` or `layerHttp`) or `OtlpMetrics`.
 *
 * **Details**: `layer` registers a synchronous listener on the `RouterEvents` in context, so
 * metrics cost nothing until it is provided, and then the building of each event plus a few map
 * look-ups and counter updates per call (no fiber, no queue). The metrics live in the
 * `Metric.MetricRegistry` of the context the layer is built in (the process-wide one by default;
 * give a test `new Map()`).
 *
 * **Labels** hold provider names, model ids, operations (`chat`, `stream`), outcomes and reason
 * tags: never a key, a prompt or a tenant. A model id a request names is a label; where requests
 * may name arbitrary models (cardinality), set `modelLabel: false`.
 *
 * **Cost** (with `pricing` on): `flexiai_cost_usd_total` by provider, model and outcome
 * (`success`, `billed-failure`) from `cost` events, and `flexiai_budget_denials_total` by provider,
 * model and budget name (a name from the config, never a tenant's tag) from `budget` events.
 *
 * **Seam**: the cache and rate-limit features add their own metrics beside these, from
 * their own events, with the same label names (`provider`, `model`).
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Metric } from "effect"
import type { RouterEvent } from "./RouterEvent.ts"
import { RouterEvents } from "./RouterEvents.ts"

/** @category models */
export interface Options {
  /** Whether metrics carry a `model` label. Default true. */
  readonly modelLabel?: boolean | undefined
}

/** Metric names (before an exporter's prefix). @category models */
export const names = {
  requests: "flexiai_requests_total",
  attempts: "flexiai_attempts_total",
  retries: "flexiai_retries_total",
  failovers: "flexiai_failovers_total",
  duration: "flexiai_request_duration_seconds",
  timeToFirstToken: "flexiai_time_to_first_token_seconds",
  tokens: "flexiai_tokens_total",
  circuitState: "flexiai_circuit_state",
  cacheLookups: "flexiai_cache_lookups_total",
  rateLimitDecisions: "flexiai_rate_limit_decisions_total",
  rateLimitWait: "flexiai_rate_limit_wait_seconds",
  costUsd: "flexiai_cost_usd_total",
  budgetDenials: "flexiai_budget_denials_total"
} as const

/** The circuit gauge's values. @category models */
export const circuitStateValue = { Closed: 0, HalfOpen: 1, Open: 2 } as const

// seconds: from a local model's 50 ms to a long reasoning answer's two minutes
const latencyBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
const ttftBoundaries = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

/** The metrics themselves, unlabelled. @category metrics */
export const metrics = {
  requests: Metric.counter(names.requests, {
    description: "Router calls by provider (who answered), model, operation and outcome",
    incremental: true
  }),
  attempts: Metric.counter(names.attempts, {
    description: "Attempts by provider, model and outcome (success, failure, skipped) and reason",
    incremental: true
  }),
  retries: Metric.counter(names.retries, { description: "Retries on the same provider by reason", incremental: true }),
  failovers: Metric.counter(names.failovers, {
    description: "Failovers from a provider to the next, by reason",
    incremental: true
  }),
  duration: Metric.histogram(names.duration, {
    description: "Router call latency as the caller saw it (a stream: to its end)",
    boundaries: latencyBoundaries
  }),
  timeToFirstToken: Metric.histogram(names.timeToFirstToken, {
    description: "Streams: time from the call to its first content part",
    boundaries: ttftBoundaries
  }),
  tokens: Metric.counter(names.tokens, {
    description: "Tokens by kind: input, output, cached (input read from a prompt cache), cache_write, reasoning",
    incremental: true
  }),
  circuitState: Metric.gauge(names.circuitState, { description: "Circuit state per provider and model: 0 closed, 1 half-open, 2 open" }),
  cacheLookups: Metric.counter(names.cacheLookups, {
    description: "Response cache lookups by operation and result (hit, miss)",
    incremental: true
  }),
  rateLimitDecisions: Metric.counter(names.rateLimitDecisions, {
    description: "Requests a configured rate limit held back before sending, by provider, limit and decision (wait, failover)",
    incremental: true
  }),
  rateLimitWait: Metric.histogram(names.rateLimitWait, {
    description: "Time requests waited for a provider's rate limit before being sent, by provider and limit",
    boundaries: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
  }),
  costUsd: Metric.counter(names.costUsd, {
    description: "Metered cost in USD by provider, model and outcome (success, billed-failure: a stream cut after tokens, estimated)",
    incremental: true
  }),
  budgetDenials: Metric.counter(names.budgetDenials, {
    description: "Attempts a budget refused (nothing sent), by provider, model and budget",
    incremental: true
  })
}

type Labels = Record<string, string>

/** Splits a circuit key (`provider:model`) at its first colon: provider names have none, model ids may. */
const splitKey = (key: string): { provider: string; model: string } => {
  const at = key.indexOf(":")
  return at < 0 ? { provider: key, model: "" } : { provider: key.slice(0, at), model: key.slice(at + 1) }
}

/**
 * A listener that updates the metrics in `context`'s registry for each event.
 *
 * @category constructors
 */
export const makeListener = (context: Context.Context<never>, options: Options = {}) => {
  const withModel = options.modelLabel ?? true
  // one labelled metric per label set, made once: `withAttributes` builds a wrapper
  const cache = new Map<string, Metric.Metric<number, unknown>>()
  const labelled = <S>(metric: Metric.Metric<number, S>, labels: Labels): Metric.Metric<number, unknown> => {
    const id = `${metric.id}\u0000${Object.values(labels).join("\u0000")}`
    let found = cache.get(id)
    if (found === undefined) {
      found = Metric.withAttributes(metric, labels) as Metric.Metric<number, unknown>
      cache.set(id, found)
    }
    return found
  }
  const add = <S>(metric: Metric.Metric<number, S>, labels: Labels, value: number) =>
    labelled(metric, labels).updateUnsafe(value, context)
  const model = (name: string | undefined) => (withModel ? name ?? "" : "")
  const base = (provider: string | undefined, modelName: string | undefined): Labels =>
    withModel ? { provider: provider ?? "", model: model(modelName) } : { provider: provider ?? "" }

  return (event: RouterEvent): void => {
    switch (event.type) {
      case "call-finish": {
        const labels = { ...base(event.provider, event.model), operation: event.operation, outcome: event.outcome }
        add(metrics.requests, { ...labels, reason: event.reason ?? "" }, 1)
        add(metrics.duration, labels, event.latencyMillis / 1000)
        const usage = event.usage
        if (usage !== undefined) {
          const tokens = base(event.provider, event.model)
          add(metrics.tokens, { ...tokens, kind: "input" }, usage.promptTokens)
          add(metrics.tokens, { ...tokens, kind: "output" }, usage.completionTokens)
          if (usage.cachedTokens !== undefined) add(metrics.tokens, { ...tokens, kind: "cached" }, usage.cachedTokens)
          if (usage.cacheWriteTokens !== undefined) add(metrics.tokens, { ...tokens, kind: "cache_write" }, usage.cacheWriteTokens)
          if (usage.reasoningTokens !== undefined) add(metrics.tokens, { ...tokens, kind: "reasoning" }, usage.reasoningTokens)
        }
        return
      }
      case "attempt-finish":
        add(metrics.attempts, { ...base(event.provider, event.model), outcome: event.outcome, reason: event.reason ?? "" }, 1)
        return
      case "attempt-skip":
        // a provider that does not serve the model was no candidate: not an attempt
        if (event.reason === "ModelNotServed") return
        add(metrics.attempts, { ...base(event.provider, event.model), outcome: "skipped", reason: event.reason }, 1)
        return
      case "retry":
        add(metrics.retries, { ...base(event.provider, event.model), reason: event.reason }, 1)
        return
      case "failover":
        add(metrics.failovers, { provider: event.from, reason: event.reason }, 1)
        return
      case "first-token":
        add(metrics.timeToFirstToken, base(event.provider, event.model), event.latencyMillis / 1000)
        return
      case "circuit-transition": {
        const { model: modelName, provider } = splitKey(event.key)
        add(metrics.circuitState, base(provider, modelName), circuitStateValue[event.to])
        return
      }
      case "rate-limit": {
        const labels = { provider: event.provider, limit: event.limit }
        add(metrics.rateLimitDecisions, { ...labels, decision: event.decision }, 1)
        if (event.decision === "wait") add(metrics.rateLimitWait, labels, event.waitMillis / 1000)
        return
      }
      case "cache-hit":
      case "cache-miss":
        add(metrics.cacheLookups, { operation: event.operation, result: event.type === "cache-hit" ? "hit" : "miss" }, 1)
        return
      case "cost":
        add(metrics.costUsd, { ...base(event.provider, event.model), outcome: event.outcome }, event.usd)
        return
      case "budget":
        add(metrics.budgetDenials, { ...base(event.provider, event.model), budget: event.budget }, 1)
        return
      default:
        return
    }
  }
}

/**
 * Feeds the metrics from the `RouterEvents` in context for the life of the layer.
 *
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<never, never, RouterEvents> =>
  Layer.effectDiscard(Effect.gen(function*() {
    const hub = yield* RouterEvents
    const context = yield* Effect.context<never>()
    yield* hub.listen(makeListener(context, options))
  }))
