// The `redis` section (shared circuits): defaults, FLEXIAI_REDIS_* variables, and the url and
// password as secrets (Redacted, references resolved, never printed in errors or logs).
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Redacted } from "effect"
import { captureLogs, fromObject, loadWith, printed, tempFiles } from "./helpers.ts"

const provider = { FLEXIAI_PROVIDERS_0_KIND: "ollama-native", FLEXIAI_PROVIDERS_0_MODEL: "m" }
const secretUrl = "redis://app:s3cr3t-redis-pw@10.0.0.5:6380/2"

describe("redis section", () => {
  it.effect("absent: no shared circuits; present: defaults filled in", () =>
    Effect.gen(function*() {
      assert.isUndefined((yield* loadWith(provider)).redis)
      const config = yield* fromObject({ providers: [{ kind: "ollama-native", model: "m" }], redis: { url: "redis://127.0.0.1:6380" } })
      assert.strictEqual(Redacted.value(config.redis!.url), "redis://127.0.0.1:6380")
      assert.strictEqual(config.redis!.prefix, "flexiai:")
      assert.strictEqual(Duration.toMillis(config.redis!.storeTimeout), 150)
      assert.isFalse(config.redis!.tls)
    }))

  it.effect("cache.store redis without a redis section is a config error naming cache.store", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(fromObject({ providers: [{ kind: "ollama-native", model: "m" }], cache: { enabled: true, store: "redis" } }))
      assert.strictEqual(error._tag, "FlexiConfigError")
      assert.include(error.message, "cache.store is redis but there is no redis section")
      const config = yield* fromObject({
        providers: [{ kind: "ollama-native", model: "m" }],
        cache: { enabled: true, store: "redis" },
        redis: { url: "redis://127.0.0.1:6380" }
      })
      assert.strictEqual(config.cache.store, "redis")
    }))

  it.effect("FLEXIAI_REDIS_URL and FLEXIAI_REDIS_PREFIX; the url stays Redacted", () =>
    Effect.gen(function*() {
      const config = yield* loadWith({
        ...provider,
        FLEXIAI_REDIS_URL: secretUrl,
        FLEXIAI_REDIS_PREFIX: "myapp:",
        FLEXIAI_REDIS_STORE_TIMEOUT: "80 millis"
      })
      assert.isTrue(Redacted.isRedacted(config.redis?.url))
      assert.strictEqual(Redacted.value(config.redis!.url), secretUrl)
      assert.strictEqual(config.redis?.prefix, "myapp:")
      assert.strictEqual(Duration.toMillis(config.redis!.storeTimeout), 80)
      assert.notInclude(printed(config), "s3cr3t")
      const error = yield* Effect.flip(loadWith({ ...provider, FLEXIAI_REDIS_URL: secretUrl, FLEXIAI_REDIS_PREFX: "x" }))
      assert.include(error.message, "FLEXIAI_REDIS_PREFX: unknown variable")
      assert.notInclude(printed(error), "s3cr3t")
    }))

  it.effect("url and password as references; an inline url with a password in a file is warned about, one without is not", () =>
    Effect.gen(function*() {
      const directory = yield* tempFiles({
        "with.json": JSON.stringify({ providers: [{ kind: "ollama-native", model: "m" }], redis: { url: secretUrl } }),
        "plain.json": JSON.stringify({ providers: [{ kind: "ollama-native", model: "m" }], redis: { url: "redis://127.0.0.1:6380" } }),
        "refs.json": JSON.stringify({
          providers: [{ kind: "ollama-native", model: "m" }],
          redis: { url: "env:MY_REDIS_URL", password: "env:MY_REDIS_PASSWORD" }
        })
      })
      const logs = captureLogs()
      yield* loadWith(provider, { file: `${directory}/with.json` }).pipe(Effect.provide(logs.layer))
      assert.isTrue(logs.lines.some((line) => line.includes("redis.url holds a secret inline")))
      assert.notInclude(logs.lines.join("\n"), "s3cr3t")
      const quiet = captureLogs()
      yield* loadWith(provider, { file: `${directory}/plain.json` }).pipe(Effect.provide(quiet.layer))
      assert.isFalse(quiet.lines.some((line) => line.includes("inline")))
      const config = yield* loadWith(
        { ...provider, MY_REDIS_URL: "redis://10.0.0.5:6380", MY_REDIS_PASSWORD: "pw-from-env" },
        { file: `${directory}/refs.json` }
      )
      assert.strictEqual(Redacted.value(config.redis!.url), "redis://10.0.0.5:6380")
      assert.strictEqual(Redacted.value(config.redis!.password!), "pw-from-env")
    }))

  it.effect("a bad section is a config error that does not print the url", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(fromObject({
        providers: [{ kind: "ollama-native", model: "m" }],
        redis: { url: secretUrl, storeTimeout: "soon" } as never
      }))
      assert.include(error.message, "redis.storeTimeout")
      assert.notInclude(printed(error), "s3cr3t")
    }))
})
