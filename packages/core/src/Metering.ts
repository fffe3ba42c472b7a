/**
 * Cost, totals and budgets around one provider: `wrap(provider, options)` is the same
 * `ChatProvider` with
 *
 * - `cost` on every response and stream `finish` part (from its usage and the pricing table;
 *   absent when the model has no price or the provider sent no usage);
 * - a `Charge` in the `Ledger` for every answer and every billed failed attempt: a stream that
 *   broke after tokens arrived is billed by the provider, so its cost is estimated from the prompt
 *   estimate and the text that arrived (`cost.estimated`) and put on the error (`ProviderError.cost`,
 *   which the router copies onto the attempt);
 * - budgets (`Budget`): before the call the request's estimated cost is reserved (`estimateCost`'s
 *   `reserveUsd`); past a limit the call fails with `BudgetExceeded` and nothing is sent; when the
 *   call ends the reservation is settled to the real cost (the billed estimate for a cut stream,
 *   nothing for an unbilled failure).
 *
 * The router wraps nothing: `FlexiAI.layer` wraps each provider before handing it to the router,
 * so each attempt is metered on the provider it ran on, and a `BudgetExceeded` is one attempt's
 * failure that the policy (`failoverOnBudgetExceeded`) fails over on or stops with.
 *
 * @since 0.2.0
 */
import { Effect, Exit, Stream } from "effect"
import type * as Budget from "./Budget.ts"
import type * as ChatProvider from "./ChatProvider.ts"
import type { ChatRequest } from "./ChatRequest.ts"
import type { Usage } from "./ChatResponse.ts"
import * as Estimate from "./Estimate.ts"
import type * as Ledger from "./Ledger.ts"
import * as Pricing from "./Pricing.ts"
import { BudgetExceeded, type ChatError, ProviderError } from "./ProviderError.ts"
import type { StreamPart } from "./StreamPart.ts"

/** @category models */
export interface Options {
  readonly pricing: Pricing.Index
  readonly ledger: Ledger.Ledger
  readonly budgets?: Budget.Budgets | undefined
  /** Default `Estimate.approximate`. */
  readonly estimator?: Estimate.Estimator | undefined
  /** The `metadata` key whose value tags a request. Default `"tag"`. */
  readonly tagKey?: string | undefined
  /** Output tokens reserved for a request without `maxTokens`. Default 4096. */
  readonly outputCap?: number | undefined
}

/** What a request is expected to cost before it is sent. @category models */
export interface CostEstimate {
  readonly model: string
  /** The row it is priced as (`undefined`: no price, so no cost and nothing reserved). */
  readonly pricedAs: string | undefined
  readonly promptTokens: number
  readonly method: string
  /** The estimate's stated relative error on the prompt count. */
  readonly errorBound: number
  /** Output tokens allowed: `maxTokens`, else `outputCap`. */
  readonly maxOutputTokens: number
  /** The prompt at the estimated count. */
  readonly promptUsd: number
  /** The prompt plus the most output it may produce. */
  readonly maxUsd: number
  /** What a budget reserves: the prompt at its count plus its error bound, plus the most output. */
  readonly reserveUsd: number
}

export const defaultOutputCap = 4096
export const defaultTagKey = "tag"

/** Estimates a request's cost on `model` before sending it. @category estimates */
export const estimateCost = (options: Options, request: ChatRequest, model: string): CostEstimate => {
  const estimator = options.estimator ?? Estimate.approximate
  const prompt = estimator.prompt(request, model)
  const maxOutputTokens = request.maxTokens ?? options.outputCap ?? defaultOutputCap
  const price = Pricing.lookup(options.pricing, model)
  const usd = (promptTokens: number, completionTokens: number) =>
    price === undefined ? 0 : Pricing.costOf(price, { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens }).totalUsd
  return {
    model,
    pricedAs: price?.model,
    promptTokens: prompt.tokens,
    method: prompt.method,
    errorBound: prompt.errorBound,
    maxOutputTokens,
    promptUsd: usd(prompt.tokens, 0),
    maxUsd: usd(prompt.tokens, maxOutputTokens),
    reserveUsd: usd(Math.ceil(prompt.tokens * (1 + prompt.errorBound)), maxOutputTokens)
  }
}

/** The cost of `usage` on `model` (or the model asked for, when the answering id has no row). @category estimates */
export const costFor = (pricing: Pricing.Index, usage: Usage | undefined, model: string, asked?: string): Pricing.Cost | undefined => {
  if (usage === undefined) return undefined
  const price = Pricing.lookup(pricing, model) ?? (asked === undefined ? undefined : Pricing.lookup(pricing, asked))
  return price === undefined ? undefined : Pricing.costOf(price, usage)
}

const budgetError = (provider: string, model: string, denial: Budget.Denial): ProviderError =>
  new ProviderError({
    provider,
    model,
    reason: new BudgetExceeded({
      message: `budget "${denial.budget}" ($${denial.limitUsd}) has $${denial.spentUsd.toFixed(6)} spent or reserved; ` +
        `this request needs up to $${denial.requestedUsd.toFixed(6)}` +
        (denial.resetsAt === undefined ? "" : `; it resets at ${new Date(denial.resetsAt).toISOString()}`),
      budget: denial.budget,
      limitUsd: denial.limitUsd,
      spentUsd: denial.spentUsd,
      requestedUsd: denial.requestedUsd,
      ...(denial.resetsAt === undefined ? {} : { resetsAt: denial.resetsAt })
    })
  })

const withCost = (error: ProviderError, cost: Pricing.Cost): ProviderError =>
  new ProviderError({
    provider: error.provider,
    ...(error.model === undefined ? {} : { model: error.model }),
    reason: error.reason,
    ...(error.requestId === undefined ? {} : { requestId: error.requestId }),
    cost
  })

/** `provider` metered (see the module header). @category constructors */
export const wrap = (provider: ChatProvider.ChatProvider["Service"], options: Options): ChatProvider.ChatProvider["Service"] => {
  const { budgets, ledger, pricing } = options
  const tagKey = options.tagKey ?? defaultTagKey
  const estimator = options.estimator ?? Estimate.approximate

  // Reserves the estimate where a budget applies; the ticket (or undefined) goes to `use`.
  const admitted = <A, E, R>(
    request: ChatRequest,
    model: string,
    tag: string | undefined,
    use: (ticket: Budget.Ticket | undefined) => Effect.Effect<A, E, R>
  ): Effect.Effect<A, E | ProviderError, R> => {
    if (budgets === undefined) return use(undefined)
    const estimate = estimateCost(options, request, model)
    return Effect.flatMap(
      budgets.reserve({ provider: provider.name, model, tag }, estimate.reserveUsd),
      (ticket): Effect.Effect<A, E | ProviderError, R> => {
        if (ticket !== undefined && "budget" in ticket) return Effect.fail(budgetError(provider.name, model, ticket))
        return use(ticket)
      }
    )
  }
  const settle = (ticket: Budget.Ticket | undefined, usd: number) =>
    ticket === undefined || budgets === undefined ? Effect.void : budgets.settle(ticket, usd)

  const chat = (request: ChatRequest) => {
    const model = request.model ?? provider.defaultModel
    const tag = request.metadata?.[tagKey]
    return admitted(request, model, tag, (ticket) => {
      let billed = 0
      return provider.chat(request).pipe(
        Effect.map((response) => {
          const cost = costFor(pricing, response.usage, response.model, model)
          ledger.record({ provider: provider.name, model: response.model, tag, outcome: "success", usage: response.usage, cost })
          billed = cost?.totalUsd ?? 0
          return cost === undefined ? response : { ...response, cost }
        }),
        Effect.onExit(() => settle(ticket, billed))
      )
    })
  }

  const stream = (request: ChatRequest): Stream.Stream<StreamPart, ChatError> => {
    const model = request.model ?? provider.defaultModel
    const tag = request.metadata?.[tagKey]
    return Stream.unwrap(admitted(request, model, tag, (ticket) =>
      Effect.sync(() => {
        // what arrived, for the cost of a stream cut short (the provider bills what it generated)
        let arrived = 0
        const pieces: Array<string> = []
        let billed = 0
        let finished = false
        const billPartial = (): Pricing.Cost | undefined => {
          if (finished || arrived === 0) return undefined
          const price = Pricing.lookup(pricing, model)
          if (price === undefined) return undefined
          const promptTokens = estimator.prompt(request, model).tokens
          const completionTokens = estimator.text(pieces.join(""), model)
          const usage = { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens }
          const cost = Pricing.costOf(price, usage, true)
          ledger.record({ provider: provider.name, model, tag, outcome: "billed-failure", usage, cost })
          billed = cost.totalUsd
          finished = true
          return cost
        }
        return provider.stream(request).pipe(
          Stream.map((part): StreamPart => {
            switch (part.type) {
              case "text-delta":
                arrived++
                pieces.push(part.text)
                return part
              case "reasoning-delta":
                arrived++
                if (part.text !== undefined) pieces.push(part.text)
                return part
              case "tool-call-delta":
                arrived++
                pieces.push(part.argumentsDelta)
                return part
              case "finish": {
                finished = true
                const cost = costFor(pricing, part.usage, part.model, model)
                ledger.record({ provider: provider.name, model: part.model, tag, outcome: "success", usage: part.usage, cost })
                billed = cost?.totalUsd ?? 0
                return cost === undefined ? part : { ...part, cost }
              }
              default:
                return part
            }
          }),
          Stream.mapError((error) => {
            if (error._tag !== "ProviderError") return error
            const cost = billPartial()
            return cost === undefined ? error : withCost(error, cost)
          }),
          Stream.onExit((exit) => {
            // a consumer that stopped early still pays for what was generated
            if (Exit.isSuccess(exit) || exit.cause.reasons.every((reason) => reason._tag === "Interrupt")) billPartial()
            return settle(ticket, billed)
          })
        )
      })))
  }

  return { ...provider, chat, stream }
}
