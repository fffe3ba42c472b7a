/**
 * `--mock`: two `MockProviderServer`s on 127.0.0.1 stand in for real providers, so the service runs
 * with no keys and no network, and a config file for them that every worker reads.
 *
 * The flaky one (priority 1, tried first) answers its first eight calls with HTTP 500 and then
 * recovers: watch its circuit open in `/health`, calls fail over to the healthy one (priority 2),
 * and after the open period a probe closes it again. The healthy one echoes the last message,
 * word by word when streamed. The servers run in the primary, for as long as it does.
 */
import { MockProviderServer } from "@flexiai/testing"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface Mocks {
  readonly flakyUrl: string
  readonly healthyUrl: string
  readonly configFile: string
  readonly stop: () => Promise<void>
}

export const startMocks = async (): Promise<Mocks> => {
  const flaky = await MockProviderServer.start({
    replies: Array.from({ length: 8 }, () => MockProviderServer.serverError(500)),
    fallback: MockProviderServer.echo({ prefix: "flaky (recovered) heard: ", chunkDelayMillis: 40 })
  })
  const healthy = await MockProviderServer.start({
    fallback: MockProviderServer.echo({ prefix: "healthy heard: ", chunkDelayMillis: 40 })
  })
  const dir = mkdtempSync(join(tmpdir(), "flexiai-workers-"))
  const configFile = join(dir, "flexiai.config.json")
  writeFileSync(configFile, JSON.stringify({
    providers: [
      { kind: "openai-compatible", name: "flaky", model: "mock-model", baseUrl: `${flaky.url}/v1`, priority: 1 },
      { kind: "openai-compatible", name: "healthy", model: "mock-model", baseUrl: `${healthy.url}/v1`, priority: 2 }
    ],
    policy: { preset: "fast", retry: { maxRetries: 0 } },
    breaker: { failureThreshold: 3, openDuration: "10 seconds", jitter: 0 },
    logging: { level: "warn" }
  }, null, 2))
  return {
    flakyUrl: flaky.url,
    healthyUrl: healthy.url,
    configFile,
    stop: async () => {
      await Promise.all([flaky.stop(), healthy.stop()])
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
