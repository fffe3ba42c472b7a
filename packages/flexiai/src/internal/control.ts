/**
 * The control service over a built router: status, stats, order, enable/disable, circuits, and the
 * health and model-list caches. Probes and listings call providers directly, never through the
 * router, so they neither trip nor close a circuit nor count as requests.
 *
 * Health is not the probe alone: a model list answers while every chat fails (a bad key for
 * chat, a broken deployment behind a healthy gateway), so a provider is `ok` only when its probe
 * answers, none of its circuits is open or half-open, and its recent chats (those since the
 * previous report) did not all fail (see `verdictOf`).
 */
import { FlexiConfig } from "@flexiai/config"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import * as ChatRequest from "@flexiai/core/ChatRequest"
import * as Ledger from "@flexiai/core/Ledger"
import * as Metering from "@flexiai/core/Metering"
import * as Pricing from "@flexiai/core/Pricing"
import * as PriceTable from "@flexiai/core/PriceTable"
import * as CircuitBreaker from "@flexiai/core/CircuitBreaker"
import * as Router from "@flexiai/core/Router"
import { Clock, Duration, Effect, Exit } from "effect"
import type { CircuitStore, Costs, FlexiAI, HealthReport, ModelInfo, ModelList, Options, ProviderHealth, ProviderStatus, Stats } from "../FlexiAI.ts"
import * as ProviderLayers from "../ProviderLayers.ts"
import * as Providers from "../Providers.ts"
import * as Tokenizers from "../Tokenizers.ts"
import type * as MeteringSetup from "./metering.ts"

const circuitRank: Record<CircuitBreaker.State["_tag"], number> = { Closed: 0, HalfOpen: 1, Open: 2 }

/** A `ProviderError`, another chat error, or a probe's own timeout. */
interface ProbeError {
  readonly _tag: string
  readonly message: string
  readonly reason?: { readonly _tag: string } | undefined
}

const reasonOf = (error: ProbeError) => ({
  reason: error._tag === "ProviderError" && error.reason !== undefined ? error.reason._tag : error._tag,
  message: error.message
})

const probeTimeoutError = (what: string, after: Duration.Duration): ProbeError => ({
  _tag: "Timeout",
  message: `${what}: no answer within ${Duration.format(after)}`
})

export interface Built {
  readonly config: FlexiConfig.ResolvedProvider
  readonly provider: ChatProvider.ChatProvider["Service"]
}

export const makeControl = (
  built: ReadonlyArray<Built>,
  router: Router.Router["Service"],
  breaker: CircuitBreaker.CircuitBreaker["Service"],
  options: Options,
  metering: MeteringSetup.Built | undefined
) =>
  Effect.gen(function*() {
    const probeTimeout = Duration.fromInputUnsafe(options.probeTimeout ?? "10 seconds")
    const registry = Providers.withExtra(options.providers)
    const healthTtl = Duration.fromInputUnsafe(options.healthTtl ?? "30 seconds")
    const modelsTtl = Duration.fromInputUnsafe(options.modelsTtl ?? "5 minutes")
    const byName = new Map(built.map((entry) => [entry.config.name, entry]))

    const withTimeout = <A>(effect: Effect.Effect<A, ProbeError>, what: string): Effect.Effect<A, ProbeError> =>
      Effect.timeoutOrElse(effect, {
        duration: probeTimeout,
        orElse: () => Effect.fail(probeTimeoutError(what, probeTimeout))
      })

    const circuitStore = (): CircuitStore => {
      const shared = breaker.shared
      return shared === undefined ? "local" : shared.availableUnsafe() ? "shared" : "degraded"
    }

    // The router lists the circuits of the models this process has called. With a shared store,
    // circuits other processes opened for this provider are listed too, so a worker that has not
    // called a provider yet still reports the circuit its siblings opened (one SCAN per report).
    const routerStatus: Effect.Effect<ReadonlyArray<Router.ProviderStatus>> = breaker.shared === undefined
      ? router.status
      : Effect.map(Effect.all([router.status, breaker.states]), ([statuses, states]) =>
        statuses.map((status) => {
          const listed = new Set(status.circuits.map((circuit) => circuit.key))
          const others = [...states]
            .filter(([key]) => key.startsWith(`${status.name}:`) && !listed.has(key))
            .map(([key, state]) => ({ key, state: state._tag }))
          return others.length === 0 ? status : { ...status, circuits: [...status.circuits, ...others] }
        }))

    const costs: Effect.Effect<Costs> = Effect.map(
      metering?.budgets === undefined ? Effect.succeed([]) : metering.budgets.standings,
      (budgets) => ({ usage: metering?.ledger.report(), budgets })
    )

    // with metering off an estimate still uses the bundled table and the tokenizer
    const estimateOptions: Metering.Options = metering?.options ??
      { pricing: Pricing.index(PriceTable.rows), ledger: Ledger.make(), estimator: Tokenizers.estimator }
    const estimateCost = (input: ChatRequest.ChatInput) =>
      Effect.flatMap(ChatRequest.decode(input), (request) =>
        Effect.map(router.order, (order) => {
          const model = request.model ?? byName.get(order[0] ?? "")?.provider.defaultModel ?? ""
          return Metering.estimateCost(estimateOptions, request, model)
        }))

    const status = Effect.map(routerStatus, (statuses) => {
      const usage = metering?.ledger.report().byProvider
      return statuses.map((status): ProviderStatus => {
        const entry = byName.get(status.name)
        const circuit = status.circuits.reduce<CircuitBreaker.State["_tag"]>(
          (worst, { state }) => circuitRank[state] > circuitRank[worst] ? state : worst,
          "Closed"
        )
        return {
          name: status.name,
          kind: entry?.config.kind ?? "unknown",
          model: status.defaultModel,
          priority: status.priority,
          position: status.position,
          enabled: status.enabled,
          circuit,
          circuits: status.circuits,
          circuitStore: circuitStore(),
          rateLimitedUntil: status.rateLimitedUntil,
          requests: status.requests,
          successes: status.successes,
          failures: status.failures,
          skipped: status.skipped,
          successRate: status.successRate,
          latencyP50Millis: status.latencyP50Millis,
          latencyP95Millis: status.latencyP95Millis,
          usage: usage === undefined ? undefined : usage[status.name] ?? Ledger.zero,
          lastError: status.lastError === undefined ? undefined : {
            reason: status.lastError.reason,
            message: status.lastError.message,
            at: status.lastError.at,
            time: new Date(status.lastError.at).toISOString()
          }
        }
      })
    })

    const stats = Effect.map(Effect.all([router.stats, router.status, costs]), ([totals, statuses, spending]): Stats => ({
      ...totals,
      ...spending,
      providers: statuses.map(({ failures, name, requests, skipped, successes }) => ({ name, requests, successes, failures, skipped }))
    }))

    const resetCircuits = (provider?: string) =>
      Effect.gen(function*() {
        if (provider !== undefined && !byName.has(provider)) {
          return yield* new Router.UnknownProvider({ name: provider, known: [...byName.keys()] })
        }
        const states = yield* breaker.states
        for (const key of states.keys()) {
          if (provider === undefined || key.startsWith(`${provider}:`)) yield* breaker.reset(key)
        }
      })

    const probe = ({ config, provider }: Built): Effect.Effect<ProviderHealth> =>
      Effect.gen(function*() {
        // a kind whose list answers without a call (Foundry) says so in its descriptor: only a chat proves it is up
        const listing = ProviderLayers.listsModels(config.kind, registry) ? provider.listModels : undefined
        const kind: ProviderHealth["probe"] = listing === undefined ? "chat" : "listModels"
        const call: Effect.Effect<unknown, ProbeError> = listing ??
          provider.chat({ messages: [{ role: "user", content: "ping" }], maxTokens: 1 })
        const started = yield* Clock.currentTimeMillis
        const exit = yield* Effect.exit(withTimeout(call, `${config.name} health probe`))
        const latencyMillis = (yield* Clock.currentTimeMillis) - started
        const base = { name: config.name, kind: config.kind, probe: kind, latencyMillis }
        if (Exit.isSuccess(exit)) return { ...base, ok: true }
        const error = exit.cause.reasons.find((reason) => reason._tag === "Fail")
        return {
          ...base,
          ok: false,
          error: error === undefined ? { reason: "Defect", message: "the probe died" } : reasonOf(error.error)
        }
      })

    // Each provider's chat counters at the previous report, and what they said: the chats since
    // then are the "recent" ones. Only a report (made at most once per `healthTtl`) moves them.
    const previousReport = new Map<string, {
      readonly successes: number
      readonly failures: number
      readonly at: number
      readonly failing: ProviderHealth["error"]
    }>()

    /**
     * The router's side of a provider's health: `undefined` when it is ok, else why not.
     *
     * - A circuit that is not Closed: `CircuitOpen` (an opening that has ended counts until the
     *   next call probes it).
     * - Failing chats: `ChatsFailing` when it had chats since the previous report (or since start)
     *   and every one failed, with at least one failure its circuit counts (a request's own fault,
     *   `InvalidRequest` say, is not the provider's). With no chats since, the previous verdict
     *   stands: a provider that failed its last chats is not called ok for having had no traffic.
     */
    const verdictOf = Effect.fnUntraced(function*(
      routed: Router.ProviderStatus | undefined,
      now: number
    ): Effect.fn.Return<ProviderHealth["error"]> {
      if (routed === undefined) return undefined
      const previous = previousReport.get(routed.name)
      const successes = routed.successes - (previous?.successes ?? 0)
      const failures = routed.failures - (previous?.failures ?? 0)
      const last = routed.lastError === undefined ? "" : `; last error: ${routed.lastError.reason}: ${routed.lastError.message}`
      let failing = previous?.failing
      if (successes + failures > 0) {
        let counted = 0
        for (const { key } of routed.circuits) {
          const state = yield* breaker.state(key)
          counted = Math.max(counted, state._tag === "Closed" ? state.failures : 1)
        }
        const since = previous === undefined ? "start" : new Date(previous.at).toISOString()
        failing = successes === 0 && counted > 0
          ? {
            reason: "ChatsFailing",
            message: `all ${failures} chat${failures === 1 ? "" : "s"} since ${since} failed${last}`
          }
          : undefined
      }
      previousReport.set(routed.name, { successes: routed.successes, failures: routed.failures, at: now, failing })
      const notClosed = routed.circuits.find(({ state }) => state !== "Closed")
      if (notClosed !== undefined) {
        return { reason: "CircuitOpen", message: `circuit ${notClosed.key} is ${notClosed.state}${last}` }
      }
      return failing
    })

    const healthReport = yield* Effect.cachedWithTTL(
      Effect.gen(function*() {
        const checkedAt = yield* Clock.currentTimeMillis
        const probed = yield* Effect.forEach(built, probe, { concurrency: "unbounded" })
        const routed = new Map((yield* routerStatus).map((status) => [status.name, status]))
        const providers = yield* Effect.forEach(probed, (provider) =>
          Effect.map(verdictOf(routed.get(provider.name), checkedAt), (error): ProviderHealth =>
            // the probe's own failure says most about now; the router's view comes next
            !provider.ok || error === undefined ? provider : { ...provider, ok: false, error }))
        const up = providers.filter((provider) => provider.ok).length
        return {
          status: up === providers.length ? "ok" : up === 0 ? "down" : "degraded",
          checkedAt,
          providers
        } as const
      }),
      () => healthTtl
    )
    const health = Effect.map(healthReport, (report): HealthReport => ({ ...report, circuitStore: circuitStore() }))

    const listings = yield* Effect.forEach(built, ({ config, provider }) => {
      const configured: ReadonlyArray<ModelInfo> = [{ id: config.model, provider: config.name, source: "configured" }]
      const listing = provider.listModels
      if (listing === undefined) return Effect.succeed(Effect.succeed(configured))
      const fetch = withTimeout(listing, `${config.name} model list`).pipe(
        Effect.map((models): ReadonlyArray<ModelInfo> =>
          models.length === 0 ? configured : models.map((model) => ({
            id: model.id,
            ...(model.ownedBy === undefined ? {} : { ownedBy: model.ownedBy }),
            ...(model.contextWindow === undefined ? {} : { contextWindow: model.contextWindow }),
            ...(model.capabilities === undefined ? {} : { capabilities: model.capabilities }),
            provider: config.name,
            source: "listed" as const
          }))
        )
      )
      // a failed listing is asked again next time: caching it would hide a recovered provider for minutes
      return Effect.cachedWithTTL(fetch, (exit) => Exit.isSuccess(exit) ? modelsTtl : Duration.zero)
    })

    const listModels = Effect.map(
      Effect.forEach(built, ({ config }, index) => Effect.result(listings[index]!).pipe(Effect.map((result) => ({ config, result }))), {
        concurrency: "unbounded"
      }),
      (results): ModelList => ({
        models: results.flatMap(({ result }) => result._tag === "Success" ? result.success : []),
        failures: results.flatMap(({ config, result }) =>
          result._tag === "Failure" ? [{ provider: config.name, ...reasonOf(result.failure) }] : []
        )
      })
    )

    const service: Omit<FlexiAI["Service"], "events"> = {
      status,
      stats,
      order: router.order,
      setPrimary: router.setPrimary,
      reorder: router.reorder,
      disable: router.disable,
      enable: router.enable,
      resetCircuits,
      health,
      listModels,
      costs,
      estimateCost
    }
    return service
  })
