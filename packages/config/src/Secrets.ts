/**
 * Secret references. A config names where a secret lives instead of holding it:
 *
 * - `env:NAME`: an environment variable, read through the `ConfigProvider` in context;
 * - `file:PATH`: a file's contents, trailing newlines trimmed; a relative path is relative to
 *   the config file's directory (to the working directory when the reference came from the
 *   environment or code);
 * - `keychain:service/account`: the OS keychain (macOS Keychain, Windows Credential Manager,
 *   Linux Secret Service / keyutils) through the optional native binding `@napi-rs/keyring`.
 *
 * Anything else is the secret itself. Every value is wrapped in `Redacted` as it is read, and a
 * failure message names the reference, never a value.
 *
 * Why the keychain binding is loaded with a dynamic import: it is native code with prebuilt
 * binaries per platform, shipped as optional packages. A machine without one must still load
 * this package; only a config that uses `keychain:` fails, with a message saying why.
 *
 * @since 0.1.0
 */
import { Config, Context, Effect, FileSystem, Option, Path, Redacted } from "effect"

/** A parsed secret reference. @category models */
export type Reference =
  | { readonly _tag: "Env"; readonly name: string }
  | { readonly _tag: "File"; readonly path: string }
  | { readonly _tag: "Keychain"; readonly service: string; readonly account: string }

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Reads a reference out of a secret's text: `undefined` for an inline secret, a string for a
 * malformed reference (the problem to report).
 *
 * @category parsing
 */
export const parse = (text: string): Reference | string | undefined => {
  if (text.startsWith("env:")) {
    const name = text.slice(4)
    return ENV_NAME.test(name) ? { _tag: "Env", name } : "env: expects a variable name (env:NAME)"
  }
  if (text.startsWith("file:")) {
    const path = text.slice(5)
    return path === "" ? "file: expects a path (file:PATH)" : { _tag: "File", path }
  }
  if (text.startsWith("keychain:")) {
    const rest = text.slice(9)
    const slash = rest.indexOf("/")
    return slash <= 0 || slash === rest.length - 1
      ? "keychain: expects keychain:service/account"
      : { _tag: "Keychain", service: rest.slice(0, slash), account: rest.slice(slash + 1) }
  }
  return undefined
}

/** How a reference is shown in messages: the reference itself is not secret. @category formatting */
export const show = (reference: Reference): string => {
  switch (reference._tag) {
    case "Env":
      return `env:${reference.name}`
    case "File":
      return `file:${reference.path}`
    case "Keychain":
      return `keychain:${reference.service}/${reference.account}`
  }
}

/** The part of `@napi-rs/keyring` this package uses. @category models */
export interface KeyringModule {
  readonly AsyncEntry: new(service: string, account: string) => {
    getPassword(): Promise<string | null | undefined>
  }
}

/** The package name of the optional native keychain binding. @category models */
export const keyringPackage = "@napi-rs/keyring"

/**
 * Loads the keychain binding. A `Reference` so tests (and platforms with another binding) can
 * swap it; the default imports `@napi-rs/keyring` on first use.
 *
 * @category services
 */
export const KeyringLoader = Context.Reference<() => Promise<KeyringModule>>("@flexiai/config/Secrets/KeyringLoader", {
  defaultValue: () => () => {
    // A variable specifier keeps bundlers and the type checker from requiring the optional package.
    const specifier: string = keyringPackage
    return import(specifier) as Promise<KeyringModule>
  }
})

const errorText = (cause: unknown): string =>
  cause instanceof Error ? cause.message : typeof cause === "string" ? cause : "unknown error"

const trimTrailingNewlines = (text: string): string => text.replace(/(?:\r?\n)+$/, "")

/**
 * Options for `resolve`: where relative `file:` paths start.
 *
 * @category models
 */
export interface ResolveOptions {
  readonly baseDirectory: string
}

/**
 * Reads the secret a reference points at. Fails with the problem's message (which names the
 * reference, never a value).
 *
 * @category resolving
 */
export const resolve = (
  reference: Reference,
  options: ResolveOptions
): Effect.Effect<Redacted.Redacted<string>, string, FileSystem.FileSystem | Path.Path> => {
  switch (reference._tag) {
    case "Env":
      return Config.option(Config.Redacted(reference.name)).pipe(
        Effect.mapError(() => `${show(reference)}: the environment could not be read`),
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(`${show(reference)}: ${reference.name} is not set`),
          onSome: Effect.succeed
        }))
      )
    case "File":
      return Effect.gen(function*() {
        const path = yield* Path.Path
        const fileSystem = yield* FileSystem.FileSystem
        const absolute = path.resolve(options.baseDirectory, reference.path)
        const contents = yield* fileSystem.readFileString(absolute).pipe(
          Effect.mapError((error) =>
            `${show(reference)}: cannot read ${absolute} (${error.reason._tag})`
          )
        )
        const secret = trimTrailingNewlines(contents)
        if (secret === "") return yield* Effect.fail(`${show(reference)}: ${absolute} is empty`)
        return Redacted.make(secret)
      })
    case "Keychain":
      return Effect.gen(function*() {
        const load = yield* KeyringLoader
        const keyring = yield* Effect.tryPromise({ try: load, catch: errorText }).pipe(
          Effect.filterOrFail(
            (module): module is KeyringModule => typeof module?.AsyncEntry === "function",
            () => "the module has no AsyncEntry"
          ),
          Effect.mapError((why) =>
            `keychain: the native binding ${keyringPackage} is not available on this platform (${why}); ` +
            `install it, or use env:NAME or file:PATH instead`
          )
        )
        const password = yield* Effect.tryPromise({
          try: () => new keyring.AsyncEntry(reference.service, reference.account).getPassword(),
          catch: (cause) => `${show(reference)}: the keychain could not be read (${errorText(cause)})`
        })
        if (password === null || password === undefined || password === "") {
          return yield* Effect.fail(`${show(reference)}: no such entry in the keychain`)
        }
        return Redacted.make(password)
      })
  }
}
