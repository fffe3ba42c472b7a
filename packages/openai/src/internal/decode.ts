/**
 * Decodes a streamed chunk (`data:` of an SSE event) and a whole chat completion without a Schema.
 *
 * Why not `Schema.decodeUnknownExit(ChatCompletionChunk)`: Effect's Schema runs every decode as a
 * small synchronous fiber, which costs several times the `JSON.parse` it follows. A stream carries
 * hundreds of chunks, and a non-streamed call spent about as much in that decode as in the rest of
 * the provider. These checks accept exactly what the Schemas in `OpenAiSchema` accept (the
 * `decode.test.ts` property test keeps them in step), so a wrong shape is still a malformed
 * response, not a crash. The Schemas stay the documented shapes.
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

const isResponseToolCall = (value: unknown): boolean =>
  isObject(value) &&
  optionalOf(value["id"], isString) &&
  optionalOf(value["type"], isString) &&
  isObject(value["function"]) &&
  optionalOf(value["function"]["name"], isString) &&
  optionalOf(value["function"]["arguments"], isString)

const isCompletionChoice = (value: unknown): boolean =>
  isObject(value) &&
  optionalOf(value["index"], isNumber) &&
  optionalOf(value["finish_reason"], isString) &&
  isObject(value["message"]) &&
  optionalOf(value["message"]["content"], isString) &&
  optionalOf(value["message"]["refusal"], isString) &&
  optionalOf(value["message"]["tool_calls"], (calls) => Array.isArray(calls) && calls.every(isResponseToolCall))

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

// `undefined` for text that is not JSON (JSON itself has no `undefined`, so it cannot be mistaken)
const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** The chunk, or `undefined` when `data` is not JSON or not shaped like a chunk. */
export const parseChunk = (data: string): OpenAiSchema.ChatCompletionChunk | undefined => {
  const value = parseJson(data)
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

/** The completion, or `undefined` when `text` is not JSON or not shaped like a chat completion. */
export const parseCompletion = (text: string): OpenAiSchema.ChatCompletion | undefined => {
  const value = parseJson(text)
  if (
    isObject(value) &&
    optionalOf(value["id"], isString) &&
    optionalOf(value["model"], isString) &&
    Array.isArray(value["choices"]) && value["choices"].every(isCompletionChoice) &&
    optionalOf(value["usage"], isUsage)
  ) {
    return value as OpenAiSchema.ChatCompletion
  }
  return undefined
}
