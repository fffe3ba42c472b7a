/**
 * FlexiAI for code not written in Effect: `make(config)` runs `FlexiAI.layer` / `layerConfig` in a
 * `ManagedRuntime` and hands out promises and async iterables. Exported as `FlexiAI.make`.
 *
 * What users get wrong: call `dispose()` when done (it closes the providers' connections), and
 * check `error._tag` on a rejection: promises reject with the library's typed errors themselves.
 *
 * @since 0.2.0
 */
import type { FlexiConfig, FlexiConfigError } from "@flexiai/config"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import type { ChatResponse } from "@flexiai/core/ChatResponse"
import type { StreamPart } from "@flexiai/core/StreamPart"
import { ConfigProvider, Effect, Layer, ManagedRuntime, Stream } from "effect"
import { type ConfigOptions, FlexiAI, type HealthReport, isResolved, layer, layerConfig, type ModelList, type Options, type ProviderStatus, type Stats } from "./FlexiAI.ts"


/**
 * A FlexiAI client for promise-based code. Promises reject with the library's typed errors
 * themselves (`ProviderError`, `CircuitOpen`, `AllProvidersFailed`, `FlexiConfigError`): check
 * `error._tag` (and `error.reason._tag` for a `ProviderError`).
 *
 * @category models
 */
export interface Client {
  /** Sends a prompt, messages or a request and waits for the answer. */
  readonly chat: (input: ChatRequest.ChatInput) => Promise<ChatResponse>
  /**
   * Streams the answer; `for await` over it. Leaving the loop early (`break`, `return`, a throw)
   * interrupts the stream and its HTTP request.
   */
  readonly stream: (input: ChatRequest.ChatInput) => AsyncIterable<StreamPart>
  readonly status: () => Promise<ReadonlyArray<ProviderStatus>>
  readonly stats: () => Promise<Stats>
  readonly health: () => Promise<HealthReport>
  readonly listModels: () => Promise<ModelList>
  readonly setPrimary: (name: string) => Promise<void>
  readonly disable: (name: string) => Promise<void>
  readonly enable: (name: string) => Promise<void>
  readonly resetCircuits: (provider?: string) => Promise<void>
  /** Builds the client now (otherwise the first call does); rejects with a `FlexiConfigError` for a bad config. */
  readonly ready: () => Promise<void>
  /** Closes connections and releases everything; the client is unusable afterwards. */
  readonly dispose: () => Promise<void>
  readonly [Symbol.asyncDispose]: () => Promise<void>
  /** The runtime underneath, to run your own Effects with `ChatProvider` and `FlexiAI` provided. */
  readonly runtime: ManagedRuntime.ManagedRuntime<ChatProvider.ChatProvider | FlexiAI, FlexiConfigError>
}

/**
 * `make`'s way of reading the config sources (as `layerConfig`), with `env` standing in for
 * `process.env` (promise code has no `ConfigProvider` to provide).
 *
 * @category models
 */
export interface SourceOptions extends ConfigOptions {
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
}

const definedOnly = (env: Readonly<Record<string, string | undefined>>): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined))

const isSourceOptions = (config: FlexiConfig.Input | SourceOptions): config is SourceOptions =>
  Object.keys(config).length === 0 || "file" in config || "overrides" in config || "env" in config

/**
 * A `Client` over a `ManagedRuntime` of `layer(config)`, or, given `SourceOptions` (or nothing),
 * of `layerConfig(options)`: the file and the environment. Nothing is built until the first
 * call (or `ready()`); call `dispose()` when done.
 *
 * ```ts
 * const client = FlexiAI.make({ file: "flexiai.config.yaml" })
 * const answer = await client.chat("hi")
 * for await (const part of client.stream("tell me more")) if (part.type === "text-delta") process.stdout.write(part.text)
 * await client.dispose()
 * ```
 *
 * @category constructors
 */
export const make = (
  config: FlexiConfig.Input | FlexiConfig.ResolvedConfig | SourceOptions = {},
  options: Options = {}
): Client => {
  const clientLayer = isResolved(config)
    ? layer(config, options)
    : isSourceOptions(config)
    ? config.env === undefined
      ? layerConfig({ ...options, ...config })
      : layerConfig({ ...options, ...config }).pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: definedOnly(config.env) }))))
    : layer(config, options)
  const runtime = ManagedRuntime.make(clientLayer)
  const control = <A, E>(f: (flexi: FlexiAI["Service"]) => Effect.Effect<A, E>) => runtime.runPromise(FlexiAI.use(f))

  const stream = (input: ChatRequest.ChatInput): AsyncIterable<StreamPart> => ({
    [Symbol.asyncIterator]() {
      // the runtime may still be building: open the Effect stream's iterator on the first `next`
      let opening: Promise<AsyncIterator<StreamPart>> | undefined
      const open = () =>
        opening ??= runtime.context().then((context) =>
          Stream.toAsyncIterableWith(ChatProvider.stream(input), context)[Symbol.asyncIterator]()
        )
      const done: IteratorReturnResult<undefined> = { done: true, value: undefined }
      return {
        next: () => open().then((iterator) => iterator.next()),
        return: () => opening === undefined ? Promise.resolve(done) : opening.then((iterator) => iterator.return?.() ?? done),
        throw: (error: unknown) =>
          opening === undefined ? Promise.reject(error) : opening.then((iterator) => iterator.throw?.(error) ?? Promise.reject(error))
      }
    }
  })

  const dispose = () => runtime.dispose()
  return {
    chat: (input) => runtime.runPromise(ChatProvider.chat(input)),
    stream,
    status: () => control((flexi) => flexi.status),
    stats: () => control((flexi) => flexi.stats),
    health: () => control((flexi) => flexi.health),
    listModels: () => control((flexi) => flexi.listModels),
    setPrimary: (name) => control((flexi) => flexi.setPrimary(name)),
    disable: (name) => control((flexi) => flexi.disable(name)),
    enable: (name) => control((flexi) => flexi.enable(name)),
    resetCircuits: (provider) => control((flexi) => flexi.resetCircuits(provider)),
    ready: () => runtime.context().then(() => undefined),
    dispose,
    [Symbol.asyncDispose]: dispose,
    runtime
  }
}
