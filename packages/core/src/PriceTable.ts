/**
 * The bundled pricing table: list prices in USD per 1M tokens for the main models of OpenAI,
 * Anthropic, Google Gemini and Amazon Bedrock (Anthropic, Llama and Nova there), each row with the
 * pricing page it was read from and the date it was checked. Standard (on-demand, non-batch)
 * tier; see `Pricing` for how rows are matched and applied.
 *
 * Where a price is not listed here (a model not in the table, or a price the provider does not
 * publish per token), calls are reported without a cost rather than with a guessed one: add the
 * row in config (`pricing.models`).
 *
 * Maintenance: change a row only from the provider's own page, and move its `date`.
 *
 * @since 0.2.0
 */
import type { Price } from "./Pricing.ts"

const openai = "https://platform.openai.com/docs/pricing"
const anthropic = "https://platform.claude.com/docs/en/about-claude/pricing"
const google = "https://ai.google.dev/gemini-api/docs/pricing"
const bedrock = "https://aws.amazon.com/bedrock/pricing/"
const checked = "2026-12-07"

const row = (vendor: string, source: string, model: string, prices: Omit<Price, "model" | "vendor" | "source" | "date">): Price => ({
  model,
  vendor,
  ...prices,
  source,
  date: checked
})

// OpenAI bills reasoning tokens as output tokens: no `reasoning` price.
const openAiRows: ReadonlyArray<Price> = [
  row("openai", openai, "gpt-5.5", { input: 5, cachedInput: 0.5, output: 30 }),
  row("openai", openai, "gpt-5.4", { input: 2.5, cachedInput: 0.25, output: 15 }),
  row("openai", openai, "gpt-5.4-mini", { input: 0.75, cachedInput: 0.075, output: 4.5 }),
  row("openai", openai, "gpt-5.4-nano", { input: 0.2, cachedInput: 0.02, output: 1.25 }),
  row("openai", openai, "gpt-5.1", { input: 1.25, cachedInput: 0.125, output: 10 }),
  row("openai", openai, "gpt-5", { input: 1.25, cachedInput: 0.125, output: 10 }),
  row("openai", openai, "gpt-5-mini", { input: 0.25, cachedInput: 0.025, output: 2 }),
  row("openai", openai, "gpt-5-nano", { input: 0.05, cachedInput: 0.005, output: 0.4 }),
  row("openai", openai, "gpt-4.1", { input: 2, cachedInput: 0.5, output: 8 }),
  row("openai", openai, "gpt-4.1-mini", { input: 0.4, cachedInput: 0.1, output: 1.6 }),
  row("openai", openai, "gpt-4.1-nano", { input: 0.1, cachedInput: 0.025, output: 0.4 }),
  row("openai", openai, "gpt-4o", { input: 2.5, cachedInput: 1.25, output: 10 }),
  row("openai", openai, "gpt-4o-mini", { input: 0.15, cachedInput: 0.075, output: 0.6 }),
  row("openai", openai, "o3", { input: 2, cachedInput: 0.5, output: 8 }),
  row("openai", openai, "o4-mini", { input: 1.1, cachedInput: 0.275, output: 4.4 }),
  row("openai", openai, "o3-mini", { input: 1.1, cachedInput: 0.55, output: 4.4 })
]

// Anthropic: `cacheWrite` is the 5-minute cache write (the default TTL; 1-hour writes cost 2x input:
// override the row if you use them). Thinking tokens are billed as output. Bedrock's on-demand
// prices for these models are Anthropic's, so the Bedrock ids (`anthropic.claude-…-v1:0`,
// `us.anthropic.…`) match these rows (see `Pricing.lookup`).
const anthropicRows: ReadonlyArray<Price> = [
  row("anthropic", anthropic, "claude-opus-5-5", { input: 4, cacheWrite: 5, cachedInput: 0.2, output: 20 }),
  row("anthropic", anthropic, "claude-sonnet-5-5", { input: 2, cacheWrite: 2.5, cachedInput: 0.1, output: 10 }),
  row("anthropic", anthropic, "claude-haiku-5-5", {
    input: 0.1,
    cacheWrite: 0.125,
    cachedInput: 0.01,
    output: 0.5,
    tiers: [{ aboveInputTokens: 100_000, input: 0.5, cacheWrite: 0.625, cachedInput: 0.05, output: 2.5 }]
  }),
  row("anthropic", anthropic, "claude-opus-5", { input: 5, cacheWrite: 6.25, cachedInput: 0.5, output: 25 }),
  row("anthropic", anthropic, "claude-sonnet-5", { input: 2, cacheWrite: 2.5, cachedInput: 0.2, output: 10 }),
  row("anthropic", anthropic, "claude-opus-4-8", { input: 5, cacheWrite: 6.25, cachedInput: 0.5, output: 25 }),
  row("anthropic", anthropic, "claude-opus-4-7", { input: 5, cacheWrite: 6.25, cachedInput: 0.5, output: 25 }),
  row("anthropic", anthropic, "claude-opus-4-6", { input: 5, cacheWrite: 6.25, cachedInput: 0.5, output: 25 }),
  row("anthropic", anthropic, "claude-opus-4-5", { input: 5, cacheWrite: 6.25, cachedInput: 0.5, output: 25 }),
  row("anthropic", anthropic, "claude-opus-4-1", { input: 15, cacheWrite: 18.75, cachedInput: 1.5, output: 75 }),
  row("anthropic", anthropic, "claude-opus-4", { input: 15, cacheWrite: 18.75, cachedInput: 1.5, output: 75, aliases: ["claude-opus-4-0"] }),
  row("anthropic", anthropic, "claude-sonnet-4-5", { input: 3, cacheWrite: 3.75, cachedInput: 0.3, output: 15 }),
  row("anthropic", anthropic, "claude-sonnet-4", { input: 3, cacheWrite: 3.75, cachedInput: 0.3, output: 15, aliases: ["claude-sonnet-4-0"] }),
  row("anthropic", anthropic, "claude-haiku-4-5", { input: 1, cacheWrite: 1.25, cachedInput: 0.1, output: 5 }),
  row("anthropic", anthropic, "claude-3-5-haiku", { input: 0.8, cacheWrite: 1, cachedInput: 0.08, output: 4 })
]

// Gemini: thinking tokens are billed as output. Pro models have a >200k-token prompt tier.
const googleRows: ReadonlyArray<Price> = [
  row("google", google, "gemini-3-pro-preview", {
    input: 2,
    cachedInput: 0.2,
    output: 12,
    tiers: [{ aboveInputTokens: 200_000, input: 4, cachedInput: 0.4, output: 18 }]
  }),
  row("google", google, "gemini-2.5-pro", {
    input: 1.25,
    cachedInput: 0.125,
    output: 10,
    tiers: [{ aboveInputTokens: 200_000, input: 2.5, cachedInput: 0.25, output: 15 }]
  }),
  row("google", google, "gemini-2.5-flash", { input: 0.3, cachedInput: 0.03, output: 2.5 }),
  row("google", google, "gemini-2.5-flash-lite", { input: 0.1, cachedInput: 0.01, output: 0.4 }),
  row("google", google, "gemini-2.0-flash", { input: 0.1, cachedInput: 0.025, output: 0.4 })
]

// Bedrock's own models (US East, on demand). Nova's cached input is 75% off; Llama has no prompt cache.
const bedrockRows: ReadonlyArray<Price> = [
  row("bedrock", bedrock, "nova-premier", { input: 2.5, cachedInput: 0.625, output: 12.5 }),
  row("bedrock", bedrock, "nova-pro", { input: 0.8, cachedInput: 0.2, output: 3.2 }),
  row("bedrock", bedrock, "nova-lite", { input: 0.06, cachedInput: 0.015, output: 0.24 }),
  row("bedrock", bedrock, "nova-micro", { input: 0.035, cachedInput: 0.00875, output: 0.14 }),
  row("bedrock", bedrock, "llama3-3-70b-instruct", { input: 0.72, output: 0.72 }),
  row("bedrock", bedrock, "llama3-1-8b-instruct", { input: 0.22, output: 0.22 }),
  row("bedrock", bedrock, "llama4-maverick-17b-instruct", { input: 0.24, output: 0.97 }),
  row("bedrock", bedrock, "llama4-scout-17b-instruct", { input: 0.17, output: 0.66 })
]

/** Every bundled row. @category constants */
export const rows: ReadonlyArray<Price> = [...openAiRows, ...anthropicRows, ...googleRows, ...bedrockRows]
