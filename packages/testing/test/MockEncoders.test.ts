// Each wire format of MockProviderServer over a real socket: the bytes a client reads (SSE with
// event names, NDJSON, AWS event-stream frames read back with @smithy/eventstream-codec), the faults
// in each format, and an encoder supplied by the test itself.
import { assert, describe, it } from "@effect/vitest"
import { EventStreamCodec } from "@smithy/eventstream-codec"
import { fromUtf8, toUtf8 } from "@smithy/util-utf8"
import { Hash } from "@smithy/hash-node"
import { HttpRequest } from "@smithy/protocol-http"
import { SignatureV4 } from "@smithy/signature-v4"
import { Effect } from "effect"
import * as MockProviderServer from "../src/MockProviderServer.ts"

const request = (url: string, body: unknown, method = "POST") =>
  Effect.promise(async () => {
    const response = await fetch(url, method === "GET" ? {} : { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
    return { status: response.status, contentType: response.headers.get("content-type"), bytes: new Uint8Array(await response.arrayBuffer()) }
  })

const utf8 = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

/** Named SSE events as `[name, data]` pairs. */
const namedEvents = (text: string): ReadonlyArray<readonly [string, string]> =>
  text.split("\n\n").filter((block) => block.length > 0).map((block) => {
    const [eventLine = "", dataLine = ""] = block.split("\n")
    assert.match(eventLine, /^event: /)
    assert.match(dataLine, /^data: /)
    return [eventLine.slice("event: ".length), dataLine.slice("data: ".length)] as const
  })

const codec = new EventStreamCodec(toUtf8, fromUtf8)

/** Splits an event-stream body into frames by their prelude and decodes each (CRCs checked by the codec). */
const eventFrames = (bytes: Uint8Array) => {
  const frames: Array<{ readonly headers: Record<string, string>; readonly body: string }> = []
  for (let at = 0; at < bytes.length;) {
    const length = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0)
    const message = codec.decode(bytes.subarray(at, at + length))
    frames.push({
      headers: Object.fromEntries(Object.entries(message.headers).map(([name, header]) => [name, String(header.value)])),
      body: utf8(message.body)
    })
    at += length
  }
  return frames
}

const messages = [{ role: "user", content: "ping pong" }]
const toolCall = { id: "call_1", name: "get_weather", arguments: "{\"city\":\"Paris\"}" }

describe("Anthropic encoder (SSE with event names)", () => {
  it.effect("streams message_start, text deltas, message_delta and message_stop, each named by its type", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({ replies: [MockProviderServer.text("a b c")] })
      const response = yield* request(`${server.url}/v1/messages`, { model: "claude", stream: true, messages })
      assert.strictEqual(response.contentType, "text/event-stream")
      const events = namedEvents(utf8(response.bytes))
      for (const [name, data] of events) assert.strictEqual(JSON.parse(data).type, name)
      assert.deepStrictEqual(events.map(([name]) => name), [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop"
      ])
      const text = events.filter(([name]) => name === "content_block_delta").map(([, data]) => JSON.parse(data).delta.text).join("")
      assert.strictEqual(text, "a b c")
      assert.strictEqual(JSON.parse(events[6]![1]).delta.stop_reason, "end_turn")
      assert.strictEqual((yield* server.calls)[0]?.format, "anthropic")
    }))

  it.effect("streams a tool call as its own block of input_json_delta fragments; answers JSON and errors in Anthropic's shapes", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({
        replies: [
          MockProviderServer.toolCalls([toolCall], { argumentChunks: 3 }),
          MockProviderServer.text("whole"),
          MockProviderServer.rateLimited({ retryAfterSeconds: 2 })
        ]
      })
      const url = `${server.url}/v1/messages`
      const streamed = namedEvents(utf8((yield* request(url, { model: "claude", stream: true, messages })).bytes))
      const start = streamed.find(([name]) => name === "content_block_start")!
      assert.deepStrictEqual(JSON.parse(start[1]).content_block, { type: "tool_use", id: "call_1", name: "get_weather", input: {} })
      const fragments = streamed.filter(([name]) => name === "content_block_delta").map(([, data]) => JSON.parse(data).delta)
      assert.strictEqual(fragments.length, 3)
      assert.strictEqual(fragments.map((delta) => delta.partial_json).join(""), toolCall.arguments)
      const whole = yield* request(url, { model: "claude", messages })
      const body = JSON.parse(utf8(whole.bytes))
      assert.deepStrictEqual(body.content, [{ type: "text", text: "whole" }])
      assert.strictEqual(body.stop_reason, "end_turn")
      const limited = yield* request(url, { model: "claude", messages })
      assert.strictEqual(limited.status, 429)
      assert.strictEqual(JSON.parse(utf8(limited.bytes)).type, "error")
    }))

  it.effect("faults in Anthropic's framing: a malformed event, no message_stop, an in-band error event", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({
        replies: [
          MockProviderServer.malformedEvent("x y", 1),
          MockProviderServer.withoutDone("done?"),
          MockProviderServer.inBandError({ message: "Overloaded", type: "overloaded_error" }, { afterChunks: 1 })
        ]
      })
      const url = `${server.url}/v1/messages`
      const body = { model: "claude", stream: true, messages }
      assert.include(utf8((yield* request(url, body)).bytes), "event: content_block_delta\ndata: {not json\n\n")
      const noStop = namedEvents(utf8((yield* request(url, body)).bytes))
      assert.strictEqual(noStop.at(-1)?.[0], "message_delta")
      const inBand = namedEvents(utf8((yield* request(url, body)).bytes))
      assert.deepStrictEqual(inBand.at(-1), ["error", JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } })])
    }))
})

describe("Ollama encoder (NDJSON)", () => {
  it.effect("streams one JSON line per chunk and a done line (streaming is Ollama's default); stream:false answers one object", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({ models: ["llama3.2"] })
      const url = `${server.url}/api/chat`
      const streamed = yield* request(url, { model: "llama3.2", messages })
      assert.strictEqual(streamed.contentType, "application/x-ndjson")
      const text = utf8(streamed.bytes)
      assert.isTrue(text.endsWith("\n"))
      const lines = text.trimEnd().split("\n").map((line) => JSON.parse(line))
      assert.strictEqual(lines.map((line) => line.message.content).join(""), "echo: ping pong")
      assert.deepStrictEqual(lines.map((line) => line.done), [...lines.slice(0, -1).map(() => false), true])
      assert.strictEqual(lines.at(-1).done_reason, "stop")
      assert.isNumber(lines.at(-1).eval_count)
      assert.isNumber(lines.at(-1).eval_duration)
      const whole = JSON.parse(utf8((yield* request(url, { model: "llama3.2", stream: false, messages })).bytes))
      assert.strictEqual(whole.message.content, "echo: ping pong")
      assert.isTrue(whole.done)
      const tags = JSON.parse(utf8((yield* request(`${server.url}/api/tags`, undefined, "GET")).bytes))
      assert.deepStrictEqual(tags.models.map((model: { name: string }) => model.name), ["llama3.2"])
      const show = JSON.parse(utf8((yield* request(`${server.url}/api/show`, { model: "llama3.2" })).bytes))
      assert.strictEqual(show.model_info["llama.context_length"], 131072)
      assert.deepStrictEqual(show.capabilities, ["completion", "tools"])
    }))

  it.effect("tool calls arrive whole with object arguments; withoutDone drops the done line; malformed is a broken line", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({
        replies: [MockProviderServer.toolCalls([toolCall]), MockProviderServer.withoutDone("a b"), MockProviderServer.malformedEvent("a b", 1)]
      })
      const url = `${server.url}/api/chat`
      const tool = utf8((yield* request(url, { model: "m", messages })).bytes).trimEnd().split("\n").map((line) => JSON.parse(line))
      assert.deepStrictEqual(tool[0].message.tool_calls, [{ function: { index: 0, name: "get_weather", arguments: { city: "Paris" } } }])
      const noDone = utf8((yield* request(url, { model: "m", messages })).bytes).trimEnd().split("\n").map((line) => JSON.parse(line))
      assert.isTrue(noDone.every((line) => line.done === false))
      assert.deepStrictEqual(utf8((yield* request(url, { model: "m", messages })).bytes).split("\n").slice(0, 3).map((line) => line.startsWith("{not json")), [false, true, false])
    }))
})

describe("Bedrock encoder (AWS event-stream binary frames)", () => {
  it.effect("streams CRC-checked frames the Smithy codec decodes, routed by the URL-encoded model id", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({ byModel: { "us.amazon.nova-micro-v1:0": [MockProviderServer.text("one two")] } })
      const response = yield* request(`${server.url}/model/us.amazon.nova-micro-v1%3A0/converse-stream`, {
        messages: [{ role: "user", content: [{ text: "hi" }] }]
      })
      assert.strictEqual(response.contentType, "application/vnd.amazon.eventstream")
      const frames = eventFrames(response.bytes)
      assert.deepStrictEqual(frames.map((frame) => frame.headers[":event-type"]), [
        "messageStart",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockStop",
        "messageStop",
        "metadata"
      ])
      for (const frame of frames) {
        assert.strictEqual(frame.headers[":message-type"], "event")
        assert.strictEqual(frame.headers[":content-type"], "application/json")
      }
      assert.strictEqual(frames.slice(1, 3).map((frame) => JSON.parse(frame.body).delta.text).join(""), "one two")
      assert.strictEqual(JSON.parse(frames[4]!.body).stopReason, "end_turn")
      assert.strictEqual((yield* server.calls)[0]?.format, "bedrock")
    }))

  it.effect("bedrockEncoderVerifying refuses unsigned and wrongly signed requests as Bedrock does, and serves signed ones", () =>
    Effect.gen(function*() {
      const keys = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1" }
      const server = yield* MockProviderServer.make({ fallback: MockProviderServer.text("signed ok") }, {
        encoders: [MockProviderServer.bedrockEncoderVerifying(keys), ...MockProviderServer.encoders]
      })
      const body = JSON.stringify({ messages: [{ role: "user", content: [{ text: "hi" }] }] })
      const url = new URL(`${server.url}/model/us.amazon.nova-micro-v1%3A0/converse`)
      const signedFetch = (secretAccessKey: string) =>
        Effect.promise(async () => {
          const signer = new SignatureV4({ service: "bedrock", region: keys.region, sha256: Hash.bind(null, "sha256"), credentials: { ...keys, secretAccessKey } })
          const signed = await signer.sign(new HttpRequest({
            method: "POST",
            protocol: "http:",
            hostname: url.hostname,
            port: Number(url.port),
            path: url.pathname,
            headers: { host: url.host, "content-type": "application/json" },
            body
          }))
          const response = await fetch(url, { method: "POST", headers: signed.headers, body })
          return { status: response.status, type: response.headers.get("x-amzn-errortype"), json: await response.json() as Record<string, unknown> }
        })
      const unsigned = yield* Effect.promise(() => fetch(url, { method: "POST", body }).then((response) => ({ status: response.status, type: response.headers.get("x-amzn-errortype") })))
      assert.deepStrictEqual([unsigned.status, unsigned.type?.split(":")[0]], [403, "MissingAuthenticationTokenException"])
      const wrong = yield* signedFetch("not-the-key")
      assert.deepStrictEqual([wrong.status, wrong.type?.split(":")[0]], [403, "InvalidSignatureException"])
      const good = yield* signedFetch(keys.secretAccessKey)
      assert.strictEqual(good.status, 200)
      assert.deepStrictEqual((good.json.output as { message: { content: unknown } }).message.content, [{ text: "signed ok" }])
      assert.deepStrictEqual((yield* server.calls).map((call) => call.reply), ["Error", "Error", "Answer"])
    }))

  it.effect("converse answers JSON; an in-band error is an exception frame; a cut ends the body mid-stream", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({
        replies: [
          MockProviderServer.text("whole answer"),
          MockProviderServer.inBandError({ message: "Too many tokens", type: "throttlingException" }, { afterChunks: 1 }),
          MockProviderServer.cutAfter(1, "one two three")
        ]
      })
      const body = { messages: [{ role: "user", content: [{ text: "hi" }] }] }
      const whole = JSON.parse(utf8((yield* request(`${server.url}/model/m/converse`, body)).bytes))
      assert.deepStrictEqual(whole.output.message.content, [{ text: "whole answer" }])
      const inBand = eventFrames((yield* request(`${server.url}/model/m/converse-stream`, body)).bytes)
      assert.deepStrictEqual(inBand.at(-1), {
        headers: { ":exception-type": "throttlingException", ":content-type": "application/json", ":message-type": "exception" },
        body: JSON.stringify({ message: "Too many tokens" })
      })
      const cut = yield* Effect.promise(() =>
        fetch(`${server.url}/model/m/converse-stream`, { method: "POST", body: JSON.stringify(body) })
          .then((response) => response.arrayBuffer())
          .then(() => "complete", () => "cut")
      )
      assert.strictEqual(cut, "cut")
    }))

  it("eventStreamFrame writes the prelude, headers and both CRCs the codec checks", () => {
    const frame = MockProviderServer.eventStreamFrame({ ":event-type": "ping" }, "{}")
    const decoded = codec.decode(frame)
    assert.deepStrictEqual(decoded.headers[":event-type"], { type: "string", value: "ping" })
    assert.strictEqual(utf8(decoded.body), "{}")
    const corrupted = frame.slice()
    corrupted[corrupted.length - 5] = 0x7b ^ 0xff // flip a payload byte: the message CRC no longer matches
    assert.throws(() => codec.decode(corrupted))
  })
})

describe("Google encoder (Gemini SSE, Gemini API and Vertex AI paths)", () => {
  const contents = [{ role: "user", parts: [{ text: "ping pong" }] }]
  const events = (text: string) => text.split("\r\n\r\n").filter((block) => block.length > 0).map((block) => {
    assert.match(block, /^data: /)
    return JSON.parse(block.slice("data: ".length)) as { candidates?: Array<{ content: { parts: Array<Record<string, unknown>> }; finishReason?: string }>; usageMetadata?: unknown; error?: { code: number; message: string; status: string } }
  })

  it.effect("streams one whole response per event, CRLF-framed, the last with finishReason and usage; the model from the path", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({ byModel: { "gemini-x": [MockProviderServer.text("a b"), MockProviderServer.text("a b")] } })
      const gemini = yield* request(`${server.url}/v1beta/models/gemini-x:streamGenerateContent?alt=sse`, { contents })
      assert.strictEqual(gemini.contentType, "text/event-stream")
      const parsed = events(utf8(gemini.bytes))
      assert.deepStrictEqual(parsed.map((event) => event.candidates?.[0]?.content.parts[0]?.text), ["a ", "b", ""])
      assert.strictEqual(parsed.at(-1)?.candidates?.[0]?.finishReason, "STOP")
      assert.isDefined(parsed.at(-1)?.usageMetadata)
      const vertex = yield* request(`${server.url}/v1/projects/p/locations/us-central1/publishers/google/models/gemini-x:generateContent`, { contents })
      const body = JSON.parse(utf8(vertex.bytes)) as { candidates: Array<{ content: { parts: Array<{ text: string }> } }>; modelVersion: string }
      assert.strictEqual(body.candidates[0]?.content.parts[0]?.text, "a b")
      assert.strictEqual(body.modelVersion, "gemini-x")
      assert.deepStrictEqual((yield* server.calls).map((call) => [call.format, call.reply]), [["google", "Answer"], ["google", "Answer"]])
    }))

  it.effect("tool calls arrive whole as functionCall parts; errors and in-band errors use Google's envelope", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({
        replies: [
          MockProviderServer.toolCalls([toolCall]),
          MockProviderServer.serverError(503),
          MockProviderServer.inBandError({ message: "boom", code: 500, type: "INTERNAL" }, { afterChunks: 1, text: "one two" })
        ]
      })
      const url = `${server.url}/v1beta/models/m:streamGenerateContent?alt=sse`
      const tool = events(utf8((yield* request(url, { contents })).bytes))
      assert.deepStrictEqual(tool[0]?.candidates?.[0]?.content.parts[0], { functionCall: { name: "get_weather", args: { city: "Paris" } } })
      const error = yield* request(url, { contents })
      assert.strictEqual(error.status, 503)
      assert.deepStrictEqual(JSON.parse(utf8(error.bytes)).error.status, "UNAVAILABLE")
      const inBand = events(utf8((yield* request(url, { contents })).bytes))
      assert.deepStrictEqual(inBand.at(-1)?.error, { code: 500, message: "boom", status: "INTERNAL" })
    }))
})

describe("an encoder supplied by a test", () => {
  // A made-up wire format: POST /generate, one plain-text line per chunk, `END` last.
  const lines: MockProviderServer.Encoder = {
    name: "lines",
    chat: (incoming) => incoming.method === "POST" && incoming.path === "/generate",
    models: () => false,
    modelOf: () => "lines-model",
    isStream: () => true,
    lastUserText: (incoming) => (typeof incoming.body === "object" && incoming.body !== null && "prompt" in incoming.body ? String(incoming.body.prompt) : ""),
    completion: (answer) => ({ text: answer.pieces.join("") }),
    frames: (answer) => ({ head: ["BEGIN\n"], content: answer.pieces.map((piece) => `${piece.trim()}\n`), tail: [], done: "END\n" }),
    streamContentType: "text/plain",
    malformedFrame: "\u0000\n",
    errorBody: (_status, error) => ({ problem: error.message }),
    errorFrame: (error) => `ERROR ${error.message}\n`,
    modelList: () => ({})
  }

  it.effect("is routed to, records its name, and gets the server's replies and faults for free", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make(
        { replies: [MockProviderServer.text("a b c"), MockProviderServer.withoutDone("x y"), MockProviderServer.serverError(503)] },
        { encoders: [lines, ...MockProviderServer.encoders] }
      )
      const url = `${server.url}/generate`
      assert.strictEqual(utf8((yield* request(url, { prompt: "p" })).bytes), "BEGIN\na\nb\nc\nEND\n")
      assert.strictEqual(utf8((yield* request(url, { prompt: "p" })).bytes), "BEGIN\nx\ny\n")
      const failed = yield* request(url, { prompt: "p" })
      assert.strictEqual(failed.status, 503)
      assert.deepStrictEqual(JSON.parse(utf8(failed.bytes)), { problem: "The server had an error while processing your request." })
      const echoed = utf8((yield* request(url, { prompt: "hello there" })).bytes)
      assert.strictEqual(echoed, "BEGIN\necho:\nhello\nthere\nEND\n")
      assert.deepStrictEqual((yield* server.calls).map((call) => call.format), ["lines", "lines", "lines", "lines"])
      // the built-in formats still answer next to it
      const openai = yield* request(`${server.url}/v1/chat/completions`, { model: "m", messages })
      assert.strictEqual(JSON.parse(utf8(openai.bytes)).choices[0].message.content, "echo: ping pong")
    }))
})
