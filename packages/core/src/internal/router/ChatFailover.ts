/**
 * Chat failover: one call tried across the candidates in order under one deadline, each try under
 * its attempt timeout; the response carries every attempt and the whole call's latency.
 *
 * Internal. Combinators rather than a generator: this runs on every call, and each step counts.
 */
import { Duration, Effect, Ref, Result } from "effect"
import type { ChatRequest } from "../../ChatRequest.ts"
import type { ChatResponse } from "../../ChatResponse.ts"
import { type Attempt, type ChatError, ProviderError, Timeout } from "../../ProviderError.ts"
import type { Deps } from "./Attempt.ts"
import { traced } from "./CallLog.ts"
import { modelOf, type Slot } from "./Slot.ts"


const attemptTimedOut = (slot: Slot, request: ChatRequest) =>
  new ProviderError({
    provider: slot.name,
    model: modelOf(slot, request),
    reason: new Timeout({
      message: `no answer within ${Duration.format(slot.policy.attemptTimeout)}`,
      phase: "total",
      afterMillis: Duration.toMillis(slot.policy.attemptTimeout)
    })
  })

export const makeChat = ({ attempts: { countOutcome, failover, within }, order, routerPolicy, totals }: Deps) => {
  const chat = (request: ChatRequest): Effect.Effect<ChatResponse, ChatError> =>
    Effect.clockWith((clock) => {
      const started = clock.currentTimeMillisUnsafe()
      const attempts: Array<Attempt> = []
      totals.requests++
      const deadlineAt = started + Duration.toMillis(routerPolicy.deadline)
      // `target` is the request as this slot is sent it (its model mapped by the slot's routes)
      const run = (slot: Slot, target: ChatRequest) =>
        within(slot.provider.chat(target), slot.policy.attemptTimeout, deadlineAt, () => attemptTimedOut(slot, target))
      // the order as it is when the call starts (a read of the Ref, without a step of its own)
      return Effect.matchEffect(failover(Ref.getUnsafe(order), request, run, attempts, undefined, deadlineAt), {
        onFailure: (error) => {
          countOutcome(attempts, true)
          return Effect.fail(error)
        },
        onSuccess: (outcome): Effect.Effect<ChatResponse, ChatError> => {
          countOutcome(attempts, Result.isFailure(outcome))
          if (Result.isFailure(outcome)) return Effect.fail(outcome.failure)
          const latencyMillis = clock.currentTimeMillisUnsafe() - started
          return Effect.succeed({ ...outcome.success.tried.value, attempts, latencyMillis })
        }
      })
    }).pipe(traced("Router.chat", request))
  return chat
}
