/**
 * The models behind the Flow gateway, from each upstream's model list, as `provider:modelId` ids
 * with the metadata the gateway gives (context window, capabilities). Cached for a TTL, refreshed
 * on demand, and served stale — with `stale: true` and a warning — while a refresh fails.
 *
 * Why not Effect's `Cache`: it drops a failed lookup rather than keeping the previous value, and
 * stale-while-error is the point here. One refresh is shared by concurrent callers (a Deferred,
 * as in the kit's TokenSource).
 *
 * @since 0.3.0
 */
import { Clock, Deferred, Duration, Effect } from "effect"
import type * as ProviderError from "@flexiai/core/ProviderError"
import type * as HttpTransport from "@flexiai/provider/HttpTransport"

/** One model. @category models */
export interface Model {
  /** `provider:modelId`. */
  readonly id: string
  readonly upstream: string
  readonly contextWindow?: number | undefined
  readonly capabilities?: ReadonlyArray<string> | undefined
}

/** What a listing returns. @category models */
export interface Listing {
  readonly models: ReadonlyArray<Model>
  /** True when the refresh failed and these are the last good ones. */
  readonly stale: boolean
  readonly fetchedAtMillis: number
}

/** The gateway's list body: `{ data: [...] }` or `{ models: [...] }`, entries `{ id, context_window?, capabilities? }`. @category models */
export type Entry = { readonly id: string; readonly contextWindow?: number | undefined; readonly capabilities?: ReadonlyArray<string> | undefined }

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null

/** Decodes a model list body. @category utils */
export const decode = (text: string): ReadonlyArray<Entry> | undefined => {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  const list = isRecord(parsed) ? (Array.isArray(parsed.data) ? parsed.data : parsed.models) : undefined
  if (!Array.isArray(list)) return undefined
  const entries: Array<Entry> = []
  for (const item of list) {
    if (!isRecord(item) || typeof item.id !== "string") continue
    const window = item.context_window ?? item.contextWindow
    entries.push({
      id: item.id,
      contextWindow: typeof window === "number" ? window : undefined,
      capabilities: Array.isArray(item.capabilities) ? item.capabilities.filter((c): c is string => typeof c === "string") : undefined
    })
  }
  return entries
}

/** @category constants */
export const decoding: HttpTransport.Decode<ReadonlyArray<Entry>> = { decode, what: "Flow model list" }

/** @category models */
export interface FlowModels {
  /** Fresh, or refreshed, or stale after a failed refresh (fails only with nothing cached). */
  readonly list: Effect.Effect<Listing, ProviderError.ProviderError>
  /** Refreshes now (on demand), with the same stale-while-error rule. */
  readonly refresh: Effect.Effect<Listing, ProviderError.ProviderError>
}

/** @category constructors */
export const make = (options: {
  readonly name: string
  readonly upstreams: ReadonlyArray<string>
  readonly ttl?: Duration.Input | undefined
  readonly fetch: (upstream: string) => Effect.Effect<HttpTransport.Sent<ReadonlyArray<Entry>>, ProviderError.ProviderError>
}): Effect.Effect<FlowModels> =>
  Effect.sync(() => {
    const ttl = Duration.toMillis(Duration.fromInputUnsafe(options.ttl ?? Duration.minutes(5)))
    let cached: Listing | undefined
    let pending: Deferred.Deferred<Listing, ProviderError.ProviderError> | undefined

    const fetchAll = Effect.flatMap(
      Effect.forEach(options.upstreams, (upstream) =>
        Effect.map(options.fetch(upstream), (sent) =>
          sent.parsed.map((entry): Model => ({ ...entry, id: `${upstream}:${entry.id}`, upstream }))), { concurrency: "unbounded" }),
      (lists) => Effect.map(Clock.currentTimeMillis, (now): Listing => ({ models: lists.flat(), stale: false, fetchedAtMillis: now }))
    )

    const refresh: Effect.Effect<Listing, ProviderError.ProviderError> = Effect.suspend(() => {
      if (pending !== undefined) return Deferred.await(pending)
      const renewal = Deferred.makeUnsafe<Listing, ProviderError.ProviderError>()
      pending = renewal
      const run = Effect.onExit(fetchAll, (exit) =>
        Effect.sync(() => {
          pending = undefined
          if (exit._tag === "Success") {
            cached = exit.value
            Deferred.doneUnsafe(renewal, exit)
          } else if (cached !== undefined) {
            cached = { ...cached, stale: true }
            Deferred.doneUnsafe(renewal, Effect.succeed(cached))
          } else {
            Deferred.doneUnsafe(renewal, exit)
          }
        }))
      return Effect.andThen(Effect.forkDetach(run), Effect.tap(Deferred.await(renewal), (listing) =>
        listing.stale ? Effect.logWarning("Flow model list refresh failed; serving the last good list", { provider: options.name }) : Effect.void))
    })

    const list = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      cached !== undefined && !cached.stale && now < cached.fetchedAtMillis + ttl ? Effect.succeed(cached) : refresh)

    return { list, refresh }
  })
