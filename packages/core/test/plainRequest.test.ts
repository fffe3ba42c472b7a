import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Schema } from "effect"
import * as fc from "fast-check"
import * as ChatRequest from "../src/ChatRequest.ts"
import { plain } from "../src/internal/plainRequest.ts"

// the options `decode` uses: unknown keys are refused, so `plain` must decline them too
const schemaDecode = Schema.decodeUnknownExit(ChatRequest.ChatRequest, ChatRequest.parseOptions)

// key order and -0 count: `plain` must build what the Schema builds, not just something equal
const shape = (value: unknown): string => JSON.stringify(value, (_, v) => (Object.is(v, -0) ? "-0" : v === undefined ? "(undefined)" : v))

// values near every check `plain` makes: bounds, non-integers, non-finite, wrong types
const anything = fc.constantFrom<unknown>(
  "", "x", 0, -0, 1, 2, 1.5, 2.0000001, -1, 0.999, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1,
  null, undefined, true, [], {}, ["a"], [{ type: "text", text: "a" }]
)
const text = fc.oneof(fc.string({ maxLength: 3 }), anything)
const message = fc.record(
  {
    role: fc.oneof(fc.constantFrom("system", "developer", "user", "assistant", "tool", "other"), anything),
    content: text,
    name: text,
    toolCallId: text,
    toolCalls: fc.constantFrom<unknown>([], [{ id: "c", name: "n", arguments: "{}" }], "x"),
    extra: anything
  },
  { requiredKeys: [] }
)
const request = fc.record(
  {
    messages: fc.oneof(fc.array(message, { minLength: 0, maxLength: 3 }), anything),
    model: text,
    temperature: fc.oneof(fc.double({ min: -1, max: 3 }), anything),
    maxTokens: fc.oneof(fc.integer({ min: -2, max: 5 }), anything),
    topP: fc.oneof(fc.double({ min: -1, max: 2 }), anything),
    seed: fc.oneof(fc.integer(), anything),
    user: text,
    stop: fc.constantFrom<unknown>(["\n"], [], "x"),
    extra: anything
  },
  { requiredKeys: [] }
)

// mostly well-formed requests, each field sometimes replaced by an edge value: the path is taken
// often, and every way out of it is tried
const sometimes = <A>(arb: fc.Arbitrary<A>) => fc.oneof({ arbitrary: arb, weight: 20 }, { arbitrary: anything, weight: 1 })
const goodMessage = fc.oneof(
  { arbitrary: fc.record({ role: fc.constantFrom("system", "developer"), content: sometimes(fc.string({ maxLength: 3 })) }), weight: 3 },
  {
    arbitrary: fc.record({ role: fc.constant("user"), content: sometimes(fc.string({ maxLength: 3 })), name: sometimes(fc.string({ maxLength: 2 })) }, {
      requiredKeys: ["role", "content"]
    }),
    weight: 3
  },
  {
    arbitrary: fc.record({ role: fc.constant("assistant"), content: sometimes(fc.oneof(fc.string({ maxLength: 3 }), fc.constant(null))) }, {
      requiredKeys: ["role"]
    }),
    weight: 3
  },
  { arbitrary: message, weight: 1 }
)
const nearPlain = fc.record(
  {
    messages: fc.oneof({ arbitrary: fc.array(goodMessage, { minLength: 1, maxLength: 3 }), weight: 20 }, { arbitrary: anything, weight: 1 }),
    model: sometimes(fc.string({ maxLength: 2 })),
    temperature: sometimes(fc.oneof(fc.double({ min: -0.1, max: 2.1 }), fc.constantFrom(0, -0, 2, 2.0000001, -1e-9))),
    maxTokens: sometimes(fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom(0.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1))),
    topP: sometimes(fc.oneof(fc.double({ min: -0.1, max: 1.1 }), fc.constantFrom(0, -0, 1, 1.0000001, -1e-9))),
    seed: sometimes(fc.oneof(fc.integer(), fc.constantFrom(-0, 0.5, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1))),
    user: sometimes(fc.string({ maxLength: 2 }))
  },
  { requiredKeys: ["messages"] }
)

describe("ChatRequest.decode's hand-checked path", () => {
  it("either declines or builds exactly what the Schema decodes (same keys, same order)", () => {
    let taken = 0
    fc.assert(
      fc.property(fc.oneof(request, nearPlain), (input) => {
        const fast = plain(input)
        const decoded = schemaDecode(input)
        if (fast === undefined) return
        taken++
        assert.isTrue(Exit.isSuccess(decoded), `plain accepted what the Schema refuses: ${shape(input)}`)
        if (Exit.isSuccess(decoded)) assert.strictEqual(shape(fast), shape(decoded.value))
        assert.notStrictEqual<unknown>(fast, input)
        assert.notStrictEqual<unknown>(fast.messages, input.messages)
      }),
      { numRuns: 5000 }
    )
    // the property is only worth something if the path is taken often
    assert.isAbove(taken, 150)
  })

  it("takes the requests most calls send", () => {
    const user = { role: "user", content: "hello" } as const
    for (
      const input of [
        { messages: [user] },
        { messages: [{ role: "system", content: "be brief" }, user, { role: "assistant", content: null }, { role: "assistant" }], model: "m" },
        { messages: [{ ...user, name: "ann" }], temperature: 0.2, maxTokens: 100, topP: 1, seed: 7, user: "u-1" }
      ]
    ) assert.deepStrictEqual<unknown>(plain(input), input)
    // tools, images and the rest go to the Schema
    assert.isUndefined(plain({ messages: [{ role: "user", content: [{ type: "text", text: "a" }] }] }))
    assert.isUndefined(plain({ messages: [user], stop: ["\n"] }))
  })

  it.effect("decode gives the same answer either way, and reads the request when run", () =>
    Effect.gen(function*() {
      const input: { messages: Array<{ role: "user"; content: string }>; temperature?: number } = { messages: [{ role: "user", content: "a" }] }
      const decoding = ChatRequest.decode(input)
      input.temperature = 9
      const error = yield* Effect.flip(decoding)
      assert.include(error.reason.message, "temperature")
    }))
})
