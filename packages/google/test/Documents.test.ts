// File (document) parts on the wire: bytes and text go as inlineData, URLs as fileData, the
// recorded body validated against Google's spec.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { lastBody, setup } from "./helpers.ts"
import * as SpecValidator from "./specValidator.ts"

const gemini = SpecValidator.generateContentRequest()

describe("Gemini file parts", () => {
  it.effect("a PDF by bytes is inlineData, by URL fileData, a text source its UTF-8 bytes inline", () =>
    Effect.gen(function*() {
      const { provider, server } = yield* setup({})
      yield* provider.chat({
        messages: [{
          role: "user",
          content: [
            { type: "text", text: "read" },
            { type: "file", source: { type: "base64", mediaType: "application/pdf", data: "JVBERi0xLjQK" }, fileName: "a.pdf" },
            { type: "file", source: { type: "url", url: "gs://bucket/paper.pdf", mediaType: "application/pdf" } },
            { type: "file", source: { type: "text", text: "héllo", mediaType: "text/markdown" } }
          ]
        }]
      })
      const body = (yield* lastBody(server))!
      assert.deepStrictEqual(body.contents, [{
        role: "user",
        parts: [
          { text: "read" },
          { inlineData: { mimeType: "application/pdf", data: "JVBERi0xLjQK" } },
          { fileData: { mimeType: "application/pdf", fileUri: "gs://bucket/paper.pdf" } },
          { inlineData: { mimeType: "text/markdown", data: Buffer.from("héllo", "utf8").toString("base64") } }
        ]
      }])
      assert.deepStrictEqual(gemini.validate(body), [])
    }))
})
