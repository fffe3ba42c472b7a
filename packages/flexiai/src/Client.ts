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
 * `for await` loop call), by its signal, when it ends, and by `dispose()`. A stream the caller stops
 * reading is released at its call's deadline (its own, else the policy's): the router enforces the
 * deadline on reads, so the client makes the read for it then and keeps the outcome (the
 * deadline's `StreamInterrupted` with the partial output) for the caller's next `next()`. An
 * iterator dropped unread is also released when it is garbage collected (a `FinalizationRegistry`).
 *
 * @since 0.2.0
 */
import type { FlexiConfig, FlexiConfigError } from "@flexiai/config"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import type { ChatResponse } from "@flexiai/core/ChatResponse"
import type * as Metering from "@flexiai/core/Metering"
import * as Router from "@flexiai/core/Router"
import type { StreamPart } from "@flexiai/core/StreamPart"
import { Cause, ConfigProvider, Context, Duration, Effect, Exit, Layer, ManagedRuntime, Option, Stream } from "effect"
import type * as ProviderKind from "@flexiai/provider/ProviderKind"
import {
  type ConfigOptions,
  type Costs,
  FlexiAI,
  type HealthReport,
  type Input,
  isResolved,
  layer,
  layerConfig,
  type ModelList,
  type Options,
  type ProviderStatus,
  type Stats
} from "./FlexiAI.ts"


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
   * pending and later `next()` calls reject with `signal.reason`. A stream left unread is released
   * at its call's deadline; its next `next()` then rejects with the deadline's error.
   */
  readonly stream: (input: ChatRequest.ChatInput, options?: CallOptions) => AsyncIterable<StreamPart>
  readonly status: () => Promise<ReadonlyArray<ProviderStatus>>
  readonly stats: () => Promise<Stats>
  readonly health: () => Promise<HealthReport>
  readonly listModels: () => Promise<ModelList>
  /** Usage and cost totals and the budgets' current windows (`FlexiAI.costs`). */
  readonly costs: () => Promise<Costs>
  /** What a request is expected to cost before it is sent (`FlexiAI.estimateCost`). */
  readonly estimateCost: (input: ChatRequest.ChatInput) => Promise<Metering.CostEstimate>
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

// One stream iterator's state, kept apart from the iterator the caller holds, so that the registry
// and the deadline's timer below can release it without keeping the iterator itself alive.
interface Opened {
  inner: Promise<AsyncIterator<StreamPart>> | undefined
  released: boolean
  /** A `next()` of the caller's is in flight: its read is under the call's deadline already. */
  reading: boolean
  /** The call's deadline passed (see `expire`). */
  expired: boolean
  timer: ReturnType<typeof setTimeout> | undefined
  /** What reads made after the deadline gave, handed out in order by the caller's next `next()` calls. */
  drained: Promise<Array<Drained>> | undefined
}

type Drained = { readonly result: IteratorResult<StreamPart> } | { readonly error: unknown }

const release = (opened: Opened): Promise<IteratorResult<StreamPart>> => {
  opened.released = true
  if (opened.timer !== undefined) clearTimeout(opened.timer)
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

// Reads on until the stream ends or fails. Past the call's deadline the router makes no network
// read: it hands out what it already holds, then fails with the deadline's `StreamInterrupted`
// (the partial output attached) and closes the provider's request.
const drain = (inner: AsyncIterator<StreamPart>): Promise<Array<Drained>> => {
  const out: Array<Drained> = []
  const step = (): Promise<Array<Drained>> =>
    inner.next().then(
      (result) => {
        out.push({ result })
        return result.done === true ? out : step()
      },
      (error: unknown) => {
        out.push({ error })
        return out
      }
    )
  return step()
}

// The call's deadline passed. The router enforces it on reads, and a stream nobody reads makes
// none: so read for the caller now (or as soon as the read in flight ends), which releases the
// connection, and keep what that read gives for the caller's next `next()`.
const expire = (opened: Opened): void => {
  opened.expired = true
  if (opened.released || opened.reading || opened.inner === undefined || opened.drained !== undefined) return
  opened.drained = opened.inner.then(drain)
}

// setTimeout's ceiling: a longer deadline (24.8 days) arms no timer.
const maxTimerMillis = 2 ** 31 - 1

/** The deadline of a stream's call in millis: its own, else the router's policy's; `undefined` for none. */
const deadlineMillis = (options: CallOptions | undefined, router: Router.Router["Service"]): number | undefined => {
  const own = options?.deadline === undefined ? undefined : Option.getOrUndefined(Duration.fromInput(options.deadline))
  // a bad deadline fails the call itself (`InvalidCallOptions`) at its first read
  const millis = Duration.toMillis(own ?? router.deadline)
  return millis > 0 && millis <= maxTimerMillis ? millis : undefined
}

const isSourceOptions = (config: object): config is SourceOptions =>
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
export const make = <const Extra extends ReadonlyArray<ProviderKind.Any> = readonly []>(
  // a config object is typed by the registered descriptors, as `FlexiAI.layer`'s is
  config: Input<Extra[number]> | FlexiConfig.ResolvedConfig | SourceOptions = {},
  options: Options & { readonly providers?: Extra | undefined } = {}
): Client => {
  const clientLayer = isResolved(config)
    ? layer(config, options)
    : isSourceOptions(config)
    ? config.env === undefined
      ? layerConfig({ ...options, ...config })
      : layerConfig({ ...options, ...config }).pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: definedOnly(config.env) }))))
    : layer(config as Input<Extra[number]>, options)
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
      const opened: Opened = { inner: undefined, released: false, reading: false, expired: false, timer: undefined, drained: undefined }
      // the runtime may still be building: open the Effect stream's iterator on the first `next`,
      // when the call starts, and arm its deadline's timer then
      const start = () =>
        opened.inner ??= runtime.context().then((context) => {
          const millis = deadlineMillis(options, Context.get(context, Router.Router))
          if (millis !== undefined && !opened.released) {
            opened.timer = setTimeout(expire, millis, opened)
            opened.timer.unref?.()
          }
          return Stream.toAsyncIterableWith(source, context)[Symbol.asyncIterator]()
        })
      const finish = () => {
        abandoned.unregister(opened)
        signal?.removeEventListener("abort", onAbort)
        if (opened.timer !== undefined) clearTimeout(opened.timer)
      }
      const onAbort = () => {
        finish()
        releaseQuietly(opened)
      }
      signal?.addEventListener("abort", onAbort, { once: true })
      const aborted = () => Promise.reject(signal!.reason)
      const ended = <A>(value: A): A => {
        opened.released = true
        finish()
        return value
      }
      const fromDrained = (results: Array<Drained>): Promise<IteratorResult<StreamPart>> => {
        const first = results.shift()
        if (first === undefined) return Promise.resolve(done)
        if ("error" in first) return Promise.reject(ended(first.error))
        return Promise.resolve(first.result.done === true ? ended(first.result) : first.result)
      }
      const iterator: AsyncIterator<StreamPart> = {
        next: () => {
          // an abort never reads as the end of the answer: every `next` after it rejects
          if (signal?.aborted) return release(opened).then(aborted, aborted)
          if (opened.drained !== undefined) return opened.drained.then(fromDrained)
          if (opened.released) return Promise.resolve(done)
          opened.reading = true
          return start().then((inner) => inner.next()).then(
            (result) => {
              opened.reading = false
              if (signal?.aborted) return aborted()
              if (result.done === true) return ended(result)
              if (opened.expired) expire(opened)
              return result
            },
            (error: unknown) => {
              opened.reading = false
              return Promise.reject(ended(signal?.aborted ? signal.reason : error))
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
    costs: () => control((flexi) => flexi.costs),
    estimateCost: (input) => control((flexi) => flexi.estimateCost(input)),
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
