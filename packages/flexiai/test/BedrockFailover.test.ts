// Cross-provider failover through FlexiAI.layer: an OpenAI-compatible provider and a Bedrock
// provider (SigV4-signed, the mock checking every signature), chat and streams, both ways.
import { assert, describe, it } from "@effect/vitest"
import { NodeServices } from "@effect/platform-node"
import { FlexiConfig } from "@flexiai/config"
import { ChatProvider } from "@flexiai/core"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { ConfigProvider, Effect, Redacted, Stream } from "effect"
import * as FlexiAI from "../src/FlexiAI.ts"
import * as Providers from "../src/Providers.ts"

const keys = { accessKeyId: "AKIAFAILOVEREXAMPLE1", secretAccessKey: "failover/secret/key/0123456789abcdefghij", region: "eu-west-1" }

const config = (openAiUrl: string, bedrockUrl: string, first: "openai" | "bedrock"): FlexiAI.Input => ({
  providers: [
    { kind: "openai-compatible", name: "openai", model: "mock-model", baseUrl: `${openAiUrl}/v1`, apiKey: "sk-failover-0123456789", priority: first === "openai" ? 1 : 2 },
    {
      kind: "bedrock",
      name: "bedrock",
      model: "us.amazon.nova-micro-v1:0",
      baseUrl: bedrockUrl,
      region: keys.region,
      accessKeyId: keys.accessKeyId,
      secretAccessKey: keys.secretAccessKey,
      priority: first === "bedrock" ? 1 : 2
    }
  ],
  policy: { retry: { maxRetries: 0 } },
  logging: { level: "error" }
})

const servers = Effect.gen(function*() {
  const openAi = yield* MockProviderServer.make({})
  const bedrock = yield* MockProviderServer.make({}, { encoders: [MockProviderServer.bedrockEncoderVerifying(keys), ...MockProviderServer.encoders] })
  return { openAi, bedrock }
})

const streamed = (prompt: string) =>
  Effect.map(Stream.runCollect(ChatProvider.stream(prompt)), (parts) => {
    const all = Array.from(parts)
    const finish = all.at(-1)
    return {
      text: all.map((part) => (part.type === "text-delta" ? part.text : "")).join(""),
      provider: finish?.type === "finish" ? finish.provider : undefined
    }
  })

describe("failover between Bedrock and an OpenAI-compatible provider", () => {
  it.live("chat: Bedrock down (ServiceUnavailableException) → OpenAI; OpenAI down → Bedrock (signed)", () =>
    Effect.gen(function*() {
      const { bedrock, openAi } = yield* servers
      yield* bedrock.setScript({ replies: [MockProviderServer.overloaded()], fallback: MockProviderServer.text("from bedrock") })
      yield* openAi.setScript({ fallback: MockProviderServer.text("from openai") })
      yield* Effect.gen(function*() {
        const first = yield* ChatProvider.chat("hello")
        assert.strictEqual(first.provider, "openai")
        assert.deepStrictEqual(first.attempts.map((attempt) => [attempt.provider, attempt.outcome, attempt.reason]), [
          ["bedrock", "failure", "Overloaded"],
          ["openai", "success", undefined]
        ])
        // the breaker has not opened on one failure: Bedrock answers the next call
        assert.strictEqual((yield* ChatProvider.chat("again")).provider, "bedrock")
      }).pipe(Effect.provide(FlexiAI.layer(config(openAi.url, bedrock.url, "bedrock"))))

      yield* openAi.setScript({ replies: [MockProviderServer.serverError(500)] })
      yield* bedrock.setScript({ fallback: MockProviderServer.text("from bedrock") })
      yield* Effect.gen(function*() {
        const answer = yield* ChatProvider.chat("hello")
        assert.strictEqual(answer.provider, "bedrock")
        assert.strictEqual(answer.text, "from bedrock")
      }).pipe(Effect.provide(FlexiAI.layer(config(openAi.url, bedrock.url, "openai"))))
      // every Bedrock call was signed and accepted by the mock's SigV4 check
      const replies = (yield* bedrock.calls).map((call) => call.reply)
      assert.deepStrictEqual(replies, ["Error", "Answer", "Answer"])
    }))

  it.live("streams: an exception frame before any content fails over to OpenAI; a reset OpenAI fails over to Bedrock", () =>
    Effect.gen(function*() {
      const { bedrock, openAi } = yield* servers
      yield* bedrock.setScript({ replies: [MockProviderServer.inBandError({ message: "Too many requests", type: "ThrottlingException" }, { afterChunks: 0 })] })
      yield* openAi.setScript({ fallback: MockProviderServer.text("openai streams this") })
      const first = yield* streamed("hi").pipe(Effect.provide(FlexiAI.layer(config(openAi.url, bedrock.url, "bedrock"))))
      assert.deepStrictEqual(first, { text: "openai streams this", provider: "openai" })

      yield* openAi.setScript({ replies: [MockProviderServer.reset()] })
      yield* bedrock.setScript({ fallback: MockProviderServer.text("bedrock streams this") })
      const second = yield* streamed("hi").pipe(Effect.provide(FlexiAI.layer(config(openAi.url, bedrock.url, "openai"))))
      assert.deepStrictEqual(second, { text: "bedrock streams this", provider: "bedrock" })
      assert.isTrue((yield* bedrock.calls).every((call) => call.path.endsWith("/converse-stream")))
    }))
})

describe("Bedrock from the standard AWS variables", () => {
  const loadWith = (env: Record<string, string>) =>
    FlexiConfig.load({ providers: Providers.bundled, file: false }).pipe(
      Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env })),
      Effect.provide(NodeServices.layer)
    )

  it.effect("AWS_REGION and the keys detect a bedrock entry, its secrets read as references", () =>
    Effect.gen(function*() {
      const config = yield* loadWith({ AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "AKIADETECT", AWS_SECRET_ACCESS_KEY: "detect-secret", AWS_SESSION_TOKEN: "detect-token" })
      const [entry] = config.providers as ReadonlyArray<Record<string, unknown>>
      assert.strictEqual(entry?.kind, "bedrock")
      assert.strictEqual(entry?.region, "eu-west-1")
      assert.strictEqual(Redacted.value(entry?.secretAccessKey as Redacted.Redacted<string>), "detect-secret")
      assert.strictEqual(Redacted.value(entry?.sessionToken as Redacted.Redacted<string>), "detect-token")
      // without keys (an API key or a profile only) Bedrock is not guessed into a config
      const error = yield* Effect.flip(loadWith({ AWS_REGION: "eu-west-1" }))
      assert.include(error.message, "AWS_ACCESS_KEY_ID")
    }))
})
