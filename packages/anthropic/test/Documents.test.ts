// File (document) parts on the wire: what the provider sends to a real socket (MockProviderServer)
// for a PDF by bytes and by URL and for plain text, with a prompt-caching breakpoint landing on a
// document block. Not validated against test-data/specs/anthropic: that 2024 export knows only the
// beta base64 PDF block (no text or URL sources, no title), so the shapes are asserted exactly.
import { assert, describe, it } from "@effect/vitest"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import { Effect } from "effect"
import { lastBody, setup } from "./helpers.ts"

const files: ChatRequest.ChatRequest = {
  messages: [{
    role: "user",
    content: [
      { type: "text", text: "summarize these" },
      { type: "file", source: { type: "base64", mediaType: "application/pdf", data: "JVBERi0xLjQK" }, fileName: "report.pdf" },
      { type: "file", source: { type: "url", url: "https://example.com/paper.pdf", mediaType: "application/pdf" } },
      { type: "file", source: { type: "text", text: "Paris is sunny." }, fileName: "notes" },
      // plain text given as bytes goes as a text document (the base64 source is for PDFs)
      { type: "file", source: { type: "base64", mediaType: "text/plain", data: Buffer.from("Rome is rainy.").toString("base64") } }
    ]
  }],
  providerOptions: { anthropic: { cache: { messages: true } } }
}

describe("Anthropic document blocks", () => {
  it.effect("PDF by bytes and URL, text (given as text or bytes), title from fileName, cache_control on the last block", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      yield* provider.chat(files)
      const body = (yield* lastBody(server))!
      assert.deepStrictEqual(body.messages, [{
        role: "user",
        content: [
          { type: "text", text: "summarize these" },
          { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0xLjQK" }, title: "report.pdf" },
          { type: "document", source: { type: "url", url: "https://example.com/paper.pdf" } },
          { type: "document", source: { type: "text", media_type: "text/plain", data: "Paris is sunny." }, title: "notes" },
          { type: "document", source: { type: "text", media_type: "text/plain", data: "Rome is rainy." }, cache_control: { type: "ephemeral" } }
        ]
      }])
    }))
})
