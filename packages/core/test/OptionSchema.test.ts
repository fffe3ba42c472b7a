import { assert, describe, it } from "@effect/vitest"
import { CircuitBreaker, OptionSchema, RouterPolicy } from "@flexiai/core"
import { Duration, Schema } from "effect"

const millis = Duration.toMillis

/** Every leaf of a JSON Schema object, as dotted path → its schema. */
const jsonLeaves = (schema: Record<string, unknown>, prefix = ""): Map<string, Record<string, unknown>> => {
  const leaves = new Map<string, Record<string, unknown>>()
  const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>
  for (const [name, property] of Object.entries(properties)) {
    if (property.type === "object") {
      for (const [path, leaf] of jsonLeaves(property, `${prefix}${name}.`)) leaves.set(path, leaf)
    } else leaves.set(`${prefix}${name}`, property)
  }
  return leaves
}

describe("OptionSchema", () => {
  it("the router policy's defaults are the documented ones", () => {
    const defaults = RouterPolicy.defaults
    assert.deepStrictEqual(
      {
        retry: { ...defaults.retry, initialDelay: millis(defaults.retry.initialDelay), maxDelay: millis(defaults.retry.maxDelay) },
        maxRetryAfter: millis(defaults.maxRetryAfter),
        attemptTimeout: millis(defaults.attemptTimeout),
        deadline: millis(defaults.deadline),
        firstTokenTimeout: millis(defaults.firstTokenTimeout),
        idleTimeout: millis(defaults.idleTimeout),
        streamPolicy: defaults.streamPolicy,
        failoverOnInvalidRequest: defaults.failoverOnInvalidRequest,
        failoverOnContentFiltered: defaults.failoverOnContentFiltered
      },
      {
        retry: { maxRetries: 2, initialDelay: 200, factor: 2, maxDelay: 10_000, jitter: true },
        maxRetryAfter: 5_000,
        attemptTimeout: 60_000,
        deadline: 120_000,
        firstTokenTimeout: 30_000,
        idleTimeout: 30_000,
        streamPolicy: "fail",
        failoverOnInvalidRequest: false,
        failoverOnContentFiltered: false
      }
    )
  })

  it("the breaker's defaults are the documented ones", () => {
    assert.deepStrictEqual(Schema.encodeSync(CircuitBreaker.ResolvedSchema)(CircuitBreaker.defaults), {
      failureThreshold: 5,
      openDuration: 20_000,
      backoffFactor: 2,
      maxOpenDuration: 25_000,
      jitter: 0.2,
      probeLease: 15_000
    })
  })

  it("resolve takes any Duration.Input in code and fills the rest from the base", () => {
    const policy = RouterPolicy.resolve({ deadline: "5 seconds", retry: { initialDelay: Duration.millis(50), maxDelay: 700 } })
    assert.strictEqual(millis(policy.deadline), 5_000)
    assert.strictEqual(millis(policy.retry.initialDelay), 50)
    assert.strictEqual(millis(policy.retry.maxDelay), 700)
    assert.strictEqual(policy.retry.maxRetries, 2)
    const base = RouterPolicy.resolve({ retry: { maxRetries: 7 }, streamPolicy: "restart" })
    const layered = RouterPolicy.resolve({ retry: { jitter: false } }, base)
    assert.deepStrictEqual([layered.retry.maxRetries, layered.retry.jitter, layered.streamPolicy], [7, false, "restart"])
    assert.strictEqual(RouterPolicy.resolve(undefined, base), base)
  })

  it("the config form decodes to what resolve takes, and rejects out-of-range values", () => {
    const decoded = Schema.decodeUnknownSync(RouterPolicy.PolicySchema)({ deadline: "2 minutes", retry: { maxRetries: 0 } })
    const policy = RouterPolicy.resolve(decoded)
    assert.deepStrictEqual([millis(policy.deadline), policy.retry.maxRetries], [120_000, 0])
    for (const bad of [{ retry: { maxRetries: -1 } }, { retry: { factor: 0.5 } }, { deadline: "5" }, { streamPolicy: "x" }]) {
      assert.isTrue(Schema.decodeUnknownExit(RouterPolicy.PolicySchema)(bad)._tag === "Failure", JSON.stringify(bad))
    }
    assert.isTrue(Schema.decodeUnknownExit(CircuitBreaker.OptionsSchema)({ jitter: 1.5 })._tag === "Failure")
  })

  it("every leaf's JSON Schema carries its description and its default (the encoded default)", () => {
    for (const [schema, defaults] of [
      [RouterPolicy.PolicySchema, Schema.encodeSync(RouterPolicy.ResolvedSchema)(RouterPolicy.defaults)],
      [CircuitBreaker.OptionsSchema, Schema.encodeSync(CircuitBreaker.ResolvedSchema)(CircuitBreaker.defaults)]
    ] as const) {
      const leaves = jsonLeaves(Schema.toJsonSchemaDocument(schema).schema as Record<string, unknown>)
      assert.isAbove(leaves.size, 5)
      for (const [path, leaf] of leaves) {
        const encodedDefault = path.split(".").reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], defaults)
        assert.include(String(leaf.description), "Default: ", path)
        assert.strictEqual(leaf.anyOf === undefined ? leaf.default : millisOf(leaf.default), encodedDefault, path)
      }
    }
  })

  it("isDuration tells duration leaves from the rest", () => {
    const fields = RouterPolicy.ResolvedSchema.fields
    assert.isTrue(OptionSchema.isDuration(fields.deadline.ast))
    assert.isTrue(OptionSchema.isDuration(OptionSchema.Duration.ast))
    assert.isFalse(OptionSchema.isDuration(fields.streamPolicy.ast))
    assert.isFalse(OptionSchema.isDuration(Schema.Number.ast))
  })

  it("a default that does not decode fails when the schema's module loads", () => {
    const schema = Schema.Struct({ timeout: OptionSchema.duration("A limit.", "soon") })
    assert.throws(() => OptionSchema.defaultsOf(schema))
    const missing = Schema.Struct({ count: Schema.Int })
    assert.throws(() => OptionSchema.defaultsOf(missing))
  })
})

/** A duration's JSON Schema default ("200 millis") as the millis it encodes to. */
const millisOf = (value: unknown): number => Duration.toMillis(Duration.fromInputUnsafe(value as Duration.Input))
