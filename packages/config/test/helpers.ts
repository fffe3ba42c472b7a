// Shared test helpers: run `FlexiConfig.load` against a given environment, temp files, captured logs.
import { NodeServices } from "@effect/platform-node"
import { ConfigProvider, Effect, FileSystem, Layer, Logger, Path } from "effect"
import { inspect } from "node:util"
import * as FlexiConfig from "../src/FlexiConfig.ts"
import { kinds } from "./kinds.ts"

/**
 * Runs `load` with exactly `env` as the environment (never process.env) and the Node file system,
 * the stand-in kinds registered unless `options.providers` says otherwise.
 */
export const loadWith = (env: Record<string, string>, options: FlexiConfig.LoadOptions = { file: false }) =>
  FlexiConfig.load({ providers: kinds, ...options }).pipe(
    Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env })),
    Effect.provide(NodeServices.layer)
  )

/** Writes files into a fresh temp directory (removed with the test's scope); returns the directory. */
export const tempFiles = (files: Record<string, string>) =>
  Effect.gen(function*() {
    const fileSystem = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const directory = yield* fileSystem.makeTempDirectoryScoped({ prefix: "flexiai-config-" })
    for (const [name, contents] of Object.entries(files)) {
      const target = path.join(directory, name)
      yield* fileSystem.makeDirectory(path.dirname(target), { recursive: true })
      yield* fileSystem.writeFileString(target, contents)
    }
    return directory
  }).pipe(Effect.provide(NodeServices.layer))

/** A logger that records every line, and the lines it recorded. */
export const captureLogs = () => {
  const lines: Array<string> = []
  const logger = Logger.make(({ logLevel, message }) => {
    lines.push(`${logLevel} ${inspect(message, { depth: 10 })}`)
  })
  return { lines, layer: Logger.layer([logger]) as Layer.Layer<never> }
}

/** Everything a value could leak through when printed. */
export const printed = (value: unknown): string =>
  [String(value), JSON.stringify(value), inspect(value, { depth: 20 })].join("\n")

/** `FlexiConfig.fromObject` with the stand-in kinds registered. */
export const fromObject = (input: FlexiConfig.Input) => FlexiConfig.fromObject(input, { providers: kinds })

/** `FlexiConfig.jsonSchema` for the stand-in kinds. */
export const jsonSchema = () => FlexiConfig.jsonSchema({ providers: kinds })
