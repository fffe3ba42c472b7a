/**
 * Decodes one `/api/chat` JSON object (a whole answer, or one NDJSON line of a stream) without
 * running a Schema: `JSON.parse` and a check of the fields FlexiAI reads, typed as
 * `OllamaSchema.ChatChunk`. The Schema stays the statement of the shape; `decode.test.ts` holds the
 * two equal on the recorded fixtures and on values generated from the Schema.
 *
 * Why not the Schema: this runs once per streamed line, and the interpreted Schema decode costs
 * several times `JSON.parse` itself per line (the OpenAI package measured 0.77 µs against 0.05 µs
 * for a check like this one), which the per-chunk benchmark budget does not leave room for.
 *
 * What users get wrong: a wrong shape is `undefined` (a malformed response), never a crash.
 */
import type * as OllamaSchema from "../OllamaSchema.ts"

type Json = { readonly [key: string]: unknown }

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value)
const isOptional = (value: unknown, type: "string" | "number" | "boolean"): boolean => value === undefined || typeof value === type

const isToolCall = (value: unknown): boolean => {
  if (!isObject(value) || !isOptional(value.id, "string")) return false
  const fn = value.function
  return isObject(fn) && typeof fn.name === "string" && isOptional(fn.index, "number") &&
    (fn.arguments === undefined || isObject(fn.arguments))
}

const isMessage = (value: unknown): boolean => {
  if (value === undefined) return true
  if (!isObject(value)) return false
  if (!isOptional(value.role, "string") || !isOptional(value.content, "string") || !isOptional(value.thinking, "string")) return false
  const calls = value.tool_calls
  return calls === undefined || (Array.isArray(calls) && calls.every(isToolCall))
}

const numbers = ["total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count", "eval_duration"] as const

/** Whether a parsed value has the `ChatChunk` shape. */
export const isChatChunk = (value: unknown): value is OllamaSchema.ChatChunk => {
  if (!isObject(value)) return false
  if (!isOptional(value.model, "string") || !isOptional(value.created_at, "string") || !isOptional(value.done, "boolean")) return false
  if (!isOptional(value.done_reason, "string") || !isOptional(value.error, "string")) return false
  for (const name of numbers) if (!isOptional(value[name], "number")) return false
  return isMessage(value.message)
}

/** One line (or body) as a chunk, or `undefined` when it is not JSON of that shape. */
export const parseChunk = (text: string): OllamaSchema.ChatChunk | undefined => {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  return isChatChunk(parsed) ? parsed : undefined
}
