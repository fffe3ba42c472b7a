/**
 * Error mapping for Ollama's native API. Its error bodies are `{ "error": "<text>" }` (no codes),
 * after a non-2xx status or as a line inside a 200 stream, so the text decides beside the status:
 *
 * - 404 `model "x" not found, try pulling it first` → `NotFound` whose message says to run
 *   `ollama pull x` (a model that is not pulled fails over to a provider that has it).
 * - 400 `... does not support tools` / `thinking` / images → `Unsupported` naming the field: another
 *   provider (or model) may take the request, so it must fail over, which `InvalidRequest` does not.
 * - a prompt over the context (`context length`, `too long`) → `ContextLengthExceeded`.
 * - an error line inside a 200 stream has no status: it is mapped as the status its text implies
 *   (not found 404, unsupported 400, otherwise a 500 `ServerError`: the model runner failed).
 *
 * Everything else goes through the kit's status table.
 */
import * as StatusReasons from "@flexiai/provider/StatusReasons"
import type * as ProviderError from "@flexiai/core/ProviderError"
import { ContextLengthExceeded, NotFound, Unsupported } from "@flexiai/core/ProviderError"

type Reason = ProviderError.ProviderErrorReason

/** The text of an `{ "error": "..." }` body (or `{ "error": { "message" } }` from a proxy), if any. */
export const errorMessageOf = (body: string): string | undefined => {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return undefined
  }
  if (typeof parsed !== "object" || parsed === null) return undefined
  const error = (parsed as { readonly error?: unknown }).error
  if (typeof error === "string") return error
  if (typeof error === "object" && error !== null && typeof (error as { readonly message?: unknown }).message === "string") {
    return (error as { readonly message: string }).message
  }
  return undefined
}

const notPulled = /model ['"]?([^'"\s]+)['"]? not found/i
const unsupported = /does not support (tools|thinking|insert|vision|images|completion)/i
const contextLength = /context length|context window|prompt is too long|exceeds the (maximum )?context/i

/** The command that pulls `model`. */
export const pullHint = (model: string): string => `ollama pull ${model}`

const notFound = (message: string, model: string | undefined): NotFound => {
  const named = notPulled.exec(message)?.[1] ?? model
  const hint = named === undefined ? "" : ` (run \`${pullHint(named)}\` on the Ollama server, or pick a model \`ollama list\` shows)`
  return new NotFound({ message: `${message}${hint}`, ...(named === undefined ? {} : { model: named }) })
}

const fieldOf = (feature: string): string => {
  switch (feature.toLowerCase()) {
    case "tools":
      return "tools"
    case "thinking":
      return "think"
    case "vision":
    case "images":
      return "images"
    default:
      return "model"
  }
}

/**
 * The reason for an error text. `status` is the HTTP status, or `undefined` for an error line in a
 * 200 stream. `message` is already masked.
 */
export const reasonFor = (input: {
  readonly status: number | undefined
  readonly message: string
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly nowMillis: number
  readonly model?: string | undefined
}): Reason => {
  const { message } = input
  if ((input.status === undefined || input.status === 404) && notPulled.test(message)) return notFound(message, input.model)
  if (input.status === 404) return notFound(message, input.model)
  const feature = unsupported.exec(message)?.[1]
  if (feature !== undefined && (input.status === undefined || input.status === 400)) {
    return new Unsupported({ message, field: fieldOf(feature) })
  }
  if ((input.status === undefined || input.status === 400 || input.status === 500) && contextLength.test(message)) {
    return new ContextLengthExceeded({ message })
  }
  return StatusReasons.reasonFor(StatusReasons.defaults, {
    status: input.status ?? 500,
    headers: input.headers,
    message,
    nowMillis: input.nowMillis,
    model: input.model
  })
}

/** The mapping of a non-2xx response (the transport's `reasonFromResponse`). */
export const reasonFromResponse = (response: {
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: string
  readonly nowMillis: number
  readonly mask: (text: string) => string
  readonly model?: string | undefined
}): Reason => {
  const text = errorMessageOf(response.body)
  const fallback = response.body.trim() === "" ? `HTTP ${response.status}` : `HTTP ${response.status}: ${response.body.slice(0, 200)}`
  return reasonFor({
    status: response.status,
    message: response.mask(text ?? fallback),
    headers: response.headers,
    nowMillis: response.nowMillis,
    model: response.model
  })
}
