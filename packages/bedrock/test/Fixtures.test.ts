// The recorded Bedrock traffic in test-data/fixtures/bedrock (see its SOURCES.md) replayed over
// the wire: real ConverseStream event-stream captures byte for byte, Converse answers, decoded
// chunk files re-framed by the mock. Expected values are read from the same files independently
// (with @smithy/eventstream-codec), not typed in.
/* oxlint-disable typescript/no-explicit-any -- recorded JSON, read field by field as the files have it */
import { assert, describe, it } from "@effect/vitest"
import * as Reasoning from "@flexiai/core/Reasoning"
import type * as StreamPart from "@flexiai/core/StreamPart"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { EventStreamCodec } from "@smithy/eventstream-codec"
import { Effect, Stream } from "effect"
import { readFileSync } from "node:fs"
import { fixturesDir, request, setup } from "./helpers.ts"

const dir = fixturesDir()
const codec = new EventStreamCodec((bytes) => new TextDecoder().decode(bytes), (text) => new TextEncoder().encode(text))

/** The events of a capture, decoded by the SDK's codec: `[type, payload]`. */
const eventsOf = (file: string): Array<readonly [string, Record<string, any>]> => {
  const bytes = new Uint8Array(readFileSync(`${dir}${file}`))
  const events: Array<readonly [string, Record<string, any>]> = []
  for (let at = 0; at < bytes.length;) {
    const length = new DataView(bytes.buffer, bytes.byteOffset + at).getUint32(0)
    const message = codec.decode(bytes.subarray(at, at + length))
    events.push([String(message.headers[":event-type"]?.value), JSON.parse(new TextDecoder().decode(message.body))])
    at += length
  }
  return events
}

const chunkEvents = (file: string) =>
  readFileSync(`${dir}${file}`, "utf8").split("\n").filter((line) => line.trim() !== "").map((line) => Object.entries(JSON.parse(line))[0] as [string, Record<string, any>])

const textOf = (events: ReadonlyArray<readonly [string, Record<string, any>]>) =>
  events.filter(([type, payload]) => type === "contentBlockDelta" && typeof payload.delta?.text === "string").map(([, p]) => p.delta.text).join("")

const streamed = (reply: MockProviderServer.Reply) =>
  Effect.gen(function*() {
    const { provider } = yield* setup({ replies: [reply] })
    return Array.from(yield* Stream.runCollect(provider.stream(request())))
  })

const joined = (parts: ReadonlyArray<StreamPart.StreamPart>) => parts.map((part) => (part.type === "text-delta" ? part.text : "")).join("")
const finishOf = (parts: ReadonlyArray<StreamPart.StreamPart>) => {
  const last = parts.at(-1)
  if (last?.type !== "finish") throw new Error("no finish part")
  return last
}

describe("recorded Bedrock traffic", () => {
  it.effect("a real ConverseStream capture: every text delta, the stop reason and usage from metadata", () =>
    Effect.gen(function*() {
      const file = "pydantic-ai__bedrock-converse-stream.eventstream.bin"
      const events = eventsOf(file)
      const parts = yield* streamed(MockProviderServer.fixture(`${dir}${file}`))
      assert.strictEqual(joined(parts), textOf(events))
      const finish = finishOf(parts)
      const usage = events.find(([type]) => type === "metadata")![1].usage
      assert.strictEqual(finish.rawFinishReason, events.find(([type]) => type === "messageStop")![1].stopReason)
      assert.deepStrictEqual(finish.usage, { promptTokens: usage.inputTokens, completionTokens: usage.outputTokens, totalTokens: usage.inputTokens + usage.outputTokens })
    }))

  it.effect("a real streamed tool use: announced by contentBlockStart, input in pieces, completed at messageStop", () =>
    Effect.gen(function*() {
      const file = "pydantic-ai__bedrock-converse-stream-tool.eventstream.bin"
      const events = eventsOf(file)
      const start = events.find(([type, payload]) => type === "contentBlockStart" && payload.start?.toolUse !== undefined)![1]
      const input = events.filter(([type, p]) => type === "contentBlockDelta" && p.delta?.toolUse !== undefined).map(([, p]) => p.delta.toolUse.input).join("")
      const parts = yield* streamed(MockProviderServer.fixture(`${dir}${file}`))
      const call = parts.find((part) => part.type === "tool-call")
      assert.deepStrictEqual(call?.type === "tool-call" ? call.toolCall : undefined, { id: start.start.toolUse.toolUseId, name: start.start.toolUse.name, arguments: input })
      assert.strictEqual(joined(parts), textOf(events))
      assert.strictEqual(finishOf(parts).finishReason, "tool_calls")
    }))

  it.effect("a real reasoning stream: the reasoning block with its signature, then the answer", () =>
    Effect.gen(function*() {
      const file = "pydantic-ai__bedrock-converse-stream-thinking.eventstream.bin"
      const events = eventsOf(file)
      const parts = yield* streamed(MockProviderServer.fixture(`${dir}${file}`))
      const blocks = Reasoning.fromDeltas(parts.filter((part): part is StreamPart.ReasoningDelta => part.type === "reasoning-delta"))
      const thoughts = events.filter(([type, p]) => type === "contentBlockDelta" && p.delta?.reasoningContent !== undefined).map(([, p]) => p.delta.reasoningContent)
      assert.deepStrictEqual(blocks, [{ text: thoughts.map((t) => t.text ?? "").join(""), signature: thoughts.find((t) => t.signature !== undefined).signature }])
      assert.strictEqual(joined(parts), textOf(events))
      // reasoning comes first: the first content part is a reasoning delta
      assert.strictEqual(parts[0]?.type, "reasoning-delta")
    }))

  for (const file of ["vercel__amazon-bedrock-text.chunks.txt", "vercel__amazon-bedrock-reasoning.chunks.txt"]) {
    it.effect(`${file} re-framed: text, reasoning and usage`, () =>
      Effect.gen(function*() {
        const events = chunkEvents(file)
        const parts = yield* streamed(MockProviderServer.fixture(`${dir}${file}`))
        assert.strictEqual(joined(parts), textOf(events))
        const usage = events.find(([type]) => type === "metadata")![1].usage
        assert.strictEqual(finishOf(parts).usage?.completionTokens, usage.outputTokens)
      }))
  }

  it.effect("Converse answers: text with cache counters, reasoning with its signature", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({
        replies: [MockProviderServer.fixture(`${dir}vercel__amazon-bedrock-text.json`), MockProviderServer.fixture(`${dir}vercel__amazon-bedrock-reasoning.json`)]
      })
      const textBody = JSON.parse(readFileSync(`${dir}vercel__amazon-bedrock-text.json`, "utf8"))
      const text = yield* provider.chat(request())
      assert.strictEqual(text.text, textBody.output.message.content[0].text)
      assert.deepStrictEqual(text.usage, {
        promptTokens: textBody.usage.inputTokens + textBody.usage.cacheReadInputTokens + textBody.usage.cacheWriteInputTokens,
        completionTokens: textBody.usage.outputTokens,
        totalTokens: textBody.usage.totalTokens,
        cachedTokens: textBody.usage.cacheReadInputTokens,
        cacheWriteTokens: textBody.usage.cacheWriteInputTokens
      })
      const reasoningBody = JSON.parse(readFileSync(`${dir}vercel__amazon-bedrock-reasoning.json`, "utf8"))
      const block = reasoningBody.output.message.content.find((b: any) => b.reasoningContent !== undefined).reasoningContent.reasoningText
      const reasoned = yield* provider.chat(request())
      assert.deepStrictEqual(reasoned.reasoning, [{ text: block.text, signature: block.signature }])
    }))

  it.effect("the recorded tool round trip: toolUse in the answer of the first exchange", () =>
    Effect.gen(function*() {
      const { provider } = yield* setup({ replies: [MockProviderServer.fixture(`${dir}pydantic-ai__bedrock-converse-tool-roundtrip.yaml`)] })
      const response = yield* provider.chat(request())
      assert.strictEqual(response.finishReason, "tool_calls")
      assert.isAtLeast(response.toolCalls.length, 1)
      assert.match(response.toolCalls[0]!.id, /^tooluse_/)
      assert.doesNotThrow(() => JSON.parse(response.toolCalls[0]!.arguments))
    }))
})
