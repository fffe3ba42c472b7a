/**
 * The Chat Completions codec and the `ChatProvider` it provides: `toWire` (ChatRequest → request
 * body), `fromWire` (completion → ChatResponse) and a stream state machine (`initialState`,
 * `step`, `end`) from chunks to `StreamPart`s. They are plain functions, shared by every member of
 * the OpenAI-compatible family; `Quirks` covers what members do differently.
 *
 * Stream integrity: a stream ends with exactly one `finish` part, emitted as soon as the provider
 * has sent its finish reason (and its usage chunk, when asked for) — without waiting for `[DONE]`
 * or the socket. A stream that ends without a finish reason fails with `StreamInterrupted`
 * (carrying the text and tool calls so far); it never ends as if complete. An error event inside a
 * 200 stream becomes the matching typed error.
 *
 * @since 0.1.0
 */
import { Cause, Channel, Clock, Duration, Effect, Layer, Pull, Scope, Stream } from "effect"
import type * as Arr from "effect/Array"
import { constVoid } from "effect/Function"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import * as ProviderError from "@flexiai/core/ProviderError"
import * as Spans from "@flexiai/core/Spans"
import * as TimeLimit from "@flexiai/core/TimeLimit"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import type * as ChatResponse from "@flexiai/core/ChatResponse"
import type * as StreamPart from "@flexiai/core/StreamPart"
import type { Capabilities } from "@flexiai/core/ChatProvider"
import { MalformedResponse, StreamInterrupted } from "@flexiai/core/ProviderError"
import { parseChunk } from "./internal/decode.ts"
import * as Errors from "./internal/errors.ts"
import { makeFramer } from "./internal/sse.ts"
import { OpenAiClient } from "./OpenAiClient.ts"
import * as OpenAiSchema from "./OpenAiSchema.ts"

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

/**
 * Where the members of the family differ.
 *
 * - `maxTokensField`: OpenAI wants `max_completion_tokens` (reasoning models reject `max_tokens`);
 *   most compatible servers only know `max_tokens`.
 * - `streamUsage`: send `stream_options.include_usage` (then the finish waits for the usage chunk).
 * - `metadata` / `user`: whether the API accepts these fields; when not, they are left out with a warning.
 *
 * @category models
 */
export interface Quirks {
  readonly maxTokensField?: "max_completion_tokens" | "max_tokens" | undefined
  /** An assistant turn with tool calls and no text: `content: null` (OpenAI) or no `content` (Foundry). */
  readonly emptyAssistantContent?: "null" | "omit" | undefined
  readonly streamUsage?: boolean | undefined
  readonly metadata?: boolean | undefined
  readonly user?: boolean | undefined
}

/** Quirks with every field decided. @category models */
export interface ResolvedQuirks {
  readonly maxTokensField: "max_completion_tokens" | "max_tokens"
  readonly emptyAssistantContent: "null" | "omit"
  readonly streamUsage: boolean
  readonly metadata: boolean
  readonly user: boolean
}

/** @category models */
export interface Options {
  /** The `ChatProvider` name. Default: the client's name (`"openai"`). */
  readonly name?: string | undefined
  /** Default: the client's `defaultModel`, else `"gpt-4o-mini"`. */
  readonly defaultModel?: string | undefined
  readonly capabilities?: Partial<Capabilities> | undefined
  readonly quirks?: Quirks | undefined
  /** An undecodable stream event is skipped with a warning (default) or fails the stream. */
  readonly onMalformedEvent?: "skip" | "fail" | undefined
}

/** OpenAI proper. @category models */
export const openAiQuirks: ResolvedQuirks = {
  maxTokensField: "max_completion_tokens",
  emptyAssistantContent: "null",
  streamUsage: true,
  metadata: true,
  user: true
}

/** Fills the quirks left out (or `undefined`) from OpenAI's. @category models */
export const resolveQuirks = (quirks: Quirks | undefined): ResolvedQuirks => ({
  maxTokensField: quirks?.maxTokensField ?? openAiQuirks.maxTokensField,
  emptyAssistantContent: quirks?.emptyAssistantContent ?? openAiQuirks.emptyAssistantContent,
  streamUsage: quirks?.streamUsage ?? openAiQuirks.streamUsage,
  metadata: quirks?.metadata ?? openAiQuirks.metadata,
  user: quirks?.user ?? openAiQuirks.user
})

const defaultCapabilities: Capabilities = {
  streaming: true,
  tools: true,
  images: true,
  jsonSchema: true,
  // Chat Completions has no assistant prefill: a trailing assistant message is not continued
  assistantPrefill: false
}

// ---------------------------------------------------------------------------
// request
// ---------------------------------------------------------------------------

const contentToWire = (
  content: ChatRequest.UserMessage["content"]
): string | ReadonlyArray<OpenAiSchema.ContentPart> =>
  typeof content === "string" ? content : content.map((part): OpenAiSchema.ContentPart => {
    if (part.type === "text") return { type: "text", text: part.text }
    const url = part.source.type === "url" ? part.source.url : `data:${part.source.mediaType};base64,${part.source.data}`
    return { type: "image_url", image_url: { url, ...(part.detail === undefined ? {} : { detail: part.detail }) } }
  })

const messageToWire = (message: ChatRequest.Message, quirks: ResolvedQuirks): OpenAiSchema.Message => {
  switch (message.role) {
    case "system":
      return { role: "system", content: message.content }
    case "user":
      return { role: "user", content: contentToWire(message.content), ...(message.name === undefined ? {} : { name: message.name }) }
    case "assistant":
      return {
        role: "assistant",
        ...(message.content === undefined || message.content === null
          ? quirks.emptyAssistantContent === "omit" ? {} : { content: null }
          : { content: message.content }),
        ...(message.toolCalls === undefined || message.toolCalls.length === 0 ? {} : {
          tool_calls: message.toolCalls.map((call) => ({
            id: call.id,
            type: "function" as const,
            function: { name: call.name, arguments: call.arguments }
          }))
        })
      }
    case "tool":
      // the tool message carries no name on this API: tool_call_id identifies the call
      return { role: "tool", tool_call_id: message.toolCallId, content: message.content }
  }
}

const toolChoiceToWire = (choice: ChatRequest.ToolChoice): OpenAiSchema.ToolChoice =>
  typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } }

const responseFormatToWire = (format: ChatRequest.ResponseFormat): OpenAiSchema.ResponseFormat =>
  format.type === "json_schema"
    ? {
      type: "json_schema",
      json_schema: {
        name: format.name,
        schema: format.schema,
        ...(format.description === undefined ? {} : { description: format.description }),
        ...(format.strict === undefined ? {} : { strict: format.strict })
      }
    }
    : { type: format.type }

/** What `toWire` left out because the API cannot express it (logged as warnings). @category models */
export interface WireResult {
  readonly body: OpenAiSchema.CreateChatCompletion
  readonly dropped: ReadonlyArray<string>
}

/**
 * The request body for a `ChatRequest`. `providerOptions[providerName]` is merged in last, as it is.
 *
 * @category mapping
 */
export const toWire = (
  request: ChatRequest.ChatRequest,
  model: string,
  options: { readonly quirks?: Quirks | undefined; readonly providerName?: string | undefined; readonly stream?: boolean | undefined } = {}
): WireResult => {
  const quirks = resolveQuirks(options.quirks)
  const dropped: Array<string> = []
  const body: Record<string, unknown> = {
    model,
    messages: request.messages.map((message) => messageToWire(message, quirks))
  }
  if (options.stream === true) {
    body.stream = true
    if (quirks.streamUsage) body.stream_options = { include_usage: true }
  }
  if (request.temperature !== undefined) body.temperature = request.temperature
  if (request.topP !== undefined) body.top_p = request.topP
  if (request.maxTokens !== undefined) body[quirks.maxTokensField] = request.maxTokens
  if (request.stop !== undefined) body.stop = request.stop
  if (request.seed !== undefined) body.seed = request.seed
  if (request.user !== undefined) {
    if (quirks.user) body.user = request.user
    else dropped.push("user")
  }
  if (request.metadata !== undefined) {
    if (quirks.metadata) body.metadata = request.metadata
    else dropped.push("metadata")
  }
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map((tool): OpenAiSchema.Tool => ({
      type: "function",
      function: {
        name: tool.name,
        parameters: tool.parameters,
        ...(tool.description === undefined ? {} : { description: tool.description }),
        ...(tool.strict === undefined ? {} : { strict: tool.strict })
      }
    }))
  }
  if (request.toolChoice !== undefined) body.tool_choice = toolChoiceToWire(request.toolChoice)
  if (request.responseFormat !== undefined) body.response_format = responseFormatToWire(request.responseFormat)
  const extra = options.providerName === undefined ? undefined : request.providerOptions?.[options.providerName]
  return { body: { ...body, ...extra } as OpenAiSchema.CreateChatCompletion, dropped }
}

// ---------------------------------------------------------------------------
// response
// ---------------------------------------------------------------------------

/**
 * Unified finish reason plus the provider's own value; an unknown value is `"other"`.
 *
 * @category mapping
 */
export const finishReason = (raw: string | null | undefined): {
  readonly finishReason: ChatResponse.FinishReason
  readonly rawFinishReason?: string
} => {
  if (raw === null || raw === undefined) return { finishReason: "other" }
  switch (raw) {
    case "stop":
    case "end_turn":
      return { finishReason: "stop", rawFinishReason: raw }
    case "length":
    case "max_tokens":
      return { finishReason: "length", rawFinishReason: raw }
    case "tool_calls":
    case "function_call":
      return { finishReason: "tool_calls", rawFinishReason: raw }
    case "content_filter":
      return { finishReason: "content_filter", rawFinishReason: raw }
    default:
      return { finishReason: "other", rawFinishReason: raw }
  }
}

/** @category mapping */
export const usage = (wire: OpenAiSchema.Usage | null | undefined): ChatResponse.Usage | undefined => {
  if (wire === null || wire === undefined) return undefined
  const promptTokens = wire.prompt_tokens ?? 0
  const completionTokens = wire.completion_tokens ?? 0
  const cached = wire.prompt_tokens_details?.cached_tokens
  const reasoning = wire.completion_tokens_details?.reasoning_tokens
  return {
    promptTokens,
    completionTokens,
    totalTokens: wire.total_tokens ?? promptTokens + completionTokens,
    ...(typeof cached === "number" ? { cachedTokens: cached } : {}),
    ...(typeof reasoning === "number" ? { reasoningTokens: reasoning } : {})
  }
}

/**
 * A completion as a `ChatResponse` (or the reason it cannot be one). `latencyMillis` is the
 * caller's measurement; `attempts` is empty (the router fills it).
 *
 * @category mapping
 */
export const fromWire = (
  completion: OpenAiSchema.ChatCompletion,
  context: { readonly provider: string; readonly model: string; readonly latencyMillis: number }
): ChatResponse.ChatResponse | MalformedResponse => {
  const choice = completion.choices.find((candidate) => (candidate.index ?? 0) === 0) ?? completion.choices[0]
  if (choice === undefined) return new MalformedResponse({ message: "chat completion without choices" })
  const toolCalls = (choice.message.tool_calls ?? []).map((call, index) => ({
    id: call.id ?? `call_${index}`,
    name: call.function.name ?? "",
    arguments: call.function.arguments ?? ""
  }))
  const wireUsage = usage(completion.usage)
  return {
    id: completion.id ?? "",
    text: choice.message.content ?? "",
    toolCalls,
    ...finishReason(choice.finish_reason),
    ...(wireUsage === undefined ? {} : { usage: wireUsage }),
    provider: context.provider,
    model: completion.model !== undefined && completion.model !== null && completion.model !== "" ? completion.model : context.model,
    latencyMillis: context.latencyMillis,
    attempts: []
  }
}

// ---------------------------------------------------------------------------
// stream
// ---------------------------------------------------------------------------

interface OpenToolCall {
  readonly id: string
  readonly name: string
  readonly arguments: string
  readonly completed: boolean
}

/**
 * Where a stream is. `done` once the `finish` part was emitted; after that, chunks are ignored.
 *
 * @category models
 */
export interface StreamState {
  readonly text: string
  readonly toolCalls: ReadonlyMap<number, OpenToolCall>
  readonly rawFinishReason: string | undefined
  readonly usage: ChatResponse.Usage | undefined
  readonly model: string
  readonly expectUsage: boolean
  readonly done: boolean
}

/** @category mapping */
export const initialState = (model: string, options: { readonly expectUsage: boolean }): StreamState => ({
  text: "",
  toolCalls: new Map(),
  rawFinishReason: undefined,
  usage: undefined,
  model,
  expectUsage: options.expectUsage,
  done: false
})

/** The result of one step: parts to emit, or an error object the provider sent in-band. @category models */
export type Step =
  | { readonly _tag: "Parts"; readonly state: StreamState; readonly parts: ReadonlyArray<StreamPart.StreamPart> }
  | { readonly _tag: "Error"; readonly state: StreamState; readonly error: OpenAiSchema.ErrorObject }

const completeToolCalls = (state: StreamState): [StreamState, Array<StreamPart.StreamPart>] => {
  const parts: Array<StreamPart.StreamPart> = []
  const toolCalls = new Map(state.toolCalls)
  for (const [index, call] of [...toolCalls].sort(([a], [b]) => a - b)) {
    if (call.completed) continue
    toolCalls.set(index, { ...call, completed: true })
    parts.push({ type: "tool-call", index, toolCall: { id: call.id, name: call.name, arguments: call.arguments } })
  }
  return [{ ...state, toolCalls }, parts]
}

const finishPart = (state: StreamState, provider: string): StreamPart.StreamPart => ({
  type: "finish",
  ...finishReason(state.rawFinishReason),
  ...(state.usage === undefined ? {} : { usage: state.usage }),
  provider,
  model: state.model
})

/**
 * Feeds one decoded chunk. Emits `text-delta` and `tool-call-delta` parts as they come, one
 * `tool-call` per call once the finish reason arrives, and the `finish` part once both the finish
 * reason and (when expected) the usage are in.
 *
 * @category mapping
 */
export const step = (state: StreamState, chunk: OpenAiSchema.ChatCompletionChunk, provider: string): Step => {
  if (state.done) return { _tag: "Parts", state, parts: [] }
  if (chunk.error !== undefined && chunk.error !== null) return { _tag: "Error", state, error: chunk.error }
  let next: StreamState = state
  const parts: Array<StreamPart.StreamPart> = []
  // every chunk repeats the model: copy the state only when it changes (this runs once per event)
  if (typeof chunk.model === "string" && chunk.model !== "" && chunk.model !== next.model) next = { ...next, model: chunk.model }
  for (const choice of chunk.choices ?? []) {
    if ((choice.index ?? 0) !== 0) continue
    const delta = choice.delta
    if (typeof delta?.content === "string" && delta.content !== "") {
      parts.push({ type: "text-delta", text: delta.content })
      next = { ...next, text: next.text + delta.content }
    }
    const toolDeltas = delta?.tool_calls
    if (toolDeltas !== undefined && toolDeltas !== null) {
      for (const [position, toolDelta] of toolDeltas.entries()) {
        const index = toolDelta.index ?? position
        const previous = next.toolCalls.get(index)
        const id = typeof toolDelta.id === "string" && toolDelta.id !== "" ? toolDelta.id : undefined
        const name = typeof toolDelta.function?.name === "string" && toolDelta.function.name !== "" ? toolDelta.function.name : undefined
        const argumentsDelta = toolDelta.function?.arguments ?? ""
        const call: OpenToolCall = {
          id: previous?.id || id || "",
          name: (previous?.name ?? "") + (previous === undefined || previous.name === "" ? name ?? "" : ""),
          arguments: (previous?.arguments ?? "") + argumentsDelta,
          completed: false
        }
        const toolCalls = new Map(next.toolCalls)
        toolCalls.set(index, call)
        next = { ...next, toolCalls }
        if (id !== undefined || name !== undefined || argumentsDelta !== "") {
          parts.push({
            type: "tool-call-delta",
            index,
            ...(id === undefined ? {} : { id }),
            ...(name === undefined ? {} : { name }),
            argumentsDelta
          })
        }
      }
    }
    if (typeof choice.finish_reason === "string" && choice.finish_reason !== "") {
      const [completed, toolParts] = completeToolCalls({ ...next, rawFinishReason: choice.finish_reason })
      next = completed
      parts.push(...toolParts)
    }
  }
  const chunkUsage = usage(chunk.usage ?? chunk.x_groq?.usage)
  if (chunkUsage !== undefined) next = { ...next, usage: chunkUsage }
  if (next.rawFinishReason !== undefined && (next.usage !== undefined || !next.expectUsage)) {
    parts.push(finishPart(next, provider))
    next = { ...next, done: true }
  }
  return { _tag: "Parts", state: next, parts }
}

/**
 * The stream ended (`[DONE]` or end of body). Completes with the finish part when the provider
 * sent its finish reason, otherwise reports the stream as interrupted.
 *
 * @category mapping
 */
export const end = (
  state: StreamState,
  provider: string
): { readonly _tag: "Parts"; readonly parts: ReadonlyArray<StreamPart.StreamPart> } | { readonly _tag: "Interrupted"; readonly reason: StreamInterrupted } => {
  if (state.done) return { _tag: "Parts", parts: [] }
  if (state.rawFinishReason !== undefined) return { _tag: "Parts", parts: [finishPart(state, provider)] }
  return { _tag: "Interrupted", reason: interrupted(state, "the stream ended without a finish reason") }
}

const interrupted = (state: StreamState, cause: string): StreamInterrupted => {
  const completed = [...state.toolCalls.values()].filter((call) => call.completed)
  return new StreamInterrupted({
    message: `stream interrupted after ${state.text.length} characters: ${cause}`,
    partialText: state.text,
    ...(completed.length === 0 ? {} : { partialToolCalls: completed.map(({ arguments: args, id, name }) => ({ id, name, arguments: args })) }),
    cause
  })
}

const hasContent = (state: StreamState): boolean => state.text.length > 0 || state.toolCalls.size > 0

const drainGrace = Duration.millis(100)

/** What `bytesToParts` needs to know about the call. @category models */
export interface StreamContext {
  readonly provider: string
  readonly model: string
  readonly expectUsage: boolean
  readonly onMalformedEvent: "skip" | "fail"
  readonly requestId?: string | undefined
  readonly mask: (text: string) => string
}

/**
 * An SSE body's bytes to parts: UTF-8 decoding, SSE framing, one `JSON.parse` per event, the state
 * machine — all in one synchronous pass per network read, emitting that read's parts as one
 * chunk. Written as a pull rather than a pipeline of stream operators because those cost an
 * Effect (or several) per event, which dominated FlexiAI's CPU per streamed chunk; here the
 * Effect machinery runs once per read, however many events the read carries.
 *
 * Stops at `[DONE]` or at the finish part (the body's scope then closes the connection, so a
 * provider that never sends `[DONE]` costs nothing); a body that ends without a finish reason is
 * `StreamInterrupted`, and so is a connection lost after content. The framing is `internal/sse.ts`
 * (Effect's `Sse.makeParser` rules, faster); `retry:` fields are ignored (`Sse.decode()` would end
 * the stream on one). The stream's first parts go out as soon as they are decoded, before the rest
 * of the read that carried them (time to first token).
 *
 * @category mapping
 */
export const bytesToParts = <R>(
  bytes: Stream.Stream<Uint8Array, ProviderError.ProviderError, R>,
  context: StreamContext
): Stream.Stream<StreamPart.StreamPart, ProviderError.ProviderError, R> =>
  Stream.transformPull(bytes, (pull) => Effect.sync(() => partsPull(pull, context)))

type PartsPull = Effect.Effect<Arr.NonEmptyReadonlyArray<StreamPart.StreamPart>, ProviderError.ProviderError | Cause.Done>

/** The pull behind `bytesToParts`, over a pull of the body's bytes. */
const partsPull = (
  pull: Pull.Pull<Arr.NonEmptyReadonlyArray<Uint8Array>, ProviderError.ProviderError, void>,
  context: StreamContext
): PartsPull => {
  const decoder = new TextDecoder()
  // for errors only: the request id may be read lazily (see OpenAiClient.streamChatCompletion)
  const extra = () => ({ model: context.model, requestId: context.requestId })
  let state = initialState(context.model, { expectUsage: context.expectUsage })
  let finished = false
  // The answer is complete (finish part, or `[DONE]`): the body is about to end, and reading it
  // to its end lets the connection go back to the pool instead of being aborted (an abort
  // costs an error with its stack, and a socket)
  let drainPending = false
  let heldFinish: StreamPart.StreamPart | undefined
  let out: Array<StreamPart.StreamPart> = []
  let skipped = 0
  let failure: Effect.Effect<never, ProviderError.ProviderError> | undefined
  // a framing error (an event past the size limit) waits until the events framed before it are
  // decoded, deferred ones included: they came first, so they are delivered first
  let framingFailure: Effect.Effect<never, ProviderError.ProviderError> | undefined
  // The stream's first parts go out as soon as they are decoded: the events after them in the
  // same read wait here for the next pull (time to first token). Later reads are decoded whole.
  let delivered = false
  let mayDefer = false
  let deferred: Array<string> | undefined
  const framer = makeFramer((data) => {
    if (finished || failure !== undefined || framingFailure !== undefined) return
    if (deferred !== undefined) {
      deferred.push(data)
      return
    }
    onData(data)
    if (mayDefer && out.length > 0) deferred = []
  })

  const onData = (data: string) => {
    if (data === "[DONE]" || data.trim() === "[DONE]") {
      finished = true
      drainPending = true
      const result = end(state, context.provider)
      if (result._tag === "Parts") out.push(...result.parts)
      else failure = Effect.fail(ProviderError.make(context.provider, result.reason, extra()))
      return
    }
    const chunk = parseChunk(data)
    if (chunk === undefined) {
      if (context.onMalformedEvent === "fail") {
        failure = Effect.fail(ProviderError.make(
          context.provider,
          new MalformedResponse({ message: `undecodable stream event (${data.length} bytes)` }),
          extra()
        ))
      } else {
        skipped++
      }
      return
    }
    const result = step(state, chunk, context.provider)
    state = result.state
    if (result._tag === "Error") {
      finished = true
      const fields = result.error
      failure = Effect.flatMap(Clock.currentTimeMillis, (nowMillis) =>
        Effect.fail(ProviderError.make(
          context.provider,
          Errors.reasonFromError({
            status: undefined,
            headers: {},
            fields,
            fallbackMessage: "error event in the stream",
            nowMillis,
            mask: context.mask,
            model: context.model
          }),
          extra()
        )))
      return
    }
    if (result.parts.length > 0) out.push(...result.parts)
    if (state.done) {
      finished = true
      drainPending = true
    }
  }

  const feed = (text: string) => {
    const error = framer.feed(text)
    if (error !== undefined && failure === undefined && framingFailure === undefined) {
      framingFailure = Effect.fail(ProviderError.make(context.provider, new MalformedResponse({ message: error }), extra()))
    }
  }

  // The answer is complete: hold its finish part back until the body is drained (see `drain`).
  const holdFinish = () => {
    if (drainPending) {
      drainPending = false
      if (out.at(-1)?.type === "finish") heldFinish = out.pop()
    }
  }

  const decodeDeferred = () => {
    const events = deferred!
    deferred = undefined
    for (const data of events) {
      if (finished || failure !== undefined) break
      onData(data)
    }
    holdFinish()
  }

  // hands out what this read produced; `undefined` when it produced nothing
  const flush = (): Effect.Effect<Arr.NonEmptyReadonlyArray<StreamPart.StreamPart>, ProviderError.ProviderError | Cause.Done> | undefined => {
    if (framingFailure !== undefined && deferred === undefined && failure === undefined) {
      failure = framingFailure
      framingFailure = undefined
    }
    const warn = skipped === 0 ? undefined : Effect.logWarning("skipped undecodable stream events", {
      provider: context.provider,
      events: skipped
    })
    skipped = 0
    if (out.length > 0) {
      const parts = out as unknown as Arr.NonEmptyReadonlyArray<StreamPart.StreamPart>
      out = []
      delivered = true
      // parts produced before a failure in the same read are delivered first
      return warn === undefined ? Effect.succeed(parts) : Effect.as(warn, parts)
    }
    if (failure !== undefined) {
      const fail = failure
      failure = undefined
      finished = true
      return warn === undefined ? fail : Effect.andThen(warn, fail)
    }
    if (warn !== undefined) {
      // nothing to hand out yet: log, then go on reading
      return Effect.andThen(warn, Effect.suspend(() => next))
    }
    return undefined
  }

  const onEnd = (): Effect.Effect<Arr.NonEmptyReadonlyArray<StreamPart.StreamPart>, ProviderError.ProviderError | Cause.Done> => {
    if (!finished) {
      feed(decoder.decode())
      // a last event without its blank line is still an event (servers that end mid-frame)
      feed("\n\n")
    }
    if (framingFailure !== undefined && failure === undefined) {
      failure = framingFailure
      framingFailure = undefined
    }
    if (!finished && failure === undefined) {
      finished = true
      const result = end(state, context.provider)
      if (result._tag === "Parts") out.push(...result.parts)
      else failure = Effect.fail(ProviderError.make(context.provider, result.reason, extra()))
    }
    finished = true
    return flush() ?? Cause.done()
  }

  // After the answer, before handing out its finish part (the content goes out at once): read
  // what is left of the body (normally `[DONE]` and its end), briefly, ignoring whatever it
  // holds. So whoever closes the stream at its finish part (the router does) returns the
  // connection to the pool instead of aborting the request. A server that keeps the response
  // open is left after the grace period.
  const drainLoop: Effect.Effect<void> = Pull.matchEffect(pull, {
    onSuccess: () => drainLoop,
    onFailure: () => Effect.void,
    onDone: () => Effect.void
  })
  const drain = Effect.ignore(TimeLimit.within(drainLoop, drainGrace, constVoid))

  const next: Effect.Effect<Arr.NonEmptyReadonlyArray<StreamPart.StreamPart>, ProviderError.ProviderError | Cause.Done> =
    Effect.suspend(() => {
      const pending = flush()
      if (pending !== undefined) return pending
      if (deferred !== undefined) {
        decodeDeferred()
        const rest = flush()
        if (rest !== undefined) return rest
      }
      if (heldFinish !== undefined) {
        const finish: Arr.NonEmptyReadonlyArray<StreamPart.StreamPart> = [heldFinish]
        heldFinish = undefined
        return Effect.as(drain, finish)
      }
      if (finished) return Cause.done()
      return Pull.matchEffect(pull, {
        onSuccess: (chunks) => {
          mayDefer = !delivered
          for (const chunk of chunks) {
            feed(decoder.decode(chunk, { stream: true }))
            if (finished || failure !== undefined || framingFailure !== undefined) break
          }
          mayDefer = false
          holdFinish()
          return next
        },
        onFailure: (cause) => {
          const error = Cause.findErrorOption(cause)
          if (error._tag === "None") return Effect.failCause(cause)
          finished = true
          const lost = error.value
          return Effect.fail(
            lost.reason._tag === "Connection" && hasContent(state)
              ? ProviderError.make(context.provider, interrupted(state, `Connection: ${lost.reason.message}`), extra())
              : lost
          )
        },
        onDone: onEnd
      })
    })
  return next
}

// ---------------------------------------------------------------------------
// provider
// ---------------------------------------------------------------------------

/** Builds the `ChatProvider` over the `OpenAiClient` in context. @category constructors */
export const make = Effect.fnUntraced(function*(options: Options = {}) {
  const client = yield* OpenAiClient
  const name = options.name ?? client.name
  const defaultModel = options.defaultModel ?? client.defaultModel ?? "gpt-4o-mini"
  const quirks = resolveQuirks(options.quirks)
  const onMalformedEvent = options.onMalformedEvent ?? "skip"
  const capabilities: Capabilities = { ...defaultCapabilities, ...options.capabilities }

  // the client names errors after itself; a provider renamed here relabels them (and only then
  // pays for the extra error-mapping step on every call and stream)
  const renamed = name !== client.name
  const relabel = (error: ProviderError.ProviderError): ProviderError.ProviderError =>
    error.provider === name ? error : new ProviderError.ProviderError({ ...error, provider: name })

  const prepare = (request: ChatRequest.ChatRequest, stream: boolean) => {
    const model = request.model ?? defaultModel
    const wire = toWire(request, model, { quirks, providerName: name, stream })
    const prepared = { model, body: wire.body }
    return wire.dropped.length === 0
      ? Effect.succeed(prepared)
      : Effect.as(
        Effect.logWarning("request fields this provider does not accept were left out", {
          provider: name,
          fields: wire.dropped
        }),
        prepared
      )
  }

  // Combinators rather than a generator: this runs on every call, and each step counts there.
  const chat = (request: ChatRequest.ChatRequest) => {
    const answer = Effect.clockWith((clock) => {
      const started = clock.currentTimeMillisUnsafe()
      return Effect.flatMap(prepare(request, false), ({ body, model }) =>
        Effect.flatMap(client.createChatCompletion(body), ({ completion, requestId }) => {
          const latencyMillis = clock.currentTimeMillisUnsafe() - started
          const response = fromWire(completion, { provider: name, model, latencyMillis })
          return response instanceof MalformedResponse
            ? Effect.fail(ProviderError.make(name, response, { model, requestId }))
            : Effect.succeed(response)
        }))
    })
    return Spans.withSpan(renamed ? Effect.mapError(answer, relabel) : answer, "OpenAiChat.chat", { provider: name })
  }

  // No whole-stream time limit here: a long answer is not a fault. A stream is bounded by the
  // idle timeout between reads (client) and, under the router, by its first-token, idle and
  // deadline policy.
  const stream = (request: ChatRequest.ChatRequest): Stream.Stream<StreamPart.StreamPart, ProviderError.ProviderError> => {
    // A channel transform rather than `Stream.unwrap` over `bytesToParts`: the request is sent
    // when the stream is opened, and the parts pull sits right on the body's pull, without the
    // extra step `unwrap` and `transformPull` each put in front of every pull.
    const parts = Stream.fromChannel(Channel.fromTransform((_, scope: Scope.Scope) =>
      Effect.flatMap(prepare(request, true), ({ body, model }) =>
        Effect.flatMap(Scope.provide(client.streamChatCompletion(body), scope), (accepted) =>
          Effect.map(Channel.toPullScoped(accepted.bytes.channel, scope), (bytes) =>
            partsPull(bytes, {
              provider: name,
              model,
              expectUsage: quirks.streamUsage,
              onMalformedEvent,
              get requestId() {
                return accepted.requestId
              },
              mask: client.mask
            }))))))
    return renamed ? Stream.mapError(parts, relabel) : parts
  }

  return ChatProvider.ChatProvider.of({ name, defaultModel, capabilities, chat, stream, listModels: client.listModels })
})

/** A `ChatProvider` over the `OpenAiClient` in context. @category layers */
export const layer = (options: Options = {}): Layer.Layer<ChatProvider.ChatProvider, never, OpenAiClient> =>
  Layer.effect(ChatProvider.ChatProvider, make(options))
