/**
 * Retries on the same provider, as an Effect `Schedule` whose input is the failure.
 *
 * Exponential backoff with jitter, capped per delay and in count, only for retryable reasons, and
 * never shorter than a `RateLimited` (or `Overloaded`) Retry-After. A 429 whose Retry-After is
 * longer than `maxRetryAfter` is not retried at all: waiting that long on one provider is worse
 * than failing over, so the schedule stops and the router moves on (and skips the provider until
 * then).
 *
 * @since 0.1.0
 */
import { Duration, Effect, Schedule } from "effect"
import type { ChatError } from "./ProviderError.ts"
import type * as RouterPolicy from "./RouterPolicy.ts"

/** The Retry-After a failure carries, if any. @category utils */
export const retryAfterOf = (error: ChatError): Duration.Duration | undefined =>
  error._tag === "ProviderError" && (error.reason._tag === "RateLimited" || error.reason._tag === "Overloaded")
    ? error.reason.retryAfter
    : undefined

/**
 * Whether `error` may be retried on the same provider under `policy`: the reason is retryable and
 * any Retry-After it carries is short enough to wait out.
 *
 * @category utils
 */
export const shouldRetry = (error: ChatError, maxRetryAfter: Duration.Duration): boolean => {
  if (error._tag !== "ProviderError" || !error.reason.isRetryable) return false
  const retryAfter = retryAfterOf(error)
  return retryAfter === undefined || Duration.isLessThanOrEqualTo(retryAfter, maxRetryAfter)
}

/**
 * The retry schedule for a resolved policy.
 *
 * **Example**
 *
 * ```ts
 * call.pipe(Effect.retry(RetryPolicy.make(RouterPolicy.resolve({ retry: { maxRetries: 3 } }))))
 * ```
 *
 * @category constructors
 */
export const make = (
  policy: Pick<RouterPolicy.Resolved, "retry" | "maxRetryAfter">
): Schedule.Schedule<Duration.Duration, ChatError> => {
  const { factor, initialDelay, jitter, maxDelay, maxRetries } = policy.retry
  const base = Schedule.exponential(initialDelay, factor)
  return (jitter ? Schedule.jittered(base) : base).pipe(
    Schedule.setInputType<ChatError>(),
    Schedule.modifyDelay(({ duration, input }) => {
      const capped = Duration.min(duration, maxDelay)
      const retryAfter = retryAfterOf(input)
      return Effect.succeed(retryAfter === undefined ? capped : Duration.max(capped, retryAfter))
    }),
    Schedule.upTo({ times: maxRetries }),
    Schedule.while(({ input }) => shouldRetry(input, policy.maxRetryAfter))
  )
}
