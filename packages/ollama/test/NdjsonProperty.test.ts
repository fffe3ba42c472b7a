// Any split of an NDJSON stream's bytes into network reads decodes to the same parts: lines cut
// mid-JSON, mid-character (multi-byte UTF-8) or one byte at a time.
import { assert, describe, it } from "@effect/vitest"
import { ollamaLines } from "@flexiai/testing/MockProviderServer"
import { splitAt } from "@flexiai/testing/Chunks"
import { Effect, Stream } from "effect"
import * as fc from "fast-check"
import * as StreamDecoder from "@flexiai/provider/StreamDecoder"
import * as OllamaStream from "../src/OllamaStream.ts"

const encoder = new TextEncoder()

const streams: ReadonlyArray<readonly [string, Uint8Array]> = [
  ["thinking, text with multi-byte characters, a tool call, the done line", encoder.encode([
    ollamaLines.chunk("qwen3", { thinking: "Hmm, café ☕" }),
    ollamaLines.chunk("qwen3", { thinking: " — ok." }),
    ollamaLines.chunk("qwen3", { content: "Voilà: 東京 " }),
    ollamaLines.chunk("qwen3", { content: "🙂 done" }),
    ollamaLines.chunk("qwen3", { tool_calls: [{ function: { name: "lookup", arguments: { q: "naïve" } } }] }),
    ollamaLines.done("qwen3", { prompt_eval_count: 11, eval_count: 7, total_duration: 12345 })
  ].join(""))],
  // CRLF line ends and no LF after the last line: both allowed
  ["CRLF lines, last line unterminated", encoder.encode(
    [ollamaLines.chunk("m", { content: "a" }), ollamaLines.chunk("m", { content: "b" }), ollamaLines.done("m")].join("").replaceAll("\n", "\r\n").trimEnd()
  )]
]

const decode = (chunks: ReadonlyArray<Uint8Array>) =>
  Effect.runSync(Stream.runCollect(StreamDecoder.decode(Stream.fromIterable(chunks), {
    provider: "p",
    model: "m",
    framing: OllamaStream.framing,
    machine: OllamaStream.machine({ provider: "p", model: "m", mask: (text) => text }),
    onMalformedEvent: "fail"
  })))

describe("the done line's durations", () => {
  it("ride on the finish part as Ollama sent them", () => {
    const parts = decode([streams[0]![1]])
    const finish = parts.find((part) => part.type === "finish")
    assert.deepStrictEqual(finish?.type === "finish" ? finish.providerMetadata : undefined, { ollama: { total_duration: 12345 } })
  })
})

describe("NDJSON decoding is independent of read boundaries", () => {
  for (const [name, bytes] of streams) {
    it(name, () => {
      const expected = decode([bytes])
      assert.strictEqual(expected.at(-1)?.type, "finish")
      assert.isAbove(expected.length, 2)
      fc.assert(
        fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
          assert.deepStrictEqual(decode(splitAt(bytes, cuts)), expected)
        }),
        { numRuns: 100 }
      )
      assert.deepStrictEqual(decode(Array.from(bytes, (byte) => Uint8Array.of(byte))), expected)
    })
  }

  it("the parts say what the lines said", () => {
    const parts = decode([streams[0]![1]])
    const text = parts.map((part) => (part.type === "text-delta" ? part.text : "")).join("")
    const reasoning = parts.map((part) => (part.type === "reasoning-delta" ? part.text : "")).join("")
    assert.strictEqual(text, "Voilà: 東京 🙂 done")
    assert.strictEqual(reasoning, "Hmm, café ☕ — ok.")
    const call = parts.find((part) => part.type === "tool-call")
    assert.deepStrictEqual(call?.type === "tool-call" ? call.toolCall : undefined, { id: "call_0", name: "lookup", arguments: "{\"q\":\"naïve\"}" })
  })
})
