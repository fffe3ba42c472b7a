/**
 * The Flow enterprise gateway through FlexiAI, with no tenant and no network: a MockProviderServer
 * on 127.0.0.1 in Flow mode plays the gateway (the client-credentials token endpoint, each
 * upstream's model list, and the Azure OpenAI, Gemini, Bedrock and Azure AI Foundry chat routes in
 * their own wire formats), and a second one plays a direct OpenAI-compatible provider.
 *
 * It lists the models (Flow's as `provider:modelId`, next to the direct provider's), chats with a
 * Gemini model and streams from a Bedrock model through the gateway, then the gateway's Azure
 * OpenAI route answers 503 and the call fails over to the direct provider. Against a real gateway,
 * set `baseUrl`, `tenant`, `clientId` and `clientSecret: env:FLOW_CLIENT_SECRET` (see
 * packages/flow/README.md for the endpoint paths, all configurable).
 *
 * Run: `pnpm exec node examples/flow.ts`.
 */
import { MockProviderServer } from "@flexiai/testing"
import { Effect, Stream } from "effect"
import { chat, FlexiAI, stream } from "flexiai"

/** Runs the example against fresh mock servers, writing what happens through `write`. */
export const runFlowExample = async (write: (line: string) => void = console.log): Promise<void> => {
  // the gateway's tenant, client credentials and model lists (the mock's defaults, spelled out)
  const gateway = MockProviderServer.makeFlowGateway({
    tenant: "acme",
    clientId: "flow-client",
    clientSecret: "flow-secret-0123456789",
    models: {
      "azure-openai": [{ id: "gpt-4o", contextWindow: 128000 }],
      google: [{ id: "gemini-2.5-pro", contextWindow: 1048576 }],
      bedrock: [{ id: "anthropic.claude-sonnet-4" }],
      "azure-foundry": [{ id: "DeepSeek-R1" }]
    }
  })
  const flow = await MockProviderServer.start(
    { fallback: MockProviderServer.echo({ prefix: "flow heard: " }) },
    { encoders: MockProviderServer.flowEncoders(gateway) }
  )
  const direct = await MockProviderServer.start({ models: ["gpt-4o-mini"], fallback: MockProviderServer.text("The direct provider answers.") })

  const config: FlexiAI.Input = {
    providers: [
      {
        kind: "flow",
        name: "flow",
        model: "azure-openai:gpt-4o",
        baseUrl: flow.url,
        tenant: gateway.tenant,
        clientId: gateway.clientId,
        clientSecret: gateway.clientSecret, // in a config file: env:FLOW_CLIENT_SECRET
        appId: "example-app",
        // a request naming any provider:modelId comes here (the kind's default `models: { "*": "*" }`);
        // one the tenant does not have is Flow's NotFound naming the tenant
        priority: 1
      },
      { kind: "openai-compatible", name: "direct", model: "gpt-4o-mini", baseUrl: `${direct.url}/v1`, apiKey: "sk-example-0123456789", priority: 2 }
    ],
    policy: { retry: { maxRetries: 0 } },
    logging: { level: "error" }
  }

  const program = Effect.gen(function*() {
    const list = yield* FlexiAI.listModels
    write(`models: ${list.models.map((model) => `${model.id} (${model.provider})`).join(", ")}`)

    const answer = yield* chat({ model: "google:gemini-2.5-pro", messages: [{ role: "user", content: "Hello, Gemini" }] })
    write(`chat: ${answer.text} (from ${answer.provider}, model ${answer.model})`)

    let streamed = ""
    yield* stream({ model: "bedrock:anthropic.claude-sonnet-4", messages: [{ role: "user", content: "Stream from Bedrock" }] }).pipe(
      Stream.runForEach((part) => Effect.sync(() => { if (part.type === "text-delta") streamed += part.text }))
    )
    write(`stream: ${streamed}`)

    // the gateway's Azure OpenAI route is down once: the router fails over to the direct provider
    flow.setScript({
      byPath: { "/azure-openai/openai/deployments/gpt-4o/chat/completions": [MockProviderServer.serverError(503)] },
      fallback: MockProviderServer.echo({ prefix: "flow heard: " })
    })
    const failedOver = yield* chat("Anyone there?")
    write(`failover: ${failedOver.text} (from ${failedOver.provider}; tried ${failedOver.attempts.map((attempt) => `${attempt.provider} ${attempt.outcome}`).join(", ")})`)
  }).pipe(Effect.provide(FlexiAI.layer(config)))

  try {
    await Effect.runPromise(program)
    write(`gateway tokens issued: ${gateway.issued.length}`)
  } finally {
    await Promise.all([flow.stop(), direct.stop()])
  }
}

if (import.meta.main) {
  runFlowExample().catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
