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
 * priorities, FlexiAI's logging (`config.logging`, for FlexiAI's own lines), and the kit's HTTP
 * client over undici (`UndiciHttpClient`). They provide
 * `ChatProvider` (the router) and `FlexiAI` (control: status, order, circuits, health, models,
 * stats). `make(config)` wraps the same layer in a `ManagedRuntime` for code not written in
 * Effect (see `Client`).
 *
 * Decisions worth knowing:
 * - A bad config, or a provider kind no registered descriptor declares, fails *layer
 *   construction* with one `FlexiConfigError` listing every problem by path; no provider is built
 *   before that. The kinds are the bundled descriptors' (`Providers.bundled`) and `options.providers`.
 * - Per-provider `breaker` settings are honoured: the `CircuitBreaker` is one service, so when
 *   some provider's settings differ from the top-level `breaker`, each distinct setting gets its
 *   own in-memory breaker and a routing breaker sends every circuit key (`provider:model`) to its
 *   provider's. `states`, `reset` and `transitions` see all of them.
 * - Per-provider `retry` becomes the router's per-provider `policy.retry`.
 * - Health probes and model listings call the providers directly, not through the router: a probe
 *   must not trip or close a circuit, nor count as a request in `status`.
 * - `logging.level` and `format` apply to FlexiAI's own lines only (attempts, summaries, wire
 *   bodies, config warnings): FlexiAI's effects run with that minimum level, and its format takes
 *   the place of Effect's default console logger for them. The app's loggers and minimum level are
 *   left as they were, and FlexiAI's lines go to the app's loggers (`internal/logScope.ts`).
 * - Request/response summaries are logged at Debug inside the router's call scope, so they carry
 *   the same `callId` as the attempt lines; they hold counts, model names and usage, never
 *   message content, headers or keys. They are only wired in when `logging.level` enables Debug,
 *   so a production config pays nothing for them.
 * - Observability is code, not config: `Options.middleware`, `observers`, `metrics`, `events`
 *   (`internal/observability.ts`). The router always gets an event hub (`FlexiAI.events` can be
 *   read at any time); a call nobody observes builds no event.
 *
 * @since 0.1.0
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { FlexiConfig, type FlexiConfigError } from "@flexiai/config"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import type * as Budget from "@flexiai/core/Budget"
import * as ChatRequest from "@flexiai/core/ChatRequest"
import * as CircuitBreaker from "@flexiai/core/CircuitBreaker"
import type * as Ledger from "@flexiai/core/Ledger"
import type * as Metering from "@flexiai/core/Metering"
import type { ProviderError } from "@flexiai/core/ProviderError"
import type * as Middleware from "@flexiai/core/Middleware"
import type { ChatError } from "@flexiai/core/ProviderError"
import * as Router from "@flexiai/core/Router"
import type { RouterEvent } from "@flexiai/core/RouterEvent"
import type * as RouterEvents from "@flexiai/core/RouterEvents"
import type * as RouterMetrics from "@flexiai/core/RouterMetrics"
import { Clock, Context, Duration, Effect, Layer, References, Scope, Stream } from "effect"
import type * as ProviderKind from "@flexiai/provider/ProviderKind"
import * as UndiciHttpClient from "@flexiai/provider/UndiciHttpClient"
import type { HttpClient } from "effect/http"
import * as ProviderLayers from "./ProviderLayers.ts"
import { makeBreaker } from "./internal/breaker.ts"
import { type Built, makeControl } from "./internal/control.ts"
import * as Observability from "./internal/observability.ts"
import { debugLevels, withDebugLines } from "./internal/debugLines.ts"
import * as LogScope from "./internal/logScope.ts"
import * as MeteringSetup from "./internal/metering.ts"
import * as CacheSetup from "./internal/cache.ts"
import * as ResponseCache from "@flexiai/core/ResponseCache"
import * as RateLimitSetup from "./internal/rateLimit.ts"
import * as Providers from "./Providers.ts"

// ---------------------------------------------------------------------------
// models
// ---------------------------------------------------------------------------

/**
 * A whole config given in code: durations as numbers or strings, secrets as strings or
 * `Redacted`, providers of the bundled kinds (`Providers.bundled`) or of `Extra`, the descriptors
 * given in `Options.providers`, each typed by its descriptor.
 *
 * @category models
 */
export type Input<Extra extends ProviderKind.Any = never> = FlexiConfig.InputOf<Providers.Bundled | Extra>

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
   * The HTTP client providers send through. Default `@flexiai/provider`'s `UndiciHttpClient.layer`
   * (an Effect `HttpClient` straight over undici's dispatcher, cheaper per request and per stream
   * than Effect's own undici client); give your own (`NodeHttpClient.layerUndici` from
   * `@effect/platform-node`, Effect's `FetchHttpClient.layer`, a client with your proxy or a
   * `mapRequest`) to change it. A provider that sets `timeouts.connect` still gets an undici client
   * of its own with that connect timeout.
   */
  readonly httpClient?: Layer.Layer<HttpClient.HttpClient> | undefined
  /**
   * Provider descriptors beyond the bundled ones (`Providers.bundled`): a provider package of your
   * own, or a replacement for a bundled kind (the last descriptor of a kind wins). Config accepts
   * their kinds, reads their standard variables and detects them; the router builds them like any
   * other provider.
   */
  readonly providers?: ReadonlyArray<ProviderKind.Any> | undefined
  /**
   * Middleware around every call (`Middleware`): `all` around the router as a whole (it sees the
   * request as the caller sent it, and the answer after failover), `providers` around one provider
   * by name (inside the router: it sees the request that provider is sent). The first of a list
   * is the outermost. A failing middleware fails the call with its own error (see `Middleware`).
   */
  readonly middleware?: {
    readonly all?: ReadonlyArray<Middleware.Middleware<ChatError>> | undefined
    readonly providers?: Readonly<Record<string, ReadonlyArray<Middleware.Middleware<ChatError>>>> | undefined
  } | undefined
  /** The event hub's options (`RouterEvents.Options`: how far a subscriber may fall behind). */
  readonly events?: RouterEvents.Options | undefined
  /**
   * Effects run for every router event (`RouterEvent`), each on a fiber of its own: a failing
   * one is logged (Warn) and keeps receiving events, a slow one loses the oldest events it has
   * not read yet; neither fails nor slows a call.
   */
  readonly observers?: ReadonlyArray<(event: RouterEvent) => Effect.Effect<void, unknown>> | undefined
  /**
   * Feeds `RouterMetrics` (Effect `Metric`s: export them with `PrometheusMetrics` or `OtlpMetrics`)
   * into the `Metric.MetricRegistry` of the context the layer is built in. Default off.
   */
  readonly metrics?: boolean | RouterMetrics.Options | undefined
}


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
  /** Where its circuits live now: see `CircuitStore`. */
  readonly circuitStore: CircuitStore
  /** This provider's usage and cost totals in this process (`undefined` with metering off). */
  readonly usage: Ledger.Totals | undefined
  readonly lastError: {
    readonly reason: string
    readonly message: string
    /** Clock millis. */
    readonly at: number
    /** `at` as an ISO-8601 string. */
    readonly time: string
  } | undefined
}

/**
 * Where circuits (and `disable`/`enable`) live: `local` (in this process: no `redis` configured),
 * `shared` (in Redis, seen by every process), `degraded` (Redis is configured but unreachable: per
 * process until it returns).
 *
 * @category models
 */
export type CircuitStore = "local" | "shared" | "degraded"

/**
 * Usage and cost totals of this process (overall, per provider, model and tag) and the budgets'
 * current windows. `usage` is `undefined` with metering off (`pricing.enabled: false`).
 *
 * @category models
 */
export interface Costs {
  readonly usage: Ledger.Report | undefined
  readonly budgets: ReadonlyArray<Budget.Standing>
}

/** Router-wide counters plus each provider's, and the usage and cost totals. @category models */
export interface Stats extends Router.Stats, Costs {
  readonly providers: ReadonlyArray<{
    readonly name: string
    readonly requests: number
    readonly successes: number
    readonly failures: number
    readonly skipped: number
  }>
}

/** One provider's health: its probe, its circuits and its recent chats. @category models */
export interface ProviderHealth {
  readonly name: string
  readonly kind: string
  /** Its probe answered, none of its circuits is open or half-open, and its recent chats did not all fail. */
  readonly ok: boolean
  /** What was asked: the model list where the provider has one, else a one-token chat. */
  readonly probe: "listModels" | "chat"
  readonly latencyMillis: number
  readonly error?: { readonly reason: string; readonly message: string } | undefined
}

/** @category models */
export interface HealthReport {
  /** `ok`: every provider is `ok`; `degraded`: some are; `down`: none is. */
  readonly status: "ok" | "degraded" | "down"
  /** Clock millis of the probes (a cached report keeps the time it was made). */
  readonly checkedAt: number
  readonly providers: ReadonlyArray<ProviderHealth>
  /** Where circuits live at the time of asking (not cached with the report). */
  readonly circuitStore: CircuitStore
}

/** A model and the provider that offers it. @category models */
export interface ModelInfo {
  readonly id: string
  readonly ownedBy?: string | undefined
  /** Context window in tokens, where the provider's list says (Flow's does). */
  readonly contextWindow?: number | undefined
  /** What the model can do, as the provider's list names it, where it says. */
  readonly capabilities?: ReadonlyArray<string> | undefined
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
  /**
   * Skips provider `name` on every call until `enable`d: in this process, or with `redis`
   * configured in every process on that Redis and prefix, those started later included (while
   * Redis is unreachable, in this process only; when it returns, Redis's record wins).
   */
  readonly disable: (name: string) => Effect.Effect<void, Router.UnknownProvider>
  /** Undoes `disable` (or a configured `enabled: false`), as widely as `disable` acts. */
  readonly enable: (name: string) => Effect.Effect<void, Router.UnknownProvider>
  /** Closes every circuit (or only `provider`'s) and forgets their failure counts. */
  readonly resetCircuits: (provider?: string) => Effect.Effect<void, Router.UnknownProvider>
  /** A cheap probe per provider, reused for `healthTtl`. */
  readonly health: Effect.Effect<HealthReport>
  /** Every provider's models, merged; each provider's list is reused for `modelsTtl`. */
  readonly listModels: Effect.Effect<ModelList>
  /** Usage and cost totals, and the budgets' current windows. */
  readonly costs: Effect.Effect<Costs>
  /**
   * What a request is expected to cost before it is sent: on its `model`, else the first
   * provider's default model (see `Metering.CostEstimate`; the tokenizer where the model has one).
   * Fails with `InvalidRequest` for a request that does not decode.
   */
  readonly estimateCost: (input: ChatRequest.ChatInput) => Effect.Effect<Metering.CostEstimate, ProviderError>
  /**
   * Every router event (`RouterEvent`, order documented there) from the moment the stream runs
   * until it stops; events are built only while some stream, observer or metric listens. A reader
   * that falls behind by more than `events.capacity` loses the oldest.
   */
  readonly events: Stream.Stream<RouterEvent>
}>()("flexiai/FlexiAI") {}

// ---------------------------------------------------------------------------
// assembly
// ---------------------------------------------------------------------------

type Label = (provider: FlexiConfig.ResolvedProvider, index: number) => string

const nameLabel: Label = (provider) => `provider "${provider.name}"`

const build = (config: FlexiConfig.ResolvedConfig, label: Label, options: Options) =>
  Effect.gen(function*() {
    const registry = Providers.withExtra(options.providers)
    // config accepts only registered kinds; a ResolvedConfig loaded with other descriptors may not
    const unavailable = ProviderLayers.unavailable(config.providers, label, config.file, registry)
    if (unavailable !== undefined) return yield* Effect.fail(unavailable)

    const scope = yield* Scope.Scope
    const debug = debugLevels.has(config.logging.level)
    const hub = yield* Observability.make(options, scope)
    const providerMiddleware = options.middleware?.providers ?? {}
    const built: Array<Built> = []
    for (const provider of config.providers) {
      const chatLayer = ProviderLayers.chatLayer(provider, registry)!
      const http = ProviderLayers.httpClientLayer(provider)
      const context = yield* Layer.buildWithScope(http === undefined ? chatLayer : Layer.provide(chatLayer, http), scope)
      built.push({ config: provider, provider: Context.get(context, ChatProvider.ChatProvider) })
    }

    const breaker = yield* makeBreaker(config, scope)
    // each provider metered on its own (cost, totals, budgets), so each attempt is
    const metering = yield* MeteringSetup.make(config, scope)
    // rate limits innermost: what they decide is before anything is sent (undefined: none configured)
    // the decision is made inside the router's call, whose logs carry its `callId`: the event too
    const rateLimits = yield* RateLimitSetup.make(config, scope, (decision) =>
      Effect.withFiber((fiber) => {
        if (hub.active) {
          const callId = fiber.getRef(References.CurrentLogAnnotations)["callId"]
          hub.emit({
            type: "rate-limit",
            ...(typeof callId === "string" ? { callId } : {}),
            ...decision,
            at: fiber.getRef(Clock.Clock).currentTimeMillisUnsafe()
          })
        }
        return Effect.void
      }))
    const { control, provider } = yield* Router.make({
      providers: built.map(({ config: entry, provider: service }) => ({
        layer: Layer.succeed(
          ChatProvider.ChatProvider,
          Observability.withMiddleware(
            // metering inside the middleware: it prices the request as the provider gets it
            (metering === undefined ? (inner: typeof service) => inner : metering.wrap)(
              rateLimits === undefined
                ? (debug ? withDebugLines(service) : service)
                : rateLimits.wrap(entry, debug ? withDebugLines(service) : service)
            ),
            providerMiddleware[service.name]
          )
        ),
        priority: entry.priority,
        policy: { retry: entry.retry },
        // every configured provider routes models: a request's model goes only to those that serve it
        models: ProviderLayers.modelRoutes(entry, registry)
      })),
      policy: config.policy
    }).pipe(Effect.provideService(CircuitBreaker.CircuitBreaker, breaker), Observability.provideHub(hub))

    const flexi = FlexiAI.of({ ...(yield* makeControl(built, control, breaker, options, metering)), events: hub.events })
    // the response cache is the innermost of `middleware.all`: the key sees the request as the router gets it
    const cache = yield* CacheSetup.make(config, hub, scope)
    const all = cache === undefined
      ? options.middleware?.all
      : [...(options.middleware?.all ?? []), ResponseCache.middleware(cache)]
    // Router.Router too: `Router.withCallOptions` checks provider names against it
    return Context.make(ChatProvider.ChatProvider, Observability.withMiddleware(provider, all)).pipe(
      Context.add(FlexiAI, flexi),
      Context.add(Router.Router, control)
    )
  })

// FlexiAI's own effects run in its log scope (`internal/logScope.ts`): the config's level and
// format for FlexiAI's lines, the app's loggers and level untouched for everything else.
const inLogScope = (
  context: Context.Context<ChatProvider.ChatProvider | FlexiAI | Router.Router>,
  scope: LogScope.LogScope
): Context.Context<ChatProvider.ChatProvider | FlexiAI | Router.Router> => {
  const provider = Context.get(context, ChatProvider.ChatProvider)
  const flexi = Context.get(context, FlexiAI)
  const { listModels } = provider
  return Context.make(
    ChatProvider.ChatProvider,
    ChatProvider.ChatProvider.of({
      ...provider,
      chat: (request) => scope.effect(provider.chat(request)),
      stream: (request) => scope.stream(provider.stream(request)),
      ...(listModels === undefined ? {} : { listModels: scope.effect(listModels) })
    })
  ).pipe(Context.add(FlexiAI, FlexiAI.of({
    ...flexi,
    status: scope.effect(flexi.status),
    stats: scope.effect(flexi.stats),
    order: scope.effect(flexi.order),
    setPrimary: (name) => scope.effect(flexi.setPrimary(name)),
    reorder: (names) => scope.effect(flexi.reorder(names)),
    disable: (name) => scope.effect(flexi.disable(name)),
    enable: (name) => scope.effect(flexi.enable(name)),
    resetCircuits: (provider) => scope.effect(flexi.resetCircuits(provider)),
    health: scope.effect(flexi.health),
    listModels: scope.effect(flexi.listModels),
    costs: scope.effect(flexi.costs),
    estimateCost: (input) => scope.effect(flexi.estimateCost(input))
  })), Context.add(Router.Router, Context.get(context, Router.Router))) // as it is: `withCallOptions` reads its order
}

const fromResolved = (
  config: FlexiConfig.ResolvedConfig,
  label: Label,
  options: Options,
  held: ReadonlyArray<LogScope.Held> = []
): Layer.Layer<ChatProvider.ChatProvider | FlexiAI | Router.Router, FlexiConfigError, HttpClient.HttpClient> => {
  const scope = LogScope.make(config.logging)
  // building runs in the scope too: its warnings (and loading's, held until the level was known)
  // are FlexiAI's, and fibers it forks keep the scope
  const built = Effect.andThen(LogScope.replay(held), build(config, label, options))
  return Layer.effectContext(Effect.map(scope.effect(built), (context) => inLogScope(context, scope)))
}

/** Whether a config value is already resolved (`FlexiConfig.ResolvedConfig`). @category guards */
export const isResolved = <C extends object>(config: C | FlexiConfig.ResolvedConfig): config is FlexiConfig.ResolvedConfig =>
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
 *     { kind: "ollama-native", model: "llama3.2", priority: 200 }
 *   ],
 *   policy: { preset: "reliable" }
 * })
 * Effect.runPromise(chat("hi").pipe(Effect.provide(FlexiLive)))
 * ```
 *
 * @category layers
 */
export const layer = <const Extra extends ReadonlyArray<ProviderKind.Any> = readonly []>(
  config: Input<Extra[number]> | FlexiConfig.ResolvedConfig,
  options: Options & { readonly providers?: Extra | undefined } = {}
): Layer.Layer<ChatProvider.ChatProvider | FlexiAI | Router.Router, FlexiConfigError> => {
  const httpClient = options.httpClient ?? UndiciHttpClient.layer
  if (isResolved(config)) return fromResolved(config, nameLabel, options).pipe(Layer.provide(httpClient))
  // From an object the declared positions are known, so problems can say `providers[2]`.
  const declared = config.providers ?? []
  const label: Label = (provider) => {
    const index = declared.findIndex((entry) => (entry.name ?? entry.kind) === provider.name)
    return index === -1 ? nameLabel(provider, index) : `providers[${index}]`
  }
  const resolved = FlexiConfig.fromObject(config as FlexiConfig.Input, { providers: Providers.withExtra(options.providers) })
  return Layer.unwrap(Effect.map(resolved, (resolved) => fromResolved(resolved, label, options))).pipe(
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
): Layer.Layer<ChatProvider.ChatProvider | FlexiAI | Router.Router, FlexiConfigError> =>
  Layer.unwrap(
    Effect.map(
      LogScope.holdingLines(FlexiConfig.load({ file: options.file, overrides: options.overrides, providers: Providers.withExtra(options.providers) })),
      ([resolved, held]) => fromResolved(resolved, nameLabel, options, held)
    )
  ).pipe(Layer.provide(Layer.merge(NodeServices.layer, options.httpClient ?? UndiciHttpClient.layer)))

// ---------------------------------------------------------------------------
// accessors
// ---------------------------------------------------------------------------

/** @category accessors */
export const status: Effect.Effect<ReadonlyArray<ProviderStatus>, never, FlexiAI> = FlexiAI.use((flexi) => flexi.status)

/** @category accessors */
export const stats: Effect.Effect<Stats, never, FlexiAI> = FlexiAI.use((flexi) => flexi.stats)

/** @category accessors */
export const health: Effect.Effect<HealthReport, never, FlexiAI> = FlexiAI.use((flexi) => flexi.health)

/** Every router event from the moment the stream runs (see `FlexiAI.events`). @category accessors */
export const events: Stream.Stream<RouterEvent, never, FlexiAI> = Stream.unwrap(FlexiAI.use((flexi) => Effect.succeed(flexi.events)))

/** @category accessors */
export const costs: Effect.Effect<Costs, never, FlexiAI> = FlexiAI.use((flexi) => flexi.costs)

/** @category accessors */
export const estimateCost = (input: ChatRequest.ChatInput): Effect.Effect<Metering.CostEstimate, ProviderError, FlexiAI> =>
  FlexiAI.use((flexi) => flexi.estimateCost(input))

/** @category accessors */
export const listModels: Effect.Effect<ModelList, never, FlexiAI> = FlexiAI.use((flexi) => flexi.listModels)

// ---------------------------------------------------------------------------
// code not written in Effect: the promise client, in Client.ts
// ---------------------------------------------------------------------------

export { type CallOptions, type Client, make, type SourceOptions } from "./Client.ts"
