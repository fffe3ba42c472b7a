/**
 * Gemini and Vertex AI through FlexiAI, with no keys and no network: MockProviderServer instances
 * on 127.0.0.1 speak Gemini's wire format (`generateContent`, `streamGenerateContent?alt=sse`) on
 * the Gemini API's and Vertex AI's URLs. The Vertex provider is down (503), so calls fail over to
 * Gemini: a chat, a streamed answer, a tool call, and structured output (a JSON Schema converted
 * to Gemini's schema subset).
 *
 * Against the real APIs the same config takes `apiKey: env:GEMINI_API_KEY` (Gemini) and
 * `credentialsFile` or `tokenCommand` (Vertex) and no `baseUrl`.
 *
 * Run: `pnpm exec node examples/google.ts` (Node >= 22 runs TypeScript directly).
 */
import { MockProviderServer } from "@flexiai/testing"
import { Effect, Stream } from "effect"
import { chat, FlexiAI, stream } from "flexiai"

/** What the example saw, for its test. */
export interface GoogleExampleReport {
  readonly first: { readonly provider: string; readonly text: string; readonly attempts: ReadonlyArray<string> }
  readonly streamed: string
  readonly toolCall: { readonly name: string; readonly arguments: string } | undefined
  readonly structured: unknown
  /** The paths each server was called on. */
  readonly paths: { readonly vertex: ReadonlyArray<string>; readonly gemini: ReadonlyArray<string> }
  /** How the Gemini key was sent: in a header, never in the query string. */
  readonly keyInQuery: boolean
}

export const runGoogleExample = async (write: (line: string) => void = () => {}): Promise<GoogleExampleReport> => {
  // Vertex is down for the whole run: the first call fails over, later ones too (or skip it once its circuit opens)
  const vertex = await MockProviderServer.start({ fallback: MockProviderServer.serverError(503) })
  const gemini = await MockProviderServer.start({
    replies: [
      MockProviderServer.text("Hello from Gemini!"),
      MockProviderServer.text("Streaming, one word at a time."),
      MockProviderServer.toolCalls([{ id: "unused", name: "weather", arguments: "{\"city\":\"Paris\"}" }]),
      MockProviderServer.text("{\"name\":\"Ada\",\"languages\":[\"en\",\"fr\"]}")
    ]
  })
  const config: FlexiAI.Input = {
    providers: [
      {
        kind: "vertex",
        name: "vertex",
        model: "gemini-2.5-flash",
        project: "my-project",
        location: "europe-west4",
        baseUrl: `${vertex.url}/v1`,
        accessToken: "ya29.example-token-not-real",
        priority: 1
      },
      { kind: "gemini", name: "gemini", model: "gemini-2.5-flash", baseUrl: `${gemini.url}/v1beta`, apiKey: "AIza-example-key-not-real", priority: 2 }
    ],
    policy: { preset: "fast", retry: { maxRetries: 0 } },
    logging: { level: "error" }
  }

  const program = Effect.gen(function*() {
    const first = yield* chat("Say hello")
    write(`answer: ${first.text} (from ${first.provider}, after ${first.attempts.map((attempt) => `${attempt.provider}:${attempt.outcome}`).join(" → ")})`)

    let streamed = ""
    yield* stream("Stream a few words please").pipe(
      Stream.runForEach((part) => Effect.sync(() => {
        if (part.type === "text-delta") streamed += part.text
      }))
    )
    write(`streamed: ${streamed}`)

    const withTool = yield* chat({
      messages: [{ role: "user", content: "What's the weather in Paris?" }],
      tools: [{
        name: "weather",
        description: "The weather in a city",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] }
      }]
    })
    const call = withTool.toolCalls[0]
    write(`tool call: ${call?.name}(${call?.arguments}) [${withTool.finishReason}]`)

    const structured = yield* chat({
      messages: [{ role: "user", content: "Describe a person as JSON" }],
      responseFormat: {
        type: "json_schema",
        name: "person",
        schema: {
          type: "object",
          properties: { name: { type: "string" }, languages: { type: "array", items: { type: "string" } } },
          required: ["name", "languages"]
        }
      }
    })
    write(`structured: ${structured.text}`)
    return { first, streamed, call, structured: JSON.parse(structured.text) as unknown }
  })

  try {
    const result = await Effect.runPromise(program.pipe(Effect.provide(FlexiAI.layer(config))))
    const geminiCalls = gemini.calls()
    return {
      first: {
        provider: result.first.provider,
        text: result.first.text,
        attempts: result.first.attempts.map((attempt) => `${attempt.provider}:${attempt.outcome}`)
      },
      streamed: result.streamed,
      toolCall: result.call === undefined ? undefined : { name: result.call.name, arguments: result.call.arguments },
      structured: result.structured,
      paths: { vertex: vertex.calls().map((call) => call.path), gemini: geminiCalls.map((call) => call.path) },
      keyInQuery: geminiCalls.some((call) => "key" in call.query)
    }
  } finally {
    await Promise.all([vertex.stop(), gemini.stop()])
  }
}

if (import.meta.main) {
  try {
    await runGoogleExample((line) => console.log(line))
  } catch (error) {
    console.error(error)
    process.exitCode = 1
  }
}
