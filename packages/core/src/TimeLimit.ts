/**
 * A time limit on an effect, for hot paths: what `Effect.timeoutOrElse` does, for less work per
 * call. The router times every attempt and every streamed read with it; providers may too.
 *
 * Why not `Effect.timeoutOrElse` everywhere: it races the effect against a second, sleeping
 * fiber, and on the router's path that race was the largest single cost of a call (about 60 µs
 * of a 400 µs request to a local server, measured in `pnpm bench`). On the live clock, `within`
 * runs the effect in one child fiber and times it with one timer shared by all pending limits;
 * under any other clock (`TestClock`, a custom one) it is `Effect.timeoutOrElse`, so virtual time
 * drives it exactly like any other sleep. On the live clock, a limit met inside another that ends
 * no later (a provider's own limits under the router's) runs its effect as it is: the enclosing
 * limit ends it first, so a fiber and a timer of its own would change nothing.
 *
 * Semantics (both paths): the result is the effect's own exit if it ends first, else the
 * `onTimeout()` failure, returned as soon as the limit passes; the effect is interrupted then and
 * not waited for (a request stuck in an uninterruptible region cannot hold the caller past its
 * limit). The timer never keeps a process alive on its own.
 *
 * @since 0.1.0
 */
import { Clock, Context, Duration, Effect, Fiber } from "effect"

// The clock every fiber sees unless one is provided: `Clock.Clock` is a reference whose default
// is built once and cached on the reference, so identity tells the live clock from a TestClock.
const liveClock = Context.get(Context.empty(), Clock.Clock)

// setTimeout's own ceiling; longer limits take the general path (the live clock chains sleeps).
const maxTimerMillis = 2 ** 31 - 1

/**
 * `effect` within `limit`, or the failure `onTimeout()`. An infinite limit returns `effect` as it
 * is; a zero or negative one fails at once without running it.
 *
 * **Example**
 *
 * ```ts
 * TimeLimit.within(provider.chat(request), Duration.seconds(30), () => new AttemptTimedOut())
 * ```
 *
 * @category combinators
 */
export const within = <A, E, E2, R = never>(
  effect: Effect.Effect<A, E, R>,
  limit: Duration.Duration,
  onTimeout: () => E2
): Effect.Effect<A, E | E2, R> => {
  if (!Duration.isFinite(limit)) return effect
  const millis = Duration.toMillis(limit)
  if (millis <= 0) return Effect.suspend(() => Effect.fail(onTimeout()))
  return Effect.withFiber((parent) => {
    if (parent.getRef(Clock.Clock) !== liveClock || millis > maxTimerMillis) {
      return Effect.timeoutOrElse(effect, { duration: limit, orElse: () => Effect.fail(onTimeout()) })
    }
    const at = Date.now() + millis
    // Already inside a limit that ends first (a provider's own limits under the router's): that
    // one interrupts this fiber before this limit could fire, so a second fiber and timer would
    // change nothing. (This assumes the fiber can be interrupted where this runs: inside an
    // uninterruptible region the inner limit would have stopped its own fiber, the enclosing one
    // cannot. No FlexiAI limit runs in such a region; Effect does not tell a fiber's state.)
    const enclosing = limitedUntil.get(parent)
    return enclosing !== undefined && enclosing <= at ? effect : onLiveClock(effect, at, onTimeout)
  })
}

// The fibers `within` runs effects in, with when their limit ends. Weak: a fiber leaves with its limit.
const limitedUntil = new WeakMap<Fiber.Fiber<unknown, unknown>, number>()

const onLiveClock = <A, E, E2, R>(
  effect: Effect.Effect<A, E, R>,
  at: number,
  onTimeout: () => E2
): Effect.Effect<A, E | E2, R> => {
  const limited = Effect.withFiber((child) => {
    limitedUntil.set(child, at)
    return effect
  })
  return Effect.flatMap(Effect.forkChild(limited, { startImmediately: true }), (fiber) =>
    Effect.callback<A, E | E2>((resume) => {
      const entry: Entry = {
        at,
        expire: () => {
          fiber.interruptUnsafe()
          resume(Effect.fail(onTimeout()))
        }
      }
      const ended = fiber.pollUnsafe()
      if (ended !== undefined) return resume(ended)
      watch(entry)
      fiber.addObserver((exit) => {
        if (!pending.delete(entry)) return // expired: the caller has its failure already
        resume(exit)
      })
      // the caller was interrupted: stop watching, and stop the effect
      return Effect.suspend(() => {
        pending.delete(entry)
        return Fiber.interrupt(fiber)
      })
    }))
}

/**
 * Whether `fiber` runs on the live clock (no `TestClock` or other clock provided), where the
 * shared timer below keeps time. Code that times its own callbacks with `armUnsafe` must take
 * another path otherwise, so virtual time still drives it.
 *
 * @category utils
 */
export const isLiveClock = (fiber: Fiber.Fiber<unknown, unknown>): boolean => fiber.getRef(Clock.Clock) === liveClock

/** A deadline armed with `armUnsafe`. @category models */
export interface Deadline {
  readonly at: number
  readonly expire: () => void
}

/**
 * Calls `expire` once when the live clock (`Date.now()`) reaches `at`, unless `disarmUnsafe` is
 * called first; on the same single timer as every `within` on the live clock. For code that
 * already waits on a callback of its own (the kit's undici path resumes from undici's handler)
 * and would otherwise need a fiber per limit. `expire` runs outside any fiber and must not throw.
 *
 * @category unsafe
 */
export const armUnsafe = (at: number, expire: () => void): Deadline => {
  const entry: Entry = { at, expire }
  watch(entry)
  return entry
}

/** Disarms a deadline; nothing happens if it fired already. @category unsafe */
export const disarmUnsafe = (deadline: Deadline): void => {
  pending.delete(deadline)
}

// ---------------------------------------------------------------------------
// one timer for every limit on the live clock
// ---------------------------------------------------------------------------

// A timer per limit (set, then cleared when the effect wins, as nearly all do) cost more than
// the rest of a limit. Instead the pending limits sit in a set and one unref'd timer is armed
// for the earliest of them: a limit that ends first just leaves the set, and the timer, when it
// fires, expires what is due and re-arms for the earliest left. With limits of one length, new
// ones end after the armed time, so a call only adds to and deletes from the set.

interface Entry {
  readonly at: number
  readonly expire: () => void
}

const pending = new Set<Entry>()
let timer: ReturnType<typeof setTimeout> | undefined
let armedAt = Infinity

const watch = (entry: Entry): void => {
  pending.add(entry)
  if (entry.at < armedAt) arm(entry.at)
}

const arm = (at: number): void => {
  if (timer !== undefined) clearTimeout(timer)
  armedAt = at
  // past setTimeout's ceiling Node fires at once: wake at the ceiling instead, and re-arm then
  timer = setTimeout(fire, Math.min(maxTimerMillis, Math.max(0, at - Date.now())))
  timer.unref()
}

const fire = (): void => {
  timer = undefined
  armedAt = Infinity
  const now = Date.now()
  let next = Infinity
  const due: Array<Entry> = []
  for (const entry of pending) {
    if (entry.at <= now) due.push(entry)
    else if (entry.at < next) next = entry.at
  }
  for (const entry of due) {
    // an earlier expiry may have run code that ended this one meanwhile
    if (pending.delete(entry)) entry.expire()
  }
  if (next < armedAt) arm(next)
}
