// Any split of event-stream bytes into network reads gives the same parts, and any corrupted
// byte is rejected (MalformedResponse, never a stream that ends as if complete): over the real
// ConverseStream captures and over generated streams.
import { assert, describe, it } from "@effect/vitest"
import * as ProviderError from "@flexiai/core/ProviderError"
import type * as StreamPart from "@flexiai/core/StreamPart"
import { splitAt } from "@flexiai/testing/Chunks"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import * as StreamDecoder from "@flexiai/provider/StreamDecoder"
import { Effect, Exit, Stream } from "effect"
import * as fc from "fast-check"
import { readFileSync } from "node:fs"
import * as BedrockStream from "../src/BedrockStream.ts"
import { fixturesDir } from "./helpers.ts"

const context = { provider: "bedrock", model: "m", mask: (text: string) => text }

const decode = (chunks: ReadonlyArray<Uint8Array>) =>
  Effect.runSyncExit(Stream.runCollect(StreamDecoder.decode(Stream.fromIterable(chunks), {
    provider: "bedrock",
    model: "m",
    framing: BedrockStream.framing,
    machine: BedrockStream.machine(context),
    onMalformedEvent: "fail"
  })))

const parts = (chunks: ReadonlyArray<Uint8Array>): ReadonlyArray<StreamPart.StreamPart> => {
  const exit = decode(chunks)
  if (Exit.isFailure(exit)) throw new Error(`decoding failed: ${String(exit.cause)}`)
  return exit.value
}

const concat = (frames: ReadonlyArray<Uint8Array>) => {
  const out = new Uint8Array(frames.reduce((sum, frame) => sum + frame.length, 0))
  let at = 0
  for (const frame of frames) {
    out.set(frame, at)
    at += frame.length
  }
  return out
}

const event = (type: string, payload: unknown) =>
  MockProviderServer.eventStreamFrame({ ":event-type": type, ":content-type": "application/json", ":message-type": "event" }, JSON.stringify(payload))

/** A generated ConverseStream: text pieces (any Unicode), an optional tool call in pieces, stop, metadata. */
const generated = fc.record({
  texts: fc.array(fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 8 }),
  tool: fc.option(fc.array(fc.string({ maxLength: 6 }), { minLength: 1, maxLength: 4 }), { nil: undefined })
}).map(({ texts, tool }) =>
  concat([
    event("messageStart", { role: "assistant" }),
    ...texts.map((text) => event("contentBlockDelta", { contentBlockIndex: 0, delta: { text } })),
    event("contentBlockStop", { contentBlockIndex: 0 }),
    ...(tool === undefined ? [] : [
      event("contentBlockStart", { contentBlockIndex: 1, start: { toolUse: { toolUseId: "tooluse_x", name: "f" } } }),
      ...tool.map((input) => event("contentBlockDelta", { contentBlockIndex: 1, delta: { toolUse: { input } } }))
    ]),
    event("messageStop", { stopReason: tool === undefined ? "end_turn" : "tool_use" }),
    event("metadata", { usage: { inputTokens: 3, outputTokens: texts.length, totalTokens: 3 + texts.length }, metrics: { latencyMs: 9 } })
  ])
)

const dir = fixturesDir()
const captures = [
  "pydantic-ai__bedrock-converse-stream.eventstream.bin",
  "pydantic-ai__bedrock-converse-stream-tool.eventstream.bin",
  "pydantic-ai__bedrock-converse-stream-thinking.eventstream.bin"
].map((file) => [file, new Uint8Array(readFileSync(`${dir}${file}`))] as const)

const rejected = (bytes: Uint8Array) => {
  const exit = decode([bytes])
  if (Exit.isSuccess(exit)) return false
  const error = exit.cause.reasons.find((reason) => reason._tag === "Fail")
  return error?._tag === "Fail" && error.error instanceof ProviderError.ProviderError && error.error.reason._tag === "MalformedResponse"
}

describe("event-stream decoding", () => {
  for (const [file, bytes] of captures) {
    it(`${file}: any split gives the same parts (one byte at a time too)`, () => {
      const expected = parts([bytes])
      assert.strictEqual(expected.at(-1)?.type, "finish")
      fc.assert(fc.property(fc.array(fc.nat({ max: bytes.length }), { maxLength: 40 }), (cuts) => {
        assert.deepStrictEqual(parts(splitAt(bytes, cuts)), expected)
      }), { numRuns: 40 })
      assert.deepStrictEqual(parts(Array.from(bytes, (byte) => Uint8Array.of(byte))), expected)
    })

    it(`${file}: any corrupted byte is rejected`, () => {
      fc.assert(fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, flip) => {
        const corrupt = bytes.slice()
        corrupt[index] = corrupt[index]! ^ flip
        assert.isTrue(rejected(corrupt), `byte ${index} ^ ${flip}`)
      }), { numRuns: 150 })
    })
  }

  it("generated streams: any split gives the same parts; any corrupted byte is rejected", () => {
    fc.assert(fc.property(generated, fc.array(fc.nat(), { maxLength: 20 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (bytes, cuts, at, flip) => {
      const expected = parts([bytes])
      assert.deepStrictEqual(parts(splitAt(bytes, cuts)), expected)
      const corrupt = bytes.slice()
      const index = at % bytes.length
      corrupt[index] = corrupt[index]! ^ flip
      assert.isTrue(rejected(corrupt))
    }), { numRuns: 100 })
  })
})
