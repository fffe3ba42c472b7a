// Any split of a recorded stream's bytes into network chunks decodes to the same parts.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import * as fc from "fast-check"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import * as OpenAiStream from "../src/OpenAiStream.ts"
import { testDataDir, splitAt } from "./helpers.ts"

const fixtures = testDataDir("fixtures")
const framed = (name: string) =>
  readFileSync(join(fixtures, name), "utf8").split("\n").filter((line) => line.trim() !== "").map((line) => `data: ${line}\n\n`)
    .join("") + "data: [DONE]\n\n"

const recordings: ReadonlyArray<readonly [string, Uint8Array]> = [
  ["openai text", new TextEncoder().encode(framed("openai/vercel__openai-text.chunks.txt"))],
  ["deepseek tool call", new TextEncoder().encode(framed("openai-compatible/vercel__deepseek-tool-call.chunks.txt"))],
  ["raw .sse tool call", new Uint8Array(readFileSync(join(fixtures, "openai-compatible/vercel__anthropic-fallback-tool-call.sse")))]
]

const decode = (chunks: ReadonlyArray<Uint8Array>) =>
  Effect.runSync(Stream.runCollect(OpenAiStream.bytesToParts(
    Stream.fromIterable(chunks),
    { provider: "p", model: "m", expectUsage: true, onMalformedEvent: "fail", mask: (text) => text }
  )))

describe("SSE decoding is independent of chunk boundaries", () => {
  for (const [name, bytes] of recordings) {
    it(name, () => {
      const expected = decode([bytes])
      assert.strictEqual(expected.at(-1)?.type, "finish")
      assert.isAbove(expected.length, 2)
      fc.assert(
        fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
          assert.deepStrictEqual(decode(splitAt(bytes, cuts)), expected)
        }),
        { numRuns: 60 }
      )
      // the worst case: one byte at a time
      assert.deepStrictEqual(decode(Array.from(bytes, (byte) => Uint8Array.of(byte))), expected)
    })
  }
})

describe("time to first token", () => {
  it.effect("the stream's first parts go out before the rest of the read that carried them is decoded", () =>
    Effect.gen(function*() {
      const event = (delta: object, finish: string | null) =>
        `data: ${JSON.stringify({ id: "c", model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
      // one network read: the whole answer
      const read = new TextEncoder().encode(
        event({ role: "assistant", content: "" }, null) + event({ content: "Hello" }, null) +
          event({ content: " world" }, null) + event({}, "stop") + "data: [DONE]\n\n"
      )
      const pull = yield* Stream.toPull(OpenAiStream.bytesToParts(
        Stream.make(read),
        { provider: "p", model: "m", expectUsage: false, onMalformedEvent: "fail", mask: (text) => text }
      ))
      const first = yield* pull
      assert.deepStrictEqual(first.map((part) => part.type === "text-delta" ? part.text : part.type), ["Hello"])
      const second = yield* pull
      assert.deepStrictEqual(second.map((part) => part.type === "text-delta" ? part.text : part.type), [" world"])
      const third = yield* pull
      assert.deepStrictEqual(third.map((part) => part.type), ["finish"])
    }).pipe(Effect.scoped))
})

describe("an event past the size limit", () => {
  it.effect("fails the stream as MalformedResponse after the events that came before it in the read", () =>
    Effect.gen(function*() {
      const event = (content: string) =>
        `data: ${JSON.stringify({ id: "c", model: "m", choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`
      // one read: two content events, then a line larger than the 10 MiB limit, still unterminated
      const read = new TextEncoder().encode(event("Hello") + event(" world") + `data: ${"x".repeat(10 * 1024 * 1024 + 1)}`)
      const pull = yield* Stream.toPull(OpenAiStream.bytesToParts(
        Stream.make(read),
        { provider: "p", model: "m", expectUsage: false, onMalformedEvent: "fail", mask: (text) => text }
      ))
      const texts: Array<string> = []
      const error = yield* Effect.flip(Effect.forever(Effect.map(pull, (parts) => {
        for (const part of parts) if (part.type === "text-delta") texts.push(part.text)
      })))
      assert.deepStrictEqual(texts, ["Hello", " world"])
      assert.strictEqual(error._tag === "ProviderError" ? error.reason._tag : error, "MalformedResponse")
    }).pipe(Effect.scoped))
})

describe("a body ending mid-frame", () => {
  it("its last event, without the blank line after it, is still decoded", () => {
    const event = JSON.stringify({ id: "c", model: "m", choices: [{ index: 0, delta: { content: "Hi" }, finish_reason: "stop" }] })
    const parts = decode([new TextEncoder().encode(`data: ${event}`)])
    assert.deepStrictEqual(parts.map((part) => part.type), ["text-delta", "finish"])
  })
})
