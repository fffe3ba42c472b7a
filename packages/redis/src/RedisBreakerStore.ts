/**
 * A `BreakerStore` (`@flexiai/core/CircuitBreaker`) in Redis, shared by every process that uses
 * the same Redis and key prefix: one circuit per provider and model cluster-wide, one probe per
 * open period, Retry-After cooldowns, provider enablement (`disable`/`enable`) and every
 * transition announced to all.
 *
 * Built on Effect's `effect/persistence/CircuitBreaker` `layerStoreRedis` (admit and record as
 * atomic scripts on Redis time, generation fencing, probe leases with takeover), not a copy of
 * it. What it leaves out is added here with small scripts of our own: `state` with the failure
 * count, `states`, `reset` and `forceOpen` (cluster-wide), cooldowns, enablement, and pub/sub of
 * transitions.
 *
 * **Enablement**: `shared.shareEnabled` (what `Router.disable`/`enable` call) writes the provider's
 * state to the hash `<prefix>enablement` (no expiry: it stands until the next change) and
 * announces it from the same script; every process applies it to its router's slots. The record
 * is read when Redis (re)connects, so a process started later or back from an outage has it, and
 * again every `resyncInterval` (5 s) to make up for a message its subscriber missed. The record
 * wins over a provider's configured `enabled`. Each entry carries a version (Redis time), so a
 * stale read never undoes a newer change.
 *
 * **Probe leases**: Effect's store leases a probe for `holderLease` (default 5 s, at most
 * `probeLease`) and renews it while its holder lives, so a holder that dies (SIGKILL) is taken
 * over one `holderLease` later. Renewal stops when the probe is recorded or `probeLease` (15 s)
 * after admission, so a hung probe cannot wedge the circuit either.
 *
 * **Latency**: a call costs two round trips to Redis (its admission, its record); a success or
 * an ignored call that is not a probe is recorded without waiting for the answer, since it cannot
 * move the circuit, so a healthy call waits for one.
 *
 * **Degraded mode**: every call waits at most `storeTimeout` (default 150 ms) for Redis. A call
 * that times out or finds Redis unreachable is answered by an in-process memory store instead, and
 * so is every call after it until Redis answers a `PING` again (checked every `recheckInterval`
 * in the background): circuits are then per process, protection is kept, no call waits on Redis
 * twice, and nothing fails because Redis did. The outage is logged once per `logInterval`
 * ("Redis unavailable, circuits are per-process until it returns") and reported by
 * `shared.availableUnsafe()`. When Redis returns, circuits this process holds open are opened in
 * Redis too where Redis has them closed, cooldowns learned meanwhile are shared, the memory store
 * is dropped, and Redis is the state again. Manual `reset`/`forceOpen` and `disable`/`enable`
 * during an outage act on this process only. When Redis returns its enablement record wins: a
 * change made during the outage is written to Redis only for a provider Redis has no record of
 * (so it then reaches every process), and any provider Redis has a record of takes that state.
 *
 * **Gotchas**
 *
 * - Permits from the two stores are told apart by generation: Redis generations are Redis time
 *   in microseconds (≥ 10^15), the memory store's count from 0.
 * - Effect's store keeps a circuit's opening count for as long as it was last open after a close
 *   (a provider that flaps right after closing keeps backing off); the memory store resets it.
 * - One store serves every breaker of a config: `probeLease` is the store's, not per provider.
 * - Transitions and cooldowns published while a process's subscriber is reconnecting are missed
 *   by it; circuit state itself is always read from Redis.
 *
 * @since 0.1.0
 */
import * as CircuitBreaker from "@flexiai/core/CircuitBreaker"
import * as TimeLimit from "@flexiai/core/TimeLimit"
import { Cause, Clock, Context, Duration, Effect, Exit, Layer, PubSub, Queue, Scope, Stream } from "effect"
import * as EffectBreaker from "effect/persistence/CircuitBreaker"
import * as Redis from "effect/persistence/Redis"
import * as RedisConnection from "./RedisConnection.ts"

/** @category models */
export interface Options {
  /** Prefix of every key and the channel. Default `"flexiai:"`. */
  readonly prefix?: string | undefined
  /** Longest wait for Redis on any call. Default 150 ms. */
  readonly storeTimeout?: Duration.Input | undefined
  /** Longest a probe may stay out before the next caller probes instead. Default 15 s (the breaker's default). */
  readonly probeLease?: Duration.Input | undefined
  /** How long a probe whose process died holds the circuit. Default 5 s (at most `probeLease`). */
  readonly holderLease?: Duration.Input | undefined
  /** Idle circuits expire from Redis after this. Default 1 hour. */
  readonly idleTimeToLive?: Duration.Input | undefined
  /** How often Redis is tried again while degraded. Default 500 ms. */
  readonly recheckInterval?: Duration.Input | undefined
  /** The outage is logged at most once per this. Default 1 minute. */
  readonly logInterval?: Duration.Input | undefined
  /**
   * How often the enablement record (`<prefix>enablement`) is read again while Redis answers, to
   * make up for a change announced while this process's subscriber was reconnecting. Default 5 s.
   */
  readonly resyncInterval?: Duration.Input | undefined
}

/** Redis generations are Redis time in microseconds: anything below is the memory store's. */
const redisGenerationFloor = 1e12

const millisOf = (input: Duration.Input): number => Math.max(1, Math.ceil(Duration.toMillis(Duration.fromInputUnsafe(input))))

const rejected = (key: string, state: "Open" | "HalfOpen", retryAfterMillis: number | undefined) => {
  // an expected answer on the hot path: no stack (as the memory store does)
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  const error = new CircuitBreaker.Rejected({ key, state, retryAfterMillis })
  Error.stackTraceLimit = limit
  return error
}

// ---------------------------------------------------------------------------
// Scripts of our own, over the hash layout of Effect's store
// (state, generation, openUntil, openings, leaseUntil, resetAt, streak, ring, failures, lastOpenFor)
// ---------------------------------------------------------------------------

const prelude = `
local function int(n) return string.format("%.0f", n) end
local time = redis.call("TIME")
local nowMicros = tonumber(time[1]) * 1000000 + tonumber(time[2])
local now = math.floor(nowMicros / 1000)
local function nextGeneration(current)
  return int(math.max((tonumber(current) or 0) + 1, nowMicros))
end
`

// { state, remainingOpenMillis, openings, streak } per key that exists, with its key first.
const statesScript = Redis.script(
  (keys: ReadonlyArray<string>) => keys,
  {
    numberOfKeys: (keys) => keys.length,
    lua: `${prelude}
local out = {}
for _, key in ipairs(KEYS) do
  local f = redis.call("HMGET", key, "state", "openUntil", "openings", "streak")
  if f[1] then
    out[#out + 1] = { key, f[1], math.max(0, (tonumber(f[2]) or 0) - now), tonumber(f[3]) or 0, tonumber(f[4]) or 0 }
  end
end
return out
`
  }
).withReturnType<ReadonlyArray<readonly [key: string, state: string, remaining: number, openings: number, streak: number]>>()

// Closes a known circuit with a new generation, its counts cleared. Returns the previous state, or false for an unknown key.
const resetScript = Redis.script(
  (key: string, idleMillis: number) => [key, idleMillis],
  {
    numberOfKeys: 1,
    lua: `${prelude}
local key = KEYS[1]
local f = redis.call("HMGET", key, "state", "generation")
if not f[1] then return false end
redis.call("HSET", key, "state", "Closed", "generation", nextGeneration(f[2]), "streak", 0, "ring", "", "failures", 0,
  "openings", 0, "resetAt", 0, "leaseUntil", 0)
redis.call("PEXPIRE", key, ARGV[1])
return f[1]
`
  }
).withReturnType<string | null>()

// Opens a circuit for ARGV[1] ms as one more opening. With ARGV[3] = "1" only a closed (or unknown)
// circuit is opened: how a process that kept circuits during an outage hands them back.
// Returns the previous state, or false when it left the circuit as it was.
const forceOpenScript = Redis.script(
  (key: string, openForMillis: number, idleMillis: number, onlyIfClosed: boolean) => [
    key,
    openForMillis,
    idleMillis,
    onlyIfClosed ? "1" : "0"
  ],
  {
    numberOfKeys: 1,
    lua: `${prelude}
local key = KEYS[1]
local openFor = tonumber(ARGV[1])
local f = redis.call("HMGET", key, "state", "generation", "openings")
local from = f[1] or "Closed"
if ARGV[3] == "1" and from ~= "Closed" then return false end
redis.call("HSET", key, "state", "Open", "generation", nextGeneration(f[2]), "openUntil", int(now + openFor),
  "openings", (tonumber(f[3]) or 0) + 1, "lastOpenFor", int(openFor), "streak", 0, "ring", "", "failures", 0, "leaseUntil", 0)
redis.call("PEXPIRE", key, int(openFor + tonumber(ARGV[2])))
return from
`
  }
).withReturnType<string | null>()

// Cooldowns: one hash, provider name → until (Redis time). Keeps the later of two.
const cooldownSetScript = Redis.script(
  (key: string, name: string, millis: number) => [key, name, millis],
  {
    numberOfKeys: 1,
    lua: `${prelude}
local endsAt = now + tonumber(ARGV[2])
local current = tonumber(redis.call("HGET", KEYS[1], ARGV[1])) or 0
if endsAt > current then redis.call("HSET", KEYS[1], ARGV[1], int(endsAt)) end
local ttl = redis.call("PTTL", KEYS[1])
if ttl < tonumber(ARGV[2]) then redis.call("PEXPIRE", KEYS[1], ARGV[2]) end
return 1
`
  }
).withReturnType<number>()

// The running cooldowns as { name, remainingMillis, … }; ended ones are removed.
const cooldownsScript = Redis.script(
  (key: string) => [key],
  {
    numberOfKeys: 1,
    lua: `${prelude}
local all = redis.call("HGETALL", KEYS[1])
local out = {}
for i = 1, #all, 2 do
  local remaining = (tonumber(all[i + 1]) or 0) - now
  if remaining > 0 then
    out[#out + 1] = all[i]
    out[#out + 1] = remaining
  else
    redis.call("HDEL", KEYS[1], all[i])
  end
end
return out
`
  }
).withReturnType<ReadonlyArray<string | number>>()

// Enablement: one hash, provider name → "<version>:<1|0>" (1 = enabled), the version Redis time
// in microseconds (as a generation: later than any before, even after Redis lost its data), so a
// process can tell a stale read from a newer change whatever order they reach it in. The change
// is announced from the script, so messages go out in the order Redis applied the changes. With
// ARGV[5] = "1" a provider Redis has a record of is left as it is (a change made during an
// outage being handed back). Returns the new version, or false when it left the record.
const enablementSetScript = Redis.script(
  (key: string, name: string, enabled: boolean, channel: string, origin: string, onlyIfAbsent: boolean) => [
    key,
    name,
    enabled ? "1" : "0",
    channel,
    origin,
    onlyIfAbsent ? "1" : "0"
  ],
  {
    numberOfKeys: 1,
    lua: `${prelude}
local current = redis.call("HGET", KEYS[1], ARGV[1])
if ARGV[5] == "1" and current then return false end
local version = nextGeneration(current and string.match(current, "^(%d+)"))
redis.call("HSET", KEYS[1], ARGV[1], version .. ":" .. ARGV[2])
redis.call("PUBLISH", ARGV[3], cjson.encode({ o = ARGV[4], t = "enabled", name = ARGV[1], enabled = ARGV[2] == "1", v = version }))
return version
`
  }
).withReturnType<string | null>()

// The whole record as a flat { name, "<version>:<1|0>", … } (a script: the client would turn a plain
// HGETALL's reply into an object, a script's stays a list).
const enablementReadScript = Redis.script(
  (key: string) => [key],
  { numberOfKeys: 1, lua: `return redis.call("HGETALL", KEYS[1])` }
).withReturnType<ReadonlyArray<string>>()

/** What goes over the channel. `o` is the sending process, which ignores its own messages. */
type Message =
  | {
    readonly o: string
    readonly t: "transition"
    readonly key: string
    readonly from: CircuitBreaker.State["_tag"]
    readonly to: CircuitBreaker.State["_tag"]
    readonly openForMillis?: number | undefined
  }
  | { readonly o: string; readonly t: "cooldown"; readonly name: string; readonly millis: number }
  /** `v`: the record's version (a string: it has more digits than Lua's JSON keeps of a number). */
  | { readonly o: string; readonly t: "enabled"; readonly name: string; readonly enabled: boolean; readonly v: string }

const timedOut = new Cause.TimeoutError("Redis did not answer within the store timeout")

/**
 * Builds the store over the `Redis` service in context. Never waits on Redis and never fails:
 * while Redis is away it answers from memory (see the header).
 *
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<CircuitBreaker.BreakerStore["Service"], never, Redis.Redis | Scope.Scope> =>
  Effect.gen(function*() {
    const redis = yield* Redis.Redis
    const scope = yield* Scope.Scope
    const prefix = options.prefix ?? "flexiai:"
    const circuitPrefix = `${prefix}circuit:`
    const cooldownsKey = `${prefix}cooldowns`
    const enablementKey = `${prefix}enablement`
    const channel = `${prefix}events`
    const storeTimeout = Duration.fromInputUnsafe(options.storeTimeout ?? "150 millis")
    const probeLeaseMillis = millisOf(options.probeLease ?? CircuitBreaker.defaults.probeLease)
    const holderLeaseMillis = Math.min(millisOf(options.holderLease ?? "5 seconds"), probeLeaseMillis)
    const idleMillis = millisOf(options.idleTimeToLive ?? "1 hour")
    const recheck = Duration.fromInputUnsafe(options.recheckInterval ?? "500 millis")
    const logIntervalMillis = millisOf(options.logInterval ?? "1 minute")
    const resyncInterval = Duration.fromInputUnsafe(options.resyncInterval ?? "5 seconds")
    const origin = crypto.randomUUID()

    const effectStore = Context.get(
      yield* Layer.build(EffectBreaker.layerStoreRedis({
        prefix: circuitPrefix,
        probeLease: Duration.millis(holderLeaseMillis),
        idleTimeToLive: Duration.millis(idleMillis)
      })),
      EffectBreaker.CircuitBreakerStore
    )
    const makeMemory = CircuitBreaker.makeStoreMemoryWith({ probeLease: Duration.millis(probeLeaseMillis) })
    let memory = yield* makeMemory

    const remote = yield* PubSub.sliding<CircuitBreaker.Transition>(1024)
    const heardCooldowns = yield* PubSub.sliding<CircuitBreaker.Cooldown>(1024)
    const enablementChanges = yield* PubSub.sliding<CircuitBreaker.Enablement>(1024)

    // Until Redis first answers (the app may start before it), circuits are per process: the
    // recovery loop below connects it as it reconnects it after an outage.
    let degraded = true
    let changes = 0
    let lastDownLog = Number.NEGATIVE_INFINITY
    // cooldowns learned while degraded, shared when Redis returns (Clock millis)
    const pendingCooldowns = new Map<string, number>()
    // enable/disable made while degraded, handed to Redis when it returns
    const pendingEnablement = new Map<string, boolean>()

    // `TimeLimit.within`, not `Effect.timeoutOrElse`: the same limit with one shared timer and no
    // racing fiber per call (every routed call waits on one of these)
    const bounded = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E | Cause.TimeoutError> =>
      TimeLimit.within(effect, storeTimeout, () => timedOut)

    /** Fire and forget in the store's scope: never on the caller's time. */
    const background = (effect: Effect.Effect<unknown, unknown>): Effect.Effect<void> =>
      Effect.asVoid(Effect.forkIn(Effect.ignore(effect), scope))

    const reasonOf = (cause: Cause.Cause<unknown>): string => {
      const error = Cause.squash(cause)
      const inner = error instanceof Redis.RedisError ? error.cause : error
      return (inner instanceof Error ? inner.message : String(inner)).slice(0, 200)
    }

    const logDown = (cause: Cause.Cause<unknown> | undefined) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        if (now - lastDownLog < logIntervalMillis) return Effect.void
        lastDownLog = now
        return Effect.logWarning("Redis unavailable, circuits are per-process until it returns").pipe(
          cause === undefined ? (effect) => effect : Effect.annotateLogs({ reason: reasonOf(cause) })
        )
      })

    // -----------------------------------------------------------------------
    // outage and recovery
    // -----------------------------------------------------------------------

    const ping = bounded(redis.send("PING")).pipe(Effect.as(true), Effect.orElseSucceed(() => false))

    /** Hands what this process learned during the outage back to Redis, then makes Redis the state again. */
    const converge = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const local = yield* memory.states
      for (const [key, state] of local) {
        if (state._tag === "Open" && state.until > now) {
          yield* Effect.ignore(bounded(redis.eval(forceOpenScript)(`${circuitPrefix}${key}`, state.until - now, idleMillis, true)))
        }
      }
      for (const [name, until] of pendingCooldowns) {
        if (until > now) yield* Effect.ignore(shareNow(name, until - now))
      }
      pendingCooldowns.clear()
      // Redis's record wins: what this process enabled or disabled alone goes to Redis only for a
      // provider it has no record of; then the record is applied here, over anything else. Read
      // before Redis counts as available, so "shared" implies the record is applied.
      const handback = [...pendingEnablement]
      pendingEnablement.clear()
      for (const [name, enabled] of handback) {
        yield* Effect.ignore(bounded(redis.eval(enablementSetScript)(enablementKey, name, enabled, channel, origin, true)))
      }
      yield* Effect.ignore(readEnablement)
      memory = yield* makeMemory
      degraded = false
      changes++
      // said as it becomes true (only a return is news: the first connection is not)
      if (lastDownLog !== Number.NEGATIVE_INFINITY) yield* Effect.logInfo("Redis available again: circuits are shared")
      // a change made after the hand-back, while this was still degraded, is a plain write now
      // (a snapshot: a write that fails puts its change back, for the next return)
      const late = Array.from(pendingEnablement)
      pendingEnablement.clear()
      for (const [name, enabled] of late) yield* writeEnabled(name, enabled)
      for (const cooldown of yield* readCooldowns) yield* learn(cooldown)
    })

    /** Pings until Redis answers (quickly at first, then every `recheckInterval`), then converges. */
    const recover: Effect.Effect<void> = Effect.gen(function*() {
      for (let attempt = 0; !(yield* ping); attempt++) {
        // a connection being set up is not an outage yet
        if (attempt >= 3) yield* logDown(undefined)
        yield* Effect.sleep(Duration.min(Duration.millis(25 * 2 ** Math.min(attempt, 10)), recheck))
      }
      yield* converge
    })

    /** The store could not reach Redis: from now on memory answers, until Redis does again. */
    const unavailable = (cause: Cause.Cause<unknown>): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (degraded) return Effect.void
        degraded = true
        return Effect.andThen(logDown(cause), background(recover))
      })

    /** Runs `effect` on Redis within the store timeout; on any failure marks the outage and runs `fallback`. */
    const orMemory = <A, B>(effect: Effect.Effect<A, unknown>, fallback: () => Effect.Effect<B>): Effect.Effect<A | B> =>
      Effect.catchCause(bounded(effect), (cause) =>
        Cause.hasInterruptsOnly(cause) ? Effect.failCause(cause as Cause.Cause<never>) : Effect.andThen(unavailable(cause), fallback()))

    // -----------------------------------------------------------------------
    // enablement
    // -----------------------------------------------------------------------

    // each provider's enablement as last read from or written to Redis, with the record's version
    const enablement = new Map<string, { readonly enabled: boolean; readonly version: number }>()
    // providers whose write is still out: a read sent before it landed must not undo it here
    const writing = new Map<string, number>()

    /** Takes what Redis says of `name` unless this process already has a newer version. */
    const adopt = (name: string, enabled: boolean, version: number): Effect.Effect<void> =>
      Effect.suspend(() => {
        const current = enablement.get(name)
        if (!Number.isFinite(version) || (current !== undefined && version < current.version)) return Effect.void
        enablement.set(name, { enabled, version })
        return Effect.asVoid(PubSub.publish(enablementChanges, { name, enabled }))
      })

    /** Reads the whole record and applies it (a provider with a write out excepted). Fails when Redis does. */
    const readEnablement: Effect.Effect<void, unknown> = Effect.flatMap(
      bounded(redis.eval(enablementReadScript)(enablementKey)),
      (flat) =>
        Effect.suspend(() => {
          const found: Array<Effect.Effect<void>> = []
          for (let i = 0; i + 1 < flat.length; i += 2) {
            const name = String(flat[i])
            const [version, flag] = String(flat[i + 1]).split(":")
            if (!writing.has(name)) found.push(adopt(name, flag === "1", Number(version)))
          }
          return Effect.all(found, { discard: true })
        })
    )

    /** Writes a change to Redis (which announces it); if Redis is away, keeps it for the hand-back. */
    const writeEnabled = (name: string, enabled: boolean): Effect.Effect<void> =>
      Effect.suspend(() => {
        writing.set(name, (writing.get(name) ?? 0) + 1)
        return bounded(redis.eval(enablementSetScript)(enablementKey, name, enabled, channel, origin, false)).pipe(
          Effect.flatMap((version) => version === null ? Effect.void : adopt(name, enabled, Number(version))),
          Effect.catchCause((cause) =>
            Cause.hasInterruptsOnly(cause)
              ? Effect.failCause(cause as Cause.Cause<never>)
              : Effect.andThen(Effect.sync(() => pendingEnablement.set(name, enabled)), unavailable(cause))
          ),
          Effect.ensuring(Effect.sync(() => {
            const left = (writing.get(name) ?? 1) - 1
            if (left === 0) writing.delete(name)
            else writing.set(name, left)
          }))
        )
      })

    // a message missed while the subscriber reconnected is made up within one interval
    yield* Effect.forkIn(
      Effect.forever(Effect.andThen(
        Effect.sleep(resyncInterval),
        Effect.suspend(() => degraded ? Effect.void : Effect.catchCause(readEnablement, unavailable))
      )),
      scope
    )

    const shareEnabled = (name: string, enabled: boolean): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (degraded) {
          pendingEnablement.set(name, enabled)
          return Effect.void
        }
        // sent on the caller's turn, so two changes in a row reach Redis in the order they were
        // made; answered in the background
        return Effect.asVoid(Effect.forkIn(writeEnabled(name, enabled), scope, { startImmediately: true }))
      })

    const enablementStream: Stream.Stream<CircuitBreaker.Enablement> = Stream.unwrap(Effect.gen(function*() {
      // subscribed before the record is copied, so no change falls between the two
      const subscription = yield* PubSub.subscribe(enablementChanges)
      const current: Array<CircuitBreaker.Enablement> = []
      for (const [name, { enabled }] of enablement) current.push({ name, enabled })
      return Stream.concat(Stream.fromIterable(current), Stream.fromSubscription(subscription))
    }))

    // -----------------------------------------------------------------------
    // announcements
    // -----------------------------------------------------------------------

    const announce = (message: Message): Effect.Effect<void> =>
      background(bounded(redis.send("PUBLISH", channel, JSON.stringify(message))))

    /** A transition this process made: counted as a change and told to the others. */
    const announced = (transition: CircuitBreaker.Transition): Effect.Effect<CircuitBreaker.Transition> =>
      Effect.suspend(() => {
        changes++
        const { from, key, openForMillis, to } = transition
        return Effect.as(announce({ o: origin, t: "transition", key, from, to, openForMillis }), transition)
      })

    const heard = (text: string): Effect.Effect<void> =>
      Effect.suspend(() => {
        let message: Message
        try {
          message = JSON.parse(text) as Message
        } catch {
          return Effect.void
        }
        if (message.o === origin) return Effect.void
        if (message.t === "cooldown") return learn({ name: message.name, millis: message.millis })
        if (message.t === "enabled") return adopt(message.name, message.enabled === true, Number(message.v))
        changes++
        return Effect.flatMap(Clock.currentTimeMillis, (at) =>
          Effect.asVoid(PubSub.publish(remote, {
            key: message.key,
            from: message.from,
            to: message.to,
            at,
            ...(message.openForMillis === undefined ? {} : { openForMillis: message.openForMillis })
          })))
      })

    const messages = yield* redis.subscribe(channel)
    yield* Effect.forkIn(
      Effect.forever(Effect.matchCauseEffect(Queue.take(messages), {
        onSuccess: (message) => heard(message.message),
        // a subscriber that cannot reconnect by itself (not ours) fails its queue: do not spin
        onFailure: () => Effect.sleep(recheck)
      })),
      scope
    )

    // -----------------------------------------------------------------------
    // cooldowns
    // -----------------------------------------------------------------------

    const shareNow = (name: string, millis: number) =>
      Effect.andThen(
        bounded(redis.eval(cooldownSetScript)(cooldownsKey, name, Math.ceil(millis))),
        announce({ o: origin, t: "cooldown", name, millis: Math.ceil(millis) })
      )

    const readCooldowns: Effect.Effect<ReadonlyArray<CircuitBreaker.Cooldown>> = bounded(redis.eval(cooldownsScript)(cooldownsKey)).pipe(
      Effect.map((flat) => {
        const list: Array<CircuitBreaker.Cooldown> = []
        for (let i = 0; i + 1 < flat.length; i += 2) list.push({ name: String(flat[i]), millis: Number(flat[i + 1]) })
        return list
      }),
      Effect.orElseSucceed(() => [])
    )

    // cooldowns heard from Redis, as Clock millis they end at: what a new subscriber starts with
    const known = new Map<string, number>()
    const learn = (cooldown: CircuitBreaker.Cooldown): Effect.Effect<void> =>
      Effect.clockWith((clock) => {
        const until = clock.currentTimeMillisUnsafe() + cooldown.millis
        known.set(cooldown.name, Math.max(known.get(cooldown.name) ?? 0, until))
        return Effect.asVoid(PubSub.publish(heardCooldowns, cooldown))
      })

    const shared: CircuitBreaker.Shared = {
      availableUnsafe: () => !degraded,
      transitions: Stream.fromPubSub(remote),
      shareCooldown: (name, millis) =>
        Effect.clockWith((clock) => {
          if (!degraded) return background(Effect.catchCause(shareNow(name, millis), unavailable))
          const until = clock.currentTimeMillisUnsafe() + millis
          pendingCooldowns.set(name, Math.max(pendingCooldowns.get(name) ?? 0, until))
          return Effect.void
        }),
      shareEnabled: (name, enabled) => shareEnabled(name, enabled),
      enablement: enablementStream,
      cooldowns: Stream.unwrap(Effect.clockWith((clock) => {
        const now = clock.currentTimeMillisUnsafe()
        const current: Array<CircuitBreaker.Cooldown> = []
        for (const [name, until] of known) if (until > now) current.push({ name, millis: until - now })
        return Effect.succeed(Stream.concat(Stream.fromIterable(current), Stream.fromPubSub(heardCooldowns)))
      }))
    }

    // -----------------------------------------------------------------------
    // probes: each holds its lease renewal in a scope of its own
    // -----------------------------------------------------------------------

    const probes = new Map<string, Scope.Closeable>()
    const probeId = (key: string, generation: number) => `${key}\u0000${generation}`

    const release = (key: string, generation: number): Effect.Effect<void> =>
      Effect.suspend(() => {
        const id = probeId(key, generation)
        const probeScope = probes.get(id)
        if (probeScope === undefined) return Effect.void
        probes.delete(id)
        return Scope.close(probeScope, Exit.void)
      })

    const hold = (key: string, generation: number, probeScope: Scope.Closeable): Effect.Effect<void> =>
      Effect.suspend(() => {
        probes.set(probeId(key, generation), probeScope)
        // renewal stops after probeLease even if the probe hangs: the circuit cannot be wedged
        return background(Effect.andThen(Effect.sleep(Duration.millis(probeLeaseMillis)), release(key, generation)))
      })

    // -----------------------------------------------------------------------
    // the store
    // -----------------------------------------------------------------------

    const admitRedis = (key: string): Effect.Effect<CircuitBreaker.Admission, CircuitBreaker.Rejected> =>
      Effect.flatMap(Scope.make(), (probeScope) =>
        effectStore.admit(key).pipe(
          Scope.provide(probeScope),
          bounded,
          Effect.matchCauseEffect({
            onSuccess: (admission) =>
              Effect.flatMap(
                admission.probe ? hold(key, admission.generation, probeScope) : Scope.close(probeScope, Exit.void),
                () =>
                  Effect.clockWith((clock) => {
                    const admitted = (transition: CircuitBreaker.Transition | undefined): CircuitBreaker.Admission => ({
                      key,
                      generation: admission.generation,
                      probe: admission.probe,
                      openings: admission.consecutiveOpenings,
                      transition
                    })
                    return admission.transition === undefined
                      ? Effect.succeed(admitted(undefined))
                      : Effect.map(
                        announced({ key, from: "Open", to: "HalfOpen", at: clock.currentTimeMillisUnsafe() }),
                        admitted
                      )
                  })
              ),
            onFailure: (cause) =>
              Effect.andThen(Scope.close(probeScope, Exit.void), () => {
                const error = Cause.findErrorOption(cause)
                if (error._tag === "Some" && error.value instanceof EffectBreaker.CircuitBreakerError) {
                  const reason = error.value.reason
                  if (reason._tag === "CircuitOpen") {
                    return Effect.fail(rejected(key, "Open", Math.max(0, Math.ceil(Duration.toMillis(reason.retryAfter)))))
                  }
                  if (reason._tag === "CircuitHalfOpen") return Effect.fail(rejected(key, "HalfOpen", undefined))
                }
                if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
                return Effect.andThen(unavailable(cause), memory.admit(key))
              })
          })
        ))

    const recordRedis = (options: CircuitBreaker.RecordOptions): Effect.Effect<CircuitBreaker.Transition | undefined> =>
      orMemory(
        effectStore.record({
          key: options.key,
          generation: options.generation,
          outcome: options.outcome,
          tripPolicy: EffectBreaker.consecutive(options.failureThreshold),
          openFor: options.openFor
        }),
        // the outcome of a permit Redis granted has nowhere else to go
        () => Effect.succeed(undefined)
      ).pipe(
        Effect.flatMap((transition) =>
          transition === undefined ? Effect.succeed(undefined) : Effect.clockWith((clock) =>
            announced({
              key: options.key,
              from: transition.from,
              to: transition.to,
              at: clock.currentTimeMillisUnsafe(),
              ...(transition.to === "Open"
                ? { openForMillis: Math.max(0, Math.ceil(Duration.toMillis(options.openFor))) }
                : {})
            }))
        ),
        Effect.ensuring(release(options.key, options.generation))
      )

    const toState = (state: string, remaining: number, openings: number, streak: number, now: number): CircuitBreaker.State => {
      switch (state) {
        case "Open":
          return { _tag: "Open", until: now + Number(remaining), openings: Number(openings) }
        case "HalfOpen":
          return { _tag: "HalfOpen", openings: Number(openings) }
        default:
          return { _tag: "Closed", failures: Number(streak) }
      }
    }

    /** Every circuit key under the prefix, by SCAN (never KEYS: it would block Redis on a large keyspace). */
    const scanKeys = Effect.gen(function*() {
      const keys: Array<string> = []
      let cursor = "0"
      do {
        const [next, batch] = yield* redis.send<readonly [string, ReadonlyArray<string>]>(
          "SCAN", cursor, "MATCH", `${circuitPrefix}*`, "COUNT", "200"
        )
        cursor = String(next)
        keys.push(...batch)
      } while (cursor !== "0")
      return keys
    })

    const statesRedis = Effect.gen(function*() {
      const keys = yield* scanKeys
      const rows = keys.length === 0 ? [] : yield* redis.eval(statesScript)(keys)
      const now = yield* Clock.currentTimeMillis
      const states = new Map<string, CircuitBreaker.State>()
      for (const [redisKey, state, remaining, openings, streak] of rows) {
        states.set(String(redisKey).slice(circuitPrefix.length), toState(state, remaining, openings, streak, now))
      }
      return states as ReadonlyMap<string, CircuitBreaker.State>
    })

    const stateOf = (key: string): Effect.Effect<CircuitBreaker.State> =>
      orMemory(
        Effect.flatMap(redis.eval(statesScript)([`${circuitPrefix}${key}`]), (rows) =>
          Effect.clockWith((clock) => {
            const row = rows[0]
            return Effect.succeed<CircuitBreaker.State>(
              row === undefined
                ? { _tag: "Closed", failures: 0 }
                : toState(row[1], row[2], row[3], row[4], clock.currentTimeMillisUnsafe())
            )
          })),
        () => memory.state(key)
      )

    const tagOf = (state: string | null): CircuitBreaker.State["_tag"] =>
      state === "Open" || state === "HalfOpen" ? state : "Closed"

    yield* background(recover)

    return CircuitBreaker.BreakerStore.of({
      admit: (key) => degraded ? memory.admit(key) : admitRedis(key),
      record: (options) => {
        if (options.generation < redisGenerationFloor) return memory.record(options)
        if (degraded) return Effect.as(release(options.key, options.generation), undefined)
        // A success or an ignored call that is not a probe cannot move the circuit (only a
        // failure trips a closed one), so nobody waits for it: sent now, on the caller's turn (in
        // order with what this process sends next), answered in the background. This halves
        // what Redis adds to a healthy call.
        if (options.outcome !== "Failure" && !probes.has(probeId(options.key, options.generation))) {
          return Effect.as(Effect.forkIn(recordRedis(options), scope, { startImmediately: true }), undefined)
        }
        return recordRedis(options)
      },
      state: (key) => degraded ? memory.state(key) : stateOf(key),
      states: Effect.suspend(() => degraded ? memory.states : orMemory(statesRedis, () => memory.states)),
      reset: (key) =>
        degraded ? memory.reset(key) : orMemory(
          Effect.flatMap(redis.eval(resetScript)(`${circuitPrefix}${key}`, idleMillis), (from) =>
            Effect.clockWith((clock) => {
              if (from === null || from === undefined) return Effect.succeed(undefined)
              // a reset of a closed circuit changes it (a new generation) but is no transition
              if (tagOf(from) === "Closed") {
                changes++
                return Effect.succeed(undefined)
              }
              return announced({ key, from: tagOf(from), to: "Closed", at: clock.currentTimeMillisUnsafe() })
            })),
          () => memory.reset(key)
        ),
      forceOpen: (key, openFor) => {
        const openForMillis = Math.max(0, Math.ceil(Duration.toMillis(openFor)))
        return degraded ? memory.forceOpen(key, openFor) : orMemory(
          Effect.flatMap(redis.eval(forceOpenScript)(`${circuitPrefix}${key}`, openForMillis, idleMillis, false), (from) =>
            Effect.clockWith((clock) =>
              announced({ key, from: tagOf(from), to: "Open", at: clock.currentTimeMillisUnsafe(), openForMillis })
            )),
          () => memory.forceOpen(key, openFor)
        )
      },
      changesUnsafe: () => changes,
      shared
    })
  })

/**
 * The Redis store over the `Redis` service in context.
 *
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<CircuitBreaker.BreakerStore, never, Redis.Redis> =>
  Layer.effect(CircuitBreaker.BreakerStore, make(options))

/**
 * The Redis store with its own connection (`RedisConnection`): builds at once whether Redis is up
 * or not. `storeTimeout` also sets the client's command timeout.
 *
 * **Example** (Circuits shared by every process on one Redis)
 *
 * ```ts
 * const breaker = CircuitBreaker.layer({ failureThreshold: 3 }).pipe(
 *   Layer.provide(RedisBreakerStore.layerConnected({ url: Redacted.make("redis://127.0.0.1:6380"), prefix: "myapp:" }))
 * )
 * ```
 *
 * @category layers
 */
export const layerConnected = (
  options: Options & Omit<RedisConnection.Options, "commandTimeoutMillis">
): Layer.Layer<CircuitBreaker.BreakerStore> =>
  layer(options).pipe(Layer.provide(RedisConnection.layer({
    ...options,
    commandTimeoutMillis: millisOf(options.storeTimeout ?? "150 millis")
  })))
