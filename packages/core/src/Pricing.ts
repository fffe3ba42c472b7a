/**
 * Prices as data, and what a call costs. A `Table` is a list of `Price` rows (USD per 1M tokens:
 * input, output, cached input, cache write, reasoning where priced apart, optional long-prompt
 * tiers), each with the URL it was read from and the date. `lookup` finds a model's row; `costOf`
 * turns a `Usage` into a `Cost`. The bundled rows are in `PriceTable.ts`; config can override and
 * extend them (`merge`).
 *
 * **Matching** (`lookup`), first hit wins, case-insensitive:
 * 1. the id as given, against each row's `model` and `aliases`;
 * 2. the id normalised: a Bedrock region prefix of an inference profile (`us.`, `eu.`, `apac.`,
 *    `global.`, …), a vendor prefix (`anthropic.`, `meta.`, `amazon.`; OpenRouter's `openai/`, …;
 *    Gemini's `models/`), a Bedrock version suffix (`-v1:0`, `-v2`) and a Vertex `@version` removed;
 * 3. that, without a date suffix: `-2024-08-06` (OpenAI), `-20250929` (Anthropic), `-latest`.
 * Never by prefix: `gpt-4o-mini` must not price as `gpt-4o`. A model no row matches has no price:
 * its calls report no cost (and count as `unpriced` in the totals) rather than a wrong one.
 *
 * **Arithmetic** (`costOf`): `Usage.promptTokens` counts every input token, so the uncached input is
 * `promptTokens - cachedTokens - cacheWriteTokens`; cached tokens are billed at `cachedInput`,
 * cache writes at `cacheWrite` (each falling back to `input` where the row has no such price: a
 * provider without prompt caching bills them as input). `reasoningTokens` are part of
 * `completionTokens`; they are billed at `reasoning` where the row prices them apart, else at
 * `output` (as OpenAI, Anthropic and Google bill thinking), and reported as `reasoningUsd` either
 * way. A tier (`tiers`) applies when `promptTokens` is above its `aboveInputTokens`, to every token
 * of that request (Gemini Pro's >200k prompts).
 *
 * **Gotchas**: prices change; the table says when each row was read. Batch, priority and regional
 * surcharges (e.g. Bedrock's regional endpoints for some Claude models) are not modelled: override
 * the row in config when they apply to you.
 *
 * @since 0.2.0
 */
import { Schema } from "effect"
import type { Usage } from "./ChatResponse.ts"

const UsdPerMillion = Schema.Number.check(Schema.isFinite(), Schema.isGreaterThanOrEqualTo(0))

/** A long-prompt tier: the prices for a request whose prompt is above `aboveInputTokens`. @category schemas */
export const Tier = Schema.Struct({
  aboveInputTokens: Schema.Int.check(Schema.isGreaterThan(0)),
  input: UsdPerMillion,
  output: UsdPerMillion,
  cachedInput: Schema.optionalKey(UsdPerMillion),
  cacheWrite: Schema.optionalKey(UsdPerMillion)
})
export type Tier = typeof Tier.Type

/**
 * One model's prices, USD per 1M tokens, with where and when they were read.
 *
 * @category schemas
 */
export const Price = Schema.Struct({
  model: Schema.NonEmptyString.annotate({ description: "The model id the row prices (matched as `Pricing.lookup` says)." }),
  aliases: Schema.optionalKey(Schema.Array(Schema.NonEmptyString).annotate({ description: "Other ids of the same model." })),
  vendor: Schema.optionalKey(Schema.String.annotate({ description: "Who sells it at this price (openai, anthropic, google, bedrock, …); informational." })),
  input: UsdPerMillion.annotate({ description: "Input tokens, USD per 1M." }),
  output: UsdPerMillion.annotate({ description: "Output tokens, USD per 1M." }),
  cachedInput: Schema.optionalKey(UsdPerMillion.annotate({ description: "Prompt-cache hits, USD per 1M. Default: input." })),
  cacheWrite: Schema.optionalKey(UsdPerMillion.annotate({ description: "Prompt-cache writes, USD per 1M. Default: input." })),
  reasoning: Schema.optionalKey(UsdPerMillion.annotate({ description: "Reasoning tokens where priced apart, USD per 1M. Default: output." })),
  tiers: Schema.optionalKey(Schema.Array(Tier).annotate({ description: "Long-prompt tiers (prices for prompts above a size)." })),
  source: Schema.String.annotate({ description: "URL of the pricing page the row was read from." }),
  date: Schema.String.annotate({ description: "When the row was read (YYYY-MM-DD)." })
})
export type Price = typeof Price.Type

/** A pricing table: rows, the last row for an id winning. @category models */
export type Table = ReadonlyArray<Price>

/**
 * What one call cost, USD, broken down as `costOf` computes it. `model` is the row it was priced
 * as; `estimated` marks a cost computed from estimated tokens (a billed attempt cut short before
 * the provider reported usage).
 *
 * @category schemas
 */
export const Cost = Schema.Struct({
  totalUsd: Schema.Number,
  inputUsd: Schema.Number,
  cachedInputUsd: Schema.Number,
  cacheWriteUsd: Schema.Number,
  outputUsd: Schema.Number,
  reasoningUsd: Schema.Number,
  model: Schema.String,
  estimated: Schema.optionalKey(Schema.Boolean)
})
export type Cost = typeof Cost.Type

// ---------------------------------------------------------------------------
// matching
// ---------------------------------------------------------------------------

const regionPrefix = /^(?:us|eu|apac|ap|global|us-gov|jp|au|ca|sa|me|af)\./
const vendorPrefix = /^(?:anthropic|meta|amazon|mistral|cohere|openai|google|deepseek|x-ai)[./]/
const modelsPrefix = /^models\//
const bedrockVersion = /-v\d+(?::\d+)?$/
const vertexVersion = /@[\w-]+$/
const dateSuffix = /(?:-\d{4}-\d{2}-\d{2}|-\d{8}|-latest)$/

/** The id with Bedrock/OpenRouter/Vertex/Gemini decorations removed (step 2 of matching). @category matching */
export const normalize = (model: string): string =>
  model.toLowerCase()
    .replace(regionPrefix, "")
    .replace(vendorPrefix, "")
    .replace(modelsPrefix, "")
    .replace(bedrockVersion, "")
    .replace(vertexVersion, "")

/** The normalised id without its date suffix (step 3 of matching). @category matching */
export const undated = (model: string): string => normalize(model).replace(dateSuffix, "")

/** A table indexed for `lookup`. Build once (`index`), look up per call. @category models */
export interface Index {
  readonly rows: Table
  readonly byId: ReadonlyMap<string, Price>
}

/** Indexes a table: every row's `model` and `aliases`, lower-cased; a later row for an id wins. @category constructors */
export const index = (table: Table): Index => {
  const byId = new Map<string, Price>()
  for (const row of table) {
    byId.set(row.model.toLowerCase(), row)
    for (const alias of row.aliases ?? []) byId.set(alias.toLowerCase(), row)
  }
  return { rows: table, byId }
}

/** The row that prices `model`, or `undefined` (no cost rather than a wrong one). See the module header. @category matching */
export const lookup = (table: Index, model: string): Price | undefined => {
  const exact = table.byId.get(model.toLowerCase())
  if (exact !== undefined) return exact
  const normalized = normalize(model)
  return table.byId.get(normalized) ?? table.byId.get(normalized.replace(dateSuffix, ""))
}

/** `base` with `overrides` laid over it: a row for an id `base` has replaces it, others are added. @category constructors */
export const merge = (base: Table, overrides: Table | undefined): Table =>
  overrides === undefined || overrides.length === 0 ? base : [...base, ...overrides]

// ---------------------------------------------------------------------------
// arithmetic
// ---------------------------------------------------------------------------

const perToken = (usdPerMillion: number, tokens: number): number => (usdPerMillion * tokens) / 1_000_000

/** The prices that apply to a request of `promptTokens`: the highest tier it is above, else the row's own. @category arithmetic */
export const pricesFor = (price: Price, promptTokens: number): Omit<Tier, "aboveInputTokens"> => {
  let chosen: Tier | undefined
  for (const tier of price.tiers ?? []) {
    if (promptTokens > tier.aboveInputTokens && (chosen === undefined || tier.aboveInputTokens > chosen.aboveInputTokens)) chosen = tier
  }
  return chosen ?? price
}

/** What `usage` costs at `price` (see the module header for the rules). @category arithmetic */
export const costOf = (price: Price, usage: Usage, estimated?: boolean): Cost => {
  const rates = pricesFor(price, usage.promptTokens)
  const cached = usage.cachedTokens ?? 0
  const written = usage.cacheWriteTokens ?? 0
  const reasoning = Math.min(usage.reasoningTokens ?? 0, usage.completionTokens)
  const uncached = Math.max(0, usage.promptTokens - cached - written)
  const inputUsd = perToken(rates.input, uncached)
  const cachedInputUsd = perToken(rates.cachedInput ?? rates.input, cached)
  const cacheWriteUsd = perToken(rates.cacheWrite ?? rates.input, written)
  const outputUsd = perToken(rates.output, usage.completionTokens - reasoning)
  const reasoningUsd = perToken(price.reasoning ?? rates.output, reasoning)
  return {
    totalUsd: inputUsd + cachedInputUsd + cacheWriteUsd + outputUsd + reasoningUsd,
    inputUsd,
    cachedInputUsd,
    cacheWriteUsd,
    outputUsd,
    reasoningUsd,
    model: price.model,
    ...(estimated === true ? { estimated: true } : {})
  }
}

/** USD as integer nano-dollars (rounded up), the unit budgets count in: exact integer sums, in memory and in Redis. @category arithmetic */
export const toNanos = (usd: number): number => Math.ceil(usd * 1e9 - 1e-6)

/** Nano-dollars as USD. @category arithmetic */
export const fromNanos = (nanos: number): number => nanos / 1e9
