// File (document) parts on the wire: Converse `document` blocks by bytes through the signed client to
// MockProviderServer; a file URL and a format Converse lacks are Unsupported before any call; names
// are sanitized to the characters Converse allows.
import { assert, describe, it } from "@effect/vitest"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import { Effect } from "effect"
import { documentName, toWire } from "../src/BedrockCodec.ts"
import { setup } from "./helpers.ts"

const withFile = (file: ChatRequest.FilePart): ChatRequest.ChatRequest => ({
  messages: [{ role: "user", content: [{ type: "text", text: "read" }, file] }]
})

describe("Bedrock document blocks", () => {
  it.effect("a PDF and a CSV go as document blocks with sanitized names", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      yield* provider.chat({
        messages: [{
          role: "user",
          content: [
            { type: "text", text: "read" },
            { type: "file", source: { type: "base64", mediaType: "application/pdf", data: "JVBERi0xLjQK" }, fileName: "Q3 report (final).v2.pdf" },
            { type: "file", source: { type: "text", text: "a,b\n1,2", mediaType: "text/csv" } }
          ]
        }]
      })
      const body = (yield* server.calls).at(-1)!.body as { messages: ReadonlyArray<{ content: ReadonlyArray<unknown> }> }
      assert.deepStrictEqual(body.messages[0]!.content, [
        { text: "read" },
        { document: { format: "pdf", name: "Q3 report (final) v2 pdf", source: { bytes: "JVBERi0xLjQK" } } },
        { document: { format: "csv", name: "document-2", source: { bytes: Buffer.from("a,b\n1,2").toString("base64") } } }
      ])
    }))

  it.effect("a file URL and an unknown document format are Unsupported (files) before any call", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      for (
        const file of [
          { type: "file", source: { type: "url", url: "https://example.com/a.pdf", mediaType: "application/pdf" } },
          { type: "file", source: { type: "base64", mediaType: "application/zip", data: "UEsDBA==" } }
        ] as const
      ) {
        const error = yield* Effect.flip(provider.chat(withFile(file)))
        const reason = error._tag === "ProviderError" ? error.reason : undefined
        assert.strictEqual(reason?._tag, "Unsupported")
        assert.strictEqual(reason?._tag === "Unsupported" ? reason.field : undefined, "files")
      }
      assert.strictEqual((yield* server.calls).length, 0)
    }))

  it("names keep letters, digits, hyphens, brackets and single spaces", () => {
    assert.strictEqual(documentName("my_file..name!!.txt", 1), "my file name txt")
    assert.strictEqual(documentName("[draft] plan-B (1)", 1), "[draft] plan-B (1)")
    assert.strictEqual(documentName("…", 3), "document-3")
    assert.strictEqual(documentName(undefined, 4), "document-4")
    const wire = toWire(withFile({ type: "file", source: { type: "text", text: "x" } }))
    assert.deepStrictEqual(wire.body.messages[0]?.content[1], { document: { format: "txt", name: "document-1", source: { bytes: "eA==" } } })
  })
})
