/**
 * Request/response summaries at Debug, inside the router's call scope (so they carry its `callId`):
 * counts, model names and usage, never message content, headers or keys. Wired in only when the
 * config's level enables Debug, so a production config pays nothing for them.
 */
import * as ChatProvider from "@flexiai/core/ChatProvider"
import type * as ChatRequest from "@flexiai/core/ChatRequest"
import { Effect, type LogLevel, Stream } from "effect"

export const debugLevels: ReadonlySet<LogLevel.LogLevel> = new Set(["All", "Trace", "Debug"])

const requestLine = (provider: ChatProvider.ChatProvider["Service"], request: ChatRequest.ChatRequest, stream: boolean) =>
  Effect.logDebug("provider request").pipe(Effect.annotateLogs({
    provider: provider.name,
    model: request.model ?? provider.defaultModel,
    messages: request.messages.length,
    stream
  }))

const responseLine = (response: {
  readonly provider: string
  readonly model: string
  readonly finishReason: string
  readonly usage?: unknown
}) =>
  Effect.logDebug("provider response").pipe(Effect.annotateLogs({
    provider: response.provider,
    model: response.model,
    finishReason: response.finishReason,
    ...(response.usage === undefined ? {} : { usage: response.usage })
  }))

// The summary goes around each provider (not around the router) so it runs inside the router's
// per-call scope and carries its `callId`; one line per try, like the attempt lines.
export const withDebugLines = (provider: ChatProvider.ChatProvider["Service"]): ChatProvider.ChatProvider["Service"] =>
  ChatProvider.ChatProvider.of({
    ...provider,
    chat: (request) => Effect.andThen(requestLine(provider, request, false), Effect.tap(provider.chat(request), responseLine)),
    stream: (request) =>
      Stream.unwrap(Effect.as(requestLine(provider, request, true), provider.stream(request))).pipe(
        Stream.tap((part) => part.type === "finish" ? responseLine(part) : Effect.void)
      )
  })

