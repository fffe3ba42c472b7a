/**
 * A deterministic `ChatProvider` whose outcomes are scripted: replies, typed failures, stream
 * faults (cut, stall, error before content) and hangs, for unit tests of the router and for
 * users' own specs. Every wait is an `Effect.sleep`, so `TestClock` drives it and no test sleeps
 * for real; every call is recorded (method, request, index, start time) for assertions.
 *
 * ```ts
 * const layer = TestChatProvider.layer({
 *   name: "primary",
 *   script: [{ fail: TestChatProvider.rateLimited("2 seconds") }, { reply: "Hello there" }]
 * })
 * ```
 *
 * @since 0.1.0
 */
import { ChatProvider, ChatRequest, ProviderError } from "@flexiai/core"
import type { ChatResponse, StreamPart } from "@flexiai/core"
import { Clock, Duration, Effect, Layer, Ref, Stream } from "effect"

// ---------------------------------------------------------------------------
// script
// ---------------------------------------------------------------------------

/**
 * What a scripted answer says and how it streams.
 *
 * @category models
 */
export interface ReplyFields {
  /** The whole answer text (for a prefilled request, the prefill included: see `make`). */
  readonly reply: string
  /** How `stream` splits the text; must join to `reply`. Default: words, each with the whitespace before it. */
  readonly chunks?: ReadonlyArray<string> | undefined
  readonly toolCalls?: ReadonlyArray<ChatRequest.ToolCall> | undefined
  /**
   * Reasoning the model shows before its answer, as the chunks `stream` emits (`reasoning-delta`
   * parts, before any text); `chat` returns them joined as one block.
   */
  readonly reasoning?: ReadonlyArray<string> | undefined
  /** The signature of the reasoning block: on `chat`'s block, and on the last reasoning delta. */
  readonly reasoningSignature?: string | undefined
  /** Default `"stop"`, or `"tool_calls"` when `toolCalls` is not empty. */
  readonly finishReason?: ChatResponse.FinishReason | undefined
  /** Default: prompt words, answer words and their sum. */
  readonly usage?: ChatResponse.Usage | undefined
  /** Wait before the answer (`chat`) or before the first part (`stream`). */
  readonly delay?: Duration.Input | undefined
  /** `stream` only: wait before every content part after the first (and before a scripted cut). */
  readonly chunkDelay?: Duration.Input | undefined
  /** The model reported as having answered. Default: the request's model, else `defaultModel`. */
  readonly model?: string | undefined
}

/** A complete answer. @category models */
export interface Reply extends ReplyFields {}

/**
 * A stream that breaks: `cutAfter` content chunks (reasoning chunks first, then text) are emitted, then the stream fails with
 * `cutWith` (default `Connection("stream cut")`), before any tool call or `finish` part.
 * `chat` fails with the same reason after `delay`.
 *
 * @category models
 */
export interface CutAfter extends ReplyFields {
  readonly cutAfter: number
  readonly cutWith?: ProviderError.ProviderErrorReason | undefined
}

/**
 * A stream that goes silent: `stallAfter` content chunks (reasoning first, then text) are emitted, then nothing ever again (only
 * an idle timeout or an interruption ends it). `chat` never answers either.
 *
 * @category models
 */
export interface StallAfter extends ReplyFields {
  readonly stallAfter: number
}

/**
 * An error frame inside an accepted stream, before any content: `stream` fails before its first
 * part, `chat` fails; both after `delay`. `reply` is ignored.
 *
 * @category models
 */
export interface ErrorBeforeContent {
  readonly errorBeforeContent: ProviderError.ProviderErrorReason
  readonly reply?: string | undefined
  readonly delay?: Duration.Input | undefined
  readonly model?: string | undefined
}

/** The call fails with `ProviderError({ provider: name, model, reason: fail })` after `delay`. @category models */
export interface Fail {
  readonly fail: ProviderError.ProviderErrorReason
  readonly delay?: Duration.Input | undefined
}

/** The call never answers (`Effect.never`): for attempt timeouts and deadlines. @category models */
export interface Hang {
  readonly hang: true
}

/**
 * One scripted outcome. Plain data, so a script reads like a table. When a step has more than
 * one fault key, the first of `cutAfter`, `stallAfter`, `errorBeforeContent` wins.
 *
 * @category models
 */
export type Step = Reply | CutAfter | StallAfter | ErrorBeforeContent | Fail | Hang

/** What a function script is given: the call's index (from 0, `chat` and `stream` counted together) and its request. @category models */
export interface ScriptCall {
  readonly index: number
  readonly request: ChatRequest.ChatRequest
}

/** Steps played in call order, or a function choosing each call's step. @category models */
export type Script = ReadonlyArray<Step> | ((call: ScriptCall) => Step)

/** @category models */
export interface Options {
  /** The provider's name: in errors, responses, `finish` parts and the router's attempts. */
  readonly name: string
  /** Default `"test-model"`. */
  readonly defaultModel?: string | undefined
  /** Merged over `allCapabilities` (everything true). */
  readonly capabilities?: Partial<ChatProvider.Capabilities> | undefined
  readonly script: Script
  /**
   * What a call past the end of an array script gets: the last step again (`"repeat-last"`,
   * default), or a defect naming the provider (`"fail"`), so an unexpected extra call fails the
   * test loudly instead of passing as a provider failure the router would handle.
   */
  readonly whenExhausted?: "repeat-last" | "fail" | undefined
}

/** One call as the provider saw it. @category models */
export interface RecordedCall {
  readonly method: "chat" | "stream"
  /** Position among all calls to this provider, from 0. */
  readonly index: number
  readonly request: ChatRequest.ChatRequest
  /** `Clock` time when the call started (for a stream: when it was run, not when it was created). */
  readonly startedAtMillis: number
}

/** @category models */
export interface TestChatProvider {
  readonly provider: ChatProvider.ChatProvider["Service"]
  /** The calls so far, in order. */
  readonly calls: Effect.Effect<ReadonlyArray<RecordedCall>>
}

// ---------------------------------------------------------------------------
// reasons
// ---------------------------------------------------------------------------

/** A 429, with the provider's Retry-After when given. @category reasons */
export const rateLimited = (retryAfter?: Duration.Input, message = "rate limited"): ProviderError.RateLimited =>
  new ProviderError.RateLimited({
    message,
    ...(retryAfter === undefined ? {} : { retryAfter: Duration.fromInputUnsafe(retryAfter) })
  })

/** @category reasons */
export const overloaded = (message = "overloaded"): ProviderError.Overloaded =>
  new ProviderError.Overloaded({ message })

/** A 5xx. @category reasons */
export const serverError = (status = 500, message = "internal server error"): ProviderError.ServerError =>
  new ProviderError.ServerError({ message, status })

/** @category reasons */
export const timeout = (phase: ProviderError.TimeoutPhase = "total", message = "timed out"): ProviderError.Timeout =>
  new ProviderError.Timeout({ message, phase })

/** @category reasons */
export const connection = (message = "connection reset"): ProviderError.Connection =>
  new ProviderError.Connection({ message })

/** A 401. @category reasons */
export const authentication = (message = "invalid api key"): ProviderError.Authentication =>
  new ProviderError.Authentication({ message })

/** A 400: stops the router by default. @category reasons */
export const invalidRequest = (message = "invalid request"): ProviderError.InvalidRequest =>
  new ProviderError.InvalidRequest({ message })

/** Stops the router by default. @category reasons */
export const contentFiltered = (message = "content filtered"): ProviderError.ContentFiltered =>
  new ProviderError.ContentFiltered({ message })

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

// Each chunk keeps the whitespace before its word, so chunks always join back to the text.
const splitWords = (text: string): ReadonlyArray<string> => text.split(/(?<=\S)(?=\s)/).filter((chunk) => chunk !== "")

const countWords = (text: string): number => text.split(/\s+/).filter((word) => word !== "").length

// Drops the first `count` characters across chunks, keeping the split of what remains.
const dropPrefix = (chunks: ReadonlyArray<string>, count: number): ReadonlyArray<string> => {
  const remaining: Array<string> = []
  let toDrop = count
  for (const chunk of chunks) {
    if (toDrop >= chunk.length) {
      toDrop -= chunk.length
      continue
    }
    remaining.push(chunk.slice(toDrop))
    toDrop = 0
  }
  return remaining
}

const prefillOf = (request: ChatRequest.ChatRequest): string | undefined => {
  const last = request.messages.at(-1)
  if (last === undefined || last.role !== "assistant" || (last.toolCalls ?? []).length > 0) return undefined
  const text = ChatRequest.textOf(last)
  return text === "" ? undefined : text
}

interface Answer {
  readonly text: string
  readonly chunks: ReadonlyArray<string>
  readonly toolCalls: ReadonlyArray<ChatRequest.ToolCall>
  readonly reasoning: ReadonlyArray<string>
  readonly reasoningSignature: string | undefined
  readonly finishReason: ChatResponse.FinishReason
  readonly usage: ChatResponse.Usage
  readonly model: string
}

const sleepFor = (input: Duration.Input | undefined): Effect.Effect<void> =>
  input === undefined ? Effect.void : Effect.sleep(input)

// ---------------------------------------------------------------------------
// constructors
// ---------------------------------------------------------------------------

/**
 * Builds the provider and its call log. The script cursor and the log live in `Ref`s created
 * here, so each `make` (and each build of `layer`) starts from the first step.
 *
 * A request whose last message is an assistant message is a prefill the model continues: when
 * the scripted `reply` starts with the prefill text, only the rest is returned and streamed
 * (the split of `chunks` is kept), as a real provider does; otherwise the whole `reply` is.
 *
 * @category constructors
 */
export const make = Effect.fnUntraced(function*(options: Options) {
  const name = options.name
  const defaultModel = options.defaultModel ?? "test-model"
  const whenExhausted = options.whenExhausted ?? "repeat-last"
  const log = yield* Ref.make<ReadonlyArray<RecordedCall>>([])

  const stepFor = (call: ScriptCall): Effect.Effect<Step> => {
    const script = options.script
    if (typeof script === "function") return Effect.sync(() => script(call))
    const step = script[call.index] ?? (whenExhausted === "repeat-last" ? script.at(-1) : undefined)
    return step === undefined
      ? Effect.die(new Error(`TestChatProvider "${name}": script exhausted at call ${call.index} (${script.length} steps)`))
      : Effect.succeed(step)
  }

  // Records the call and picks its step in one go, so concurrent calls get distinct indexes.
  const begin = Effect.fnUntraced(function*(method: RecordedCall["method"], request: ChatRequest.ChatRequest) {
    const startedAtMillis = yield* Clock.currentTimeMillis
    const index = yield* Ref.modify(log, (calls): [number, ReadonlyArray<RecordedCall>] => [
      calls.length,
      [...calls, { method, index: calls.length, request, startedAtMillis }]
    ])
    const step = yield* stepFor({ index, request })
    return { index, step, startedAtMillis }
  })

  const failure = (request: ChatRequest.ChatRequest, reason: ProviderError.ProviderErrorReason, model?: string) =>
    ProviderError.make(name, reason, { model: model ?? request.model ?? defaultModel })

  const answerOf = (request: ChatRequest.ChatRequest, step: ReplyFields): Effect.Effect<Answer> => {
    const fullChunks = step.chunks ?? splitWords(step.reply)
    if (fullChunks.join("") !== step.reply) {
      return Effect.die(
        new Error(`TestChatProvider "${name}": chunks ${JSON.stringify(fullChunks)} do not join to the reply`)
      )
    }
    const prefill = prefillOf(request)
    const continues = prefill !== undefined && step.reply.startsWith(prefill)
    const text = continues ? step.reply.slice(prefill.length) : step.reply
    const chunks = continues ? dropPrefix(fullChunks, prefill.length) : fullChunks
    const toolCalls = step.toolCalls ?? []
    const promptTokens = request.messages.reduce((total, message) => total + countWords(ChatRequest.textOf(message)), 0)
    const completionTokens = countWords(text)
    return Effect.succeed({
      text,
      chunks,
      toolCalls,
      reasoning: step.reasoning ?? [],
      reasoningSignature: step.reasoningSignature,
      finishReason: step.finishReason ?? (toolCalls.length > 0 ? "tool_calls" : "stop"),
      usage: step.usage ?? { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens },
      model: step.model ?? request.model ?? defaultModel
    })
  }

  const chat = Effect.fnUntraced(function*(request: ChatRequest.ChatRequest) {
    const { index, startedAtMillis, step } = yield* begin("chat", request)
    if ("hang" in step) return yield* Effect.never
    yield* sleepFor(step.delay)
    if ("fail" in step) return yield* failure(request, step.fail)
    if ("errorBeforeContent" in step) return yield* failure(request, step.errorBeforeContent, step.model)
    // A non-streaming call cannot deliver part of an answer: a cut fails it, a stall hangs it.
    if ("cutAfter" in step) return yield* failure(request, step.cutWith ?? connection("stream cut"), step.model)
    if ("stallAfter" in step) return yield* Effect.never
    const answer = yield* answerOf(request, step)
    const finishedAtMillis = yield* Clock.currentTimeMillis
    const response: ChatResponse.ChatResponse = {
      id: `${name}-${index}`,
      text: answer.text,
      toolCalls: answer.toolCalls,
      ...(answer.reasoning.length === 0 ? {} : {
        reasoning: [{
          text: answer.reasoning.join(""),
          ...(answer.reasoningSignature === undefined ? {} : { signature: answer.reasoningSignature })
        }]
      }),
      finishReason: answer.finishReason,
      usage: answer.usage,
      provider: name,
      model: answer.model,
      latencyMillis: finishedAtMillis - startedAtMillis,
      attempts: []
    }
    return response
  })

  // Emits parts in order, waiting `chunkDelay` before every part after the first.
  const paced = (
    parts: ReadonlyArray<StreamPart.StreamPart>,
    chunkDelay: Duration.Input | undefined
  ): Stream.Stream<StreamPart.StreamPart> =>
    Stream.fromIterable(parts).pipe(
      Stream.mapEffect((part, position) => position === 0 ? Effect.succeed(part) : Effect.as(sleepFor(chunkDelay), part))
    )

  // reasoning deltas first (the last one signed, when a signature is scripted), then text deltas
  const contentParts = (answer: Answer): ReadonlyArray<StreamPart.StreamPart> => {
    const last = answer.reasoning.length - 1
    const reasoning = answer.reasoning.map((text, position): StreamPart.StreamPart =>
      position === last && answer.reasoningSignature !== undefined
        ? { type: "reasoning-delta", text, signature: answer.reasoningSignature }
        : { type: "reasoning-delta", text }
    )
    return [...reasoning, ...answer.chunks.map((text): StreamPart.StreamPart => ({ type: "text-delta", text }))]
  }

  const stream = (request: ChatRequest.ChatRequest): Stream.Stream<StreamPart.StreamPart, ProviderError.ProviderError> =>
    Stream.unwrap(Effect.gen(function*() {
      const { step } = yield* begin("stream", request)
      if ("hang" in step) return yield* Effect.never
      yield* sleepFor(step.delay)
      if ("fail" in step) return Stream.fail(failure(request, step.fail))
      if ("errorBeforeContent" in step) return Stream.fail(failure(request, step.errorBeforeContent, step.model))
      const answer = yield* answerOf(request, step)
      if ("cutAfter" in step) {
        const sent = contentParts(answer).slice(0, Math.max(0, step.cutAfter))
        const cut = Stream.fromEffect(
          Effect.andThen(
            sent.length === 0 ? Effect.void : sleepFor(step.chunkDelay),
            Effect.fail(failure(request, step.cutWith ?? connection("stream cut"), answer.model))
          )
        )
        return Stream.concat(paced(sent, step.chunkDelay), cut)
      }
      if ("stallAfter" in step) {
        const sent = contentParts(answer).slice(0, Math.max(0, step.stallAfter))
        return Stream.concat(paced(sent, step.chunkDelay), Stream.never)
      }
      const toolParts = answer.toolCalls.flatMap((toolCall, index): ReadonlyArray<StreamPart.StreamPart> => [
        { type: "tool-call-delta", index, id: toolCall.id, name: toolCall.name, argumentsDelta: toolCall.arguments },
        { type: "tool-call", index, toolCall }
      ])
      const finish: StreamPart.StreamPart = {
        type: "finish",
        finishReason: answer.finishReason,
        usage: answer.usage,
        provider: name,
        model: answer.model
      }
      return Stream.concat(paced([...contentParts(answer), ...toolParts], step.chunkDelay), Stream.make(finish))
    }))

  const provider = ChatProvider.ChatProvider.of({
    name,
    defaultModel,
    capabilities: { ...ChatProvider.allCapabilities, ...options.capabilities },
    chat,
    stream
  })
  const result: TestChatProvider = { provider, calls: Ref.get(log) }
  return result
})

// ---------------------------------------------------------------------------
// layers
// ---------------------------------------------------------------------------

/**
 * The provider as a layer; each build starts a fresh script and log. Use `recorded` to assert on
 * the calls.
 *
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<ChatProvider.ChatProvider> =>
  Layer.effect(ChatProvider.ChatProvider, Effect.map(make(options), (built) => built.provider))

/**
 * The provider as a layer plus its call log: build it in the test, hand `layer` to the code
 * under test (a router, say), then read `calls`. Every build of `layer` shares this one script
 * cursor and log.
 *
 * @category layers
 */
export const recorded = (options: Options): Effect.Effect<{
  readonly layer: Layer.Layer<ChatProvider.ChatProvider>
  readonly calls: Effect.Effect<ReadonlyArray<RecordedCall>>
}> =>
  Effect.map(make(options), (built) => ({
    layer: Layer.succeed(ChatProvider.ChatProvider, built.provider),
    calls: built.calls
  }))
