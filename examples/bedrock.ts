/**
 * Amazon Bedrock with no AWS account: a MockProviderServer on 127.0.0.1 speaks Converse and
 * ConverseStream (AWS event-stream frames) and checks every request's SigV4 signature with the
 * same signer AWS clients use, so the example runs the real signing, framing and mapping.
 *
 * It shows the two ways in: `BedrockChat.layer` over `BedrockClient.layer` (keys in code), and
 * `FlexiAI.layer` with a `kind: bedrock` entry (as a config file would say it), then a chat, a
 * stream, a tool call and a prompt-caching checkpoint. Against real Bedrock, leave out `endpoint`
 * / `baseUrl` and let the credential chain find your keys (see packages/bedrock/README.md).
 *
 * Run: `pnpm exec node examples/bedrock.ts`.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { BedrockChat, BedrockClient } from "@flexiai/bedrock"
import { ChatProvider } from "@flexiai/core"
import { MockProviderServer } from "@flexiai/testing"
import { Effect, Layer, Redacted, Stream } from "effect"
import { FlexiAI } from "flexiai"

// example keys (AWS's documentation placeholders): the mock accepts only requests signed with them
const keys = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1" }

/** Runs the example against a fresh mock server, writing what happens through `write`. */
export const runBedrockExample = async (write: (line: string) => void = console.log): Promise<void> => {
  const server = await MockProviderServer.start({
    replies: [
      MockProviderServer.text("Paris is the capital of France.", { usage: { promptTokens: 40, completionTokens: 8 } }),
      MockProviderServer.text("Bonjour ! Je suis un modèle sur Bedrock."),
      MockProviderServer.toolCalls([{ id: "tooluse_weather1", name: "get_weather", arguments: "{\"city\":\"Paris\"}" }])
    ],
    fallback: MockProviderServer.echo({ prefix: "bedrock heard: " })
  }, { encoders: [MockProviderServer.bedrockEncoderVerifying(keys), ...MockProviderServer.encoders] })

  // 1. the provider layer itself: keys in code (Redacted), region, the mock as the endpoint
  const bedrock = BedrockChat.layer().pipe(
    Layer.provide(BedrockClient.layer({
      region: keys.region,
      endpoint: server.url,
      credentials: { accessKeyId: Redacted.make(keys.accessKeyId), secretAccessKey: Redacted.make(keys.secretAccessKey) },
      defaultModel: "us.amazon.nova-micro-v1:0"
    })),
    Layer.provide(NodeHttpClient.layerUndici)
  )

  const direct = Effect.gen(function*() {
    const answer = yield* ChatProvider.chat({
      messages: [{ role: "system", content: "Answer in one sentence." }, { role: "user", content: "What is the capital of France?" }],
      // a prompt-caching checkpoint after the system prompt (models that cache)
      providerOptions: { bedrock: { cache: { system: true } } }
    })
    write(`chat: ${answer.text} (${answer.finishReason}, raw ${answer.rawFinishReason}, ${answer.usage?.promptTokens} prompt tokens)`)

    let streamed = ""
    yield* ChatProvider.stream("Say hello in French").pipe(
      Stream.runForEach((part) => Effect.sync(() => { if (part.type === "text-delta") streamed += part.text }))
    )
    write(`stream: ${streamed}`)

    const tools = [{ name: "get_weather", description: "Weather by city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }]
    const call = yield* ChatProvider.chat({ messages: [{ role: "user", content: "Weather in Paris?" }], tools })
    write(`tool call: ${call.toolCalls.map((toolCall) => `${toolCall.name}(${toolCall.arguments})`).join(", ")} (${call.finishReason})`)
  }).pipe(Effect.provide(bedrock))

  // 2. the same provider from config, behind FlexiAI's router
  const config: FlexiAI.Input = {
    providers: [{
      kind: "bedrock",
      name: "bedrock",
      model: "anthropic.claude-3-5-haiku-20241022-v1:0",
      region: keys.region,
      baseUrl: server.url,
      accessKeyId: keys.accessKeyId,
      secretAccessKey: keys.secretAccessKey
    }],
    logging: { level: "error" }
  }
  const viaConfig = Effect.gen(function*() {
    const answer = yield* ChatProvider.chat("Which provider answers?")
    write(`FlexiAI: ${answer.text} (from ${answer.provider}, model ${answer.model})`)
  }).pipe(Effect.provide(FlexiAI.layer(config)))

  try {
    await Effect.runPromise(Effect.andThen(direct, viaConfig))
    write(`signed requests accepted: ${server.calls().filter((call) => call.reply !== "Error").length}`)
  } finally {
    await server.stop()
  }
}

if (import.meta.main) {
  runBedrockExample().catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
