/**
 * Response cache: an exact-match cache of answers, as a `Middleware` around the router. A chat
 * answer is kept as it came; a stream is kept only once its consumer has read it to a `finish`
 * part and it ended without error, and is replayed as the same parts.
 *
 * **Key**: SHA-256 over canonical JSON (sorted keys, `undefined` left out) of everything that
 * changes the answer: the operation, the request's model (for a request without one, the
 * `identity` the caller gives: FlexiAI passes its provider chain, so a config change is a new
 * key), messages, generation parameters, tools, tool choice, response format, `user`,
 * `providerOptions`, and the tenant: the request's `metadata[tagKey]` (the tag budgets use). Other
 * metadata does not change the answer and is not in the key.
 *
 * **Entries** are encoded with the `ChatResponse` / `StreamPart` schemas as JSON and decoded on
 * read; an entry that does not decode is a miss (logged at Warn), never a failure, and a store that
 * fails is a miss too. Entries hold the answer only: no request, header or key.
 *
 * **Events**: a hit publishes `cache-hit` and nothing else (no provider is called, so no
 * `call-start`; nothing reaches metering, so the ledger is untouched). A miss publishes
 * `cache-miss` before the router's events, and `cache-store` after them when the answer was kept,
 * all with one `callId`: the router's call takes the cache's (so `next` should be one router call).
 * A hit's response (or finish part) carries `providerMetadata.flexiai.cache = "hit"`, its `cost`
 * is left out (it cost nothing) and its `attempts` are empty.
 *
 * **Per call**: `bypass(effect)` neither reads nor writes; `refresh(effect)` skips the read and
 * writes the new answer. They set `CacheMode`, read when the call (or the stream) starts.
 *
 * **Why not Effect's `Cache` / `PersistedCache`**: both are lookup-driven (a `get` runs the lookup
 * and caches its result). A stream must be handed to the consumer as it arrives and kept only
 * once it has been read to its end, which a lookup cannot express; so `Store` is a plain get/set
 * and the memory store is a small LRU over a `Map` with `Clock` time (TestClock works).
 *
 * @since 0.1.0
 */
import { Clock, Context, Duration, Effect, Option, Schema, Stream } from "effect"
import type { ChatRequest } from "./ChatRequest.ts"
import { ChatResponse } from "./ChatResponse.ts"
import { nextCallId, PresetCallId } from "./internal/router/CallLog.ts"
import type { Middleware } from "./Middleware.ts"
import type { RouterEvent } from "./RouterEvent.ts"
import { StreamPart } from "./StreamPart.ts"

// ---------------------------------------------------------------------------
// store
// ---------------------------------------------------------------------------

/** Where entries live. Failures are treated as misses (and logged) by the cache. @category models */
export interface Store {
  readonly get: (key: string) => Effect.Effect<string | undefined, unknown>
  readonly set: (key: string, value: string, ttl: Duration.Duration) => Effect.Effect<void, unknown>
}

/**
 * An in-memory store of at most `maxEntries` entries: the least recently used goes first (a `Map`
 * keeps insertion order; a read re-inserts), an entry past its TTL is a miss and is dropped.
 *
 * @category constructors
 */
export const makeMemoryStore = (maxEntries: number): Store => {
  const entries = new Map<string, { readonly value: string; readonly expires: number }>()
  return {
    get: (key) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const entry = entries.get(key)
        if (entry === undefined) return undefined
        entries.delete(key)
        if (entry.expires <= now) return undefined
        entries.set(key, entry)
        return entry.value
      }),
    set: (key, value, ttl) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        entries.delete(key)
        entries.set(key, { value, expires: now + Duration.toMillis(ttl) })
        while (entries.size > Math.max(1, maxEntries)) entries.delete(entries.keys().next().value!)
      })
  }
}

// ---------------------------------------------------------------------------
// key
// ---------------------------------------------------------------------------

/** JSON with sorted keys and `undefined` members left out: the same value always gives the same text. */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== "object") return value === undefined ? "null" : JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? "null" : canonicalJson(item))).join(",")}]`
  const record = value as Record<string, unknown>
  const members = Object.keys(record).sort().filter((key) => record[key] !== undefined)
  return `{${members.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(",")}}`
}

/**
 * What goes into a request's key (see the module header): every field of the request but
 * `metadata`, of which only the tenant counts. Taken whole rather than field by field, so a field
 * added to `ChatRequest` later changes the key without anyone remembering to list it here.
 *
 * @category keys
 */
export const keyFields = (
  request: ChatRequest,
  operation: "chat" | "stream",
  options: { readonly tagKey: string; readonly identity: string }
) => {
  const { metadata, ...answering } = request
  return {
    v: 2,
    operation,
    request: answering,
    // only a request without a model is answered by the chain's default models
    chain: request.model === undefined ? options.identity : undefined,
    tenant: metadata?.[options.tagKey]
  }
}

/**
 * A synchronous SHA-256 as hex (Node's `createHash("sha256")`): FlexiAI gives one, since Web
 * Crypto's `subtle.digest` answers through a promise and cost about 100 µs per key where Node's
 * hash takes about 4 (the cache's miss path read +258 µs per chat with it, +73 µs without).
 *
 * @category keys
 */
export type Sha256 = (text: string) => string

const webCryptoSha256 = (text: string): Effect.Effect<string> =>
  Effect.promise(async () => {
    const digest = new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)))
    return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("")
  })

/**
 * The hex SHA-256 of the request's canonical key fields: with `sha256` when given, else Web
 * Crypto (Node and browsers alike; slower, see `Sha256`).
 *
 * @category keys
 */
export const key = (
  request: ChatRequest,
  operation: "chat" | "stream",
  options: { readonly tagKey: string; readonly identity: string; readonly sha256?: Sha256 | undefined }
): Effect.Effect<string> => {
  const text = canonicalJson(keyFields(request, operation, options))
  return options.sha256 === undefined ? webCryptoSha256(text) : Effect.sync(() => options.sha256!(text))
}

// ---------------------------------------------------------------------------
// entries
// ---------------------------------------------------------------------------

/** A kept answer. @category schemas */
export const Entry = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("chat"), response: ChatResponse }),
  Schema.Struct({ kind: Schema.Literal("stream"), parts: Schema.Array(StreamPart) })
])
export type Entry = typeof Entry.Type

const EntryJson = Schema.fromJsonString(Entry)
const encodeEntry = Schema.encodeEffect(EntryJson)
const decodeEntry = Schema.decodeUnknownEffect(EntryJson)

// ---------------------------------------------------------------------------
// per call
// ---------------------------------------------------------------------------

/** `default`: read and write; `bypass`: neither; `refresh`: write only. @category models */
export type Mode = "default" | "bypass" | "refresh"

/** The cache mode of the calls in an effect. @category references */
export const CacheMode = Context.Reference<Mode>("@flexiai/core/ResponseCache/CacheMode", { defaultValue: () => "default" })

/** Calls in `effect` neither read nor write the cache. @category combinators */
export const bypass = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.provideService(effect, CacheMode, "bypass")

/** Calls in `effect` skip the read and keep their new answer. @category combinators */
export const refresh = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.provideService(effect, CacheMode, "refresh")

// ---------------------------------------------------------------------------
// middleware
// ---------------------------------------------------------------------------

/** @category models */
export interface Options {
  readonly store: Store
  readonly ttl: Duration.Duration
  /** The `metadata` key that names the tenant (as `Metering`'s `tagKey`). Default `"tag"`. */
  readonly tagKey?: string | undefined
  /** What answers a request without a model (FlexiAI: its provider chain). */
  readonly identity: string
  /** The key's hash (see `Sha256`). Default: Web Crypto's. */
  readonly sha256?: Sha256 | undefined
  /** Where `cache-hit` / `cache-miss` / `cache-store` go. */
  readonly emit?: ((event: RouterEvent) => void) | undefined
}


const markResponse = (response: ChatResponse): ChatResponse => {
  const { cost: _cost, ...rest } = response
  return { ...rest, attempts: [], providerMetadata: { ...response.providerMetadata, flexiai: { cache: "hit" } } }
}

const markPart = (part: StreamPart): StreamPart => {
  if (part.type !== "finish") return part
  const { cost: _cost, ...rest } = part
  return { ...rest, attempts: [], providerMetadata: { ...part.providerMetadata, flexiai: { cache: "hit" } } }
}

/**
 * The cache as a middleware (put it around the router, after any middleware that changes the
 * request, so the key sees the request as the provider will).
 *
 * @category constructors
 */
export const middleware = (options: Options): Middleware => {
  const tagKey = options.tagKey ?? "tag"
  const keyOptions = { tagKey, identity: options.identity, sha256: options.sha256 }
  const emit = options.emit ?? (() => {})
  const event = (type: "cache-hit" | "cache-miss" | "cache-store", callId: string, operation: "chat" | "stream", request: ChatRequest) =>
    Effect.map(Clock.currentTimeMillis, (at) => emit({ type, callId, operation, at, model: request.model } as RouterEvent))

  const read = (cacheKey: string): Effect.Effect<Option.Option<Entry>> =>
    options.store.get(cacheKey).pipe(
      Effect.flatMap((text) => (text === undefined ? Effect.succeedNone : Effect.map(decodeEntry(text), Option.some))),
      Effect.catchCause((cause) =>
        Effect.as(Effect.logWarning("FlexiAI response cache: entry unreadable, treated as a miss", String(cause).slice(0, 200)), Option.none())
      )
    )
  const write = (cacheKey: string, entry: Entry): Effect.Effect<boolean> =>
    encodeEntry(entry).pipe(
      Effect.flatMap((text) => options.store.set(cacheKey, text, options.ttl)),
      Effect.as(true),
      Effect.catchCause((cause) =>
        Effect.as(Effect.logWarning("FlexiAI response cache: store failed (the answer was served)", String(cause).slice(0, 200)), false)
      )
    )

  return {
    name: "response-cache",
    chat: (next, request) =>
      Effect.gen(function*() {
        const mode = yield* CacheMode
        if (mode === "bypass") return yield* next(request)
        const callId = nextCallId()
        const cacheKey = yield* key(request, "chat", keyOptions)
        if (mode === "default") {
          const found = yield* read(cacheKey)
          if (Option.isSome(found) && found.value.kind === "chat") {
            yield* event("cache-hit", callId, "chat", request)
            return markResponse(found.value.response)
          }
        }
        yield* event("cache-miss", callId, "chat", request)
        // the router's call takes the same id: cache-miss, the router's events and cache-store share it
        const response = yield* Effect.provideService(next(request), PresetCallId, callId)
        if (yield* write(cacheKey, { kind: "chat", response })) yield* event("cache-store", callId, "chat", request)
        return response
      }),
    stream: (next, request) =>
      Stream.unwrap(Effect.gen(function*() {
        const mode = yield* CacheMode
        if (mode === "bypass") return next(request)
        const callId = nextCallId()
        const cacheKey = yield* key(request, "stream", keyOptions)
        if (mode === "default") {
          const found = yield* read(cacheKey)
          if (Option.isSome(found) && found.value.kind === "stream") {
            yield* event("cache-hit", callId, "stream", request)
            return Stream.fromIterable(found.value.parts.map(markPart))
          }
        }
        yield* event("cache-miss", callId, "stream", request)
        const parts: Array<StreamPart> = []
        let finished = false
        // kept only when the stream reached its finish and ended without error: the tail runs
        // only after the last part, never on failure or when the consumer stops early
        const keep = Effect.suspend(() =>
          finished
            ? Effect.flatMap(write(cacheKey, { kind: "stream", parts }), (stored) =>
              stored ? event("cache-store", callId, "stream", request) : Effect.void)
            : Effect.void
        )
        return next(request).pipe(
          Stream.provideService(PresetCallId, callId),
          Stream.map((part) => {
            parts.push(part)
            if (part.type === "finish") finished = true
            return part
          }),
          Stream.concat(Stream.drain(Stream.fromEffect(keep)))
        )
      }))
  }
}
