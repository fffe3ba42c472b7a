// `strictSchemas` from config reaches the wire: the OpenAI family's kinds send strict: true on a
// qualifying json_schema format and tool when the request leaves strict unset, as their entry says
// (here turned on for a compatible server, whose default is off, and off for OpenAI, whose default is on).
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider } from "@flexiai/core"
import type { ChatRequest } from "@flexiai/core"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Effect } from "effect"
import * as FlexiAI from "../src/FlexiAI.ts"

const closed = { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false }
const request: ChatRequest.ChatRequest = {
  messages: [{ role: "user", content: "weather?" }],
  tools: [{ name: "weather", parameters: closed }],
  responseFormat: { type: "json_schema", name: "answer", schema: closed }
}

const strictSent = (server: MockProviderServer.MockProviderServer["Service"]) =>
  Effect.map(server.calls, (calls) =>
    calls.filter((call) => call.path.endsWith("/chat/completions")).map((call) => {
      const body = call.body as {
        readonly tools: ReadonlyArray<{ readonly function: { readonly strict?: boolean } }>
        readonly response_format: { readonly json_schema: { readonly strict?: boolean } }
      }
      return { tool: body.tools[0]?.function.strict, format: body.response_format.json_schema.strict }
    }))

describe("providers[].strictSchemas", () => {
  it.live("turns strict mode on for a compatible server and off for OpenAI", () =>
    Effect.gen(function*() {
      const compatible = yield* MockProviderServer.make({ fallback: MockProviderServer.text("{\"city\":\"Oslo\"}") })
      const openai = yield* MockProviderServer.make({ fallback: MockProviderServer.text("{\"city\":\"Oslo\"}") })
      const layer = (kind: "compatible" | "openai") =>
        FlexiAI.layer({
          providers: [
            kind === "compatible"
              ? { kind: "openai-compatible", model: "m", baseUrl: `${compatible.url}/v1`, strictSchemas: true }
              : { kind: "openai", model: "m", baseUrl: `${openai.url}/v1`, apiKey: "sk-test", strictSchemas: false }
          ],
          logging: { level: "none" }
        })
      yield* ChatProvider.chat(request).pipe(Effect.provide(layer("compatible")))
      yield* ChatProvider.chat(request).pipe(Effect.provide(layer("openai")))
      assert.deepStrictEqual(yield* strictSent(compatible), [{ tool: true, format: true }])
      assert.deepStrictEqual(yield* strictSent(openai), [{ tool: undefined, format: undefined }])
    }))
})
