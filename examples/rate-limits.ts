/**
 * Rate limits with no keys: two MockProviderServer instances on 127.0.0.1 stand in for a provider
 * key with a small requests-per-minute limit (`primary`) and a spare one (`backup`). FlexiAI checks
 * the limit before sending, so the requests past it fail over to `backup` without `primary` ever
 * seeing them (no 429 taken); each decision is a `rate-limit` event.
 *
 * Run: `pnpm exec node examples/rate-limits.ts` (Node >= 22 runs TypeScript directly).
 */
import type { RouterEvent } from "@flexiai/core"
import { MockProviderServer } from "@flexiai/testing"
import { Effect } from "effect"
import { FlexiAI } from "flexiai"

export interface RateLimitsReport {
  readonly answeredBy: ReadonlyArray<string>
  /** Requests each mock server actually received. */
  readonly received: { readonly primary: number; readonly backup: number }
  readonly decisions: ReadonlyArray<string>
}

export const runRateLimits = async (write: (line: string) => void = (line) => console.log(line)): Promise<RateLimitsReport> => {
  const primary = await MockProviderServer.start({ fallback: MockProviderServer.text("from primary") })
  const backup = await MockProviderServer.start({ fallback: MockProviderServer.text("from backup") })
  const events: Array<RouterEvent.RouterEvent> = []
  const client = FlexiAI.make({
    providers: [
      {
        kind: "openai-compatible",
        name: "primary",
        model: "gpt-4o-mini",
        baseUrl: `${primary.url}/v1`,
        priority: 1,
        // two requests a minute, at most one in flight; past either, fail over at once (no maxWait)
        rateLimit: { requestsPerMinute: 2, concurrency: 1 }
      },
      { kind: "openai-compatible", name: "backup", model: "gpt-4o-mini", baseUrl: `${backup.url}/v1`, priority: 2 }
    ],
    policy: { retry: { maxRetries: 0 } },
    logging: { level: "error" }
  }, { observers: [(event) => Effect.sync(() => void events.push(event))] })
  try {
    const answeredBy: Array<string> = []
    for (let i = 1; i <= 4; i++) {
      const answer = await client.chat(`question ${i}`)
      answeredBy.push(answer.provider)
      write(`question ${i}: ${answer.provider} (${answer.attempts.map((attempt) => `${attempt.provider}:${attempt.reason ?? attempt.outcome}`).join(", ")})`)
    }
    const received = {
      primary: primary.calls().filter((call) => call.path === "/v1/chat/completions").length,
      backup: backup.calls().filter((call) => call.path === "/v1/chat/completions").length
    }
    write(`primary received ${received.primary} requests, backup ${received.backup}`)
    // observers run on a fiber of their own: let it catch up before reading what it collected
    await new Promise((resolve) => setImmediate(resolve))
    const decisions = events.flatMap((event) => event.type === "rate-limit" ? [`${event.provider} ${event.decision} (${event.limit})`] : [])
    for (const decision of decisions) write(`rate limit: ${decision}`)
    return { answeredBy, received, decisions }
  } finally {
    await client.dispose()
    await Promise.all([primary.stop(), backup.stop()])
  }
}

if (import.meta.main) {
  runRateLimits().catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
