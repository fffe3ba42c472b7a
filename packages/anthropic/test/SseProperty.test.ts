// Any split of a recorded Anthropic stream's bytes into network chunks decodes to the same parts.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import * as fc from "fast-check"
import { readFileSync } from "node:fs"
import { parse } from "yaml"
import * as AnthropicStream from "../src/AnthropicStream.ts"
import { fixture, framedChunks, splitAt } from "./helpers.ts"

const encode = (text: string) => new TextEncoder().encode(text)
const cassetteBody = (name: string): string =>
  (parse(readFileSync(fixture(name), "utf8")) as { interactions: Array<{ response: { body: { string: string } } }> })
    .interactions[0]!.response.body.string

const recordings: ReadonlyArray<readonly [string, Uint8Array]> = [
  ["vercel text", encode(framedChunks("vercel__anthropic-text.chunks.txt"))],
  ["vercel tool without arguments", encode(framedChunks("vercel__anthropic-tool-no-args.chunks.txt"))],
  ["raw .sse tool use", new Uint8Array(readFileSync(fixture("anthropic-sdk__tool_use_response.sse")))],
  ["pydantic-ai thinking (padded JSON)", encode(cassetteBody("pydantic-ai__anthropic-thinking-stream.yaml"))]
]

const decode = (chunks: ReadonlyArray<Uint8Array>) =>
  Effect.runSync(Stream.runCollect(AnthropicStream.bytesToParts(
    Stream.fromIterable(chunks),
    { provider: "p", model: "m", onMalformedEvent: "fail", mask: (text) => text }
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
