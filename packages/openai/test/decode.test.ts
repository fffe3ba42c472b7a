// The hand-written decoders on the hot path (internal/decode.ts) accept exactly what the
// documented Schemas in OpenAiSchema accept: generated near-miss shapes, each field present,
// missing, null, of the right type or of a wrong one.
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import * as fc from "fast-check"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { parseChunk, parseCompletion } from "../src/internal/decode.ts"
import * as OpenAiSchema from "../src/OpenAiSchema.ts"
import { testDataDir } from "./helpers.ts"

const schemaAccepts = <S extends Schema.Decoder<unknown>>(schema: S) => {
  const decode = Schema.decodeUnknownExit(Schema.fromJsonString(schema))
  return (text: string) => decode(text)._tag === "Success"
}

const wrong = fc.oneof(fc.constant(true), fc.integer(), fc.string({ maxLength: 3 }), fc.constant([]), fc.constant({}))
/** A field's value: mostly right, sometimes missing, null or of a wrong type. */
const field = <A>(right: fc.Arbitrary<A>) =>
  fc.oneof(
    { weight: 6, arbitrary: right },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: wrong }
  )
const record = <T extends Record<string, fc.Arbitrary<unknown>>>(fields: T) =>
  fc.record(fields).map((value) => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)))
const list = <A>(item: fc.Arbitrary<A>) => fc.array(item, { maxLength: 3 })

const num = fc.integer({ min: 0, max: 100 })
const str = fc.string({ maxLength: 5 })
const usage = record({
  prompt_tokens: field(num),
  completion_tokens: field(num),
  total_tokens: field(num),
  prompt_tokens_details: field(record({ cached_tokens: field(num) })),
  completion_tokens_details: field(record({ reasoning_tokens: field(num) }))
})
const fn = record({ name: field(str), arguments: field(str) })

const completion = record({
  id: field(str),
  model: field(str),
  choices: field(list(field(record({
    index: field(num),
    message: field(record({
      content: field(str),
      refusal: field(str),
      tool_calls: field(list(field(record({ id: field(str), type: field(str), function: field(fn) }))))
    })),
    finish_reason: field(str)
  })))),
  usage: field(usage)
})

const chunk = record({
  id: field(str),
  model: field(str),
  choices: field(list(field(record({
    index: field(num),
    delta: field(record({
      content: field(str),
      tool_calls: field(list(field(record({ index: field(num), id: field(str), function: field(fn) }))))
    })),
    finish_reason: field(str)
  })))),
  usage: field(usage),
  x_groq: field(record({ usage: field(usage) })),
  error: field(record({ message: field(str), type: field(str), param: field(str), code: field(fc.oneof(str, num)) }))
})

const agree = (
  arbitrary: fc.Arbitrary<unknown>,
  parse: (text: string) => unknown,
  accepts: (text: string) => boolean
) => {
  let accepted = 0
  let rejected = 0
  fc.assert(
    fc.property(arbitrary, (value) => {
      const text = JSON.stringify(value)
      const ours = parse(text) !== undefined
      if (ours) accepted++
      else rejected++
      return ours === accepts(text)
    }),
    { numRuns: 3000 }
  )
  // the generator reaches both sides, or the agreement would prove nothing
  assert.isAbove(accepted, 100)
  assert.isAbove(rejected, 100)
}

describe("hand-written decoders", () => {
  it("parseCompletion accepts what the ChatCompletion schema accepts", () => {
    agree(completion, parseCompletion, schemaAccepts(OpenAiSchema.ChatCompletion))
  })

  it("parseChunk accepts what the ChatCompletionChunk schema accepts", () => {
    agree(chunk, parseChunk, schemaAccepts(OpenAiSchema.ChatCompletionChunk))
  })

  it("both reject text that is not JSON, and values that are not objects", () => {
    for (const text of ["", "{", "null", "[]", "\"text\"", "42", "[{\"choices\":[]}]"]) {
      assert.isUndefined(parseCompletion(text), text)
      assert.isUndefined(parseChunk(text), text)
    }
  })

  it("the recorded real answers decode", () => {
    const fixture = (path: string) => readFileSync(join(testDataDir("fixtures"), path), "utf8")
    for (const path of ["openai/vercel__openai-text.json", "openai-compatible/vercel__groq-tool-call.json"]) {
      assert.isDefined(parseCompletion(fixture(path)), path)
    }
    for (const path of ["openai/vercel__openai-text.chunks.txt", "openai-compatible/vercel__groq-tool-call.chunks.txt"]) {
      for (const line of fixture(path).split("\n").filter((line) => line.trim() !== "")) assert.isDefined(parseChunk(line), path)
    }
  })
})
