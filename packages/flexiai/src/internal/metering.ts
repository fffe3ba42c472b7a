/**
 * Cost metering as a config describes it (`pricing`, `budgets`): the pricing table (bundled rows
 * with the config's over them), the ledger of totals, the budgets and their store (in Redis with a
 * `redis` section, shared by every process on its prefix; else in memory), and the estimator
 * (`Tokenizers.estimator`). `undefined` when `pricing.enabled` is false: providers are then handed
 * to the router unwrapped, and nothing is added per call.
 */
import type { FlexiConfig } from "@flexiai/config"
import * as Budget from "@flexiai/core/Budget"
import type * as ChatProvider from "@flexiai/core/ChatProvider"
import * as Ledger from "@flexiai/core/Ledger"
import * as Metering from "@flexiai/core/Metering"
import * as Pricing from "@flexiai/core/Pricing"
import * as PriceTable from "@flexiai/core/PriceTable"
import { Effect, Scope } from "effect"
import * as Tokenizers from "../Tokenizers.ts"
import * as RedisSetup from "./redis.ts"

export interface Built {
  readonly options: Metering.Options
  readonly ledger: Ledger.Ledger
  readonly budgets: Budget.Budgets | undefined
  readonly wrap: (provider: ChatProvider.ChatProvider["Service"]) => ChatProvider.ChatProvider["Service"]
}

export const make = (config: FlexiConfig.ResolvedConfig, scope: Scope.Scope): Effect.Effect<Built | undefined> =>
  Effect.gen(function*() {
    if (!config.pricing.enabled) return undefined
    const ledger = Ledger.make()
    const budgetsConfig = config.budgets
    let budgets: Budget.Budgets | undefined
    if (budgetsConfig !== undefined && budgetsConfig.limits.length > 0) {
      const redis = config.redis
      const store = redis === undefined
        ? yield* Budget.makeMemoryStore
        : yield* (yield* RedisSetup.load).RedisBudgetStore.makeConnected(
          RedisSetup.connectionOptions(redis),
          { prefix: redis.prefix, storeTimeout: redis.storeTimeout, whenUnavailable: budgetsConfig.whenUnavailable }
        ).pipe(Scope.provide(scope))
      budgets = Budget.make(budgetsConfig.limits, store)
    }
    const options: Metering.Options = {
      pricing: Pricing.index(Pricing.merge(PriceTable.rows, config.pricing.models)),
      ledger,
      budgets,
      estimator: Tokenizers.estimator,
      tagKey: config.pricing.tagKey,
      outputCap: budgetsConfig?.outputCap
    }
    return { options, ledger, budgets, wrap: (provider) => Metering.wrap(provider, options) }
  })
