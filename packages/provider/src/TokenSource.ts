/**
 * A token that is fetched, cached, and renewed before it expires (Vertex and Azure Entra access
 * tokens, Flow's client-credential tokens): the auth a transport asks for on every request.
 *
 * What users get wrong: renewing per caller. A hundred requests that start together with no token
 * (or an expired one) share ONE renewal: the first starts it in its own fiber, the rest wait for it,
 * and a caller that is interrupted while waiting does not cancel it for the others. A renewal that
 * fails fails every waiter and leaves no token, so the next call tries again. `refresh(stale)` is
 * for a 401: it renews only when the token the request used is still the cached one (a hundred
 * 401s of one stale token also share one renewal).
 *
 * A renewed token does not make the old ones harmless: a long stream sent with an old token can
 * fail (and its provider echo that token) after several renewals. `recent` lists the tokens this
 * source handed out, newest first (the last `remember`, default 8), and the transport masks them
 * all, not just the current one.
 *
 * @since 0.2.0
 */
import { Clock, Deferred, Duration, Effect, Redacted } from "effect"

/** What a fetch returns: the token, and when it stops being valid (epoch ms; `undefined`: never). @category models */
export interface Token {
  readonly value: Redacted.Redacted<string>
  readonly expiresAtMillis?: number | undefined
}

/** @category models */
export interface TokenSource<E> {
  /** The cached token, renewed first when it is missing or within `renewBefore` of its expiry. */
  readonly get: Effect.Effect<Redacted.Redacted<string>, E>
  /** After the provider rejected `stale`: a renewed token (or the one another caller renewed meanwhile). */
  readonly refresh: (stale: Redacted.Redacted<string>) => Effect.Effect<Redacted.Redacted<string>, E>
  /**
   * The tokens handed out so far, newest first, a bounded number of them: what a transport masks
   * out of provider messages. The same array until the next renewal (callers may cache by identity).
   */
  readonly recent: () => ReadonlyArray<Redacted.Redacted<string>>
}

/** @category models */
export interface Options {
  /** Renew this long before the expiry, so no request leaves with a token about to lapse. Default 60 s. */
  readonly renewBefore?: Duration.Input | undefined
  /** How many of the latest tokens `recent` keeps (masked after they were replaced). Default 8. */
  readonly remember?: number | undefined
}

/**
 * A token source over `fetch` (the token endpoint call).
 *
 * @category constructors
 */
export const make = <E>(fetch: Effect.Effect<Token, E>, options: Options = {}): TokenSource<E> => {
  const renewBefore = Duration.toMillis(Duration.fromInputUnsafe(options.renewBefore ?? Duration.seconds(60)))
  const remember = Math.max(1, options.remember ?? 8)
  let current: Token | undefined
  let pending: Deferred.Deferred<Token, E> | undefined
  // a new array per renewal (never changed in place): a transport rebuilds its mask only then
  let recent: ReadonlyArray<Redacted.Redacted<string>> = []
  const issued = (token: Token) => {
    const value = Redacted.value(token.value)
    recent = [token.value, ...recent.filter((old) => Redacted.value(old) !== value)].slice(0, remember)
  }

  const renew: Effect.Effect<Redacted.Redacted<string>, E> = Effect.suspend(() => {
    const waiting = pending
    if (waiting !== undefined) return Effect.map(Deferred.await(waiting), (token) => token.value)
    current = undefined
    // set before the renewal starts, cleared by it when done: whoever comes meanwhile waits for it
    const renewal = Deferred.makeUnsafe<Token, E>()
    pending = renewal
    const run = Effect.onExit(fetch, (exit) =>
      Effect.sync(() => {
        if (exit._tag === "Success") {
          current = exit.value
          issued(exit.value)
        }
        pending = undefined
        Deferred.doneUnsafe(renewal, exit)
      }))
    // in its own fiber: a waiter that is interrupted does not cancel the renewal for the others
    return Effect.andThen(Effect.forkDetach(run), Effect.map(Deferred.await(renewal), (token) => token.value))
  })

  const get: Effect.Effect<Redacted.Redacted<string>, E> = Effect.flatMap(Clock.currentTimeMillis, (now) => {
    const token = current
    if (token !== undefined && (token.expiresAtMillis === undefined || now < token.expiresAtMillis - renewBefore)) {
      return Effect.succeed(token.value)
    }
    return renew
  })

  const refresh = (stale: Redacted.Redacted<string>): Effect.Effect<Redacted.Redacted<string>, E> =>
    Effect.suspend(() => {
      if (pending !== undefined) return renew
      if (current !== undefined && Redacted.value(current.value) !== Redacted.value(stale)) return Effect.succeed(current.value)
      return renew
    })

  return { get, refresh, recent: () => recent }
}
