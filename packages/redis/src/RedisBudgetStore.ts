/**
 * A budget `Store` (`@flexiai/core/Budget`) in Redis, shared by every process that uses the same
 * Redis and key prefix: a reservation is checked against every budget line and taken in one Lua
 * script, so processes reserving at the same time can never together pass a limit. One string key
 * per budget window (`<prefix>budget:<window key>`), an integer of nano-dollars, expiring a day
 * after its window ends.
 *
 * Building the store waits up to `storeTimeout` for a connection that is still being made, so the
 * first requests after start are counted in Redis.
 *
 * **When Redis is unreachable** (an error, or no answer within `storeTimeout`), the call is answered
 * by a per-process memory store instead, with a warning at most once per `logInterval`: requests
 * keep flowing, but limits then hold per process, not across them, until Redis answers again. Set
 * `whenUnavailable: "deny"` to refuse every reservation instead while Redis is away (a budget that
 * must never be passed, at the price of failing requests).
 *
 * @since 0.2.0
 */
import * as Budget from "@flexiai/core/Budget"
import { Clock, Duration, Effect, Schedule, type Scope } from "effect"
import * as Redis from "effect/persistence/Redis"
import * as RedisConnection from "./RedisConnection.ts"

/** @category models */
export interface Options {
  /** Prefix of every key. Default `"flexiai:"` (keys are `<prefix>budget:…`). */
  readonly prefix?: string | undefined
  /** Longest wait for Redis on any call. Default 150 ms. */
  readonly storeTimeout?: Duration.Input | undefined
  /** `local` (default): a per-process memory store answers while Redis is away; `deny`: every reservation is refused. */
  readonly whenUnavailable?: "local" | "deny" | undefined
  /** The outage is logged at most once per this. Default 1 minute. */
  readonly logInterval?: Duration.Input | undefined
}

// KEYS: the windows; ARGV: nanos, then limit and expire-at (clock millis, "" for never) per key.
// Returns { 0 } when taken, else { index (1-based), spent }.
const reserveScript = Redis.script(
  (keys: ReadonlyArray<string>, nanos: number, lines: ReadonlyArray<Budget.Line>) => [
    ...keys,
    String(nanos),
    ...lines.flatMap((line) => [String(line.limitNanos), line.expiresAt === undefined ? "" : String(Math.ceil(line.expiresAt))])
  ],
  {
    numberOfKeys: (keys) => keys.length,
    lua: `
local nanos = tonumber(ARGV[1])
for i = 1, #KEYS do
  local spent = tonumber(redis.call("GET", KEYS[i]) or "0")
  if spent + nanos > tonumber(ARGV[2 * i]) then return { i, tostring(spent) } end
end
for i = 1, #KEYS do
  redis.call("INCRBY", KEYS[i], ARGV[1])
  local at = ARGV[2 * i + 1]
  if at ~= "" then redis.call("PEXPIREAT", KEYS[i], at) end
end
return { 0, "0" }
`
  }
).withReturnType<readonly [number, string]>()

// Adds ARGV[1] (may be negative) to every existing window, never below 0.
const adjustScript = Redis.script(
  (keys: ReadonlyArray<string>, delta: number) => [...keys, String(delta)],
  {
    numberOfKeys: (keys) => keys.length,
    lua: `
for i = 1, #KEYS do
  if redis.call("EXISTS", KEYS[i]) == 1 then
    local value = redis.call("INCRBY", KEYS[i], ARGV[1])
    if value < 0 then redis.call("SET", KEYS[i], "0", "KEEPTTL") end
  end
end
return 1
`
  }
).withReturnType<number>()

/**
 * The store over the `Redis` service in context.
 *
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Budget.Store, never, Redis.Redis> =>
  Effect.gen(function*() {
    const redis = yield* Redis.Redis
    const prefix = `${options.prefix ?? "flexiai:"}budget:`
    const timeout = Duration.fromInputUnsafe(options.storeTimeout ?? "150 millis")
    const logIntervalMillis = Duration.toMillis(Duration.fromInputUnsafe(options.logInterval ?? "1 minute"))
    const deny = options.whenUnavailable === "deny"
    const memory = yield* Budget.makeMemoryStore
    let loggedAt = -Infinity
    // A connection made just now is still connecting (commands fail at once meanwhile): wait for it
    // up to `storeTimeout`, so the first requests after start are counted in Redis, not locally.
    yield* redis.send("PING").pipe(
      Effect.retry({ schedule: Schedule.spaced("10 millis") }),
      Effect.timeout(timeout),
      Effect.ignore
    )

    const unavailable = <A>(fallback: Effect.Effect<A>) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const log = now - loggedAt >= logIntervalMillis
        if (log) loggedAt = now
        const line = log
          ? Effect.logWarning(`Redis unavailable, budgets are ${deny ? "refusing every request" : "per-process"} until it returns`)
          : Effect.void
        return Effect.andThen(line, fallback)
      })

    const bounded = <A, E>(effect: Effect.Effect<A, E>, fallback: Effect.Effect<A>): Effect.Effect<A> =>
      effect.pipe(Effect.timeout(timeout), Effect.catchCause(() => unavailable(fallback)))

    const keysOf = (keys: ReadonlyArray<string>) => keys.map((key) => `${prefix}${key}`)

    const reserve = (lines: ReadonlyArray<Budget.Line>, nanos: number): Effect.Effect<Budget.Refused | undefined> =>
      bounded(
        Effect.map(redis.eval(reserveScript)(keysOf(lines.map((line) => line.key)), nanos, lines), ([index, spent]) =>
          index === 0 ? undefined : { index: index - 1, spentNanos: Number(spent) }),
        deny ? Effect.succeed({ index: 0, spentNanos: lines[0]?.limitNanos ?? 0 }) : memory.reserve(lines, nanos)
      )
    const adjust = (keys: ReadonlyArray<string>, deltaNanos: number): Effect.Effect<void> =>
      deltaNanos === 0
        ? Effect.void
        : bounded(Effect.asVoid(redis.eval(adjustScript)(keysOf(keys), deltaNanos)), memory.adjust(keys, deltaNanos))
    const spent = (keys: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<number>> =>
      keys.length === 0 ? Effect.succeed([]) : bounded(
        Effect.map(redis.send<ReadonlyArray<string | null>>("MGET", ...keysOf(keys)), (values) => values.map((value) => Number(value ?? 0))),
        memory.spent(keys)
      )
    return { reserve, adjust, spent }
  })

/**
 * The store with its own connection (`RedisConnection`), closed with the scope.
 *
 * @category constructors
 */
export const makeConnected = (
  connection: RedisConnection.Options,
  options: Options = {}
): Effect.Effect<Budget.Store, never, Scope.Scope> =>
  Effect.flatMap(RedisConnection.make(connection), (redis) => Effect.provideService(make(options), Redis.Redis, redis))
