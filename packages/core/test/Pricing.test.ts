import { assert, describe, it } from "@effect/vitest"
import * as Pricing from "@flexiai/core/Pricing"
import * as PriceTable from "@flexiai/core/PriceTable"
import { Schema } from "effect"

const table = Pricing.index(PriceTable.rows)
const row = (model: string) => {
  const found = Pricing.lookup(table, model)
  assert.isDefined(found, model)
  return found!
}
const close = (actual: number, expected: number) => assert.approximately(actual, expected, 1e-12)

describe("the bundled table", () => {
  it("every row decodes as a Price, has an https source and a date, and no id is listed twice", () => {
    const ids = new Set<string>()
    for (const price of PriceTable.rows) {
      Schema.decodeUnknownSync(Pricing.Price)(price)
      assert.match(price.source, /^https:\/\//)
      assert.match(price.date, /^\d{4}-\d{2}-\d{2}$/)
      for (const id of [price.model, ...(price.aliases ?? [])]) {
        assert.isFalse(ids.has(id), `${id} twice`)
        ids.add(id)
      }
    }
  })

  it("covers the main models of each vendor", () => {
    for (const vendor of ["openai", "anthropic", "google", "bedrock"]) {
      assert.isAtLeast(PriceTable.rows.filter((price) => price.vendor === vendor).length, 4, vendor)
    }
  })
})

describe("matching", () => {
  it("exact ids, dated and versioned variants, Bedrock ids and inference profiles, Vertex and OpenRouter ids", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["gpt-4o", "gpt-4o"],
      ["GPT-4o", "gpt-4o"],
      ["gpt-4o-2024-08-06", "gpt-4o"],
      ["gpt-4o-mini-2024-07-18", "gpt-4o-mini"],
      ["openai/gpt-4.1-mini", "gpt-4.1-mini"],
      ["claude-sonnet-4-5-20250929", "claude-sonnet-4-5"],
      ["claude-sonnet-4-20250514", "claude-sonnet-4"],
      ["claude-3-5-haiku-latest", "claude-3-5-haiku"],
      ["anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"],
      ["us.anthropic.claude-opus-4-1-20250805-v1:0", "claude-opus-4-1"],
      ["global.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5"],
      ["claude-sonnet-4-5@20250929", "claude-sonnet-4-5"],
      ["models/gemini-2.5-flash", "gemini-2.5-flash"],
      ["amazon.nova-pro-v1:0", "nova-pro"],
      ["us.amazon.nova-lite-v1:0", "nova-lite"],
      ["meta.llama3-3-70b-instruct-v1:0", "llama3-3-70b-instruct"],
      ["us.meta.llama3-1-8b-instruct-v1:0", "llama3-1-8b-instruct"]
    ]
    for (const [id, priced] of cases) assert.strictEqual(row(id).model, priced, id)
  })

  it("never by prefix, and an unknown model has no price", () => {
    assert.strictEqual(row("gpt-4o-mini").model, "gpt-4o-mini")
    assert.isUndefined(Pricing.lookup(table, "gpt-4o-mini-tts"))
    assert.isUndefined(Pricing.lookup(table, "mock-model"))
    assert.isUndefined(Pricing.lookup(table, "llama3.2"))
  })

  it("config rows override and extend the bundled ones", () => {
    const merged = Pricing.index(Pricing.merge(PriceTable.rows, [
      { model: "gpt-4o", input: 1, output: 2, source: "https://example.test/contract", date: "2026-12-01" },
      { model: "mock-model", input: 3, output: 4, source: "https://example.test/mock", date: "2026-12-01" }
    ]))
    assert.strictEqual(Pricing.lookup(merged, "gpt-4o-2024-08-06")!.input, 1)
    assert.strictEqual(Pricing.lookup(merged, "mock-model")!.output, 4)
    assert.strictEqual(Pricing.lookup(merged, "gpt-4o-mini")!.input, 0.15)
  })
})

describe("costOf", () => {
  it("input and output at the row's prices", () => {
    const cost = Pricing.costOf(row("gpt-4o"), { promptTokens: 1_000_000, completionTokens: 500_000, totalTokens: 1_500_000 })
    close(cost.inputUsd, 2.5)
    close(cost.outputUsd, 5)
    close(cost.totalUsd, 7.5)
    assert.strictEqual(cost.model, "gpt-4o")
  })

  it("cached input at the cached price, the rest of the prompt at the input price", () => {
    const price = row("gpt-4.1")
    const cost = Pricing.costOf(price, { promptTokens: 10_000, completionTokens: 1_000, totalTokens: 11_000, cachedTokens: 8_000 })
    close(cost.inputUsd, (2_000 * price.input) / 1e6)
    close(cost.cachedInputUsd, (8_000 * price.cachedInput!) / 1e6)
    close(cost.outputUsd, (1_000 * price.output) / 1e6)
    close(cost.totalUsd, cost.inputUsd + cost.cachedInputUsd + cost.outputUsd)
  })

  it("cache writes at the write price (Anthropic), cache reads at the read price", () => {
    const price = row("claude-sonnet-4-5")
    const usage = { promptTokens: 20_000, completionTokens: 300, totalTokens: 20_300, cachedTokens: 12_000, cacheWriteTokens: 5_000 }
    const cost = Pricing.costOf(price, usage)
    close(cost.inputUsd, (3_000 * 3) / 1e6)
    close(cost.cacheWriteUsd, (5_000 * 3.75) / 1e6)
    close(cost.cachedInputUsd, (12_000 * 0.3) / 1e6)
    close(cost.outputUsd, (300 * 15) / 1e6)
  })

  it("reasoning tokens are part of the completion: at the output price, or the reasoning price where the row has one", () => {
    const usage = { promptTokens: 100, completionTokens: 1_000, totalTokens: 1_100, reasoningTokens: 800 }
    const o3 = Pricing.costOf(row("o3"), usage)
    close(o3.reasoningUsd, (800 * 8) / 1e6)
    close(o3.outputUsd, (200 * 8) / 1e6)
    const priced = Pricing.costOf({ ...row("o3"), reasoning: 1 }, usage)
    close(priced.reasoningUsd, (800 * 1) / 1e6)
    close(priced.outputUsd, (200 * 8) / 1e6)
  })

  it("a prompt above a tier's size is priced at the tier, every token of it", () => {
    const price = row("gemini-2.5-pro")
    const small = Pricing.costOf(price, { promptTokens: 200_000, completionTokens: 1_000, totalTokens: 201_000 })
    close(small.inputUsd, 200_000 * 1.25 / 1e6)
    const large = Pricing.costOf(price, { promptTokens: 200_001, completionTokens: 1_000, totalTokens: 201_001 })
    close(large.inputUsd, 200_001 * 2.5 / 1e6)
    close(large.outputUsd, 1_000 * 15 / 1e6)
  })

  it("a row without a cached or write price bills those tokens as input", () => {
    const price = row("llama3-3-70b-instruct")
    const cost = Pricing.costOf(price, { promptTokens: 1_000, completionTokens: 0, totalTokens: 1_000, cachedTokens: 400 })
    close(cost.inputUsd + cost.cachedInputUsd, 1_000 * price.input / 1e6)
  })

  it("nano-dollars round up and back", () => {
    assert.strictEqual(Pricing.toNanos(0.000001), 1000)
    assert.strictEqual(Pricing.toNanos(1.2345678901), 1234567891)
    assert.strictEqual(Pricing.fromNanos(Pricing.toNanos(2.5)), 2.5)
  })
})
