/**
 * Running usage and cost totals, overall and per provider, model and tag, in this process. Every
 * metered call adds one `Charge`: a completed answer, or a billed failed attempt (a stream cut after
 * tokens, its cost estimated). A call whose model has no price adds its tokens and counts as
 * `unpriced`. A `Charge` is also what a later cost event would carry.
 *
 * @since 0.2.0
 */
import type { Usage } from "./ChatResponse.ts"
import type { Cost } from "./Pricing.ts"

/** One metered outcome. @category models */
export interface Charge {
  readonly provider: string
  readonly model: string
  readonly tag: string | undefined
  readonly outcome: "success" | "billed-failure"
  readonly usage: Usage | undefined
  readonly cost: Cost | undefined
}

/** Sums over charges. @category models */
export interface Totals {
  readonly requests: number
  readonly billedFailures: number
  /** Charges without a price (the model is not in the table). */
  readonly unpriced: number
  readonly promptTokens: number
  readonly completionTokens: number
  readonly cachedTokens: number
  readonly cacheWriteTokens: number
  readonly reasoningTokens: number
  readonly costUsd: number
}

/** @category models */
export interface Report {
  readonly total: Totals
  readonly byProvider: Readonly<Record<string, Totals>>
  readonly byModel: Readonly<Record<string, Totals>>
  readonly byTag: Readonly<Record<string, Totals>>
}

/** @category models */
export interface Ledger {
  /** Adds a charge (plain code: it runs inside a stream's per-part step). */
  readonly record: (charge: Charge) => void
  /** A copy of the totals now. */
  readonly report: () => Report
}

type Mutable = { -readonly [K in keyof Totals]: Totals[K] }

const empty = (): Mutable => ({
  requests: 0,
  billedFailures: 0,
  unpriced: 0,
  promptTokens: 0,
  completionTokens: 0,
  cachedTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
  costUsd: 0
})

const add = (totals: Mutable, charge: Charge) => {
  if (charge.outcome === "success") totals.requests++
  else totals.billedFailures++
  if (charge.cost === undefined) totals.unpriced++
  else totals.costUsd += charge.cost.totalUsd
  const usage = charge.usage
  if (usage !== undefined) {
    totals.promptTokens += usage.promptTokens
    totals.completionTokens += usage.completionTokens
    totals.cachedTokens += usage.cachedTokens ?? 0
    totals.cacheWriteTokens += usage.cacheWriteTokens ?? 0
    totals.reasoningTokens += usage.reasoningTokens ?? 0
  }
}

const copy = (groups: Map<string, Mutable>): Record<string, Totals> => Object.fromEntries([...groups].map(([key, totals]) => [key, { ...totals }]))

/** Totals of no charge. @category constants */
export const zero: Totals = empty()

/** An empty ledger. @category constructors */
export const make = (): Ledger => {
  const total = empty()
  const byProvider = new Map<string, Mutable>()
  const byModel = new Map<string, Mutable>()
  const byTag = new Map<string, Mutable>()
  const into = (groups: Map<string, Mutable>, key: string, charge: Charge) => {
    let totals = groups.get(key)
    if (totals === undefined) groups.set(key, totals = empty())
    add(totals, charge)
  }
  return {
    record: (charge) => {
      add(total, charge)
      into(byProvider, charge.provider, charge)
      into(byModel, charge.model, charge)
      if (charge.tag !== undefined) into(byTag, charge.tag, charge)
    },
    report: () => ({ total: { ...total }, byProvider: copy(byProvider), byModel: copy(byModel), byTag: copy(byTag) })
  }
}
