// Shared wiring: configs pointing at MockProviderServer instances (real HTTP on 127.0.0.1) and a
// console that captures what the config's logger writes.
import type { FlexiAI } from "../src/index.ts"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Console } from "effect"
import { afterEach } from "vitest"

export const canary = "sk-canary-5d1e9b37a4c2f8e06b7d3a19c5e2f4a8"
export const fragments = [canary, canary.slice(0, 14), canary.slice(-8), "5d1e9b37", "b7d3a19c"]

/** Two `openai-compatible` providers: `primary` (priority 1, one quick retry, a breaker that opens on the first failure) and `backup`. */
export const twoProviders = (
  primaryUrl: string,
  backupUrl: string,
  logging: FlexiAI.Input["logging"] = { level: "error" }
): FlexiAI.Input => ({
  providers: [
    {
      kind: "openai-compatible",
      name: "primary",
      model: "mock-model",
      baseUrl: `${primaryUrl}/v1`,
      apiKey: canary,
      priority: 1,
      retry: { maxRetries: 1, initialDelay: 10, jitter: false },
      breaker: { failureThreshold: 1, openDuration: "1 minute" }
    },
    { kind: "openai-compatible", name: "backup", model: "mock-model", baseUrl: `${backupUrl}/v1`, apiKey: canary, priority: 2 }
  ],
  policy: { retry: { maxRetries: 0 } },
  logging
})

/** A console whose `log`/`error` lines land in `lines`. */
export const capturingConsole = (lines: Array<string>): Console.Console => {
  const push = (...args: ReadonlyArray<unknown>) => {
    lines.push(args.map((arg) => typeof arg === "string" ? arg : JSON.stringify(arg)).join(" "))
  }
  return { ...globalThis.console, log: push, error: push, info: push, warn: push, debug: push, trace: push } as Console.Console
}

/**
 * For tests written as plain async code: `start` runs a MockProviderServer that is stopped after
 * each test; `servers` holds the ones still running (a test may stop one itself and empty it).
 * Call at the top of a test file: it registers the `afterEach`.
 */
export const serverPool = () => {
  const servers: Array<MockProviderServer.Handle> = []
  const start = async (script: MockProviderServer.Script) => {
    const server = await MockProviderServer.start(script)
    servers.push(server)
    return server
  }
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop()))
  })
  return { servers, start }
}
