/**
 * The router's per-provider state (`Slot`) and the pure pieces every path shares: the sentinels a
 * try fails with inside `firstSuccessOf`, which model a call uses, whether a failure fails over,
 * the `continue` prefill, latency samples and priority order.
 *
 * Internal: not exported from the package. Counters on a slot are plain mutable fields on purpose
 * (see `Slot`); code that reads them outside the router's own effects sees a moment's values.
 */
import { Channel, type Context, type Duration, Effect, type Pull, type Schedule, type Scope, type Stream } from "effect"
import type * as Arr from "effect/Array"
import type * as ChatProvider from "../../ChatProvider.ts"
import type { ChatRequest, Message } from "../../ChatRequest.ts"
import type * as CircuitBreaker from "../../CircuitBreaker.ts"
import { type ChatError, CircuitOpen, ProviderError, Timeout, withoutStackTrace } from "../../ProviderError.ts"
import type * as RouterPolicy from "../../RouterPolicy.ts"
import type { StreamPart } from "../../StreamPart.ts"

/**
 * A provider stream's pull, with its resources in `scope`: `Stream.toPull` without the semaphore it
 * wraps every pull in (the router pulls one at a time), which cost about 10 µs of the time to
 * the first token. Pulls run with the context of the caller, as they would with `toPull`: the
 * provider's log lines keep the call's annotations and span.
 */
export const pullOf = <A, E>(
  stream: Stream.Stream<A, E>,
  scope: Scope.Scope
): Effect.Effect<Pull.Pull<Arr.NonEmptyReadonlyArray<A>, E, void>> =>
  Effect.contextWith((context: Context.Context<never>) =>
    Effect.map(Channel.toPullScoped(stream.channel, scope), (pull) => Effect.provideContext(pull, context))
  )

export const LATENCY_SAMPLES = 256

// What a try fails with when the call's deadline, not the attempt's own limit, cut it short.
// One timer serves both limits (see `within`, and a stream's reads); this marks which one fired.
// Never reaches a caller: `failover` turns it into `AllProvidersFailed { deadlineExceeded: true }`,
// a stream past its first content into `StreamInterrupted { cause: "DeadlineExceeded" }`.
export const deadlineHit = withoutStackTrace(() =>
  new ProviderError({ provider: "(deadline)", reason: new Timeout({ message: "deadline", phase: "total" }) })
)

// What a skip fails with inside `firstSuccessOf`, which only needs *a* failure to move on; the
// real `CircuitOpen` lives on the attempt (see `skip`). Never reaches a caller.
export const skippedSentinel = withoutStackTrace(() =>
  new CircuitOpen({ provider: "(skipped)", key: "(skipped)", state: "Open" })
)
export const failSkipped = Effect.fail(skippedSentinel)

// Counters are plain mutable fields updated inside `Effect.sync`-style code on one JS thread:
// every update is atomic already, and the hot path stays free of Ref allocations.
export interface Slot {
  readonly name: string
  readonly provider: ChatProvider.ChatProvider["Service"]
  readonly priority: number
  readonly policy: RouterPolicy.Resolved
  readonly schedule: Schedule.Schedule<Duration.Duration, ChatError>
  readonly models: Set<string>
  /**
   * The models this provider serves (model routing): a name a request may give → the id sent to
   * it, its own ids and default model included; `undefined` serves any model as it is named.
   */
  readonly routes: ReadonlyMap<string, string> | undefined
  /** Its routes include `"*"`: a model no route names is sent as it is. */
  readonly anyModel: boolean
  /**
   * Circuits the breaker last answered "open until" for, with its change count then: while
   * neither the time nor the count has moved, the circuit is skipped without an admission.
   */
  readonly knownOpen: Map<string, { readonly until: number; readonly changes: number }>
  /** Its capabilities can refuse a request (`Capabilities.isLimited`): only then is a request checked. */
  readonly limited: boolean
  enabled: boolean
  rateLimitedUntil: number
  requests: number
  successes: number
  failures: number
  skipped: number
  latencies: Array<number>
  latencyCursor: number
  lastError: { reason: string; message: string; at: number } | undefined
}

export interface Tried<A> {
  readonly value: A
  readonly permit: CircuitBreaker.Permit
  readonly tries: number
  readonly started: number
}

export interface Opened {
  readonly pull: Pull.Pull<Arr.NonEmptyReadonlyArray<StreamPart>, ChatError>
  readonly scope: Scope.Closeable
  readonly buffered: Array<StreamPart>
  readonly finished: boolean
}

export const percentile = (samples: ReadonlyArray<number>, p: number): number | undefined => {
  if (samples.length === 0) return undefined
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
}

export const modelOf = (slot: Slot, request: ChatRequest): string => request.model ?? slot.provider.defaultModel

/**
 * The request as `slot` is sent it: its model mapped through the slot's routes, or `undefined`
 * when the slot does not serve the model the request names (it is then not a candidate).
 */
export const requestFor = (slot: Slot, request: ChatRequest): ChatRequest | undefined => {
  const routes = slot.routes
  if (routes === undefined || request.model === undefined) return request
  const mapped = routes.get(request.model)
  if (mapped === undefined) return slot.anyModel ? request : undefined
  return mapped === request.model ? request : { ...request, model: mapped }
}

/** The routes of a provider that declares `models` (alias → id), its ids and default model added. */
export const routesOf = (
  models: Readonly<Record<string, string>>,
  defaultModel: string
): { readonly routes: ReadonlyMap<string, string>; readonly anyModel: boolean } => {
  const routes = new Map<string, string>([[defaultModel, defaultModel]])
  let anyModel = false
  for (const [name, id] of Object.entries(models)) {
    if (name === "*") {
      anyModel = true
      continue
    }
    routes.set(name, id)
    if (!routes.has(id)) routes.set(id, id)
  }
  return { routes, anyModel }
}

export const failsOver = (error: ChatError, policy: RouterPolicy.Resolved): boolean => {
  if (error._tag !== "ProviderError") return true
  switch (error.reason._tag) {
    case "InvalidRequest":
      return policy.failoverOnInvalidRequest
    case "ContentFiltered":
      return policy.failoverOnContentFiltered
    case "BudgetExceeded":
      return policy.failoverOnBudgetExceeded
    default:
      return error.reason.failsOver
  }
}

/** The request with `text` as (the continuation of) an assistant prefill, for the `continue` policy. */
export const withPrefill = (request: ChatRequest, text: string): ChatRequest => {
  const last = request.messages[request.messages.length - 1]
  if (last !== undefined && last.role === "assistant" && (last.toolCalls ?? []).length === 0) {
    const messages = [...request.messages.slice(0, -1), { ...last, content: `${last.content ?? ""}${text}` }]
    return { ...request, messages: messages as unknown as ChatRequest["messages"] }
  }
  const prefill: Message = { role: "assistant", content: text }
  return { ...request, messages: [...request.messages, prefill] }
}

export const recordLatency = (slot: Slot, millis: number) => {
  if (slot.latencies.length < LATENCY_SAMPLES) slot.latencies.push(millis)
  else slot.latencies[slot.latencyCursor] = millis
  slot.latencyCursor = (slot.latencyCursor + 1) % LATENCY_SAMPLES
}

export const sortSlots = (slots: ReadonlyArray<Slot>): ReadonlyArray<Slot> =>
  slots.map((slot, index) => ({ slot, index }))
    .sort((a, b) => a.slot.priority - b.slot.priority || a.index - b.index)
    .map(({ slot }) => slot)
