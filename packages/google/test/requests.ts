// Representative requests covering every mapping the provider does (roles, parts, tools, tool
// results, formats, generation options, reasoning sent back), shared by the spec and canary tests.
import type * as ChatRequest from "@flexiai/core/ChatRequest"

const weather = {
  name: "weather",
  description: "The weather in a city",
  parameters: {
    type: "object",
    properties: {
      city: { type: "string", description: "City name", minLength: 1 },
      days: { type: "integer", minimum: 1, maximum: 7 },
      unit: { type: ["string", "null"], enum: ["c", "f", null] },
      tags: { type: "array", items: { type: "string" }, maxItems: 3 }
    },
    required: ["city"],
    additionalProperties: false
  }
} as const

export const representative: ReadonlyArray<{ readonly name: string; readonly request: ChatRequest.ChatRequest }> = [
  { name: "plain text", request: { messages: [{ role: "user", content: "hello" }] } },
  {
    name: "system, developer and options",
    request: {
      messages: [
        { role: "system", content: "Be brief." },
        { role: "developer", content: [{ type: "text", text: "English only." }] },
        { role: "user", content: "hi" },
        { role: "assistant", content: "Hello!" },
        { role: "user", content: "more" }
      ],
      maxTokens: 64,
      temperature: 0.5,
      topP: 0.8,
      stop: ["END", "STOP"],
      seed: 3,
      providerOptions: { gemini: { topK: 20, safetySettings: [{ category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_ONLY_HIGH" }] } }
    }
  },
  {
    name: "images",
    request: {
      messages: [{
        role: "user",
        content: [
          { type: "text", text: "describe" },
          { type: "image", source: { type: "base64", mediaType: "image/png", data: "iVBORw0KGgo=" } },
          { type: "image", source: { type: "url", url: "gs://bucket/photo.jpg" } }
        ]
      }]
    }
  },
  {
    name: "tools, toolChoice, calls and results",
    request: {
      messages: [
        { role: "user", content: "weather in Paris?" },
        {
          role: "assistant",
          toolCalls: [{ id: "gcall_r_0", name: "weather", arguments: "{\"city\":\"Paris\"}" }],
          reasoning: [
            { text: "I should look it up", id: "thought", format: "gemini" },
            { text: "", signature: "c2lnbmF0dXJl", id: "call:gcall_r_0", format: "gemini" }
          ]
        },
        { role: "tool", toolCallId: "gcall_r_0", content: "{\"temp\":20}" }
      ],
      tools: [weather, { name: "now", parameters: { type: "object", properties: {} } }],
      toolChoice: { type: "tool", name: "weather" }
    }
  },
  {
    name: "json_schema",
    request: {
      messages: [{ role: "user", content: "a person" }],
      responseFormat: {
        type: "json_schema",
        name: "person",
        schema: {
          type: "object",
          properties: {
            name: { type: "string" },
            born: { type: "string", format: "date" },
            kind: { anyOf: [{ type: "string", enum: ["a", "b"] }, { type: "null" }] },
            pets: { type: "array", items: { $ref: "#/$defs/pet" } }
          },
          required: ["name"],
          $defs: { pet: { type: "object", properties: { species: { type: "string" } }, required: ["species"] } }
        }
      }
    }
  },
  { name: "json_object", request: { messages: [{ role: "user", content: "json" }], responseFormat: { type: "json_object" } } }
]
