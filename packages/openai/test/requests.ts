// Representative ChatRequests covering every mapping: sent through the wire in the mapping tests
// and, in Spec.test.ts, validated against the providers' OpenAPI schemas.
import type * as ChatRequest from "@flexiai/core/ChatRequest"

const weather = {
  name: "get_weather",
  description: "Current weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: true
}

export const representative: ReadonlyArray<{ readonly name: string; readonly request: ChatRequest.ChatRequest }> = [
  { name: "plain prompt", request: { messages: [{ role: "user", content: "hi" }] } },
  {
    name: "system, named user, options",
    request: {
      messages: [{ role: "system", content: "be brief" }, { role: "user", content: "hi", name: "ada" }],
      temperature: 0.2,
      topP: 0.9,
      maxTokens: 64,
      stop: ["\n\n", "END"],
      seed: 7,
      user: "user-42",
      metadata: { tenant: "acme" }
    }
  },
  {
    name: "developer message, system message as text parts",
    request: {
      messages: [
        { role: "developer", content: "answer in French" },
        { role: "system", content: [{ type: "text", text: "be brief" }, { type: "text", text: "no lists" }] },
        { role: "user", content: "hi" }
      ]
    }
  },
  {
    name: "images by url and base64",
    request: {
      messages: [{
        role: "user",
        content: [
          { type: "text", text: "what is this?" },
          { type: "image", source: { type: "url", url: "https://example.com/cat.png" }, detail: "low" },
          { type: "image", source: { type: "base64", mediaType: "image/png", data: "iVBORw0KGgo=" } }
        ]
      }]
    }
  },
  {
    name: "tools, named tool choice, tool round trip",
    request: {
      messages: [
        { role: "user", content: "weather in Paris and Rome?" },
        {
          role: "assistant",
          content: null,
          toolCalls: [
            { id: "call_1", name: "get_weather", arguments: "{\"city\":\"Paris\"}" },
            { id: "call_2", name: "get_weather", arguments: "{\"city\":\"Rome\"}" }
          ]
        },
        { role: "tool", toolCallId: "call_1", content: "sunny", name: "get_weather" },
        { role: "tool", toolCallId: "call_2", content: "rainy" }
      ],
      tools: [weather],
      toolChoice: { type: "tool", name: "get_weather" }
    }
  },
  {
    name: "required tool choice",
    request: { messages: [{ role: "user", content: "weather?" }], tools: [weather], toolChoice: "required" }
  },
  {
    name: "json_schema response format",
    request: {
      messages: [{ role: "user", content: "a city" }],
      responseFormat: {
        type: "json_schema",
        name: "city",
        description: "a city",
        schema: { type: "object", properties: { name: { type: "string" } }, required: ["name"], additionalProperties: false },
        strict: true
      }
    }
  },
  {
    name: "json_object response format",
    request: { messages: [{ role: "user", content: "json please" }], responseFormat: { type: "json_object" } }
  },
  {
    name: "providerOptions merged",
    request: { messages: [{ role: "user", content: "hi" }], providerOptions: { openai: { logprobs: true, top_logprobs: 2 } } }
  }
]
