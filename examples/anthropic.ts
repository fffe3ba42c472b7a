/**
 * Anthropic Messages with FlexiAI, with no key: a MockProviderServer on 127.0.0.1 speaks
 * Anthropic's wire format (`POST /v1/messages`, named SSE events). The example builds the provider
 * from config (`kind: "anthropic"`), asks a question with a system prompt, calls a tool and sends
 * its result back, streams an answer with extended thinking (the signed thinking block comes back
 * as reasoning and goes back on the next turn), and shows prompt-cache usage.
 *
 * Against the real API: drop `baseUrl` and set `ANTHROPIC_API_KEY` (`apiKey: "env:ANTHROPIC_API_KEY"`).
 *
 * Run: `pnpm exec node examples/anthropic.ts` (Node >= 22 runs TypeScript directly).
 */
import { MockProviderServer } from "@flexiai/testing"
import { Effect, Redacted, Stream } from "effect"
import { chat, FlexiAI, stream } from "flexiai"

/** What the example saw, for its test. */
export interface AnthropicExampleReport {
  readonly answer: string
  readonly toolCall: { readonly name: string; readonly arguments: string } | undefined
  readonly afterTool: string
  readonly streamed: string
  readonly reasoning: string
  readonly signed: boolean
  readonly cachedTokens: number | undefined
  readonly requests: ReadonlyArray<unknown>
}

const program = (write: (line: string) => void) =>
  Effect.gen(function*() {
    // 1. a question with a system prompt: lifted into Anthropic's `system` field
    const answer = yield* chat([
      { role: "system", content: "You answer in one short sentence." },
      { role: "user", content: "What is FlexiAI?" }
    ])
    write(`answer: ${answer.text} (${answer.provider}, ${answer.model}, ${answer.usage?.promptTokens} prompt tokens)`)

    // 2. a tool call, and its result sent back as a tool_result block
    const tools = [{ name: "weather", description: "Weather by city", parameters: { type: "object", properties: { city: { type: "string" } } } }]
    const question = { role: "user" as const, content: "Weather in Paris?" }
    const called = yield* chat({ messages: [question], tools })
    const call = called.toolCalls[0]
    write(`tool call: ${call?.name}(${call?.arguments})`)
    const afterTool = call === undefined ? "" : (yield* chat({
      messages: [question, { role: "assistant", content: called.text, toolCalls: called.toolCalls }, { role: "tool", toolCallId: call.id, content: "sunny, 21°C" }],
      tools
    })).text
    write(`after the tool: ${afterTool}`)

    // 3. a streamed answer with extended thinking (per request: providerOptions), reasoning first
    let streamed = ""
    const reasoning: Array<{ text: string; signature?: string }> = []
    yield* stream({
      messages: [{ role: "user", content: "Why is the sky blue?" }],
      maxTokens: 2048,
      providerOptions: { anthropic: { thinking: { type: "enabled", budget_tokens: 1024 } } }
    }).pipe(Stream.runForEach((part) =>
      Effect.sync(() => {
        if (part.type === "text-delta") streamed += part.text
        if (part.type === "reasoning-delta") {
          const last = reasoning.at(-1)
          if (last === undefined || last.signature !== undefined) reasoning.push({ text: part.text, ...(part.signature === undefined ? {} : { signature: part.signature }) })
          else {
            last.text += part.text
            if (part.signature !== undefined) last.signature = part.signature
          }
        }
      })
    ))
    write(`thinking: ${reasoning.map((block) => block.text).join(" / ")}`)
    write(`streamed: ${streamed}`)

    // 4. the next turn gives the signed thinking back, with prompt caching on the conversation
    const next = yield* chat({
      messages: [
        { role: "user", content: "Why is the sky blue?" },
        { role: "assistant", content: streamed, reasoning: reasoning.map((block) => ({ ...block })) },
        { role: "user", content: "And at sunset?" }
      ],
      providerOptions: { anthropic: { cache: { messages: true } } }
    })
    write(`cached prompt tokens: ${next.usage?.cachedTokens ?? 0} of ${next.usage?.promptTokens}`)
    return { answer, call, afterTool, streamed, reasoning, next }
  })

/** Runs the example against a mock Anthropic server; the server is stopped before it resolves. */
export const runAnthropicExample = async (write: (line: string) => void = console.log): Promise<AnthropicExampleReport> => {
  const server = await MockProviderServer.start({
    replies: [
      MockProviderServer.text("FlexiAI is one typed way to talk to many LLM providers."),
      MockProviderServer.toolCalls([{ id: "toolu_01", name: "weather", arguments: "{\"city\":\"Paris\"}" }], { text: "Let me check." }),
      MockProviderServer.text("It is sunny in Paris, 21°C."),
      MockProviderServer.text("Sunlight scatters off air molecules, blue the most."),
      MockProviderServer.text("At sunset the light crosses more air.", { usage: { promptTokens: 120, completionTokens: 9, cachedTokens: 100 } })
    ]
  })
  const config: FlexiAI.Input = {
    providers: [{
      kind: "anthropic",
      name: "claude",
      model: "claude-sonnet-4-5",
      baseUrl: server.url,
      apiKey: Redacted.make("sk-ant-example-not-a-real-key"),
      maxTokens: 1024,
      cache: { system: true }
    }],
    logging: { level: "error" }
  }
  try {
    const result = await Effect.runPromise(program(write).pipe(Effect.provide(FlexiAI.layer(config))))
    return {
      answer: result.answer.text,
      toolCall: result.call === undefined ? undefined : { name: result.call.name, arguments: result.call.arguments },
      afterTool: result.afterTool,
      streamed: result.streamed,
      reasoning: result.reasoning.map((block) => block.text).join(""),
      signed: result.reasoning.length > 0 && result.reasoning.every((block) => block.signature !== undefined),
      cachedTokens: result.next.usage?.cachedTokens,
      requests: server.calls().map((call) => call.body)
    }
  } finally {
    await server.stop()
  }
}

if (import.meta.main) {
  runAnthropicExample().catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
