// Pricing and budgets from the environment: FLEXIAI_PRICING_* and FLEXIAI_BUDGETS_* settings,
// indexed lists (FLEXIAI_BUDGETS_LIMITS_<i>_<FIELD>, FLEXIAI_PRICING_MODELS_<i>_<FIELD>) over
// and beside the file's, and bad values or misspelt variables as typed errors naming the variable.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { loadWith, tempFiles } from "./helpers.ts"

const provider = { FLEXIAI_PROVIDERS_0_KIND: "ollama-native", FLEXIAI_PROVIDERS_0_MODEL: "m" }

describe("pricing and budgets from the environment", () => {
  it.effect("settings and indexed budget and price rows", () =>
    Effect.gen(function*() {
      const config = yield* loadWith({
        ...provider,
        FLEXIAI_PRICING_TAG_KEY: "team",
        FLEXIAI_PRICING_MODELS_0_MODEL: "my-model",
        FLEXIAI_PRICING_MODELS_0_INPUT: "1.5",
        FLEXIAI_PRICING_MODELS_0_OUTPUT: "6",
        FLEXIAI_PRICING_MODELS_0_SOURCE: "https://example.com/pricing",
        FLEXIAI_PRICING_MODELS_0_DATE: "2026-12-01",
        FLEXIAI_BUDGETS_OUTPUT_CAP: "512",
        FLEXIAI_BUDGETS_LIMITS_0_NAME: "daily",
        FLEXIAI_BUDGETS_LIMITS_0_LIMIT_USD: "25",
        FLEXIAI_BUDGETS_LIMITS_0_PERIOD: "Day",
        FLEXIAI_BUDGETS_LIMITS_1_NAME: "team-a",
        FLEXIAI_BUDGETS_LIMITS_1_LIMIT_USD: "0.5",
        FLEXIAI_BUDGETS_LIMITS_1_PERIOD: "hour",
        FLEXIAI_BUDGETS_LIMITS_1_TAG: "a"
      })
      assert.strictEqual(config.pricing.tagKey, "team")
      assert.isTrue(config.pricing.enabled)
      assert.deepStrictEqual(config.pricing.models, [
        { model: "my-model", input: 1.5, output: 6, source: "https://example.com/pricing", date: "2026-12-01" }
      ])
      assert.strictEqual(config.budgets?.outputCap, 512)
      assert.deepStrictEqual(config.budgets?.limits, [
        { name: "daily", limitUsd: 25, period: "day" },
        { name: "team-a", limitUsd: 0.5, period: "hour", tag: "a" }
      ])
    }))

  it.effect("FLEXIAI_PRICING_ENABLED=false turns metering off", () =>
    Effect.gen(function*() {
      const config = yield* loadWith({ ...provider, FLEXIAI_PRICING_ENABLED: "false" })
      assert.isFalse(config.pricing.enabled)
    }))

  it.effect("a variable overrides the file's budget field by field; an index past the file's list adds one", () =>
    Effect.gen(function*() {
      const directory = yield* tempFiles({
        "flexiai.json": JSON.stringify({
          providers: [{ kind: "ollama-native", model: "m" }],
          budgets: { limits: [{ name: "daily", limitUsd: 10, period: "day", provider: "ollama-native" }] }
        })
      })
      const config = yield* loadWith({
        FLEXIAI_BUDGETS_LIMITS_0_LIMIT_USD: "3",
        FLEXIAI_BUDGETS_LIMITS_1_NAME: "all-time",
        FLEXIAI_BUDGETS_LIMITS_1_LIMIT_USD: "100",
        FLEXIAI_BUDGETS_LIMITS_1_PERIOD: "total"
      }, { file: `${directory}/flexiai.json` })
      assert.deepStrictEqual(config.budgets?.limits, [
        { name: "daily", limitUsd: 3, period: "day", provider: "ollama-native" },
        { name: "all-time", limitUsd: 100, period: "total" }
      ])
    }))

  it.effect("bad values and misspelt variables are typed errors naming the variable", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(loadWith({
        ...provider,
        FLEXIAI_BUDGETS_LIMITS_0_NAME: "daily",
        FLEXIAI_BUDGETS_LIMITS_0_LIMIT_USD: "lots",
        FLEXIAI_BUDGETS_LIMITS_0_PERIOD: "fortnight",
        FLEXIAI_BUDGETS_LIMITS_0_LIMIT: "5",
        FLEXIAI_PRICING_MODELS_0_MODEL: "x",
        FLEXIAI_PRICING_MODELS_0_INPUT: "-1",
        FLEXIAI_PRICING_MODELS_0_OUTPUT: "1",
        FLEXIAI_PRICING_MODELS_0_SOURCE: "s",
        FLEXIAI_PRICING_MODELS_0_DATE: "d",
        FLEXIAI_PRICING_TAGKEY: "t"
      }))
      assert.strictEqual(error._tag, "FlexiConfigError")
      const lines = error.problems.map((problem) => `${problem.path}: ${problem.message}`).join("\n")
      assert.include(lines, "budgets.limits[0].limitUsd: expected a number (from FLEXIAI_BUDGETS_LIMITS_0_LIMIT_USD)")
      assert.include(lines, "(from FLEXIAI_BUDGETS_LIMITS_0_PERIOD)")
      assert.include(lines, "(from FLEXIAI_PRICING_MODELS_0_INPUT)")
      assert.include(lines, "FLEXIAI_BUDGETS_LIMITS_0_LIMIT: unknown variable (expected FLEXIAI_BUDGETS_LIMITS_<index>_<FIELD>")
      assert.include(lines, "FLEXIAI_PRICING_TAGKEY: unknown variable")
    }))
})
