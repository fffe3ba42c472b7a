/**
 * Decodes a streamed chunk (`data:` of an SSE event) and a whole chat completion without running a
 * Schema. The Schemas in `OpenAiSchema` stay the one statement of the wire shapes: `decode.test.ts`
 * derives all its inputs from their ASTs (a required key dropped, a field of the wrong JSON kind,
 * values generated from the Schema), so a Schema changed without these checks fails the suite.
 *
 * Why not decode with the Schema. Measured on Node 24 (2 shared cores; µs per value):
 * - The check alone after `JSON.parse`, on the recorded fixtures (336 chunks, 2 completions):
 *   these checks 0.05 (chunk) / 0.03 (completion); `Schema.is` compiled by `SchemaJITCompiler.enable`
 *   0.20 / 0.21; JIT `Schema.decodeUnknownExit` 0.24 / 0.30; the interpreted Schema 0.77 / 1.3.
 *   Whole `parseChunk` (`JSON.parse` alone 0.95): 1.04 here, 1.30 with the JIT guard.
 * - Inside the stream path (`pnpm bench` stream case, 8 alternating runs): CPU per chunk 1.5–2.7
 *   with these checks, 3.6–5.7 with the JIT guard (main thread alone: +1.5). The guard itself
 *   timed there costs +0.33; the rest is a side effect on the code around it not pinned down.
 * The budget was +0.3 a chunk; both figures are over it. Where `new Function` is blocked (CSP,
 * some edge runtimes) the JIT falls back to the interpreter, +0.6 more. Revisit when Effect's
 * compiled guards get cheaper: `SchemaJITCompiler.enable(ast)` then `Schema.is`, keeping these
 * names and the `undefined` on failure; `decode.test.ts` needs no change.
 *
 * What users get wrong: these return the parsed JSON typed as the Schema's Type, which is right only
 * while the Schemas have no transformation (`decode.test.ts` checks it), and a wrong shape is a
 * malformed response (`undefined`), never a crash.
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

const isReasoningDetail = (value: unknown): boolean =>
  isObject(value) &&
  isString(value["type"]) &&
  optionalOf(value["text"], isString) &&
  optionalOf(value["summary"], isString) &&
  optionalOf(value["data"], isString) &&
  optionalOf(value["signature"], isString) &&
  optionalOf(value["id"], isString) &&
  optionalOf(value["format"], isString) &&
  optionalOf(value["index"], isNumber)
const isReasoningDetails = (value: unknown): boolean => Array.isArray(value) && value.every(isReasoningDetail)

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
  optionalOf(value["message"]["reasoning"], isString) &&
  optionalOf(value["message"]["reasoning_content"], isString) &&
  optionalOf(value["message"]["reasoning_details"], isReasoningDetails) &&
  optionalOf(value["message"]["refusal"], isString) &&
  optionalOf(value["message"]["tool_calls"], (calls) => Array.isArray(calls) && calls.every(isResponseToolCall))

const isChoice = (value: unknown): boolean =>
  isObject(value) &&
  optionalOf(value["index"], isNumber) &&
  optionalOf(value["finish_reason"], isString) &&
  optionalOf(value["delta"], (delta) =>
    isObject(delta) &&
    optionalOf(delta["content"], isString) &&
    optionalOf(delta["reasoning"], isString) &&
    optionalOf(delta["reasoning_content"], isString) &&
    optionalOf(delta["reasoning_details"], isReasoningDetails) &&
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
