/**
 * The Redis connection shared circuits run over: Effect's generic `Redis` service
 * (`effect/persistence/Redis`: cached Lua scripts, `send`, `subscribe`) over a `node-redis` client
 * with settings chosen for a breaker store that must never hold a request up.
 *
 * Why not `@effect/platform-node`'s `NodeRedis.layer`: it connects while the layer is built and
 * fails (or, with a retrying reconnect strategy, waits) while Redis is down, and an app must start
 * without Redis. This layer builds at once and connects in the background; everything else (the
 * script cache, `EVALSHA` with `NOSCRIPT` reload, the pub/sub queue) is Effect's `Redis.make`.
 *
 * Client settings, and why:
 *
 * - `disableOfflineQueue: true`: while disconnected a command fails at once instead of queueing,
 *   so a call falls back to per-process state immediately rather than after the store timeout,
 *   and no stale outcome is replayed later.
 * - `commandOptions.timeout` = the store timeout: a command Redis does not answer in time is
 *   dropped by the client too (the store also bounds every call itself).
 * - `socket.connectTimeout` = 1 s, `reconnectStrategy`: retry forever, 50 ms doubling to 2 s plus
 *   up to 200 ms jitter (also for the first connection: the app may start before Redis).
 * - `pingInterval` 5 s: a connection that died without a FIN is noticed and reconnected.
 * - TLS from `tls: true` or a `rediss://` url; user and password from the options or the url. The
 *   url and password are `Redacted`: they never reach a log line (logs name host and port only).
 *
 * The subscriber is a second connection (`duplicate`) with the same settings; node-redis
 * re-subscribes it after every reconnect, so messages published while it was away are missed
 * (the store re-reads what matters when Redis returns).
 *
 * @since 0.1.0
 */
import { Effect, Layer, Redacted, type Scope } from "effect"
import * as Redis from "effect/persistence/Redis"
import { createClient } from "redis"

/** @category models */
export interface Options {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). May carry a password: pass it `Redacted`. */
  readonly url: string | Redacted.Redacted<string>
  readonly username?: string | undefined
  readonly password?: string | Redacted.Redacted<string> | undefined
  /** Connect with TLS (a `rediss://` url implies it). */
  readonly tls?: boolean | undefined
  /** Client-side command timeout, in millis. Default 150. */
  readonly commandTimeoutMillis?: number | undefined
  /** Default 1000. */
  readonly connectTimeoutMillis?: number | undefined
}

type Client = ReturnType<typeof createClient>

const reveal = (value: string | Redacted.Redacted<string>): string =>
  Redacted.isRedacted(value) ? Redacted.value(value) : value

/** `host:port` of a Redis url, never its credentials: what log lines may name. @category naming */
export const describe = (url: string | Redacted.Redacted<string>): string => {
  try {
    const parsed = new URL(reveal(url))
    return `${parsed.hostname}:${parsed.port === "" ? "6379" : parsed.port}`
  } catch {
    return "(unparsable url)"
  }
}

/** Retry forever: 50 ms doubling to 2 s, plus jitter so workers do not reconnect in lockstep. */
const reconnectStrategy = (retries: number): number => Math.min(50 * 2 ** retries, 2000) + Math.floor(Math.random() * 200)

const clientOptions = (options: Options) => {
  const url = reveal(options.url)
  const tls = options.tls === true || url.startsWith("rediss:")
  const password = options.password === undefined ? undefined : reveal(options.password)
  return {
    url,
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(password === undefined ? {} : { password }),
    disableOfflineQueue: true,
    pingInterval: 5000,
    commandOptions: { timeout: options.commandTimeoutMillis ?? 150 },
    socket: {
      connectTimeout: options.connectTimeoutMillis ?? 1000,
      reconnectStrategy,
      ...(tls ? { tls: true as const } : {})
    }
  }
}

const redisError = (cause: unknown) => new Redis.RedisError({ cause })

/**
 * Starts connecting `client` without waiting. node-redis reports connection failures as `error`
 * events, and rethrows them when nobody listens: every error is swallowed here (the store reports
 * the outage once per interval) and the reconnect strategy keeps trying.
 */
const start = (client: Client): void => {
  client.on("error", () => {})
  client.connect().catch(() => {})
}

/**
 * Builds the `Redis` service without waiting for Redis: commands fail fast (`RedisError`) until
 * the connection is up. Both connections close with the scope.
 *
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Redis.Redis["Service"], never, Scope.Scope> =>
  Effect.gen(function*() {
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const client = createClient(clientOptions(options)) as Client
        start(client)
        return client
      }),
      (client) => Effect.sync(() => client.destroy())
    )

    const send = <A = unknown>(command: string, ...args: ReadonlyArray<string>): Effect.Effect<A, Redis.RedisError> =>
      Effect.tryPromise({ try: () => client.sendCommand([command, ...args]) as Promise<A>, catch: redisError })

    return yield* Redis.make({
      send,
      // Blocking commands are not used by the store; a reserved connection is a plain duplicate.
      connect: Effect.tryPromise({
        try: async () => {
          const connection = client.duplicate({ socket: { ...clientOptions(options).socket, reconnectStrategy: false } })
          connection.on("error", () => {})
          await connection.connect()
          return connection
        },
        catch: redisError
      }).pipe(Effect.map((connection) => ({
        send: <A = unknown>(command: string, ...args: ReadonlyArray<string>) =>
          Effect.tryPromise({ try: () => connection.sendCommand([command, ...args]) as Promise<A>, catch: redisError }),
        close: Effect.sync(() => {
          if (connection.isOpen) connection.destroy()
        })
      }))),
      // A subscriber that reconnects for ever: it never fails, so the returned effect never ends.
      subscribe: (channel, onMessage) =>
        Effect.gen(function*() {
          const subscriber = yield* Effect.acquireRelease(
            Effect.sync(() => client.duplicate() as Client),
            (subscriber) => Effect.sync(() => subscriber.destroy())
          )
          let subscribed = false
          const subscribe = () => {
            if (subscribed) return
            subscribed = true
            subscriber.subscribe(channel, (message, from) => onMessage({ channel: from, message })).catch(() => {
              subscribed = false
            })
          }
          // node-redis re-subscribes by itself after a reconnect once a subscription took
          subscriber.on("ready", subscribe)
          start(subscriber)
          return Effect.never
        })
    })
  })

/**
 * The `Redis` service over a `node-redis` client with the settings above; builds at once and
 * connects in the background.
 *
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Redis.Redis> => Layer.effect(Redis.Redis, make(options))
