// The official AWS SDK (@aws-sdk/client-bedrock-runtime, a devDependency used only here) as the
// oracle: for the same input, the SDK's request body equals ours, and our signer, given the
// request the SDK sent and the SDK's signing time (set on the TestClock), computes the SDK's
// `authorization` byte for byte. The SDK talks to a loopback server that captures its request.
import { assert, describe, it } from "@effect/vitest"
import {
  BedrockRuntimeClient,
  type ContentBlock,
  ConverseCommand,
  type ConverseCommandInput,
  ConverseStreamCommand
} from "@aws-sdk/client-bedrock-runtime"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import { NodeHttpHandler } from "@smithy/node-http-handler"
import * as Loopback from "@flexiai/testing/Loopback"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { toWire } from "../src/BedrockCodec.ts"
import { fromStatic } from "../src/BedrockCredentials.ts"
import * as Signer from "../src/BedrockSigner.ts"
import { credentials, keys } from "./helpers.ts"

interface Captured {
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string>
  readonly body: Buffer
}

const converseAnswer = JSON.stringify({
  output: { message: { role: "assistant", content: [{ text: "ok" }] } },
  stopReason: "end_turn",
  usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
  metrics: { latencyMs: 1 }
})

/** Sends `input` with the SDK to a loopback server and returns the request it made. */
const sdkRequest = (input: ConverseCommandInput, stream: boolean) =>
  Effect.gen(function*() {
    const captured: Array<Captured> = []
    const server = yield* Loopback.serve(Loopback.bodyThen((request, response, body) => {
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(request.headers)) headers[name] = Array.isArray(value) ? value.join(", ") : value ?? ""
      captured.push({ method: request.method ?? "", path: request.url ?? "", headers, body })
      if (stream) {
        response.writeHead(200, { "content-type": "application/vnd.amazon.eventstream" })
        response.end(MockProviderServer.eventStreamFrame({ ":event-type": "messageStop", ":content-type": "application/json", ":message-type": "event" }, "{\"stopReason\":\"end_turn\"}"))
      } else {
        response.writeHead(200, { "content-type": "application/json" })
        response.end(converseAnswer)
      }
    }))
    const sdk = new BedrockRuntimeClient({
      region: keys.region,
      endpoint: server.url,
      credentials: { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey, sessionToken: keys.sessionToken },
      maxAttempts: 1,
      // the client's default handler speaks HTTP/2, which a plain loopback server does not
      requestHandler: new NodeHttpHandler()
    })
    yield* Effect.promise(async () => {
      if (stream) {
        const output = await sdk.send(new ConverseStreamCommand(input))
        for await (const _ of output.stream ?? []) { /* drain */ }
      } else await sdk.send(new ConverseCommand(input))
    })
    sdk.destroy()
    return captured[0]!
  })

const amzDateMillis = (value: string) => {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)!
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)
}

/** Our signature over exactly the request the SDK sent, at the SDK's time. */
const ourAuthorization = (sent: Captured, origin: string) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(amzDateMillis(sent.headers["x-amz-date"]!))
    const auth = Signer.auth(fromStatic(credentials), keys.region)
    if (auth._tag !== "Signer") throw new Error("expected a signer")
    const headers: Record<string, string> = {}
    // what the signer adds itself is left out; everything else the SDK sent goes in as it was
    const added = new Set(["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "host"])
    for (const [name, value] of Object.entries(sent.headers)) if (!added.has(name)) headers[name] = value
    const result = yield* auth.sign({ method: "POST", url: new URL(sent.path, origin), headers, body: new Uint8Array(sent.body) })
    return result
  })

const pdf = Buffer.from("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n", "utf8")

const image = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64")

// one request that uses every mapping, in core's words and in the SDK's
const ours: ChatRequest.ChatRequest = {
  messages: [
    { role: "system", content: "You are terse." },
    { role: "user", content: [{ type: "text", text: "What is in this image, and the weather?" }, { type: "image", source: { type: "base64", mediaType: "image/png", data: image.toString("base64") } },
      // documents: a PDF by bytes (its file name sanitized to Converse's name characters), a text note
      { type: "file", source: { type: "base64", mediaType: "application/pdf", data: pdf.toString("base64") }, fileName: "report.v2.pdf" },
      { type: "file", source: { type: "text", text: "Paris is sunny.", mediaType: "text/markdown" } }] },
    {
      role: "assistant",
      content: "Let me check.",
      reasoning: [{ text: "The user wants weather.", signature: "EqoBCkgIARABGAIiQL" }],
      toolCalls: [{ id: "tooluse_1", name: "get_weather", arguments: "{\"city\":\"Paris\"}" }]
    },
    { role: "tool", toolCallId: "tooluse_1", content: "18C" }
  ],
  maxTokens: 256,
  temperature: 0.5,
  topP: 0.9,
  stop: ["END"],
  tools: [{ name: "get_weather", description: "Weather by city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }],
  toolChoice: { type: "tool", name: "get_weather" },
  metadata: { team: "search" },
  providerOptions: { bedrock: { cache: { system: true, messages: [1] }, additionalModelRequestFields: { top_k: 50 } } }
}

const modelId = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0"

const sdkInput: ConverseCommandInput = {
  modelId,
  system: [{ text: "You are terse." }, { cachePoint: { type: "default" } }],
  messages: [
    {
      role: "user",
      content: [{ text: "What is in this image, and the weather?" }, { image: { format: "png", source: { bytes: new Uint8Array(image) } } },
        { document: { format: "pdf", name: "report v2 pdf", source: { bytes: new Uint8Array(pdf) } } },
        { document: { format: "md", name: "document-2", source: { bytes: new Uint8Array(Buffer.from("Paris is sunny.", "utf8")) } } }, { cachePoint: { type: "default" } }] as Array<ContentBlock>
    },
    {
      role: "assistant",
      content: [
        { reasoningContent: { reasoningText: { text: "The user wants weather.", signature: "EqoBCkgIARABGAIiQL" } } },
        { text: "Let me check." },
        { toolUse: { toolUseId: "tooluse_1", name: "get_weather", input: { city: "Paris" } } }
      ]
    },
    { role: "user", content: [{ toolResult: { toolUseId: "tooluse_1", content: [{ text: "18C" }] } }] }
  ],
  inferenceConfig: { maxTokens: 256, temperature: 0.5, topP: 0.9, stopSequences: ["END"] },
  toolConfig: {
    tools: [{ toolSpec: { name: "get_weather", description: "Weather by city", inputSchema: { json: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } } }],
    toolChoice: { tool: { name: "get_weather" } }
  },
  additionalModelRequestFields: { top_k: 50 },
  requestMetadata: { team: "search" }
}

describe("the AWS SDK as oracle", () => {
  for (const stream of [false, true]) {
    it.effect(`${stream ? "ConverseStream" : "Converse"}: the same body, path and signature as the SDK`, () =>
      Effect.gen(function*() {
        const sent = yield* sdkRequest(sdkInput, stream)
        const wire = toWire(ours)
        assert.isUndefined(wire.unsupported)
        assert.deepStrictEqual(JSON.parse(JSON.stringify(wire.body)), JSON.parse(sent.body.toString("utf8")))
        assert.strictEqual(sent.path, `/model/${encodeURIComponent(modelId)}/${stream ? "converse-stream" : "converse"}`)
        const origin = `http://${sent.headers.host}`
        const added = yield* ourAuthorization(sent, origin)
        assert.strictEqual(added.authorization, sent.headers.authorization)
        assert.strictEqual(added["x-amz-security-token"], sent.headers["x-amz-security-token"])
        assert.strictEqual(added["x-amz-date"], sent.headers["x-amz-date"])
        // a negative control: another body, another signature
        const other = yield* ourAuthorization({ ...sent, body: Buffer.from("{}") }, origin)
        assert.notStrictEqual(other.authorization, sent.headers.authorization)
      }))
  }
})
