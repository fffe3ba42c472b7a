/**
 * FlexiAI for code not written in Effect: `make(config)` runs `FlexiAI.layer` / `layerConfig` in a
 * `ManagedRuntime` and hands out promises and async iterables. Exported as `FlexiAI.make`.
 *
 * What users get wrong: call `dispose()` when done (it closes the providers' connections), and
 * check `error._tag` on a rejection: promises reject with the library's typed errors themselves.
 *
 * Per call (`CallOptions`): a deadline and providers to use or avoid (`Router.withCallOptions`),
 * and an `AbortSignal`. An aborted call is interrupted, its HTTP request closed, and its promise
 * (or the stream's pending `next()`) rejects with `signal.reason`, as `fetch` does: a `DOMException`
 * named `"AbortError"` for `controller.abort()`, `"TimeoutError"` for `AbortSignal.timeout(ms)`.
 *
 * A stream's connection is released at once by `return()` (what `break`, `return` and a throw in a
 * `for await` loop call), by its signal, when it ends, and by `dispose()`; an iterator the caller
 * drops without any of these is released when it is garbage collected (a `FinalizationRegistry`),
 * which the runtime does not promise to do soon: end loops with `break`, or pass a signal.
 *
 * @since 0.2.0
 */
import type { FlexiConfig, FlexiConfigError } from "@flexiai/config"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import type { ChatResponse } from "@flexiai/core/ChatResponse"
import * as Router from "@flexiai/core/Router"
import type { StreamPart } from "@flexiai/core/StreamPart"
import { Cause, ConfigProvider, Effect, Exit, Layer, ManagedRuntime, Stream } from "effect"
import { type ConfigOptions, FlexiAI, type HealthReport, isResolved, layer, layerConfig, type ModelList, type Options, type ProviderStatus, type Stats } from "./FlexiAI.ts"


/**
 * Options for one `chat` or `stream` call of the promise client: `deadline` and `providers`
 * (`only` / `avoid`) as `Router.CallOptions` — a deadline that replaces the policy's for this
 * call, provider names checked before any request (`UnknownProvider`, `InvalidCallOptions`) —
 * and `signal`: aborting it interrupts the call, closes its HTTP request and rejects with
 * `signal.reason` (already aborted: rejects at once, no request is sent).
 *
 * @category models
 */
export interface CallOptions extends Router.CallOptions {
  readonly signal?: AbortSignal | undefined
}

/**
 * A FlexiAI client for promise-based code. Promises reject with the library's typed errors
 * themselves (`ProviderError`, `CircuitOpen`, `AllProvidersFailed`, `FlexiConfigError`): check
 * `error._tag` (and `error.reason._tag` for a `ProviderError`).
 *
 * @category models
 */
export interface Client {
  /** Sends a prompt, messages or a request and waits for the answer. */
  readonly chat: (input: ChatRequest.ChatInput, options?: CallOptions) => Promise<ChatResponse>
  /**
   * Streams the answer; `for await` over it. Leaving the loop early (`break`, `return`, a throw)
   * closes the stream's HTTP request at once; so does aborting `options.signal`, after which the
   * pending and later `next()` calls reject with `signal.reason`.
   */
  readonly stream: (input: ChatRequest.ChatInput, options?: CallOptions) => AsyncIterable<StreamPart>
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
  readonly runtime: ManagedRuntime.ManagedRuntime<ChatProvider.ChatProvider | FlexiAI | Router.Router, FlexiConfigError>
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

const done: IteratorReturnResult<undefined> = { done: true, value: undefined }

// What releases one stream iterator: kept apart from the iterator the caller holds, so that the
// registry below can release it without keeping the iterator itself alive.
interface Opened {
  inner: Promise<AsyncIterator<StreamPart>> | undefined
  released: boolean
}

const release = (opened: Opened): Promise<IteratorResult<StreamPart>> => {
  opened.released = true
  return opened.inner === undefined ? Promise.resolve(done) : opened.inner.then((iterator) => iterator.return?.() ?? done)
}

// A close that fails has been logged by Effect's iterator already; nobody awaits this one.
const releaseQuietly = (opened: Opened): void => {
  release(opened).then(undefined, () => undefined)
}

// An iterator dropped without `return()` releases its connection when it is collected.
const abandoned = new FinalizationRegistry<Opened>((opened) => {
  if (!opened.released) releaseQuietly(opened)
})

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

  const chat = (input: ChatRequest.ChatInput, options?: CallOptions): Promise<ChatResponse> => {
    const call = options === undefined ? ChatProvider.chat(input) : Router.withCallOptions(options)(ChatProvider.chat(input))
    const signal = options?.signal
    if (signal === undefined) return runtime.runPromise(call)
    if (signal.aborted) return Promise.reject(signal.reason)
    // the run's signal interrupts the call; the promise settles once it is interrupted (its request closed)
    return runtime.runPromiseExit(call, { signal }).then((exit) => {
      if (Exit.isSuccess(exit)) return exit.value
      throw signal.aborted && Cause.hasInterruptsOnly(exit.cause) ? signal.reason : Cause.squash(exit.cause)
    })
  }

  const stream = (input: ChatRequest.ChatInput, options?: CallOptions): AsyncIterable<StreamPart> => ({
    [Symbol.asyncIterator]() {
      const signal = options?.signal
      const source = options === undefined ? ChatProvider.stream(input) : Router.withCallOptions(options)(ChatProvider.stream(input))
      const opened: Opened = { inner: undefined, released: false }
      // the runtime may still be building: open the Effect stream's iterator on the first `next`
      const start = () => {
        if (opened.inner === undefined) {
          opened.inner = runtime.context().then((context) => Stream.toAsyncIterableWith(source, context)[Symbol.asyncIterator]())
        }
        return opened.inner
      }
      const finish = () => {
        abandoned.unregister(opened)
        signal?.removeEventListener("abort", onAbort)
      }
      const onAbort = () => {
        finish()
        releaseQuietly(opened)
      }
      signal?.addEventListener("abort", onAbort, { once: true })
      const aborted = () => Promise.reject(signal!.reason)
      const iterator: AsyncIterator<StreamPart> = {
        next: () => {
          // an abort never reads as the end of the answer: every `next` after it rejects
          if (signal?.aborted) return release(opened).then(aborted, aborted)
          if (opened.released) return Promise.resolve(done)
          return start().then((inner) => inner.next()).then(
            (result) => {
              if (signal?.aborted) return aborted()
              if (result.done === true) {
                opened.released = true
                finish()
              }
              return result
            },
            (error: unknown) => {
              opened.released = true
              finish()
              return Promise.reject(signal?.aborted ? signal.reason : error)
            }
          )
        },
        return: () => {
          finish()
          return release(opened)
        },
        throw: (error: unknown) => {
          finish()
          return release(opened).then(() => Promise.reject(error))
        }
      }
      abandoned.register(iterator, opened, opened)
      return iterator
    }
  })

  // closing the runtime closes the HTTP clients' connections, open streams' included
  const dispose = () => runtime.dispose()
  return {
    chat,
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
