/**
 * Reading a config file: JSON (`.json`) or YAML (anything else; YAML is a superset of JSON).
 * A file that is missing or does not parse is a `FlexiConfigError` naming the file and, for a
 * syntax error, the line and column.
 *
 * Why the `yaml` package and not `effect/encoding/Yaml`: Effect's parser is marked unstable,
 * reports a line but no column, and leaves out parts of YAML 1.2 (compact nested sequences,
 * multi-line quoted scalars in flow collections). `yaml` is the reference implementation
 * Effect's is based on, has no dependencies, and reports line and column.
 *
 * Why Effect's `FileSystem` rather than `node:fs`: the loader stays testable with an in-memory
 * file system and runs wherever a platform layer exists (`NodeServices.layer`, Bun's); the CLI and
 * gateway provide that layer anyway.
 *
 * Parser messages are cut to their first line: both parsers quote the offending source text,
 * which may be an inline secret.
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Path } from "effect"
import * as Yaml from "yaml"
import { FlexiConfigError, type Problem } from "./FlexiConfigError.ts"

/** The file names looked for in the working directory when no file is named. @category models */
export const defaultFileNames = ["flexiai.config.yaml", "flexiai.config.yml", "flexiai.config.json"] as const

/** A parsed config file. @category models */
export interface Loaded {
  /** Absolute path. */
  readonly path: string
  /** Its directory: the base for relative `file:` references. */
  readonly directory: string
  readonly contents: unknown
}

const fail = (file: string, problem: Omit<Problem, "path">) =>
  Effect.fail(new FlexiConfigError({ file, problems: [{ path: file, ...problem }] }))

const lineAndColumn = (text: string, offset: number): { readonly line: number; readonly column: number } => {
  const before = text.slice(0, offset)
  const lines = before.split("\n")
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 }
}

/** Drops quoted source text from a parser message: it may be an inline secret. */
const unquote = (message: string): string => message.replace(/\s*"[^"]*"?/g, "").replace(/\s*'[^']*'/g, "").trim()

const yamlProblem = (text: string, options?: Yaml.DocumentOptions & Yaml.SchemaOptions): Omit<Problem, "path"> | undefined => {
  const document = Yaml.parseDocument(text, { ...options, prettyErrors: true })
  const error = document.errors[0]
  if (error === undefined) return undefined
  const headline = unquote((error.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, ""))
  const position = error.linePos?.[0]
  return position === undefined
    ? { message: headline }
    : { message: headline, line: position.line, column: position.col }
}

const jsonProblem = (text: string, error: unknown): Omit<Problem, "path"> => {
  const raw = error instanceof Error ? error.message : "invalid JSON"
  // V8 quotes the source ("Unexpected token 'x', "{x: ..." is not valid JSON"): keep only its own words.
  const headline = unquote(raw.split(/,\s*(?:\.\.\.)?"/)[0] ?? "").replace(/ in JSON at position \d+.*$/s, "").trim() ||
    "invalid JSON"
  const position = /at position (\d+)/.exec(raw)
  if (position?.[1] !== undefined) return { message: headline, ...lineAndColumn(text, Number(position[1])) }
  // No position in the message: the YAML parser reads JSON too and always says where.
  // (with the JSON schema, so an unquoted word is an error there too).
  const located = yamlProblem(text, { schema: "json" })
  return located === undefined ? { message: headline } : { ...located, message: headline }
}

const parseYaml = (file: string, text: string): Effect.Effect<unknown, FlexiConfigError> => {
  const problem = yamlProblem(text)
  return problem === undefined ? Effect.succeed(Yaml.parse(text) ?? {}) : fail(file, problem)
}

/**
 * Parses a config file's text. The top level must be a mapping; an empty YAML file is `{}`.
 *
 * @category parsing
 */
export const parse = (file: string, text: string): Effect.Effect<unknown, FlexiConfigError> =>
  Effect.gen(function*() {
    const contents = file.endsWith(".json")
      ? yield* Effect.try({
        try: (): unknown => JSON.parse(text),
        catch: (error) => new FlexiConfigError({ file, problems: [{ path: file, ...jsonProblem(text, error) }] })
      })
      : yield* parseYaml(file, text)
    if (typeof contents !== "object" || contents === null || Array.isArray(contents)) {
      return yield* fail(file, { message: "the top level must be a mapping (providers, policy, breaker, logging)" })
    }
    return contents
  })

/**
 * Reads and parses a config file.
 *
 * @category reading
 */
export const read = (file: string): Effect.Effect<Loaded, FlexiConfigError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const fileSystem = yield* FileSystem.FileSystem
    const absolute = path.resolve(file)
    const text = yield* fileSystem.readFileString(absolute).pipe(
      Effect.catch((error) =>
        fail(absolute, {
          message: error.reason._tag === "NotFound" ? "config file not found" : `cannot read config file (${error.reason._tag})`
        })
      )
    )
    const contents = yield* parse(absolute, text)
    return { path: absolute, directory: path.dirname(absolute), contents }
  })

/**
 * The first of `defaultFileNames` that exists in `directory`, if any.
 *
 * @category reading
 */
export const discover = (directory: string): Effect.Effect<string | undefined, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const fileSystem = yield* FileSystem.FileSystem
    for (const name of defaultFileNames) {
      const candidate = path.resolve(directory, name)
      if (yield* fileSystem.exists(candidate).pipe(Effect.orElseSucceed(() => false))) return candidate
    }
    return undefined
  })
