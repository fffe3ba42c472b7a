// Bedrock's own latency (metrics.latencyMs) is kept on the provider's span and in the answer's
// providerMetadata.bedrock.metrics; the id of the answer is Bedrock's request id.
import { assert, describe, it } from "@effect/vitest"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import * as RecordingTracer from "@flexiai/testing/RecordingTracer"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { fixturesDir, request, setup } from "./helpers.ts"

describe("latency metrics", () => {
  it.live("metrics.latencyMs of the answer is the span attribute bedrock.latency_ms", () =>
    Effect.gen(function*() {
      const file = `${fixturesDir()}vercel__amazon-bedrock-text.json`
      const recorded = JSON.parse(readFileSync(file, "utf8")).metrics.latencyMs as number
      const { provider } = yield* setup({ replies: [MockProviderServer.fixture(file)] })
      const { spans, tracer } = RecordingTracer.make()
      const response = yield* provider.chat(request()).pipe(Effect.withTracer(tracer))
      const span = spans.find((candidate) => candidate.name === "BedrockChat.chat")
      assert.strictEqual(span?.attributes.get("bedrock.latency_ms"), recorded)
      assert.deepStrictEqual(response.providerMetadata, { bedrock: { metrics: { latencyMs: recorded } } })
      assert.match(response.id, /^req_mock_/)
    }))
})
