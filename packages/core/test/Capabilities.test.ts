import { assert, describe, it } from "@effect/vitest"
import { Capabilities } from "@flexiai/core"
import type { ChatRequest } from "@flexiai/core"

const user = { role: "user", content: "hello" } as const
const ask = (fields: Omit<ChatRequest.ChatRequest, "messages"> = {}): ChatRequest.ChatRequest => ({
  messages: [user],
  ...fields
})
const limited: Capabilities.Capabilities = {
  ...Capabilities.all,
  temperature: { min: 0, max: 1 },
  topP: { min: 0, max: 0.9 },
  maxStopSequences: 2,
  maxOutputTokens: 1000
}
const flagsOff: Capabilities.Capabilities = { ...Capabilities.all, tools: false, images: false, jsonSchema: false }

describe("Capabilities", () => {
  it("isLimited is false only when nothing can be refused", () => {
    assert.isFalse(Capabilities.isLimited(Capabilities.all))
    // flags the router does not check before dispatch do not make a provider limited
    assert.isFalse(Capabilities.isLimited({ ...Capabilities.all, streaming: false, assistantPrefill: false, contextWindow: 8 }))
    assert.isTrue(Capabilities.isLimited({ ...Capabilities.all, tools: false }))
    assert.isTrue(Capabilities.isLimited({ ...Capabilities.all, images: false }))
    assert.isTrue(Capabilities.isLimited({ ...Capabilities.all, jsonSchema: false }))
    assert.isTrue(Capabilities.isLimited({ ...Capabilities.all, temperature: { min: 0, max: 1 } }))
    assert.isTrue(Capabilities.isLimited({ ...Capabilities.all, topP: { min: 0, max: 1 } }))
    assert.isTrue(Capabilities.isLimited({ ...Capabilities.all, maxStopSequences: 4 }))
    assert.isTrue(Capabilities.isLimited({ ...Capabilities.all, maxOutputTokens: 10 }))
  })

  it("refusal names the field and the limit, and takes values at the range's ends", () => {
    assert.deepStrictEqual(Capabilities.refusal(limited, ask({ temperature: 1.5 })), {
      field: "temperature",
      message: "temperature 1.5 is outside 0–1"
    })
    assert.strictEqual(Capabilities.refusal(limited, ask({ topP: 0.95 }))?.field, "topP")
    assert.deepStrictEqual(Capabilities.refusal(limited, ask({ stop: ["a", "b", "c"] })), {
      field: "stop",
      message: "3 stop sequences, at most 2 taken"
    })
    assert.strictEqual(Capabilities.refusal(limited, ask({ maxTokens: 1001 }))?.field, "maxTokens")
    assert.isUndefined(Capabilities.refusal(limited, ask({ temperature: 1, topP: 0, stop: ["a", "b"], maxTokens: 1000 })))
    assert.isUndefined(Capabilities.refusal(limited, ask()))
  })

  it("refuses a file part whose media type is not taken, or a file URL without fileUrls", () => {
    const file = (source: ChatRequest.FilePart["source"]): ChatRequest.ChatRequest => ({
      messages: [{ role: "user", content: [{ type: "text", text: "read" }, { type: "file", source }] }]
    })
    const pdf = file({ type: "base64", mediaType: "application/pdf", data: "JVBERi0=" })
    const note = file({ type: "text", text: "x" })
    const url = file({ type: "url", url: "https://x/a.pdf", mediaType: "Application/PDF" })
    const noFiles = { ...Capabilities.all, files: [], fileUrls: false }
    const pdfOnly = { ...Capabilities.all, files: ["application/pdf"], fileUrls: false }
    const texts = { ...Capabilities.all, files: ["text/*"], fileUrls: true }
    assert.strictEqual(Capabilities.refusal(noFiles, pdf)?.field, "files")
    assert.strictEqual(Capabilities.refusal({ ...Capabilities.all, files: undefined } as never, pdf)?.field, "files")
    assert.isUndefined(Capabilities.refusal(pdfOnly, pdf))
    assert.include(Capabilities.refusal(pdfOnly, note)?.message ?? "", "text/plain")
    assert.include(Capabilities.refusal(pdfOnly, url)?.message ?? "", "by URL")
    assert.isUndefined(Capabilities.refusal(texts, note))
    assert.strictEqual(Capabilities.refusal(texts, pdf)?.field, "files")
    for (const request of [pdf, note, url]) assert.isUndefined(Capabilities.refusal(Capabilities.all, request))
    assert.isTrue(Capabilities.isLimited(pdfOnly))
    assert.isFalse(Capabilities.isLimited(Capabilities.all))
    const both = Capabilities.union([pdfOnly, texts])
    assert.deepStrictEqual([both.files, both.fileUrls], [["application/pdf", "text/*"], true])
  })

  it("refuses tools, json_schema and images only where the flag is off", () => {
    const tools = ask({ tools: [{ name: "lookup", parameters: { type: "object" } }] })
    const schema = ask({ responseFormat: { type: "json_schema", name: "answer", schema: { type: "object" } } })
    const image: ChatRequest.ChatRequest = {
      messages: [{
        role: "user",
        content: [{ type: "text", text: "what?" }, { type: "image", source: { type: "url", url: "https://x/y.png" } }]
      }]
    }
    assert.strictEqual(Capabilities.refusal(flagsOff, tools)?.field, "tools")
    assert.strictEqual(Capabilities.refusal(flagsOff, schema)?.field, "responseFormat")
    assert.strictEqual(Capabilities.refusal(flagsOff, image)?.field, "images")
    // json_object and text-only content parts need no flag; an empty tool list is no tools
    assert.isUndefined(Capabilities.refusal(flagsOff, ask({ responseFormat: { type: "json_object" }, tools: [] })))
    assert.isUndefined(Capabilities.refusal(flagsOff, { messages: [{ role: "user", content: [{ type: "text", text: "x" }] }] }))
    for (const request of [tools, schema, image]) assert.isUndefined(Capabilities.refusal(Capabilities.all, request))
  })

  it("union: a flag any member has, a limit only when every member has one, at its widest", () => {
    const cold: Capabilities.Capabilities = { ...flagsOff, temperature: { min: 0, max: 1 }, maxStopSequences: 4, maxOutputTokens: 500 }
    const hot: Capabilities.Capabilities = { ...flagsOff, tools: true, temperature: { min: 0.5, max: 2 }, maxStopSequences: 2, maxOutputTokens: 4000, reasoning: true }
    const both = Capabilities.union([cold, hot])
    assert.isTrue(both.tools)
    assert.isFalse(both.images)
    assert.isTrue(both.reasoning)
    assert.deepStrictEqual(both.temperature, { min: 0, max: 2 })
    assert.strictEqual(both.maxStopSequences, 4)
    assert.strictEqual(both.maxOutputTokens, 4000)
    // one member without a limit lifts it for the group
    const withFree = Capabilities.union([cold, { ...flagsOff, images: true }])
    assert.isUndefined(withFree.temperature)
    assert.isUndefined(withFree.maxOutputTokens)
    assert.isUndefined(Capabilities.refusal(withFree, ask({ temperature: 1.5 })))
    // the group refuses only what every member refuses
    assert.isDefined(Capabilities.refusal(both, ask({ temperature: 2.5 })))
    assert.isUndefined(Capabilities.refusal(both, ask({ temperature: 1.5 })))
    assert.isFalse(Capabilities.union([]).streaming)
  })
})
