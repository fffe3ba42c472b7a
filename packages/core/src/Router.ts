/**
 * Failover across providers. The router is itself a `ChatProvider`: it tries providers by
 * priority, retries each with a `Schedule`, guards each (provider, model) with a circuit, skips
 * what is open, rate limited or disabled without a call, and records every attempt.
 *
 * **Chat.** Failover is `Effect.firstSuccessOf` over the candidates. A reason no provider can fix
 * (`InvalidRequest`, `ContentFiltered`, unless the policy says otherwise) leaves as a value so
 * `firstSuccessOf` stops at once and the caller gets the provider's own reason. When every
 * candidate fails, `AllProvidersFailed` lists each attempt. One deadline bounds the whole call
 * and interrupts whatever is in flight.
 *
 * **Streams.** A stream fails over freely until its first content part: an error, a cut or a
 * stall before any text moves on to the next provider, and the consumer never sees it. After
 * that the stream policy decides (`fail`, `restart`, `continue`; see `RouterPolicy`). The first
 * part is awaited under the first-token timeout, later parts under the idle timeout, and all of it
 * under the call's deadline: past it the stream fails with the partial output, whatever the
 * policy. An event the provider's decoder cannot read breaks the attempt like any other failure
 * (`onMalformedEvent`, which the router hands to each provider's stream).
 *
 * Reasoning (`reasoning-delta`) is content here: it is the first token for the timeout, and once
 * the caller has seen it the stream policy decides. `restart` tells the caller to discard it with
 * the rest; `continue` prefills only the answer text (reasoning is never sent back as a prefill),
 * and when no text came yet it restarts instead, since there is nothing to continue from.
 *
 * Retries sit inside the breaker, so a circuit sees one outcome per attempt, not per try.
 *
 * **Control.** `disable`/`enable` act on this process's slots, which the hot path reads as plain
 * fields; with a store several processes share (`CircuitBreaker.Shared`) they are also written
 * through it, and a background fiber applies what other processes set, as it does for shared
 * Retry-After cooldowns, so no call does any work for either.
 *
 * **Events.** Built with a `RouterEvents` in context (read once, here), the router publishes a
 * `RouterEvent` at each attempt start and finish, retry, skip, failover, first token, stream
 * restart or resume and circuit transition; a call started while nobody listens builds none, and
 * a router built without the service has no event code on its path at all (`internal/router/Observe.ts`).
 * Under an installed tracer, each provider request gets a GenAI client span (`GenAiSpans`).
 *
 * **Per call.** `withCallOptions` sets a deadline and the providers to use or avoid for the calls
 * of one effect or stream, without touching the request (see `CallOptions`).
 *
 * @since 0.1.0
 */
import { Clock, Context, Data, Duration, Effect, Layer, Option, Ref, Scope, Stream } from "effect"
import * as Capabilities from "./Capabilities.ts"
import * as ChatProvider from "./ChatProvider.ts"
import * as CircuitBreaker from "./CircuitBreaker.ts"
import * as RetryPolicy from "./RetryPolicy.ts"
import * as RouterPolicy from "./RouterPolicy.ts"
import * as RouterEvents from "./RouterEvents.ts"
import { makeAttempts } from "./internal/router/Attempt.ts"
import { CurrentCallOptions, type Resolved as ResolvedCallOptions } from "./internal/router/CallOptions.ts"
import { makeChat } from "./internal/router/ChatFailover.ts"
import { makeObserver } from "./internal/router/Observe.ts"
import { makeStream } from "./internal/router/StreamFailover.ts"
import { percentile, routesOf, type Slot, sortSlots } from "./internal/router/Slot.ts"

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

/**
 * One provider in the router: its layer, its priority (lower first; equal priorities keep the
 * declared order), whether it starts enabled (with a shared store, the shared record of
 * `disable`/`enable` wins over it), and policy fields that override the router's for this
 * provider only (retries, timeouts, stream policy).
 *
 * @category models
 */
export interface ProviderEntry<E = never, R = never> {
  readonly layer: Layer.Layer<ChatProvider.ChatProvider, E, R>
  readonly priority?: number | undefined
  readonly enabled?: boolean | undefined
  readonly policy?: RouterPolicy.Policy | undefined
  /**
   * The models this provider serves, for model routing: a name a request may give (an alias such
   * as `"fast"`) → the model id this provider is sent. A provider that declares `models` (even
   * `{}`) serves only those names, the ids they map to and its default model; a request naming
   * another model skips it without a call, and one no candidate serves fails with `NotFound`
   * before any request is sent. `"*": "*"` also accepts any other model as it is named. Leave it
   * out and the provider is sent every request's model as it is (the router's behaviour when no
   * provider declares models). `FlexiAI.layer` declares every provider's, from config.
   */
  readonly models?: Readonly<Record<string, string>> | undefined
}

/** @category models */
export interface Options<E = never, R = never> {
  readonly providers: ReadonlyArray<ProviderEntry<E, R> | Layer.Layer<ChatProvider.ChatProvider, E, R>>
  readonly policy?: RouterPolicy.Policy | undefined
}

// ---------------------------------------------------------------------------
// control service
// ---------------------------------------------------------------------------

/** A provider's health and counters, as `Router.status` reports them. No secrets. @category models */
export interface ProviderStatus {
  readonly name: string
  readonly position: number
  readonly priority: number
  readonly enabled: boolean
  readonly defaultModel: string
  /** Circuits of this provider, one per model used, keyed `provider:model`. */
  readonly circuits: ReadonlyArray<{ readonly key: string; readonly state: CircuitBreaker.State["_tag"] }>
  /** Clock millis until which a long Retry-After keeps the provider skipped. */
  readonly rateLimitedUntil: number | undefined
  readonly requests: number
  readonly successes: number
  readonly failures: number
  readonly skipped: number
  readonly successRate: number | undefined
  readonly latencyP50Millis: number | undefined
  readonly latencyP95Millis: number | undefined
  readonly lastError: { readonly reason: string; readonly message: string; readonly at: number } | undefined
}

/** Router-wide counters. @category models */
export interface Stats {
  readonly requests: number
  readonly attempts: number
  readonly failovers: number
  readonly failed: number
}

/** A provider name the router does not know. @category errors */
export class UnknownProvider extends Data.TaggedError("UnknownProvider")<{
  readonly name: string
  readonly known: ReadonlyArray<string>
}> {
  override get message(): string {
    return `unknown provider "${this.name}" (known: ${this.known.join(", ")})`
  }
}

/**
 * Runtime control of a router: order, enablement, status. Provided next to `ChatProvider` by
 * `Router.layer`.
 *
 * @category services
 */
export class Router extends Context.Service<Router, {
  /** Provider names in the order they are tried. */
  readonly order: Effect.Effect<ReadonlyArray<string>>
  /** Moves `name` to the front. */
  readonly setPrimary: (name: string) => Effect.Effect<void, UnknownProvider>
  /** Sets the order; names left out keep their relative order after the ones given. */
  readonly reorder: (names: ReadonlyArray<string>) => Effect.Effect<void, UnknownProvider>
  /**
   * Skips `name` on every call until `enable`d. Per process with a per-process breaker; with a
   * store several processes share (`CircuitBreaker.Shared`), every process sharing it, including
   * those started later (see the store for what happens while it is unreachable).
   */
  readonly disable: (name: string) => Effect.Effect<void, UnknownProvider>
  /** Undoes `disable` (or a configured `enabled: false`), as widely as `disable` acts. */
  readonly enable: (name: string) => Effect.Effect<void, UnknownProvider>
  readonly status: Effect.Effect<ReadonlyArray<ProviderStatus>>
  readonly stats: Effect.Effect<Stats>
  /** The policy's deadline: what a call without one of its own (`withCallOptions`) gets. */
  readonly deadline: Duration.Duration
}>()("@flexiai/core/Router") {}

// ---------------------------------------------------------------------------
// per-call options
// ---------------------------------------------------------------------------

/**
 * Options for the router calls of one effect or stream, set with `withCallOptions`. They are not
 * part of `ChatRequest` (what providers put on the wire): they tell the router how to run the call.
 *
 * - `deadline` replaces the policy's `deadline` for the call, longer or shorter: the whole call,
 *   failover and a stream to its last part, as the policy's deadline does. Each attempt's own
 *   limits (`attemptTimeout`, `firstTokenTimeout`, `idleTimeout`) still apply.
 * - `providers.only`: only these providers are candidates; `providers.avoid`: these are not. The
 *   candidates keep the router's order (priority, `setPrimary`, `reorder`); `only` does not reorder.
 *   A disabled provider or an open circuit among them is still skipped, as on any call.
 *
 * **Gotchas**: a name the router does not know fails with `UnknownProvider`, and options that
 * leave no provider (`only: []`, or `avoid` covering every `only`) fail with `InvalidCallOptions`,
 * both before any request is sent. The options are the router's: providers it calls (a router
 * among them) do not see them.
 *
 * @category models
 */
export interface CallOptions {
  readonly deadline?: Duration.Input | undefined
  readonly providers?: {
    readonly only?: ReadonlyArray<string> | undefined
    readonly avoid?: ReadonlyArray<string> | undefined
  } | undefined
}

/** Per-call options the router cannot honour: a deadline that is not a positive duration, or no provider left. @category errors */
export class InvalidCallOptions extends Data.TaggedError("InvalidCallOptions")<{
  readonly field: "deadline" | "providers"
  readonly message: string
}> {}

const checkNames = (names: ReadonlyArray<string> | undefined, known: ReadonlyArray<string>) => {
  if (names === undefined) return undefined
  for (const name of names) if (!known.includes(name)) return new UnknownProvider({ name, known })
  return undefined
}

// Checks `options` against the router's names and merges them over the options already set (an
// inner `withCallOptions` overrides the fields it sets and keeps the others).
const resolveCallOptions = (
  options: CallOptions,
  outer: ResolvedCallOptions | undefined,
  known: ReadonlyArray<string>
): Effect.Effect<ResolvedCallOptions, UnknownProvider | InvalidCallOptions> => {
  let deadline = outer?.deadline
  if (options.deadline !== undefined) {
    const decoded = Duration.fromInput(options.deadline)
    if (Option.isNone(decoded)) {
      return Effect.fail(new InvalidCallOptions({ field: "deadline", message: `deadline: expected a duration, got ${String(options.deadline)}` }))
    }
    if (Duration.isZero(decoded.value) || Duration.isNegative(decoded.value)) {
      return Effect.fail(new InvalidCallOptions({ field: "deadline", message: `deadline: expected a positive duration, got ${Duration.format(decoded.value)}` }))
    }
    deadline = decoded.value
  }
  const only = options.providers?.only
  const avoid = options.providers?.avoid
  const unknown = checkNames(only, known) ?? checkNames(avoid, known)
  if (unknown !== undefined) return Effect.fail(unknown)
  const resolved: ResolvedCallOptions = {
    deadline,
    only: only === undefined ? outer?.only : new Set(only),
    avoid: avoid === undefined ? outer?.avoid : new Set(avoid)
  }
  const left = known.filter((name) =>
    (resolved.only === undefined || resolved.only.has(name)) && (resolved.avoid === undefined || !resolved.avoid.has(name))
  )
  if (left.length === 0) {
    const only = resolved.only === undefined ? "" : ` only [${[...resolved.only].join(", ")}]`
    const avoid = resolved.avoid === undefined ? "" : ` avoid [${[...resolved.avoid].join(", ")}]`
    return Effect.fail(
      new InvalidCallOptions({
        field: "providers",
        message: `no provider left to try:${only}${avoid} (providers: ${known.join(", ")})`
      })
    )
  }
  return Effect.succeed(resolved)
}

/** What `withCallOptions` makes of an effect or a stream: it may fail with a bad option and needs the `Router`. @category models */
export type WithCallOptionsOf<Self> = Self extends Stream.Stream<infer A, infer E, infer R>
  ? Stream.Stream<A, E | UnknownProvider | InvalidCallOptions, R | Router>
  : Self extends Effect.Effect<infer A, infer E, infer R> ? Effect.Effect<A, E | UnknownProvider | InvalidCallOptions, R | Router>
  : never

/**
 * `withCallOptions(options)`, for an effect or a stream. One generic signature rather than two
 * overloads: passed to `pipe`, an overloaded function is read as its last overload only.
 *
 * @category models
 */
export type WithCallOptions = <
  Self extends Effect.Effect<unknown, unknown, unknown> | Stream.Stream<unknown, unknown, unknown>
>(self: Self) => WithCallOptionsOf<Self>

/**
 * Runs the router calls of an effect or a stream with per-call options (`CallOptions`): a deadline
 * of their own, providers to use or to avoid. The options are checked against the `Router` in
 * context each time the effect runs, before any request; the router reads them once per call.
 * Nested, the inner options override the fields they set. Without options it changes nothing.
 *
 * **Example**
 *
 * ```ts
 * const answer = chat("hi").pipe(
 *   Router.withCallOptions({ deadline: "5 seconds", providers: { avoid: ["openai"] } })
 * )
 * ```
 *
 * @category combinators
 */
export const withCallOptions = (options: CallOptions): WithCallOptions => {
  const empty = options.deadline === undefined && options.providers?.only === undefined &&
    options.providers?.avoid === undefined
  const resolved = Effect.flatMap(Router.use((router) => router.order), (known) =>
    Effect.flatMap(Effect.service(CurrentCallOptions), (outer) => resolveCallOptions(options, outer, known)))
  return (<A, E, R>(self: Effect.Effect<A, E, R> | Stream.Stream<A, E, R>) => {
    if (empty) return self
    if (Stream.isStream(self)) {
      const stream = self as Stream.Stream<A, E, R>
      return Stream.unwrap(Effect.map(resolved, (checked) => Stream.provideService(stream, CurrentCallOptions, checked)))
    }
    const effect = self as Effect.Effect<A, E, R>
    return Effect.flatMap(resolved, (checked) => Effect.provideService(effect, CurrentCallOptions, checked))
  }) as WithCallOptions
}

// ---------------------------------------------------------------------------
// internals
// ---------------------------------------------------------------------------

const isEntry = <E, R>(
  item: ProviderEntry<E, R> | Layer.Layer<ChatProvider.ChatProvider, E, R>
): item is ProviderEntry<E, R> => !Layer.isLayer(item)

// ---------------------------------------------------------------------------
// constructor
// ---------------------------------------------------------------------------

/**
 * Builds every provider layer in the current scope and returns the router's `ChatProvider` and
 * its `Router` control service.
 *
 * @category constructors
 */
export const make = Effect.fnUntraced(function*<E, R>(options: Options<E, R>) {
  const breaker = yield* CircuitBreaker.CircuitBreaker
  const scope = yield* Scope.Scope
  const routerPolicy = RouterPolicy.resolve(options.policy)

  const built: Array<Slot> = []
  for (const [index, item] of options.providers.entries()) {
    const entry: ProviderEntry<E, R> = isEntry(item) ? item : { layer: item }
    const context = yield* Layer.buildWithScope(entry.layer, scope)
    const provider = Context.get(context, ChatProvider.ChatProvider)
    if (built.some((slot) => slot.name === provider.name)) {
      return yield* Effect.die(new Error(`Router: two providers are named "${provider.name}" (entry ${index})`))
    }
    const policy = RouterPolicy.resolve(entry.policy, routerPolicy)
    const routing = entry.models === undefined ? undefined : routesOf(entry.models, provider.defaultModel)
    built.push({
      name: provider.name,
      provider,
      priority: entry.priority ?? 0,
      policy,
      schedule: RetryPolicy.make(policy),
      models: new Set(),
      routes: routing?.routes,
      anyModel: routing?.anyModel ?? false,
      knownOpen: new Map(),
      limited: Capabilities.isLimited(provider.capabilities),
      enabled: entry.enabled ?? true,
      rateLimitedUntil: 0,
      requests: 0,
      successes: 0,
      failures: 0,
      skipped: 0,
      latencies: [],
      latencyCursor: 0,
      lastError: undefined
    })
  }
  // A shared store's cooldowns (a long Retry-After another process heard) land on the slots, where
  // the hot path reads them as it reads its own: nothing is added per call.
  const shared = breaker.shared
  if (shared !== undefined) {
    const byName = new Map(built.map((slot) => [slot.name, slot]))
    yield* Stream.runForEach(shared.cooldowns, (cooldown) =>
      Effect.clockWith((clock) =>
        Effect.sync(() => {
          const slot = byName.get(cooldown.name)
          if (slot !== undefined) {
            slot.rateLimitedUntil = Math.max(slot.rateLimitedUntil, clock.currentTimeMillisUnsafe() + cooldown.millis)
          }
        })
      )).pipe(Effect.forkIn(scope))
    // Enablement set in any process (`disable`/`enable` below share it) lands on the slots the
    // same way: the shared record when the router starts, then every change. The record wins
    // over a provider's configured `enabled`.
    yield* Stream.runForEach(shared.enablement, (change) =>
      Effect.sync(() => {
        const slot = byName.get(change.name)
        if (slot !== undefined) slot.enabled = change.enabled
      })).pipe(Effect.forkIn(scope))
  }
  const order = yield* Ref.make<ReadonlyArray<Slot>>(sortSlots(built))
  const totals = { requests: 0, attempts: 0, failovers: 0, failed: 0 }

  // events (`RouterEvents`), when the service is there: read once, here, never per call
  const hub = Option.getOrUndefined(yield* Effect.serviceOption(RouterEvents.RouterEvents))
  const observer = hub === undefined ? undefined : makeObserver(hub)
  if (hub !== undefined) {
    yield* Stream.runForEach(breaker.transitions, (transition) =>
      Effect.sync(() => {
        if (hub.active) hub.emit({ type: "circuit-transition", ...transition })
      })).pipe(Effect.forkIn(scope, { startImmediately: true })) // subscribed before the first call
  }
  const attempts = makeAttempts(breaker, totals, observer)
  const deps = { attempts, breaker, observer, order, routerPolicy, totals }
  const chat = makeChat(deps)
  const stream = makeStream(deps)

  // -------------------------------------------------------------------------
  // control
  // -------------------------------------------------------------------------

  const find = (name: string) =>
    Effect.flatMap(Ref.get(order), (slots) => {
      const slot = slots.find((candidate) => candidate.name === name)
      return slot === undefined
        ? Effect.fail(new UnknownProvider({ name, known: slots.map((candidate) => candidate.name) }))
        : Effect.succeed(slot)
    })

  const reorder = (names: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      for (const name of names) yield* find(name)
      yield* Ref.update(order, (slots) => [
        ...names.map((name) => slots.find((slot) => slot.name === name)!),
        ...slots.filter((slot) => !names.includes(slot.name))
      ])
    })

  // This process's slot changes at once; a shared store then tells the others (in the background).
  const setEnabled = (name: string, enabled: boolean) =>
    Effect.flatMap(find(name), (slot) => {
      slot.enabled = enabled
      return shared === undefined ? Effect.void : shared.shareEnabled(name, enabled)
    })

  const status = Effect.gen(function*() {
    const slots = yield* Ref.get(order)
    const now = yield* Clock.currentTimeMillis
    const result: Array<ProviderStatus> = []
    for (const [position, slot] of slots.entries()) {
      const circuits: Array<{ key: string; state: CircuitBreaker.State["_tag"] }> = []
      for (const model of slot.models) {
        const key = `${slot.name}:${model}`
        circuits.push({ key, state: (yield* breaker.state(key))._tag })
      }
      const settled = slot.successes + slot.failures
      result.push({
        name: slot.name,
        position,
        priority: slot.priority,
        enabled: slot.enabled,
        defaultModel: slot.provider.defaultModel,
        circuits,
        rateLimitedUntil: slot.rateLimitedUntil > now ? slot.rateLimitedUntil : undefined,
        requests: slot.requests,
        successes: slot.successes,
        failures: slot.failures,
        skipped: slot.skipped,
        successRate: settled === 0 ? undefined : slot.successes / settled,
        latencyP50Millis: percentile(slot.latencies, 0.5),
        latencyP95Millis: percentile(slot.latencies, 0.95),
        lastError: slot.lastError === undefined ? undefined : { ...slot.lastError }
      })
    }
    return result
  })

  const control = Router.of({
    order: Effect.map(Ref.get(order), (slots) => slots.map((slot) => slot.name)),
    setPrimary: (name) => reorder([name]),
    reorder,
    disable: (name) => setEnabled(name, false),
    enable: (name) => setEnabled(name, true),
    status,
    stats: Effect.sync(() => ({ ...totals })),
    deadline: routerPolicy.deadline
  })

  const first = sortSlots(built)[0]
  const provider = ChatProvider.ChatProvider.of({
    name: "router",
    defaultModel: first?.provider.defaultModel ?? "",
    // what some candidate can do: a router inside another one is skipped only when all of its own would be
    capabilities: Capabilities.union(built.map((slot) => slot.provider.capabilities)),
    chat,
    stream
  })
  return { provider, control }
})

// ---------------------------------------------------------------------------
// layers
// ---------------------------------------------------------------------------

/**
 * The router as a layer: provides `ChatProvider` (the failover router) and `Router` (control
 * and status). Needs a `CircuitBreaker`; `CircuitBreaker.layerMemory()` keeps circuits in
 * this process.
 *
 * **Example**
 *
 * ```ts
 * const AppLayer = Router.layer({
 *   providers: [OpenAiLayer, { layer: AnthropicLayer, priority: 1 }],
 *   policy: { streamPolicy: "restart", deadline: "30 seconds" }
 * }).pipe(Layer.provide(CircuitBreaker.layerMemory()))
 * ```
 *
 * @category layers
 */
export const layer = <E = never, R = never>(
  options: Options<E, R>
): Layer.Layer<ChatProvider.ChatProvider | Router, E, Exclude<R, Scope.Scope> | CircuitBreaker.CircuitBreaker> =>
  Layer.effectContext(
    Effect.map(make(options), ({ control, provider }) =>
      Context.make(ChatProvider.ChatProvider, provider).pipe(Context.add(Router, control)))
  )
