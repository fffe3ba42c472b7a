// The policy and breaker are described once, in @flexiai/core; config's file fields, JSON Schema and
// FLEXIAI_* variables all come from that schema. Leaves are enumerated here from the *values* of the
// defaults (not from the schema walk under test), so a field added in core is checked with no edit here.
import { assert, describe, it } from "@effect/vitest"
import * as CircuitBreaker from "@flexiai/core/CircuitBreaker"
import * as OptionSchema from "@flexiai/core/OptionSchema"
import * as RouterPolicy from "@flexiai/core/RouterPolicy"
import { Duration, Effect, Schema } from "effect"
import { readFileSync } from "node:fs"
import * as ConfigSchema from "../src/ConfigSchema.ts"
import * as Environment from "../src/Environment.ts"
import * as Presets from "../src/Presets.ts"
import { jsonSchema, loadWith } from "./helpers.ts"
import { kinds } from "./kinds.ts"

type Leaf = { readonly path: ReadonlyArray<string>; readonly value: unknown }

const leavesOf = (value: Readonly<Record<string, unknown>>, path: ReadonlyArray<string> = []): Array<Leaf> =>
  Object.entries(value).flatMap(([key, child]) =>
    typeof child === "object" && child !== null && !Duration.isDuration(child)
      ? leavesOf(child as Record<string, unknown>, [...path, key])
      : [{ path: [...path, key], value: child }]
  )

const policyLeaves = leavesOf(RouterPolicy.defaults)
const breakerLeaves = leavesOf(CircuitBreaker.defaults)

const at = (value: unknown, path: ReadonlyArray<string>): unknown =>
  path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], value)

/** The JSON Schema of the config property at `path` (`properties` all the way down). */
const jsonProperty = (path: ReadonlyArray<string>): Record<string, unknown> | undefined =>
  path.reduce<Record<string, unknown> | undefined>(
    (schema, key) => (schema?.properties as Record<string, Record<string, unknown>> | undefined)?.[key],
    jsonSchema() as Record<string, unknown>
  )

/** A valid value other than the default, written as an environment variable would be. */
const otherValue = (leaf: Leaf, json: Record<string, unknown>): { readonly text: string; readonly expected: unknown } => {
  const { value } = leaf
  if (Duration.isDuration(value)) {
    const changed = Duration.toMillis(value) + 1
    return { text: String(changed), expected: changed }
  }
  if (typeof value === "boolean") return { text: String(!value), expected: !value }
  if (typeof value === "number") {
    const changed = Number.isInteger(value) ? value + 1 : value / 2
    return { text: String(changed), expected: changed }
  }
  const other = (json.enum as ReadonlyArray<string>).find((member) => member !== value)!
  return { text: other.toUpperCase(), expected: other }
}

const comparable = (value: unknown): unknown => Duration.isDuration(value) ? Duration.toMillis(value) : value

const provider = { FLEXIAI_PROVIDERS_0_KIND: "ollama-native", FLEXIAI_PROVIDERS_0_MODEL: "m" }

describe("policy and breaker fields come from core's schemas", () => {
  it("every leaf has a FLEXIAI_ variable of the schema's type, a documented JSON Schema property, and a provider-level variable for retry and breaker", () => {
    const settings = new Map(Environment.settingsFields.map((field) => [field.path.join("."), field.type]))
    const perProvider = new Set(Environment.providerFieldsOf(kinds).map((field) => field.path.join(".")))
    const leaves = [
      ...policyLeaves.map((leaf) => ["policy", ...leaf.path]),
      ...breakerLeaves.map((leaf) => ["breaker", ...leaf.path])
    ]
    assert.isAtLeast(leaves.length, 19) // the enumeration is not vacuous
    for (const path of leaves) {
      const dotted = path.join(".")
      assert.isTrue(settings.has(dotted), `${dotted} has no FLEXIAI_ variable`)
      const json = jsonProperty(path)
      assert.isDefined(json, `${dotted} has no JSON Schema property`)
      assert.include(String(json?.description), "Default: ", dotted)
      assert.isDefined(json?.default, dotted)
      if (path[1] === "retry" || path[0] === "breaker") {
        const own = path[0] === "policy" ? path.slice(1).join(".") : dotted
        assert.isTrue(perProvider.has(own), `providers[i].${own} has no variable`)
      }
    }
    assert.strictEqual(settings.get("policy.retry.maxRetries"), "int")
    assert.strictEqual(settings.get("policy.retry.factor"), "number")
    assert.strictEqual(settings.get("policy.deadline"), "duration")
    assert.strictEqual(settings.get("policy.streamPolicy"), "enum")
    assert.strictEqual(settings.get("policy.preset"), "enum")
    assert.strictEqual(settings.get("breaker.jitter"), "number")
  })

  it.effect("every leaf's variable changes that field of the loaded config", () =>
    Effect.gen(function*() {
      const env: Record<string, string> = { ...provider }
      const expectations: Array<readonly [ReadonlyArray<string>, unknown]> = []
      const set = (section: "policy" | "breaker", leaf: Leaf, providerLevel: boolean) => {
        const path = [section, ...leaf.path]
        const { text, expected } = otherValue(leaf, jsonProperty(path)!)
        env[Environment.variableName(path)] = text
        expectations.push([path, expected])
        if (providerLevel) {
          // a value different again, so the provider's own variable is what set it (not the fallback)
          const changed = Duration.isDuration(leaf.value) ? Duration.millis(expected as number) : expected
          const second = otherValue({ path: leaf.path, value: changed }, jsonProperty(path)!)
          const own = section === "policy" ? leaf.path : path
          env[Environment.variableName(["providers", 0, ...own])] = second.text
          expectations.push([["providers", "0", ...own], second.expected])
        }
      }
      for (const leaf of policyLeaves) set("policy", leaf, leaf.path[0] === "retry")
      for (const leaf of breakerLeaves) set("breaker", leaf, true)
      const config = yield* loadWith(env)
      const loaded = { policy: config.policy, breaker: config.breaker, providers: config.providers }
      for (const [path, expected] of expectations) {
        assert.deepStrictEqual(comparable(at(loaded, path)), expected, path.join("."))
      }
    }))

  it.effect("a provider's capabilities.files comes from a comma-separated variable", () =>
    Effect.gen(function*() {
      const config = yield* loadWith({
        ...provider,
        [Environment.variableName(["providers", 0, "capabilities", "files"])]: " application/pdf, text/* ,"
      })
      assert.deepStrictEqual(config.providers[0]?.capabilities?.files, ["application/pdf", "text/*"])
    }))

  it.effect("a variable for a field the schema does not have is an error", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(loadWith({ ...provider, FLEXIAI_BREAKER_PROBE_LEASES: "1" }))
      assert.include(error.message, "FLEXIAI_BREAKER_PROBE_LEASES: unknown variable")
    }))

  it("fieldsOf finds a field added to the policy schema, typed by its schema", () => {
    const extended = RouterPolicy.PolicySchema.mapFields((fields) => ({
      ...fields,
      warmup: Schema.optionalKey(OptionSchema.duration("Warm-up.", "1 second")),
      attempts: Schema.optionalKey(OptionSchema.option(Schema.Int, "Attempts.", 1)),
      mode: Schema.optionalKey(OptionSchema.option(Schema.Literals(["a", "b"]), "Mode.", "a"))
    }))
    const fields = new Map(Environment.fieldsOf(extended, ["policy"]).map((field) => [field.path.join("."), field.type]))
    assert.deepStrictEqual(
      [fields.get("policy.warmup"), fields.get("policy.attempts"), fields.get("policy.mode")],
      ["duration", "int", "enum"]
    )
    assert.strictEqual(fields.get("policy.retry.maxDelay"), "duration")
    // a list of strings is comma-separated text (capabilities.files); a list of anything else has no spelling
    assert.deepStrictEqual(Environment.fieldsOf(Schema.Struct({ tags: Schema.Array(Schema.String) }), ["x"]), [{ path: ["x", "tags"], type: "list" }])
    assert.throws(() => Environment.fieldsOf(Schema.Struct({ sizes: Schema.Array(Schema.Number) }), ["x"]), /x\.sizes/)
  })

  it("config's Retry, Breaker and Policy are core's schemas (Policy adds the preset)", () => {
    assert.strictEqual(ConfigSchema.Retry, RouterPolicy.RetrySchema)
    assert.strictEqual(ConfigSchema.Breaker, CircuitBreaker.OptionsSchema)
    assert.deepStrictEqual(Object.keys(ConfigSchema.Policy.fields), ["preset", ...Object.keys(RouterPolicy.PolicySchema.fields)])
    assert.strictEqual(ConfigSchema.Duration, OptionSchema.Duration)
  })

  it("every preset is within the schema's ranges and round-trips through it", () => {
    for (const [name, preset] of Object.entries(Presets.presets)) {
      const encoded = Schema.encodeSync(RouterPolicy.ResolvedSchema)(preset)
      assert.deepStrictEqual(Schema.decodeUnknownSync(RouterPolicy.ResolvedSchema)(encoded), preset, name)
    }
    assert.strictEqual(Presets.breakerDefaults, CircuitBreaker.defaults)
    assert.throws(() => Schema.encodeSync(RouterPolicy.ResolvedSchema)({ ...Presets.fast, retry: { ...Presets.fast.retry, factor: 0 } }))
  })

  it("the README's table of top-level fields lists every one", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
    for (const field of Environment.settingsFields) assert.include(readme, `| \`${field.path.join(".")}\` |`)
  })
})
