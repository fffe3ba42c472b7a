// The program the pack test type-checks and runs in a fresh project outside the workspace, against
// the packed tarballs only: one chat that fails over, one stream, through FlexiAI.layer and two
// MockProviderServers. Its last line is the JSON the test asserts on.
import { ProviderError } from "@flexiai/core/ProviderError"
import { MockProviderServer } from "@flexiai/testing"
import { Effect, Stream } from "effect"
import { chat, FlexiAI, stream } from "flexiai"

const primary = await MockProviderServer.start({
  replies: [MockProviderServer.overloaded(503)],
  fallback: MockProviderServer.echo({ prefix: "primary: " })
})
const backup = await MockProviderServer.start({ fallback: MockProviderServer.echo({ prefix: "backup: " }) })

const config: FlexiAI.Input = {
  providers: [
    { kind: "openai-compatible", name: "primary", model: "mock-model", baseUrl: `${primary.url}/v1`, priority: 1 },
    { kind: "openai-compatible", name: "backup", model: "mock-model", baseUrl: `${backup.url}/v1`, priority: 2 }
  ],
  policy: { retry: { maxRetries: 0 } },
  logging: { level: "error" }
}

// Proves the packages' types reach the consumer (were they `any`, this line would be an unused directive).
// @ts-expect-error a provider needs a kind
const _noKind: FlexiAI.Input = { providers: [{ name: "x", model: "m" }] }

const program = Effect.gen(function*() {
  const answer = yield* chat("hello")
  const parts = yield* stream("stream me").pipe(Stream.runCollect)
  return {
    node: globalThis.navigator?.userAgent ?? "",
    answer: answer.text,
    provider: answer.provider,
    firstAttempt: answer.attempts[0]?.outcome,
    streamed: parts.map((part) => part.type === "text-delta" ? part.text : "").join(""),
    providerErrorIsAClass: typeof ProviderError === "function"
  }
})

try {
  console.log(JSON.stringify(await Effect.runPromise(program.pipe(Effect.provide(FlexiAI.layer(config))))))
} finally {
  await Promise.all([primary.stop(), backup.stop()])
}
