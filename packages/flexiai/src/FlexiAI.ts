/**
 * The FlexiAI client surface: one line to set up, one line to call.
 *
 * ```ts
 * Effect.runPromise(chat("hi").pipe(Effect.provide(FlexiAI.layer(config))))
 * ```
 *
 * `layer(config)` (a config object or an already `ResolvedConfig`) and `layerConfig(options)`
 * (file + environment + overrides) assemble everything a config describes: one provider layer
 * per entry (by kind), the circuit breaker, the failover router with the config's policy and
 * priorities, the logger of `config.logging`, and Node's HTTP client. They provide
 * `ChatProvider` (the router) and `FlexiAI` (control: status, order, circuits, health, models,
 * stats). `make(config)` wraps the same layer in a `ManagedRuntime` for code not written in
 * Effect (see `Client`).
 *
 * Decisions worth knowing:
 * - A bad config, or a provider kind that is not implemented yet, fails *layer construction* with
 *   one `FlexiConfigError` listing every problem by path; no provider is built before that.
 * - Per-provider `breaker` settings are honoured: the `CircuitBreaker` is one service, so when
 *   some provider's settings differ from the top-level `breaker`, each distinct setting gets its
 *   own in-memory breaker and a routing breaker sends every circuit key (`provider:model`) to its
 *   provider's. `states`, `reset` and `transitions` see all of them.
 * - Per-provider `retry` becomes the router's per-provider `policy.retry`.
 * - Health probes and model listings call the providers directly, not through the router: a probe
 *   must not trip or close a circuit, nor count as a request in `status`.
 * - Request/response summaries are logged at Debug inside the router's call scope, so they carry
 *   the same `callId` as the attempt lines; they hold counts, model names and usage, never
 *   message content, headers or keys. They are only wired in when `logging.level` enables Debug,
 *   so a production config pays nothing for them.
 *
 * @since 0.1.0
 */
import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { FlexiConfig, type FlexiConfigError } from "@flexiai/config"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import * as CircuitBreaker from "@flexiai/core/CircuitBreaker"
import * as Router from "@flexiai/core/Router"
import type { ChatResponse } from "@flexiai/core/ChatResponse"
import type { StreamPart } from "@flexiai/core/StreamPart"
import { Clock, ConfigProvider, Context, Duration, Effect, Exit, Layer, type LogLevel, ManagedRuntime, Scope, Stream } from "effect"
import type * as ProviderKind from "@flexiai/provider/ProviderKind"
import type { HttpClient } from "effect/http"
import * as ProviderLayers from "./ProviderLayers.ts"
import * as Providers from "./Providers.ts"

// ---------------------------------------------------------------------------
// models
// ---------------------------------------------------------------------------

/** A whole config given in code (as `FlexiConfig.Input`): durations as numbers or strings, secrets as strings or `Redacted`. @category models */
export type Input = FlexiConfig.Input

/** A loaded config (as `FlexiConfig.ResolvedConfig`). @category models */
export type ResolvedConfig = FlexiConfig.ResolvedConfig

/** Tuning of the control service. @category models */
export interface Options {
  /** How long a `health` report is reused. Default 30 seconds. */
  readonly healthTtl?: Duration.Input | undefined
  /** How long a provider's model list is reused (failures are not cached). Default 5 minutes. */
  readonly modelsTtl?: Duration.Input | undefined
  /** Time limit for one provider's health probe or model listing. Default 10 seconds. */
  readonly probeTimeout?: Duration.Input | undefined
  /**
   * The HTTP client providers send through. Default `NodeHttpClient.layerUndici` from
   * `@effect/platform-node`; give your own (Effect's `FetchHttpClient.layer`, a client with your
   * proxy or a `mapRequest`, `@flexiai/provider`'s `UndiciHttpClient.layer`) to change it. A provider
   * that sets `timeouts.connect` still gets an undici client of its own with that connect timeout.
   */
  readonly httpClient?: Layer.Layer<HttpClient.HttpClient> | undefined
  /**
   * Provider descriptors beyond the bundled ones (`Providers.bundled`): a provider package of your
   * own, or a replacement for a bundled kind (the last descriptor of a kind wins). Config accepts
   * their kinds, reads their standard variables and detects them; the router builds them like any
   * other provider.
   */
  readonly providers?: ReadonlyArray<ProviderKind.Any> | undefined
}

const registryOf = (options: Options): ReadonlyArray<ProviderKind.Any> =>
  options.providers === undefined || options.providers.length === 0
    ? Providers.bundled
    : [...Providers.bundled, ...options.providers]

/**
 * A provider's state and counters: the router's status (`Router.ProviderStatus`) plus its kind,
 * its model, the worst state among its circuits, and the last error's time as text. No secrets:
 * names, models, counts and error reasons only.
 *
 * @category models
 */
export interface ProviderStatus extends Omit<Router.ProviderStatus, "defaultModel" | "lastError"> {
  readonly kind: string
  readonly model: string
  /** The worst state among the provider's circuits (`Closed` when none was used yet). */
  readonly circuit: CircuitBreaker.State["_tag"]
  readonly lastError: {
    readonly reason: string
    readonly message: string
    /** Clock millis. */
    readonly at: number
    /** `at` as an ISO-8601 string. */
    readonly time: string
  } | undefined
}

/** Router-wide counters plus each provider's. @category models */
export interface Stats extends Router.Stats {
  readonly providers: ReadonlyArray<{
    readonly name: string
    readonly requests: number
    readonly successes: number
    readonly failures: number
    readonly skipped: number
  }>
}

/** One provider's probe. @category models */
export interface ProviderHealth {
  readonly name: string
  readonly kind: string
  readonly ok: boolean
  /** What was asked: the model list where the provider has one, else a one-token chat. */
  readonly probe: "listModels" | "chat"
  readonly latencyMillis: number
  readonly error?: { readonly reason: string; readonly message: string } | undefined
}

/** @category models */
export interface HealthReport {
  /** `ok`: every provider answered; `degraded`: some did; `down`: none did. */
  readonly status: "ok" | "degraded" | "down"
  /** Clock millis of the probes (a cached report keeps the time it was made). */
  readonly checkedAt: number
  readonly providers: ReadonlyArray<ProviderHealth>
}

/** A model and the provider that offers it. @category models */
export interface ModelInfo {
  readonly id: string
  readonly ownedBy?: string | undefined
  readonly provider: string
  /** `listed` by the provider's API, or the `configured` model of a provider that lists none. */
  readonly source: "listed" | "configured"
}

/** @category models */
export interface ModelList {
  readonly models: ReadonlyArray<ModelInfo>
  /** Providers whose listing failed (they are left out of `models`). */
  readonly failures: ReadonlyArray<{ readonly provider: string; readonly reason: string; readonly message: string }>
}

/**
 * Runtime control of a FlexiAI client. Provided next to `ChatProvider` by `layer`/`layerConfig`.
 *
 * @category services
 */
export class FlexiAI extends Context.Service<FlexiAI, {
  /** Per provider, in the current order. */
  readonly status: Effect.Effect<ReadonlyArray<ProviderStatus>>
  readonly stats: Effect.Effect<Stats>
  /** Provider names in the order they are tried. */
  readonly order: Effect.Effect<ReadonlyArray<string>>
  /** Moves `name` to the front. */
  readonly setPrimary: (name: string) => Effect.Effect<void, Router.UnknownProvider>
  /** Sets the order; names left out keep their relative order after the ones given. */
  readonly reorder: (names: ReadonlyArray<string>) => Effect.Effect<void, Router.UnknownProvider>
  readonly disable: (name: string) => Effect.Effect<void, Router.UnknownProvider>
  readonly enable: (name: string) => Effect.Effect<void, Router.UnknownProvider>
  /** Closes every circuit (or only `provider`'s) and forgets their failure counts. */
  readonly resetCircuits: (provider?: string) => Effect.Effect<void, Router.UnknownProvider>
  /** A cheap probe per provider, reused for `healthTtl`. */
  readonly health: Effect.Effect<HealthReport>
  /** Every provider's models, merged; each provider's list is reused for `modelsTtl`. */
  readonly listModels: Effect.Effect<ModelList>
}>()("flexiai/FlexiAI") {}

// ---------------------------------------------------------------------------
// breaker
// ---------------------------------------------------------------------------

const breakerId = (breaker: FlexiConfig.ResolvedConfig["breaker"]): string =>
  JSON.stringify([
    breaker.failureThreshold,
    Duration.toMillis(breaker.openDuration),
    breaker.backoffFactor,
    Duration.toMillis(breaker.maxOpenDuration),
    breaker.jitter
  ])

/**
 * One breaker when every provider uses the top-level settings; otherwise one per distinct
 * setting behind a breaker that routes each key to its provider's (keys are `provider:model`;
 * the longest matching provider prefix wins, so `a` and `a:b` as names cannot be confused).
 */
const makeBreaker = (config: FlexiConfig.ResolvedConfig, scope: Scope.Scope) =>
  Effect.gen(function*() {
    const byId = new Map<string, CircuitBreaker.CircuitBreaker["Service"]>()
    const get = (options: FlexiConfig.ResolvedConfig["breaker"]) =>
      Effect.gen(function*() {
        const id = breakerId(options)
        const existing = byId.get(id)
        if (existing !== undefined) return existing
        const context = yield* Layer.buildWithScope(CircuitBreaker.layerMemory(options), scope)
        const breaker = Context.get(context, CircuitBreaker.CircuitBreaker)
        byId.set(id, breaker)
        return breaker
      })
    const fallback = yield* get(config.breaker)
    const owners: Array<readonly [prefix: string, breaker: CircuitBreaker.CircuitBreaker["Service"]]> = []
    for (const provider of config.providers) owners.push([`${provider.name}:`, yield* get(provider.breaker)])
    if (byId.size === 1) return fallback

    owners.sort((a, b) => b[0].length - a[0].length)
    const route = (key: string) => owners.find(([prefix]) => key.startsWith(prefix))?.[1] ?? fallback
    const all = [...byId.values()]
    return CircuitBreaker.CircuitBreaker.of({
      admit: (key) => route(key).admit(key),
      record: (permit, outcome) => route(permit.key).record(permit, outcome),
      state: (key) => route(key).state(key),
      states: Effect.map(
        Effect.forEach(all, (breaker) => breaker.states),
        (maps) => new Map(maps.flatMap((map) => [...map]))
      ),
      reset: (key) => route(key).reset(key),
      forceOpen: (key, duration) => route(key).forceOpen(key, duration),
      transitions: Stream.mergeAll(all.map((breaker) => breaker.transitions), { concurrency: "unbounded" }),
      changesUnsafe: () => all.reduce((sum, breaker) => sum + breaker.changesUnsafe(), 0)
    })
  })

// ---------------------------------------------------------------------------
// debug logging
// ---------------------------------------------------------------------------

const debugLevels: ReadonlySet<LogLevel.LogLevel> = new Set(["All", "Trace", "Debug"])

const requestLine = (provider: ChatProvider.ChatProvider["Service"], request: ChatRequest.ChatRequest, stream: boolean) =>
  Effect.logDebug("provider request").pipe(Effect.annotateLogs({
    provider: provider.name,
    model: request.model ?? provider.defaultModel,
    messages: request.messages.length,
    stream
  }))

const responseLine = (response: {
  readonly provider: string
  readonly model: string
  readonly finishReason: string
  readonly usage?: unknown
}) =>
  Effect.logDebug("provider response").pipe(Effect.annotateLogs({
    provider: response.provider,
    model: response.model,
    finishReason: response.finishReason,
    ...(response.usage === undefined ? {} : { usage: response.usage })
  }))

// The summary goes around each provider (not around the router) so it runs inside the router's
// per-call scope and carries its `callId`; one line per try, like the attempt lines.
const withDebugLines = (provider: ChatProvider.ChatProvider["Service"]): ChatProvider.ChatProvider["Service"] =>
  ChatProvider.ChatProvider.of({
    ...provider,
    chat: (request) => Effect.andThen(requestLine(provider, request, false), Effect.tap(provider.chat(request), responseLine)),
    stream: (request) =>
      Stream.unwrap(Effect.as(requestLine(provider, request, true), provider.stream(request))).pipe(
        Stream.tap((part) => part.type === "finish" ? responseLine(part) : Effect.void)
      )
  })

// ---------------------------------------------------------------------------
// control
// ---------------------------------------------------------------------------

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

interface Built {
  readonly config: FlexiConfig.ResolvedProvider
  readonly provider: ChatProvider.ChatProvider["Service"]
}

const makeControl = (
  built: ReadonlyArray<Built>,
  router: Router.Router["Service"],
  breaker: CircuitBreaker.CircuitBreaker["Service"],
  options: Options
) =>
  Effect.gen(function*() {
    const probeTimeout = Duration.fromInputUnsafe(options.probeTimeout ?? "10 seconds")
    const registry = registryOf(options)
    const healthTtl = Duration.fromInputUnsafe(options.healthTtl ?? "30 seconds")
    const modelsTtl = Duration.fromInputUnsafe(options.modelsTtl ?? "5 minutes")
    const byName = new Map(built.map((entry) => [entry.config.name, entry]))

    const withTimeout = <A>(effect: Effect.Effect<A, ProbeError>, what: string): Effect.Effect<A, ProbeError> =>
      Effect.timeoutOrElse(effect, {
        duration: probeTimeout,
        orElse: () => Effect.fail(probeTimeoutError(what, probeTimeout))
      })

    const status = Effect.map(router.status, (statuses) =>
      statuses.map((status): ProviderStatus => {
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
          rateLimitedUntil: status.rateLimitedUntil,
          requests: status.requests,
          successes: status.successes,
          failures: status.failures,
          skipped: status.skipped,
          successRate: status.successRate,
          latencyP50Millis: status.latencyP50Millis,
          latencyP95Millis: status.latencyP95Millis,
          lastError: status.lastError === undefined ? undefined : {
            reason: status.lastError.reason,
            message: status.lastError.message,
            at: status.lastError.at,
            time: new Date(status.lastError.at).toISOString()
          }
        }
      }))

    const stats = Effect.map(Effect.all([router.stats, router.status]), ([totals, statuses]): Stats => ({
      ...totals,
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

    const health = yield* Effect.cachedWithTTL(
      Effect.gen(function*() {
        const checkedAt = yield* Clock.currentTimeMillis
        const providers = yield* Effect.forEach(built, probe, { concurrency: "unbounded" })
        const up = providers.filter((provider) => provider.ok).length
        const report: HealthReport = {
          status: up === providers.length ? "ok" : up === 0 ? "down" : "degraded",
          checkedAt,
          providers
        }
        return report
      }),
      () => healthTtl
    )

    const listings = yield* Effect.forEach(built, ({ config, provider }) => {
      const configured: ReadonlyArray<ModelInfo> = [{ id: config.model, provider: config.name, source: "configured" }]
      const listing = provider.listModels
      if (listing === undefined) return Effect.succeed(Effect.succeed(configured))
      const fetch = withTimeout(listing, `${config.name} model list`).pipe(
        Effect.map((models): ReadonlyArray<ModelInfo> =>
          models.length === 0 ? configured : models.map((model) => ({
            id: model.id,
            ...(model.ownedBy === undefined ? {} : { ownedBy: model.ownedBy }),
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

    return FlexiAI.of({
      status,
      stats,
      order: router.order,
      setPrimary: router.setPrimary,
      reorder: router.reorder,
      disable: router.disable,
      enable: router.enable,
      resetCircuits,
      health,
      listModels
    })
  })

// ---------------------------------------------------------------------------
// assembly
// ---------------------------------------------------------------------------

type Label = (provider: FlexiConfig.ResolvedProvider, index: number) => string

const nameLabel: Label = (provider) => `provider "${provider.name}"`

const build = (loaded: FlexiConfig.ResolvedConfig, label: Label, options: Options) =>
  Effect.gen(function*() {
    const registry = registryOf(options)
    let config = loaded
    if (loaded.detected) {
      // Detected from the environment, not asked for by name: a kind without a provider package
      // yet is left out with a warning rather than refusing the providers that do work.
      const usable = loaded.providers.filter((provider) => ProviderLayers.isAvailable(provider.kind, registry))
      for (const provider of loaded.providers) {
        if (!ProviderLayers.isAvailable(provider.kind, registry)) {
          yield* Effect.logWarning(`${provider.kind} detected from the environment but not available yet: left out`)
        }
      }
      if (usable.length > 0) config = { ...loaded, providers: usable }
    }
    const unavailable = ProviderLayers.unavailable(config.providers, label, config.file, registry)
    if (unavailable !== undefined) return yield* Effect.fail(unavailable)

    const scope = yield* Scope.Scope
    const debug = debugLevels.has(config.logging.level)
    const built: Array<Built> = []
    for (const provider of config.providers) {
      const chatLayer = ProviderLayers.chatLayer(provider, registry)!
      const http = ProviderLayers.httpClientLayer(provider)
      const context = yield* Layer.buildWithScope(http === undefined ? chatLayer : Layer.provide(chatLayer, http), scope)
      built.push({ config: provider, provider: Context.get(context, ChatProvider.ChatProvider) })
    }

    const breaker = yield* makeBreaker(config, scope)
    const { control, provider } = yield* Router.make({
      providers: built.map(({ config: entry, provider: service }) => ({
        layer: Layer.succeed(ChatProvider.ChatProvider, debug ? withDebugLines(service) : service),
        priority: entry.priority,
        policy: { retry: entry.retry }
      })),
      policy: config.policy
    }).pipe(Effect.provideService(CircuitBreaker.CircuitBreaker, breaker))

    const flexi = yield* makeControl(built, control, breaker, options)
    return Context.make(ChatProvider.ChatProvider, provider).pipe(Context.add(FlexiAI, flexi))
  })

const fromResolved = (
  config: FlexiConfig.ResolvedConfig,
  label: Label,
  options: Options
): Layer.Layer<ChatProvider.ChatProvider | FlexiAI, FlexiConfigError, HttpClient.HttpClient> =>
  // provideMerge: the config's logger applies while building and to the program the layer is provided to
  Layer.effectContext(build(config, label, options)).pipe(Layer.provideMerge(FlexiConfig.layerLogger(config.logging)))

const isResolved = <C extends object>(config: C | FlexiConfig.ResolvedConfig): config is FlexiConfig.ResolvedConfig =>
  "preset" in config && "logging" in config && "file" in config

/**
 * A FlexiAI client from a config object (`FlexiConfig.Input`, validated and resolved here) or
 * an already `ResolvedConfig`. Reads no file and no environment.
 *
 * **Example**
 *
 * ```ts
 * const FlexiLive = FlexiAI.layer({
 *   providers: [
 *     { kind: "openai", model: "gpt-4o-mini", apiKey: Redacted.make(key) },
 *     { kind: "ollama", model: "llama3.2", priority: 200 }
 *   ],
 *   policy: { preset: "reliable" }
 * })
 * Effect.runPromise(chat("hi").pipe(Effect.provide(FlexiLive)))
 * ```
 *
 * @category layers
 */
export const layer = (
  config: FlexiConfig.Input | FlexiConfig.ResolvedConfig,
  options: Options = {}
): Layer.Layer<ChatProvider.ChatProvider | FlexiAI, FlexiConfigError> => {
  const httpClient = options.httpClient ?? NodeHttpClient.layerUndici
  if (isResolved(config)) return fromResolved(config, nameLabel, options).pipe(Layer.provide(httpClient))
  // From an object the declared positions are known, so problems can say `providers[2]`.
  const declared = config.providers ?? []
  const label: Label = (provider) => {
    const index = declared.findIndex((entry) => (entry.name ?? entry.kind) === provider.name)
    return index === -1 ? nameLabel(provider, index) : `providers[${index}]`
  }
  return Layer.unwrap(Effect.map(FlexiConfig.fromObject(config, { providers: options.providers }), (resolved) => fromResolved(resolved, label, options))).pipe(
    Layer.provide(httpClient)
  )
}

/** What `layerConfig` reads: `FlexiConfig.LoadOptions` (file, overrides) plus the control's `Options`. @category models */
export interface ConfigOptions extends FlexiConfig.LoadOptions, Options {}

/**
 * A FlexiAI client from the config sources: the file (`options.file`, else `FLEXIAI_CONFIG_FILE`,
 * else `flexiai.config.yaml|yml|json` in the working directory), the environment (`FLEXIAI_*` and
 * the providers' standard variables, through the `ConfigProvider` in context) and
 * `options.overrides`. Needs nothing: Node's file system is provided inside.
 *
 * @category layers
 */
export const layerConfig = (
  options: ConfigOptions = {}
): Layer.Layer<ChatProvider.ChatProvider | FlexiAI, FlexiConfigError> =>
  Layer.unwrap(
    Effect.map(
      FlexiConfig.load({ file: options.file, overrides: options.overrides, providers: options.providers }),
      (resolved) => fromResolved(resolved, nameLabel, options)
    )
  ).pipe(Layer.provide(Layer.merge(NodeServices.layer, options.httpClient ?? NodeHttpClient.layerUndici)))

// ---------------------------------------------------------------------------
// accessors
// ---------------------------------------------------------------------------

/** @category accessors */
export const status: Effect.Effect<ReadonlyArray<ProviderStatus>, never, FlexiAI> = FlexiAI.use((flexi) => flexi.status)

/** @category accessors */
export const stats: Effect.Effect<Stats, never, FlexiAI> = FlexiAI.use((flexi) => flexi.stats)

/** @category accessors */
export const health: Effect.Effect<HealthReport, never, FlexiAI> = FlexiAI.use((flexi) => flexi.health)

/** @category accessors */
export const listModels: Effect.Effect<ModelList, never, FlexiAI> = FlexiAI.use((flexi) => flexi.listModels)

// ---------------------------------------------------------------------------
// code not written in Effect
// ---------------------------------------------------------------------------

/**
 * A FlexiAI client for promise-based code. Promises reject with the library's typed errors
 * themselves (`ProviderError`, `CircuitOpen`, `AllProvidersFailed`, `FlexiConfigError`): check
 * `error._tag` (and `error.reason._tag` for a `ProviderError`).
 *
 * @category models
 */
export interface Client {
  /** Sends a prompt, messages or a request and waits for the answer. */
  readonly chat: (input: ChatRequest.ChatInput) => Promise<ChatResponse>
  /**
   * Streams the answer; `for await` over it. Leaving the loop early (`break`, `return`, a throw)
   * interrupts the stream and its HTTP request.
   */
  readonly stream: (input: ChatRequest.ChatInput) => AsyncIterable<StreamPart>
  readonly status: () => Promise<ReadonlyArray<ProviderStatus>>
  readonly stats: () => Promise<Stats>
  readonly health: () => Promise<HealthReport>
  readonly listModels: () => Promise<ModelList>
  readonly setPrimary: (name: string) => Promise<void>
  readonly disable: (name: string) => Promise<void>
  readonly enable: (name: string) => Promise<void>
  readonly resetCircuits: (provider?: string) => Promise<void>
  /** Builds the client now (otherwise the first call does); rejects with a `FlexiConfigError` for a bad config. */
  readonly ready: () => Promise<void>
  /** Closes connections and releases everything; the client is unusable afterwards. */
  readonly dispose: () => Promise<void>
  readonly [Symbol.asyncDispose]: () => Promise<void>
  /** The runtime underneath, to run your own Effects with `ChatProvider` and `FlexiAI` provided. */
  readonly runtime: ManagedRuntime.ManagedRuntime<ChatProvider.ChatProvider | FlexiAI, FlexiConfigError>
}

/**
 * `make`'s way of reading the config sources (as `layerConfig`), with `env` standing in for
 * `process.env` (promise code has no `ConfigProvider` to provide).
 *
 * @category models
 */
export interface SourceOptions extends ConfigOptions {
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
}

const definedOnly = (env: Readonly<Record<string, string | undefined>>): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined))

const isSourceOptions = (config: FlexiConfig.Input | SourceOptions): config is SourceOptions =>
  Object.keys(config).length === 0 || "file" in config || "overrides" in config || "env" in config

/**
 * A `Client` over a `ManagedRuntime` of `layer(config)`, or, given `SourceOptions` (or nothing),
 * of `layerConfig(options)`: the file and the environment. Nothing is built until the first
 * call (or `ready()`); call `dispose()` when done.
 *
 * ```ts
 * const client = FlexiAI.make({ file: "flexiai.config.yaml" })
 * const answer = await client.chat("hi")
 * for await (const part of client.stream("tell me more")) if (part.type === "text-delta") process.stdout.write(part.text)
 * await client.dispose()
 * ```
 *
 * @category constructors
 */
export const make = (
  config: FlexiConfig.Input | FlexiConfig.ResolvedConfig | SourceOptions = {},
  options: Options = {}
): Client => {
  const clientLayer = isResolved(config)
    ? layer(config, options)
    : isSourceOptions(config)
    ? config.env === undefined
      ? layerConfig({ ...options, ...config })
      : layerConfig({ ...options, ...config }).pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: definedOnly(config.env) }))))
    : layer(config, options)
  const runtime = ManagedRuntime.make(clientLayer)
  const control = <A, E>(f: (flexi: FlexiAI["Service"]) => Effect.Effect<A, E>) => runtime.runPromise(FlexiAI.use(f))

  const stream = (input: ChatRequest.ChatInput): AsyncIterable<StreamPart> => ({
    [Symbol.asyncIterator]() {
      // the runtime may still be building: open the Effect stream's iterator on the first `next`
      let opening: Promise<AsyncIterator<StreamPart>> | undefined
      const open = () =>
        opening ??= runtime.context().then((context) =>
          Stream.toAsyncIterableWith(ChatProvider.stream(input), context)[Symbol.asyncIterator]()
        )
      const done: IteratorReturnResult<undefined> = { done: true, value: undefined }
      return {
        next: () => open().then((iterator) => iterator.next()),
        return: () => opening === undefined ? Promise.resolve(done) : opening.then((iterator) => iterator.return?.() ?? done),
        throw: (error: unknown) =>
          opening === undefined ? Promise.reject(error) : opening.then((iterator) => iterator.throw?.(error) ?? Promise.reject(error))
      }
    }
  })

  const dispose = () => runtime.dispose()
  return {
    chat: (input) => runtime.runPromise(ChatProvider.chat(input)),
    stream,
    status: () => control((flexi) => flexi.status),
    stats: () => control((flexi) => flexi.stats),
    health: () => control((flexi) => flexi.health),
    listModels: () => control((flexi) => flexi.listModels),
    setPrimary: (name) => control((flexi) => flexi.setPrimary(name)),
    disable: (name) => control((flexi) => flexi.disable(name)),
    enable: (name) => control((flexi) => flexi.enable(name)),
    resetCircuits: (provider) => control((flexi) => flexi.resetCircuits(provider)),
    ready: () => runtime.context().then(() => undefined),
    dispose,
    [Symbol.asyncDispose]: dispose,
    runtime
  }
}
