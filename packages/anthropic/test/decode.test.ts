// The hand-written decoders on the stream's hot path (internal/decode.ts) accept exactly what the
// Schemas of AnthropicSchema accept: values generated from the Schemas pass unchanged, and values
// one change away from valid (any key set to a value of any JSON kind, or removed) get the same
// verdict from the hand checks as from the Schema's own decode.
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Effect, Schema, SchemaAST } from "effect"
import * as fc from "fast-check"
import { readFileSync } from "node:fs"
import { parseEvent, parseMessage } from "../src/internal/decode.ts"
import * as AnthropicSchema from "../src/AnthropicSchema.ts"
import { fixture } from "./helpers.ts"

const wire = [
  { name: "Message", schema: AnthropicSchema.Message, parse: parseMessage },
  { name: "StreamEvent", schema: AnthropicSchema.StreamEvent, parse: parseEvent }
] as const

const kinds: ReadonlyArray<unknown> = ["x", 7, true, null, [], {}, undefined]

/** Every path to a value inside `value` (object keys and array indexes). */
const paths = (value: unknown, at: ReadonlyArray<string | number> = []): Array<ReadonlyArray<string | number>> => {
  if (Array.isArray(value)) return value.flatMap((item, index) => [[...at, index], ...paths(item, [...at, index])])
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => [[...at, key], ...paths(item, [...at, key])])
  }
  return []
}

const withAt = (value: unknown, path: ReadonlyArray<string | number>, replacement: unknown): unknown => {
  if (path.length === 0) return replacement
  const [head, ...rest] = path
  if (Array.isArray(value)) return value.map((item, index) => (index === head ? withAt(item, rest, replacement) : item))
  const record = { ...(value as Record<string, unknown>) }
  if (rest.length === 0 && replacement === undefined) delete record[head as string]
  else record[head as string] = withAt(record[head as string], rest, replacement)
  return record
}

describe("hand-written wire decoders", () => {
  it("the wire Schemas have no transformation, so the parsed JSON is their decoded Type", () => {
    for (const { name, schema } of wire) {
      assert.strictEqual(SchemaAST.toEncoded(schema.ast), schema.ast, `${name}: decode.ts must now run the Schema`)
      assert.strictEqual(SchemaAST.toType(schema.ast), schema.ast, `${name}: decode.ts must now run the Schema`)
    }
  })

  it.effect("each accepts every value its Schema generates, and returns it as it came", () =>
    Effect.forEach(wire, ({ name, parse, schema }) =>
      Effect.map(Arbitrary.sampleEffect(Arbitrary.schema(schema), { count: 300, seed: 7 }), (values) => {
        for (const value of values) {
          const text = JSON.stringify(value)
          assert.deepStrictEqual(parse(text), JSON.parse(text), `${name}: ${text}`)
        }
      }), { discard: true }))

  it.effect("one change away from valid, the hand checks agree with the Schema's decode", () =>
    Effect.forEach(wire, ({ name, parse, schema }) =>
      Effect.map(Arbitrary.sampleEffect(Arbitrary.schema(schema), { count: 200, seed: 11 }), (values) => {
        const decode = Schema.decodeUnknownExit(Schema.fromJsonString(schema))
        let accepted = 0
        let rejected = 0
        fc.assert(
          fc.property(fc.constantFrom(...values), fc.nat(), fc.constantFrom(...kinds), (value, pick, replacement) => {
            const all = paths(value)
            const changed = all.length === 0 ? value : withAt(value, all[pick % all.length]!, replacement)
            const text = JSON.stringify(changed)
            const ours = parse(text) !== undefined
            if (ours) accepted++
            else rejected++
            return ours === (decode(text)._tag === "Success")
          }),
          { numRuns: 2000 }
        )
        // the changes reach both verdicts, or the agreement would prove nothing
        assert.isAbove(accepted, 50, name)
        assert.isAbove(rejected, 50, name)
      }), { discard: true }))

  it("both reject text that is not JSON, and values that are not objects", () => {
    for (const text of ["", "{", "null", "[]", "\"text\"", "42"]) {
      assert.isUndefined(parseMessage(text), text)
      assert.isUndefined(parseEvent(text), text)
    }
  })

  it("the recorded real events and messages decode", () => {
    for (const name of ["vercel__anthropic-text.json", "vercel__anthropic-json-tool.1.json"]) {
      assert.isDefined(parseMessage(readFileSync(fixture(name), "utf8")), name)
    }
    for (const name of ["vercel__anthropic-text.chunks.txt", "vercel__anthropic-refusal.chunks.txt", "vercel__anthropic-tool-no-args.chunks.txt"]) {
      for (const line of readFileSync(fixture(name), "utf8").split("\n").filter((line) => line.trim() !== "")) {
        assert.isDefined(parseEvent(line), `${name}: ${line}`)
      }
    }
  })
})
