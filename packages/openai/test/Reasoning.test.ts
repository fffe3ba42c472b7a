// Reasoning in the OpenAI family, over real sockets: OpenRouter's `reasoning_details` read into
// signed blocks (recorded streams and a spec-shaped completion), given back on the next turn only
// where the kind takes it (OpenRouter yes, DeepSeek-style servers no), and a stream cut after
// reasoning alone is StreamInterrupted with that reasoning, directly and through the router.
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider, CircuitBreaker, Reasoning, Router } from "@flexiai/core"
import type { ChatRequest, ProviderError, StreamPart } from "@flexiai/core"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Context, Effect, Layer, Redacted, Stream } from "effect"
import * as Loopback from "@flexiai/testing/Loopback"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { parse } from "yaml"
import * as OpenAiCodec from "../src/OpenAiCodec.ts"
import * as OpenAiCompatible from "../src/OpenAiCompatible.ts"
import { apiKey, request, testDataDir } from "./helpers.ts"
import * as SpecValidator from "./specValidator.ts"

const fixtures = testDataDir("fixtures")
const path = (name: string) => join(fixtures, name)

interface Detail {
  readonly type: string
  readonly text?: string | null
  readonly signature?: string | null
  readonly format?: string | null
}

/** The `reasoning_details` entries of a recorded stream, in order (OpenRouter JSONL or a VCR cassette's SSE body). */
const recordedDetails = (name: string): ReadonlyArray<Detail> => {
  const text = readFileSync(path(name), "utf8")
  const payloads = name.endsWith(".jsonl")
    ? text.split("\n").filter((line) => line.trim() !== "").flatMap((line) => {
      const record = JSON.parse(line) as { readonly json?: unknown }
      return record.json === undefined ? [] : [record.json]
    })
    : (parse(text) as { interactions: Array<{ response: { body: { string: string } } }> }).interactions[0]!.response.body.string
      .split("\n").filter((line) => line.startsWith("data: ") && !line.includes("[DONE]")).map((line) => JSON.parse(line.slice(6)))
  return payloads.flatMap((chunk) =>
    ((chunk as { choices?: Array<{ delta?: { reasoning_details?: ReadonlyArray<Detail> } }> }).choices?.[0]?.delta?.reasoning_details) ?? []
  )
}

const layerOf = (kind: "openrouter" | "deepseek", url: string) =>
  (kind === "openrouter"
    ? OpenAiCompatible.layerOpenRouter({ apiKey: Redacted.make(apiKey), apiUrl: `${url}/v1` })
    : OpenAiCompatible.layerCompatible({ name: "deepseek", apiKey: Redacted.make(apiKey), apiUrl: `${url}/v1`, defaultModel: "deepseek-reasoner" }))
    .pipe(Layer.provide(NodeHttpClient.layerUndici))

const providerFor = (kind: "openrouter" | "deepseek", url: string) =>
  Effect.map(Layer.build(layerOf(kind, url)), (context) => Context.get(context, ChatProvider.ChatProvider))

const reasoningParts = (parts: Iterable<StreamPart.StreamPart>): Array<StreamPart.ReasoningDelta> =>
  [...parts].flatMap((part) => (part.type === "reasoning-delta" ? [part] : []))

// A completion shaped as OpenRouter's spec has it: a signed text block, a summary, an encrypted block
const signedCompletion = {
  id: "gen-1",
  model: "anthropic/claude-sonnet-4.5",
  choices: [{
    index: 0,
    finish_reason: "stop",
    message: {
      role: "assistant",
      content: "4",
      reasoning: "2 and 2 make 4",
      reasoning_details: [
        { type: "reasoning.text", text: "2 and 2 make 4", signature: "sig-abc", format: "anthropic-claude-v1", index: 0 },
        { type: "reasoning.summary", summary: "added the numbers", id: "rs_1", format: "openai-responses-v1", index: 1 },
        { type: "reasoning.encrypted", data: "ZW5jcnlwdGVk", id: "rs_1", format: "openai-responses-v1", index: 2 },
        { type: "reasoning.server_tool_call", tool_name: "openrouter:fusion", arguments: "{}", result: "{}", index: 3 }
      ]
    }
  }],
  usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 }
}

const signedBlocks: ReadonlyArray<Reasoning.Reasoning> = [
  { text: "2 and 2 make 4", signature: "sig-abc", format: "anthropic-claude-v1" },
  { text: "added the numbers", summary: true, id: "rs_1", format: "openai-responses-v1" },
  { text: "", redactedData: "ZW5jcnlwdGVk", id: "rs_1", format: "openai-responses-v1" }
]

describe("OpenRouter reasoning_details in", () => {
  for (const name of ["openrouter/openrouter-provider__stream-reasoning.response.jsonl", "openrouter/pydantic-ai__openrouter-stream-reasoning.yaml"]) {
    it.effect(`${name.split("/")[1]}: one block with the recorded text, signature and format`, () =>
      Effect.gen(function*() {
        const details = recordedDetails(name)
        const text = details.map((detail) => detail.text ?? "").join("")
        const signature = details.map((detail) => detail.signature ?? "").filter((value) => value !== "").at(-1)
        assert.isAbove(text.length, 10)
        assert.isDefined(signature)
        const server = yield* MockProviderServer.make({ replies: [MockProviderServer.fixture(path(name), { chunkDelayMillis: 0 })] })
        const provider = yield* providerFor("openrouter", server.url)
        const parts = reasoningParts(yield* Stream.runCollect(provider.stream(request())))
        // the signature comes last, on the delta that ends the block; no text twice (`reasoning` is the same text)
        assert.strictEqual(parts.at(-1)?.signature, signature)
        assert.deepStrictEqual(Reasoning.fromDeltas(parts), [{ text, signature: signature!, format: "anthropic-claude-v1" }])
      }))
  }

  it.effect("a completion's reasoning_details become blocks (text with signature, summary, encrypted), other entries ignored", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({ replies: [MockProviderServer.raw(JSON.stringify(signedCompletion))] })
      const provider = yield* providerFor("openrouter", server.url)
      const response = yield* provider.chat(request())
      assert.strictEqual(response.text, "4")
      assert.deepStrictEqual(response.reasoning, signedBlocks)
    }))

  it("without reasoning_details the plain text is one block (OpenRouter reasoning, DeepSeek reasoning_content)", () => {
    assert.deepStrictEqual(OpenAiCodec.reasoningOf({ reasoning: "thinking", reasoning_details: [] }), [{ text: "thinking" }])
    assert.deepStrictEqual(OpenAiCodec.reasoningOf({ reasoning_content: "pondering" }), [{ text: "pondering" }])
    assert.isUndefined(OpenAiCodec.reasoningOf({ reasoning: null, reasoning_details: null }))
  })
})

describe("reasoning given back on the next turn", () => {
  const followUp = (reasoning: ReadonlyArray<Reasoning.Reasoning>): ChatRequest.ChatRequest => ({
    messages: [
      { role: "user", content: "what is 2+2?" },
      { role: "assistant", content: "4", reasoning },
      { role: "user", content: "and doubled?" }
    ]
  })
  const assistantOf = (body: unknown) => (body as { readonly messages: ReadonlyArray<Record<string, unknown>> }).messages[1]!

  it.effect("OpenRouter: the blocks a response carried go back as the reasoning_details they came as, valid under its spec", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({
        replies: [MockProviderServer.raw(JSON.stringify(signedCompletion)), MockProviderServer.text("8"), MockProviderServer.text("8")]
      })
      const provider = yield* providerFor("openrouter", server.url)
      const first = yield* provider.chat(request())
      yield* provider.chat(followUp(first.reasoning ?? []))
      yield* Stream.runDrain(provider.stream(followUp(first.reasoning ?? [])))
      const calls = yield* server.calls
      const validator = SpecValidator.openRouterAssistantMessage()
      for (const call of calls.slice(1)) {
        const assistant = assistantOf(call.body)
        const expected = signedCompletion.choices[0]!.message.reasoning_details.slice(0, 3)
        assert.deepStrictEqual(assistant.reasoning_details, expected)
        assert.isUndefined(assistant.reasoning_content)
        assert.deepStrictEqual(validator.validate(assistant), [], JSON.stringify(assistant))
      }
      assert.isNotEmpty(validator.validate({ role: "assistant", reasoning_details: [{ type: "reasoning.encrypted" }] }), "negative control")
    }), 30_000) // compiling OpenRouter's spec takes seconds on a loaded machine

  it.effect("DeepSeek-style servers (the compatible default): reasoning is never sent back, as they reject it", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({ replies: [MockProviderServer.text("8"), MockProviderServer.text("8")] })
      const provider = yield* providerFor("deepseek", server.url)
      yield* provider.chat(followUp([{ text: "adding" }, ...signedBlocks]))
      yield* Stream.runDrain(provider.stream(followUp([{ text: "adding" }])))
      for (const call of yield* server.calls) {
        assert.deepStrictEqual(Object.keys(assistantOf(call.body)).sort(), ["content", "role"])
      }
    }))

  it("the OpenAI codec's own default sends none either", () => {
    const { body } = OpenAiCodec.toWire(followUp(signedBlocks), "gpt-4o")
    assert.deepStrictEqual(Object.keys(body.messages[1]!).sort(), ["content", "role"])
  })
})

// ---------------------------------------------------------------------------
// a stream cut after reasoning alone
// ---------------------------------------------------------------------------

const chunk = (delta: Record<string, unknown>) =>
  `data: ${JSON.stringify({ id: "gen-cut", model: "deepseek-reasoner", choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`

/** A server that streams `frames` (one write each, a pause between) and then destroys the socket. */
const cutting = (frames: ReadonlyArray<string>) =>
  Loopback.serve(Loopback.bodyThen((_request, response) => {
    response.writeHead(200, { "content-type": "text/event-stream" })
    let sent = 0
    const next = () => {
      if (sent === frames.length) return setTimeout(() => response.socket?.destroy(), 20)
      response.write(frames[sent++]!, () => setTimeout(next, 10))
    }
    next()
  }))

const reasonOf = (error: ProviderError.ChatError) => {
  if (error._tag !== "ProviderError") throw new Error(`expected a ProviderError, got ${error._tag}`)
  return error.reason
}

describe("a stream cut after reasoning only", () => {
  it.effect("DeepSeek reasoning_content: StreamInterrupted carrying the reasoning, not a Connection error", () =>
    Effect.gen(function*() {
      const server = yield* cutting([chunk({ role: "assistant", reasoning_content: "Let me " }), chunk({ reasoning_content: "think." })])
      const provider = yield* providerFor("deepseek", server.url)
      const parts: Array<StreamPart.StreamPart> = []
      const error = yield* Effect.flip(Stream.runForEach(provider.stream(request()), (part) => Effect.sync(() => parts.push(part))))
      assert.strictEqual(reasoningParts(parts).map((part) => part.text).join(""), "Let me think.")
      const reason = reasonOf(error)
      assert.strictEqual(reason._tag, "StreamInterrupted")
      if (reason._tag !== "StreamInterrupted") return
      assert.strictEqual(reason.partialText, "")
      assert.deepStrictEqual(reason.partialReasoning, [{ text: "Let me think." }])
      assert.include(reason.cause ?? "", "Connection")
    }))

  it.effect("OpenRouter reasoning_details: the partial block keeps its format; through the router (policy fail) too", () =>
    Effect.gen(function*() {
      const detail = (text: string) => ({ reasoning: text, reasoning_details: [{ type: "reasoning.text", text, format: "anthropic-claude-v1", index: 0 }] })
      const server = yield* cutting([chunk({ role: "assistant", ...detail("The user ") }), chunk(detail("asks."))])
      const expected = [{ text: "The user asks.", format: "anthropic-claude-v1" }]

      const direct = reasonOf(yield* Effect.flip(Stream.runDrain((yield* providerFor("openrouter", server.url)).stream(request()))))
      assert.strictEqual(direct._tag, "StreamInterrupted")
      assert.deepStrictEqual(direct._tag === "StreamInterrupted" ? direct.partialReasoning : undefined, expected)

      const context = yield* Layer.build(
        Router.layer({ providers: [{ layer: layerOf("openrouter", server.url) }], policy: { retry: { maxRetries: 0 }, streamPolicy: "fail" } }).pipe(
          Layer.provide(CircuitBreaker.layerMemory())
        )
      )
      const router = Context.get(context, ChatProvider.ChatProvider)
      const routed = reasonOf(yield* Effect.flip(Stream.runDrain(router.stream(request()))))
      assert.strictEqual(routed._tag, "StreamInterrupted")
      if (routed._tag !== "StreamInterrupted") return
      assert.deepStrictEqual(routed.partialReasoning, expected)
      assert.strictEqual(routed.partialText, "")
      assert.include(routed.cause ?? "", "Connection")
    }))
})
