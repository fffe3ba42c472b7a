/**
 * Decodes one streamed chunk (`data:` of an SSE event) without a Schema.
 *
 * Why not `Schema.decodeUnknown(ChatCompletionChunk)`: a stream carries hundreds of chunks and the
 * Schema pass costs twice the `JSON.parse` it follows; on the hot path that is most of FlexiAI's
 * overhead per chunk. These checks accept exactly what the Schema accepts for the fields the
 * state machine reads (and `OpenAiChat.test.ts` keeps the two in step), so a wrong shape is still
 * a malformed event, not a crash.
 */
import type * as OpenAiSchema from "../OpenAiSchema.ts"

type Json = { readonly [key: string]: unknown }

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value)
const optionalOf = (value: unknown, test: (value: unknown) => boolean): boolean =>
  value === undefined || value === null || test(value)
const isString = (value: unknown): boolean => typeof value === "string"
const isNumber = (value: unknown): boolean => typeof value === "number"
const isStringOrNumber = (value: unknown): boolean => typeof value === "string" || typeof value === "number"

const isUsage = (value: unknown): boolean =>
  isObject(value) &&
  optionalOf(value["prompt_tokens"], isNumber) &&
  optionalOf(value["completion_tokens"], isNumber) &&
  optionalOf(value["total_tokens"], isNumber) &&
  optionalOf(value["prompt_tokens_details"], (details) =>
    isObject(details) && optionalOf(details["cached_tokens"], isNumber)) &&
  optionalOf(value["completion_tokens_details"], (details) =>
    isObject(details) && optionalOf(details["reasoning_tokens"], isNumber))

const isToolCallDelta = (value: unknown): boolean =>
  isObject(value) &&
  optionalOf(value["index"], isNumber) &&
  optionalOf(value["id"], isString) &&
  optionalOf(value["function"], (fn) =>
    isObject(fn) && optionalOf(fn["name"], isString) && optionalOf(fn["arguments"], isString))

const isChoice = (value: unknown): boolean =>
  isObject(value) &&
  optionalOf(value["index"], isNumber) &&
  optionalOf(value["finish_reason"], isString) &&
  optionalOf(value["delta"], (delta) =>
    isObject(delta) &&
    optionalOf(delta["content"], isString) &&
    optionalOf(delta["tool_calls"], (calls) => Array.isArray(calls) && calls.every(isToolCallDelta)))

const isErrorObject = (value: unknown): boolean =>
  isObject(value) &&
  optionalOf(value["message"], isString) &&
  optionalOf(value["type"], isString) &&
  optionalOf(value["param"], isString) &&
  optionalOf(value["code"], isStringOrNumber)

/** The chunk, or `undefined` when `data` is not JSON or not shaped like a chunk. */
export const parseChunk = (data: string): OpenAiSchema.ChatCompletionChunk | undefined => {
  let value: unknown
  try {
    value = JSON.parse(data)
  } catch {
    return undefined
  }
  if (
    isObject(value) &&
    optionalOf(value["id"], isString) &&
    optionalOf(value["model"], isString) &&
    optionalOf(value["choices"], (choices) => Array.isArray(choices) && choices.every(isChoice)) &&
    optionalOf(value["usage"], isUsage) &&
    optionalOf(value["x_groq"], (groq) => isObject(groq) && optionalOf(groq["usage"], isUsage)) &&
    optionalOf(value["error"], isErrorObject)
  ) {
    return value as OpenAiSchema.ChatCompletionChunk
  }
  return undefined
}
