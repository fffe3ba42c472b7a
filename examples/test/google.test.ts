// examples/google.ts end to end: the Vertex provider's 503 fails over to Gemini, a stream, a tool
// call and structured output, all on loopback in Gemini's wire format.
import { assert, describe, it } from "@effect/vitest"
import { runGoogleExample } from "../google.ts"

describe("examples/google.ts", () => {
  it("fails over from Vertex to Gemini, streams, calls a tool and returns structured output", async () => {
    const lines: Array<string> = []
    const report = await runGoogleExample((line) => lines.push(line))
    assert.deepStrictEqual(report.first, { provider: "gemini", text: "Hello from Gemini!", attempts: ["vertex:failure", "gemini:success"] })
    assert.strictEqual(report.streamed, "Streaming, one word at a time.")
    assert.deepStrictEqual(report.toolCall, { name: "weather", arguments: "{\"city\":\"Paris\"}" })
    assert.deepStrictEqual(report.structured, { name: "Ada", languages: ["en", "fr"] })
    assert.strictEqual(report.paths.vertex[0], "/v1/projects/my-project/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent")
    assert.deepStrictEqual(report.paths.gemini, [
      "/v1beta/models/gemini-2.5-flash:generateContent",
      "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
      "/v1beta/models/gemini-2.5-flash:generateContent",
      "/v1beta/models/gemini-2.5-flash:generateContent"
    ])
    assert.isFalse(report.keyInQuery)
    assert.strictEqual(lines.length, 4)
  })
})
