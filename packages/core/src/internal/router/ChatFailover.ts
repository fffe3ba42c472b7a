/**
 * Chat failover: one call tried across the candidates in order under one deadline, each try under
 * its attempt timeout; the response carries every attempt and the whole call's latency.
 *
 * Internal. Combinators rather than a generator: this runs on every call, and each step counts.
 */
import { Clock, Duration, Effect, Exit, Ref, Result } from "effect"
import type { ChatRequest } from "../../ChatRequest.ts"
import type { ChatResponse } from "../../ChatResponse.ts"
import * as GenAiSpans from "../../GenAiSpans.ts"
import { type Attempt, type ChatError, ProviderError, reasonTag, Timeout } from "../../ProviderError.ts"
import type { Deps } from "./Attempt.ts"
import { candidates, CurrentCallOptions } from "./CallOptions.ts"
import { traced } from "./CallLog.ts"
import { modelOf, type Slot } from "./Slot.ts"

const answerOf = (response: ChatResponse): GenAiSpans.Answer => response


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

export const makeChat = ({ attempts: { countOutcome, failover, within }, observer, order, routerPolicy, totals }: Deps) => {
  const policyDeadlineMillis = Duration.toMillis(routerPolicy.deadline)
  // a provider's request in its own GenAI span when a tracer is installed (`GenAiSpans`); whether
  // one is is read once per call, so an untraced call adds no step per attempt
  const inAttemptSpan = (slot: Slot, target: ChatRequest, effect: Effect.Effect<ChatResponse, ChatError>) =>
    GenAiSpans.inAttemptSpan(effect, slot.name, target, modelOf(slot, target), answerOf, reasonTag)
  const chat = (request: ChatRequest): Effect.Effect<ChatResponse, ChatError> =>
    traced("Router.chat", request, (callId, tracing) => Effect.withFiber((fiber) => {
      const clock = fiber.getRef(Clock.Clock)
      // per-call options (`Router.withCallOptions`): one reference read, `undefined` unless set
      const options = fiber.getRef(CurrentCallOptions)
      const started = clock.currentTimeMillisUnsafe()
      const attempts: Array<Attempt> = []
      totals.requests++
      if (observer !== undefined) observer.begin(attempts, callId, "chat", clock, started, request.model)
      const deadlineAt = started +
        (options?.deadline === undefined ? policyDeadlineMillis : Duration.toMillis(options.deadline))
      // `target` is the request as this slot is sent it (its model mapped by the slot's routes);
      // the options are this router's: a router among its providers does not see them
      const run = options === undefined
        ? (slot: Slot, target: ChatRequest) =>
          within(
            tracing ? inAttemptSpan(slot, target, slot.provider.chat(target)) : slot.provider.chat(target),
            slot.policy.attemptTimeout,
            deadlineAt,
            () => attemptTimedOut(slot, target)
          )
        : (slot: Slot, target: ChatRequest) =>
          within(
            tracing
              ? inAttemptSpan(slot, target, Effect.provideService(slot.provider.chat(target), CurrentCallOptions, undefined))
              : Effect.provideService(slot.provider.chat(target), CurrentCallOptions, undefined),
            slot.policy.attemptTimeout,
            deadlineAt,
            () => attemptTimedOut(slot, target)
          )
      // the order as it is when the call starts (a read of the Ref, without a step of its own)
      const slots = options === undefined ? Ref.getUnsafe(order) : candidates(Ref.getUnsafe(order), options)
      const settled = Effect.matchEffect(failover(slots, request, run, attempts, undefined, deadlineAt), {
        onFailure: (error) => {
          countOutcome(attempts, true)
          if (observer !== undefined && observer.observes(attempts)) {
            observer.finish(attempts, { outcome: "failure", reason: reasonTag(error) })
          }
          return Effect.fail(error)
        },
        onSuccess: (outcome): Effect.Effect<ChatResponse, ChatError> => {
          countOutcome(attempts, Result.isFailure(outcome))
          if (Result.isFailure(outcome)) {
            if (observer !== undefined && observer.observes(attempts)) {
              observer.finish(attempts, { outcome: "failure", reason: reasonTag(outcome.failure) })
            }
            return Effect.fail(outcome.failure)
          }
          const latencyMillis = clock.currentTimeMillisUnsafe() - started
          const response = { ...outcome.success.tried.value, attempts, latencyMillis }
          if (observer !== undefined && observer.observes(attempts)) {
            observer.answerCost(attempts, response.provider, response.model, response.cost, response.usage)
            observer.finish(attempts, { outcome: "success", ...response })
          }
          return Effect.succeed(response)
        }
      })
      // an observed call that is interrupted (or dies) still ends with its `call-finish`; after an
      // outcome above the call is finished already and this does nothing. Only observed calls pay for it.
      return observer !== undefined && observer.observes(attempts)
        ? Effect.onExit(settled, (exit) =>
          Effect.sync(() =>
            observer.finish(attempts, {
              outcome: "failure",
              reason: Exit.hasInterrupts(exit) ? "Interrupted" : "Defect"
            })
          ))
        : settled
    }), answerOf, reasonTag)
  return chat
}
