/**
 * Spending limits per key, tag and period, enforced before a request is sent: a request first
 * reserves its estimated cost (prompt estimate plus its `maxTokens`, or a configured cap, at the
 * output price) in every budget it falls under, all or nothing; when it ends, the reservation is
 * settled to what it really cost (nothing for a call that failed unbilled). A reservation that would
 * take a budget past its limit is refused, and the request fails with `BudgetExceeded` without a
 * call. Since every reservation is checked and taken in one atomic step (a `Ref` here, a Lua script
 * in Redis: `@flexiai/redis`'s `RedisBudgetStore`), concurrent requests can never together reserve
 * more than a limit.
 *
 * **Scope** of a rule: `provider` (a provider entry, i.e. one API key and account), `model`, `tag`
 * (the request's `metadata[tagKey]`; `"*"` gives every tag value its own budget), any combination;
 * none is a budget over everything. **Period**: `hour`, `day`, `week` (from Monday), `month`, all
 * UTC windows read from the `Clock` (so `TestClock` moves them), or `total` (never resets).
 *
 * **Gotchas**: the real cost can exceed the reservation only where the estimate is low: a request
 * without `maxTokens` whose answer is longer than `outputCap`, or a prompt the estimate undercounts
 * beyond its margin (see `Estimate`). Give `maxTokens` (or an `outputCap` at the model's limit) where
 * a budget must hold exactly. Amounts are integer nano-dollars (`Pricing.toNanos`).
 *
 * @since 0.2.0
 */
import { Clock, Effect, Ref, Schema } from "effect"
import * as Pricing from "./Pricing.ts"

/** @category schemas */
export const Period = Schema.Literals(["hour", "day", "week", "month", "total"])
export type Period = typeof Period.Type

/** One budget as config writes it. @category schemas */
export const Rule = Schema.Struct({
  name: Schema.NonEmptyString.annotate({ description: "The budget's name, in errors and reports; unique." }),
  limitUsd: Schema.Number.check(Schema.isFinite(), Schema.isGreaterThan(0)).annotate({ description: "Most it may spend per period, USD." }),
  period: Period.annotate({ description: "The UTC window it resets on (hour, day, week from Monday, month), or total." }),
  provider: Schema.optionalKey(Schema.NonEmptyString.annotate({ description: "Only requests sent to this provider (its key)." })),
  model: Schema.optionalKey(Schema.NonEmptyString.annotate({ description: "Only requests for this model id." })),
  tag: Schema.optionalKey(Schema.NonEmptyString.annotate({
    description: "Only requests with this tag (metadata[tagKey]); \"*\": every tag value its own budget (untagged requests are outside it)."
  }))
})
export type Rule = typeof Rule.Type

/** A budget window: its start and (but for `total`) end, clock millis. @category models */
export interface Window {
  readonly start: number
  readonly end: number | undefined
}

/** The UTC window of `period` that `now` is in. @category periods */
export const windowOf = (period: Period, now: number): Window => {
  const date = new Date(now)
  const y = date.getUTCFullYear(), m = date.getUTCMonth(), d = date.getUTCDate()
  switch (period) {
    case "hour": {
      const start = Math.floor(now / 3_600_000) * 3_600_000
      return { start, end: start + 3_600_000 }
    }
    case "day": {
      const start = Date.UTC(y, m, d)
      return { start, end: start + 86_400_000 }
    }
    case "week": {
      const start = Date.UTC(y, m, d - ((date.getUTCDay() + 6) % 7))
      return { start, end: start + 7 * 86_400_000 }
    }
    case "month":
      return { start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1) }
    case "total":
      return { start: 0, end: undefined }
  }
}

// ---------------------------------------------------------------------------
// store
// ---------------------------------------------------------------------------

/** One budget window a reservation goes into. @category models */
export interface Line {
  /** The window's key: rule name, tag where per tag, window start. */
  readonly key: string
  readonly limitNanos: number
  /** When the store may forget the window (its end plus a day), clock millis; `undefined`: never. */
  readonly expiresAt: number | undefined
}

/** A refused reservation: which line, and what it had spent or reserved. @category models */
export interface Refused {
  readonly index: number
  readonly spentNanos: number
}

/**
 * Where budget windows are counted. Both operations are atomic over all their lines: `reserve`
 * adds `nanos` to every line or to none (refusing when any would pass its limit), `adjust` adds
 * `deltaNanos` (negative to give back) to every line.
 *
 * @category models
 */
export interface Store {
  readonly reserve: (lines: ReadonlyArray<Line>, nanos: number) => Effect.Effect<Refused | undefined>
  readonly adjust: (keys: ReadonlyArray<string>, deltaNanos: number) => Effect.Effect<void>
  readonly spent: (keys: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<number>>
}

/**
 * Windows in this process: one `Ref` whose `modify` checks and takes a reservation in one step.
 * Expired windows are dropped as new ones are reserved.
 *
 * @category stores
 */
export const makeMemoryStore: Effect.Effect<Store> = Effect.gen(function*() {
  type Windows = Map<string, { readonly spent: number; readonly expiresAt: number | undefined }>
  const state = yield* Ref.make<Windows>(new Map())
  const reserve = (lines: ReadonlyArray<Line>, nanos: number) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Ref.modify(state, (windows: Windows): [Refused | undefined, Windows] => {
        for (const [index, line] of lines.entries()) {
          const spent = windows.get(line.key)?.spent ?? 0
          if (spent + nanos > line.limitNanos) return [{ index, spentNanos: spent }, windows]
        }
        const next = new Map(windows)
        for (const [key, window] of next) if (window.expiresAt !== undefined && window.expiresAt <= now) next.delete(key)
        for (const line of lines) {
          next.set(line.key, { spent: (next.get(line.key)?.spent ?? 0) + nanos, expiresAt: line.expiresAt })
        }
        return [undefined, next]
      }))
  const adjust = (keys: ReadonlyArray<string>, deltaNanos: number) =>
    deltaNanos === 0 ? Effect.void : Ref.update(state, (windows) => {
      const next = new Map(windows)
      for (const key of keys) {
        const window = next.get(key)
        if (window !== undefined) next.set(key, { ...window, spent: Math.max(0, window.spent + deltaNanos) })
      }
      return next
    })
  const spent = (keys: ReadonlyArray<string>) => Effect.map(Ref.get(state), (windows) => keys.map((key) => windows.get(key)?.spent ?? 0))
  return { reserve, adjust, spent }
})

// ---------------------------------------------------------------------------
// budgets
// ---------------------------------------------------------------------------

/** What a request is, for the budgets: where it goes and its tag. @category models */
export interface Subject {
  readonly provider: string
  readonly model: string
  readonly tag: string | undefined
}

/** A taken reservation, settled once with the real cost. @category models */
export interface Ticket {
  readonly keys: ReadonlyArray<string>
  readonly reservedNanos: number
}

/** A refusal, with what a `BudgetExceeded` error (and a later budget event) needs. @category models */
export interface Denial {
  readonly budget: string
  readonly limitUsd: number
  readonly spentUsd: number
  readonly requestedUsd: number
  readonly resetsAt: number | undefined
}

/** One budget window's standing, for status reports. @category models */
export interface Standing {
  readonly budget: string
  readonly tag: string | undefined
  readonly period: Period
  readonly limitUsd: number
  readonly spentUsd: number
  readonly windowStart: number
  readonly windowEnd: number | undefined
}

/** @category models */
export interface Budgets {
  readonly rules: ReadonlyArray<Rule>
  /** Reserves `usd` in every budget `subject` falls under: a ticket (none when no budget applies), or the refusal. */
  readonly reserve: (subject: Subject, usd: number) => Effect.Effect<Ticket | Denial | undefined>
  /** Settles a ticket to the real cost (0 for an unbilled failure). */
  readonly settle: (ticket: Ticket, usd: number) => Effect.Effect<void>
  /** The current window of every budget (per tag: the tags seen by this process). */
  readonly standings: Effect.Effect<ReadonlyArray<Standing>>
}

const applies = (rule: Rule, subject: Subject): boolean =>
  (rule.provider === undefined || rule.provider === subject.provider) &&
  (rule.model === undefined || rule.model === subject.model) &&
  (rule.tag === undefined || (subject.tag !== undefined && (rule.tag === "*" || rule.tag === subject.tag)))

const dayMillis = 86_400_000

const keyOf = (rule: Rule, tag: string | undefined, window: Window): string =>
  `${rule.name}${rule.tag === "*" ? `:tag=${tag}` : ""}:${window.start}`

/** Whether a value is a refusal rather than a ticket. @category guards */
export const isDenial = (value: Ticket | Denial | undefined): value is Denial => value !== undefined && "budget" in value

/**
 * Budgets over `rules`, counted in `store`.
 *
 * @category constructors
 */
export const make = (rules: ReadonlyArray<Rule>, store: Store): Budgets => {
  const tagsSeen = new Set<string>()
  const reserve = (subject: Subject, usd: number): Effect.Effect<Ticket | Denial | undefined> => {
    const matching = rules.filter((rule) => applies(rule, subject))
    if (matching.length === 0) return Effect.succeed(undefined)
    if (subject.tag !== undefined && matching.some((rule) => rule.tag === "*")) tagsSeen.add(subject.tag)
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const windows = matching.map((rule) => windowOf(rule.period, now))
      const lines = matching.map((rule, index): Line => {
        const window = windows[index]!
        return {
          key: keyOf(rule, subject.tag, window),
          limitNanos: Pricing.toNanos(rule.limitUsd),
          expiresAt: window.end === undefined ? undefined : window.end + dayMillis
        }
      })
      const nanos = Pricing.toNanos(usd)
      return Effect.map(store.reserve(lines, nanos), (refused): Ticket | Denial => {
        if (refused === undefined) return { keys: lines.map((line) => line.key), reservedNanos: nanos }
        const rule = matching[refused.index]!
        return {
          budget: rule.name,
          limitUsd: rule.limitUsd,
          spentUsd: Pricing.fromNanos(refused.spentNanos),
          requestedUsd: usd,
          resetsAt: windows[refused.index]!.end
        }
      })
    })
  }
  const settle = (ticket: Ticket, usd: number) => store.adjust(ticket.keys, Pricing.toNanos(usd) - ticket.reservedNanos)
  const standings = Effect.flatMap(Clock.currentTimeMillis, (now) => {
    const rows: Array<Omit<Standing, "spentUsd"> & { readonly key: string }> = []
    for (const rule of rules) {
      const window = windowOf(rule.period, now)
      const tags = rule.tag === "*" ? [...tagsSeen] : [rule.tag]
      for (const tag of tags) {
        rows.push({
          key: keyOf(rule, tag, window),
          budget: rule.name,
          tag,
          period: rule.period,
          limitUsd: rule.limitUsd,
          windowStart: window.start,
          windowEnd: window.end
        })
      }
    }
    return Effect.map(store.spent(rows.map((row) => row.key)), (spent) =>
      rows.map(({ key: _key, ...row }, index): Standing => ({ ...row, spentUsd: Pricing.fromNanos(spent[index]!) })))
  })
  return { rules, reserve, settle, standings }
}
