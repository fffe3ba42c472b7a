// FlexiAI.layer leaves the app's logging alone: the config's `logging.level` and `format` apply to
// FlexiAI's own lines only, the app's minimum level still applies to the app's lines, and every
// line goes to the app's own logger (here one collecting lines, provided outside the FlexiAI
// layer, as an app does). Real providers on loopback servers produce the lines.
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider } from "@flexiai/core"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { ConfigProvider, Console, Effect, Layer, Logger, References, Stream } from "effect"
import * as FlexiAI from "../src/FlexiAI.ts"
import { canary, capturingConsole, twoProviders } from "./helpers.ts"

interface Line {
  readonly message: string
  readonly level: string
  readonly callId: unknown
}

const collecting = (lines: Array<Line>) =>
  Logger.make(({ fiber, logLevel, message }) => {
    const first = Array.isArray(message) ? message[0] : message
    lines.push({ message: String(first), level: logLevel, callId: fiber.getRef(References.CurrentLogAnnotations).callId })
  })

const isFlexi = (line: Line) => line.message.startsWith("attempt ") || line.message.startsWith("provider ")

// the primary refuses the key (a failed attempt: FlexiAI logs it at Warn) and its circuit opens
// (`twoProviders`: on the first failure), so the stream skips it (Debug); the backup answers both
const servers = Effect.gen(function*() {
  const primary = yield* MockProviderServer.make({ fallback: MockProviderServer.unauthorized() })
  const backup = yield* MockProviderServer.make({ fallback: MockProviderServer.text("from the backup") })
  return { primary, backup }
})

const appProgram = Effect.gen(function*() {
  yield* Effect.logInfo("app info before")
  const response = yield* ChatProvider.chat("hi")
  yield* Effect.logWarning("app warning between")
  yield* Stream.runDrain(ChatProvider.stream("and streamed"))
  yield* Effect.logInfo("app info after")
  return response.text
})

describe("FlexiAI.layer and the app's logger", () => {
  it.live("logging.level error: the app's lines survive and reach its logger; FlexiAI's warnings are dropped", () =>
    Effect.gen(function*() {
      const { backup, primary } = yield* servers
      const lines: Array<Line> = []
      const printed: Array<string> = []
      const text = yield* appProgram.pipe(
        Effect.provide(FlexiAI.layer(twoProviders(primary.url, backup.url, { level: "error", format: "json" }))),
        Effect.provide(Logger.layer([collecting(lines)])),
        Effect.provideService(Console.Console, capturingConsole(printed))
      )
      assert.strictEqual(text, "from the backup")
      assert.deepStrictEqual(lines.map((line) => line.message), ["app info before", "app warning between", "app info after"])
      // the app's logger is the only one: nothing forced onto the console
      assert.deepStrictEqual(printed, [])
    }))

  it.live("FlexiAI's level for its lines, the app's level for the app's: both reach the app's logger", () =>
    Effect.gen(function*() {
      const { backup, primary } = yield* servers
      const lines: Array<Line> = []
      const text = yield* appProgram.pipe(
        Effect.provide(FlexiAI.layer(twoProviders(primary.url, backup.url, { level: "debug" }))),
        Effect.provide(Logger.layer([collecting(lines)])),
        Effect.provideService(References.MinimumLogLevel, "Warn")
      )
      assert.strictEqual(text, "from the backup")
      // the app asked for Warn and up: its Info lines are dropped, its warning is kept
      assert.deepStrictEqual(lines.filter((line) => !isFlexi(line)).map((line) => line.message), ["app warning between"])
      // FlexiAI asked for Debug: its Debug lines reach the app's logger past the app's Warn
      const flexi = lines.filter(isFlexi)
      const failed = flexi.filter((line) => line.message.startsWith("attempt failed"))
      assert.strictEqual(failed.length, 1) // the chat's primary attempt
      assert.strictEqual(failed[0]!.level, "Warn")
      assert.include(failed[0]!.message, "Authentication")
      const skipped = flexi.filter((line) => line.message.startsWith("attempt skipped"))
      assert.deepStrictEqual(skipped.map((line) => line.level), ["Debug"]) // the stream's
      const succeeded = flexi.filter((line) => line.message === "attempt succeeded")
      assert.strictEqual(succeeded.length, 2)
      for (const line of succeeded) assert.strictEqual(line.level, "Debug")
      // the stream's summary is logged in a pull, after the stream started: still FlexiAI's level
      const responses = flexi.filter((line) => line.message === "provider response")
      assert.strictEqual(responses.length, 2)
      for (const line of flexi) assert.match(String(line.callId), /^flx-/)
    }))

  it.live("at FlexiAI's level warn, its Debug lines are dropped even under an app at Debug", () =>
    Effect.gen(function*() {
      const { backup, primary } = yield* servers
      const lines: Array<Line> = []
      yield* appProgram.pipe(
        Effect.provide(FlexiAI.layer(twoProviders(primary.url, backup.url, { level: "warn" }))),
        Effect.provide(Logger.layer([collecting(lines)])),
        Effect.provideService(References.MinimumLogLevel, "Debug")
      )
      assert.deepStrictEqual(
        lines.filter((line) => !isFlexi(line)).map((line) => line.message),
        ["app info before", "app warning between", "app info after"]
      )
      const flexi = lines.filter(isFlexi)
      assert.deepStrictEqual(flexi.map((line) => [line.level, line.message.slice(0, 14)]), [["Warn", "attempt failed"]])
    }))

  it.live("format applies to FlexiAI's lines only: JSON for them, Effect's default format for the app's", () =>
    Effect.gen(function*() {
      const { backup, primary } = yield* servers
      const printed: Array<string> = []
      yield* appProgram.pipe(
        Effect.provide(FlexiAI.layer(twoProviders(primary.url, backup.url, { level: "warn", format: "json" }))),
        Effect.provideService(Console.Console, capturingConsole(printed))
      )
      const json = printed.filter((line) => line.startsWith("{"))
      const plain = printed.filter((line) => !line.startsWith("{"))
      assert.strictEqual(json.length, 1)
      for (const line of json) {
        const entry = JSON.parse(line) as { message: unknown; level: string }
        assert.strictEqual(entry.level, "WARN")
        assert.match(String(entry.message), /attempt failed/)
      }
      assert.strictEqual(plain.length, 3)
      assert.match(plain[0]!, /INFO .*app info before/)
      assert.match(plain[1]!, /WARN .*app warning between/)
    }))

  it.live("a program that logs to stderr gets FlexiAI's formatted lines on stderr too", () =>
    Effect.gen(function*() {
      const { backup, primary } = yield* servers
      const stdout: Array<string> = []
      const stderr: Array<string> = []
      const console = { ...capturingConsole(stdout), error: (...args: ReadonlyArray<unknown>) => capturingConsole(stderr).log(...args) }
      yield* appProgram.pipe(
        Effect.provide(FlexiAI.layer(twoProviders(primary.url, backup.url, { level: "warn", format: "json" }))),
        Effect.provideService(Console.Console, console as Console.Console),
        Effect.provideService(Logger.LogToStderr, true)
      )
      assert.deepStrictEqual(stdout, [])
      assert.strictEqual(stderr.filter((line) => line.startsWith("{") && line.includes("attempt failed")).length, 1)
      assert.strictEqual(stderr.filter((line) => line.includes("app warning between")).length, 1)
    }))

  it.live("config warnings written while loading are FlexiAI's lines: held until its level is known", () =>
    Effect.gen(function*() {
      const server = yield* MockProviderServer.make({ fallback: MockProviderServer.text("detected") })
      // Azure's key without its endpoint: a partial detection, which loading warns about
      const env = (level: string) => ({
        OPENAI_API_KEY: canary,
        OPENAI_BASE_URL: `${server.url}/v1`,
        AZURE_OPENAI_API_KEY: canary,
        FLEXIAI_LOGGING_LEVEL: level
      })
      const run = (level: string) =>
        Effect.gen(function*() {
          const lines: Array<Line> = []
          yield* Layer.build(FlexiAI.layerConfig({ file: false })).pipe(
            Effect.scoped,
            Effect.provide(Logger.layer([collecting(lines)])),
            Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env: env(level) }))
          )
          return lines.map((line) => `${line.level} ${line.message}`)
        })
      assert.deepStrictEqual(yield* run("error"), [])
      const warned = yield* run("warn")
      assert.strictEqual(warned.length, 1)
      assert.match(warned[0]!, /^Warn azure-openai not detected: .*AZURE_OPENAI_ENDPOINT/)
    }))
})
