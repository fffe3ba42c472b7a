// File (document) parts on the wire: Chat Completions' `file` content part (`file_data` as a data:
// URL, `filename`) as it reaches MockProviderServer, validated against the OpenAI and OpenRouter
// specs; a file URL is Unsupported before any call; Ollama's /v1 declares no file parts.
import { assert, describe, it } from "@effect/vitest"
import * as Capabilities from "@flexiai/core/Capabilities"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import { Effect } from "effect"
import * as OpenAiChat from "../src/OpenAiChat.ts"
import * as OpenAiKind from "../src/OpenAiKind.ts"
import { lastBody, setup } from "./helpers.ts"
import * as SpecValidator from "./specValidator.ts"

const openAiSpec = SpecValidator.openAiChatRequest()
const openRouterSpec = SpecValidator.openRouterChatRequest()

const withFiles = (...files: ReadonlyArray<ChatRequest.FilePart>): ChatRequest.ChatRequest => ({
  messages: [{ role: "user", content: [{ type: "text", text: "summarize" }, ...files] }]
})

describe("Chat Completions file parts", () => {
  it.effect("a PDF by bytes is a file part with file_data and filename; the body is valid under the specs", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      yield* provider.chat(withFiles(
        { type: "file", source: { type: "base64", mediaType: "application/pdf", data: "JVBERi0xLjQK" }, fileName: "report.pdf" },
        { type: "file", source: { type: "text", text: "héllo" } }
      ))
      const body = (yield* lastBody(server))!
      assert.deepStrictEqual(body.messages, [{
        role: "user",
        content: [
          { type: "text", text: "summarize" },
          { type: "file", file: { file_data: "data:application/pdf;base64,JVBERi0xLjQK", filename: "report.pdf" } },
          { type: "file", file: { file_data: `data:text/plain;base64,${Buffer.from("héllo", "utf8").toString("base64")}` } }
        ]
      }])
      assert.deepStrictEqual(openAiSpec.validate(body), [])
      assert.deepStrictEqual(openRouterSpec.validate(body), [])
      // negative control: a file part without its file object is refused by the spec
      assert.isNotEmpty(openAiSpec.validate({ ...body, messages: [{ role: "user", content: [{ type: "file" }] }] }))
    }))

  it.effect("a file by URL fails with Unsupported (files) before any call", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      const error = yield* Effect.flip(provider.chat(withFiles({ type: "file", source: { type: "url", url: "https://x/a.pdf", mediaType: "application/pdf" } })))
      const reason = error._tag === "ProviderError" ? error.reason : undefined
      assert.strictEqual(reason?._tag, "Unsupported")
      assert.strictEqual(reason?._tag === "Unsupported" ? reason.field : undefined, "files")
      assert.strictEqual((yield* server.calls).length, 0)
    }))

  it("capabilities: OpenAI takes PDFs by bytes only; Ollama's /v1 takes no files", () => {
    const pdf = withFiles({ type: "file", source: { type: "base64", mediaType: "application/pdf", data: "JVBERi0=" } })
    assert.isUndefined(Capabilities.refusal(OpenAiChat.defaultCapabilities, pdf))
    assert.strictEqual(Capabilities.refusal(OpenAiChat.defaultCapabilities, withFiles({ type: "file", source: { type: "text", text: "x" } }))?.field, "files")
    assert.strictEqual(Capabilities.refusal(OpenAiKind.ollamaOpenAi.capabilities, pdf)?.field, "files")
    assert.isUndefined(Capabilities.refusal(OpenAiKind.openRouter.capabilities, pdf))
  })
})
