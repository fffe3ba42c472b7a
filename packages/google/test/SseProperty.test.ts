// Any split of a recorded Gemini stream's bytes into network chunks decodes to the same parts.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import * as fc from "fast-check"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { parse } from "yaml"
import * as StreamDecoder from "@flexiai/provider/StreamDecoder"
import * as GoogleStream from "../src/GoogleStream.ts"
import { splitAt, testDataDir } from "./helpers.ts"

const fixtures = join(testDataDir("fixtures"), "google")
// Google frames events with CRLF line ends: the recordings are re-framed the same way
const framed = (name: string) =>
  readFileSync(join(fixtures, name), "utf8").split("\n").filter((line) => line.trim() !== "").map((line) => `data: ${line}\r\n\r\n`)
    .join("")
const cassetteBody = (name: string): string =>
  (parse(readFileSync(join(fixtures, name), "utf8")) as { interactions: ReadonlyArray<{ response: { body: { string: string } } }> })
    .interactions[0]!.response.body.string

const encoder = new TextEncoder()
const recordings: ReadonlyArray<readonly [string, Uint8Array]> = [
  ["text", encoder.encode(framed("vercel__google-text.chunks.txt"))],
  ["reasoning (signatures)", encoder.encode(framed("vercel__google-reasoning.chunks.txt"))],
  ["tool call", encoder.encode(framed("vercel__google-tool-call.chunks.txt"))],
  ["raw SSE cassette", encoder.encode(cassetteBody("pydantic-ai__gemini-stream-alt-sse.yaml"))]
]

const decode = (chunks: ReadonlyArray<Uint8Array>) =>
  Effect.runSync(Stream.runCollect(StreamDecoder.decode(Stream.fromIterable(chunks), {
    provider: "p",
    model: "m",
    framing: GoogleStream.framing,
    machine: GoogleStream.machine({ provider: "p", model: "m", mask: (text) => text }),
    onMalformedEvent: "fail"
  })))

describe("Gemini SSE decoding is independent of chunk boundaries", () => {
  for (const [name, bytes] of recordings) {
    it(name, () => {
      const expected = decode([bytes])
      assert.strictEqual(expected.at(-1)?.type, "finish")
      assert.isAbove(expected.length, 1)
      fc.assert(
        fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
          assert.deepStrictEqual(decode(splitAt(bytes, cuts)), expected)
        }),
        { numRuns: 60 }
      )
      // the worst case: one byte at a time (a CR and its LF in different reads, a character split)
      assert.deepStrictEqual(decode(Array.from(bytes, (byte) => Uint8Array.of(byte))), expected)
    })
  }

  it("a body cut at any point before its finish event is interrupted, never complete", () => {
    const [, bytes] = recordings[0]!
    const lastEvent = new TextDecoder().decode(bytes).lastIndexOf("data: ")
    fc.assert(
      fc.property(fc.integer({ min: 1, max: lastEvent + 20 }), (cut) => {
        const exit = Effect.runSyncExit(Stream.runCollect(StreamDecoder.decode(Stream.make(bytes.slice(0, cut)), {
          provider: "p",
          model: "m",
          framing: GoogleStream.framing,
          machine: GoogleStream.machine({ provider: "p", model: "m", mask: (text) => text }),
          onMalformedEvent: "fail"
        })))
        assert.strictEqual(exit._tag, "Failure")
        assert.include(JSON.stringify(exit), "StreamInterrupted")
      }),
      { numRuns: 60 }
    )
  })
})
