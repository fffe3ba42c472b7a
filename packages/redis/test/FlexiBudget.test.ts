// The budgets FlexiAI builds from a config with `redis` and `budgets` (flexiai's internal metering
// setup): two setups (as two processes would have) share one budget window in Redis.
import { assert, describe, it } from "@effect/vitest"
import * as Budget from "@flexiai/core/Budget"
import { Effect } from "effect"
import { afterAll, beforeAll } from "vitest"
// relative, not "flexiai" / "@flexiai/config": flexiai depends on this package
import * as FlexiConfig from "../../config/src/FlexiConfig.ts"
import * as MeteringSetup from "../../flexiai/src/internal/metering.ts"
import * as Providers from "../../flexiai/src/Providers.ts"
import * as RedisServer from "@flexiai/testing/RedisServer"

let server: RedisServer.RedisServer
beforeAll(async () => {
  server = await RedisServer.start()
})
afterAll(async () => {
  await server?.stop()
})

describe("FlexiAI's budgets over Redis", () => {
  it.live("a window spent by one setup is spent for the other; the key is never in the budget data", () =>
    Effect.gen(function*() {
      const resolved = yield* FlexiConfig.fromObject({
        providers: [{ kind: "ollama", name: "local", model: "m" }],
        redis: { url: server.url, prefix: `flexibudget${process.pid}:`, storeTimeout: "1 second" },
        budgets: { limits: [{ name: "shared", period: "day", limitUsd: 1 }] }
      }, { providers: Providers.withExtra([]) })
      const scope = yield* Effect.scope
      const one = (yield* MeteringSetup.make(resolved, scope))!.budgets!
      const two = (yield* MeteringSetup.make(resolved, scope))!.budgets!
      const subject = { provider: "local", model: "m", tag: undefined }
      const ticket = yield* one.reserve(subject, 0.8)
      assert.isFalse(Budget.isDenial(ticket))
      const refused = yield* two.reserve(subject, 0.3)
      assert.isTrue(Budget.isDenial(refused))
      yield* one.settle(ticket as Budget.Ticket, 0.5)
      assert.isFalse(Budget.isDenial(yield* two.reserve(subject, 0.3)))
      const [standing] = yield* one.standings
      assert.approximately(standing!.spentUsd, 0.8, 1e-9)
      assert.notInclude(JSON.stringify([refused, standing]), server.url)
    }).pipe(Effect.scoped))
})
