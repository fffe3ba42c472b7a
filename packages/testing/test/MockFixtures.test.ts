// Fixture replay per file format (test-data/fixtures/SOURCES.md), over a real socket: `.chunks.txt`
// re-framed by the request's wire format, `.sse` and `.bin` byte for byte, OpenRouter's `.jsonl`
// recordings, and `.yaml` cassettes with their recorded status and content type.
import { assert, describe, it } from "@effect/vitest"
import { EventStreamCodec } from "@smithy/eventstream-codec"
import { fromUtf8, toUtf8 } from "@smithy/util-utf8"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as MockProviderServer from "../src/MockProviderServer.ts"

const fixtures = new URL("../../../test-data/fixtures/", import.meta.url)
const path = (name: string) => new URL(name, fixtures).pathname
const read = (name: string) => Fs.readFileSync(path(name))
const lines = (name: string) => read(name).toString("utf8").split("\n").filter((line) => line.trim().length > 0)

const post = (url: string, body: unknown) =>
  Effect.promise(async () => {
    const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
    return { status: response.status, contentType: response.headers.get("content-type"), bytes: Buffer.from(await response.arrayBuffer()) }
  })

const codec = new EventStreamCodec(toUtf8, fromUtf8)
const eventFrames = (bytes: Uint8Array) => {
  const frames: Array<{ readonly type: string; readonly body: string }> = []
  for (let at = 0; at < bytes.length;) {
    const length = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0)
    const message = codec.decode(bytes.subarray(at, at + length))
    frames.push({ type: String(message.headers[":event-type"]?.value), body: new TextDecoder().decode(message.body) })
    at += length
  }
  return frames
}

const chat = { model: "m", stream: true, messages: [{ role: "user", content: "hi" }] }

describe("fixture replay", () => {
  it.effect(".chunks.txt on the Anthropic route: each line as an event named by its type, no [DONE]", () =>
    Effect.gen(function*() {
      const name = "anthropic/vercel__anthropic-text.chunks.txt"
      const server = yield* MockProviderServer.make({ replies: [MockProviderServer.fixture(path(name))] })
      const response = yield* post(`${server.url}/v1/messages`, chat)
      const expected = lines(name).map((line) => `event: ${JSON.parse(line).type}\ndata: ${line}\n\n`).join("")
      assert.strictEqual(response.bytes.toString("utf8"), expected)
      assert.strictEqual(response.contentType, "text/event-stream")
    }))

  it.effect(".chunks.txt on the Bedrock route: each decoded line back in an event-stream frame", () =>
    Effect.gen(function*() {
      const name = "bedrock/vercel__amazon-bedrock-text.chunks.txt"
      const server = yield* MockProviderServer.make({ replies: [MockProviderServer.fixture(path(name))] })
      const response = yield* post(`${server.url}/model/m/converse-stream`, chat)
      assert.strictEqual(response.contentType, "application/vnd.amazon.eventstream")
      const frames = eventFrames(response.bytes)
      assert.deepStrictEqual(
        frames.map((frame) => ({ [frame.type]: JSON.parse(frame.body) })),
        lines(name).map((line) => JSON.parse(line))
      )
    }))

  it.effect(".chunks.txt on the Ollama route: NDJSON lines", () =>
    Effect.gen(function*() {
      const dir = Fs.mkdtempSync(`${Os.tmpdir()}/flexiai-fixture-`)
      yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true })))
      const recording = `${dir}/ollama.chunks.txt`
      Fs.writeFileSync(recording, "{\"message\":{\"content\":\"a\"},\"done\":false}\n\n{\"done\":true}\n")
      const server = yield* MockProviderServer.make({ replies: [MockProviderServer.fixture(recording)] })
      const response = yield* post(`${server.url}/api/chat`, chat)
      assert.strictEqual(response.bytes.toString("utf8"), "{\"message\":{\"content\":\"a\"},\"done\":false}\n{\"done\":true}\n")
      assert.strictEqual(response.contentType, "application/x-ndjson")
    }))

  it.effect(".sse and .bin byte for byte; a recorded event-stream body decodes frame by frame", () =>
    Effect.gen(function*() {
      const sse = "anthropic/anthropic-sdk__basic_response.sse"
      const bin = "bedrock/pydantic-ai__bedrock-converse-stream.eventstream.bin"
      const server = yield* MockProviderServer.make({ replies: [MockProviderServer.fixture(path(sse)), MockProviderServer.fixture(path(bin))] })
      const streamed = yield* post(`${server.url}/v1/messages`, chat)
      assert.isTrue(streamed.bytes.equals(read(sse)))
      const binary = yield* post(`${server.url}/model/m/converse-stream`, chat)
      assert.isTrue(binary.bytes.equals(read(bin)))
      assert.strictEqual(binary.contentType, "application/vnd.amazon.eventstream")
      const types = eventFrames(binary.bytes).map((frame) => frame.type)
      assert.strictEqual(types[0], "messageStart")
      assert.strictEqual(types.at(-1), "metadata")
    }))

  it.effect(".yaml cassettes: the recorded status, content type and body (text, !!binary, a chosen interaction)", () =>
    Effect.gen(function*() {
      const binaryCassette = "bedrock/pydantic-ai__bedrock-converse-stream.yaml"
      const errorCassette = "openai/pydantic-ai__openai-400-error.yaml"
      const twoExchanges = "openai/pydantic-ai__openai-stream-tool-call-roundtrip.yaml"
      const server = yield* MockProviderServer.make({
        replies: [
          MockProviderServer.fixture(path(binaryCassette)),
          MockProviderServer.fixture(path(errorCassette)),
          MockProviderServer.fixture(path(twoExchanges), { interaction: 1 })
        ]
      })
      // SOURCES.md: the .eventstream.bin is this cassette's body, extracted unchanged
      const binary = yield* post(`${server.url}/model/m/converse-stream`, chat)
      assert.isTrue(binary.bytes.equals(read("bedrock/pydantic-ai__bedrock-converse-stream.eventstream.bin")))
      assert.strictEqual(binary.contentType, "application/vnd.amazon.eventstream")
      const failed = yield* post(`${server.url}/v1/chat/completions`, chat)
      assert.strictEqual(failed.status, 400)
      assert.strictEqual(JSON.parse(failed.bytes.toString("utf8")).error.type, "invalid_request_error")
      const second = yield* post(`${server.url}/v1/chat/completions`, chat)
      assert.strictEqual(second.contentType, "text/event-stream; charset=utf-8")
      const text = second.bytes.toString("utf8")
      assert.isTrue(text.trimEnd().endsWith("data: [DONE]"))
      assert.notInclude(text, "\"tool_calls\"") // interaction 0 is the tool call, 1 the answer after it
      yield* server.setScript({ replies: [MockProviderServer.fixture(path(errorCassette), { interaction: 5 })] })
      const absent = yield* Effect.promise(() =>
        fetch(`${server.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(chat) }).then(() => "answered", () => "connection closed")
      )
      assert.strictEqual(absent, "connection closed") // the cassette has one interaction: nothing to replay
    }))

  it.effect(".jsonl (OpenRouter's recorder): comments raw, json and text as data events, in order", () =>
    Effect.gen(function*() {
      const name = "openrouter/openrouter-provider__stream-reasoning.response.jsonl"
      const server = yield* MockProviderServer.make({ replies: [MockProviderServer.fixture(path(name), { chunkDelayMillis: 0 })] })
      const response = yield* post(`${server.url}/api/v1/chat/completions`, chat)
      const expected = lines(name).map((line) => JSON.parse(line)).flatMap((entry) =>
        typeof entry.comment === "string"
          ? [entry.comment]
          : "json" in entry
          ? [`data: ${JSON.stringify(entry.json)}\n\n`]
          : typeof entry.text === "string"
          ? [`data: ${entry.text}\n\n`]
          : []
      ).join("")
      assert.strictEqual(response.bytes.toString("utf8"), expected)
      assert.isTrue(expected.endsWith("data: [DONE]\n\n"))
    }))
})
