/**
 * Decodes a stream event (the `data:` of an SSE event) and a whole message without running a
 * Schema: a stream runs this once per event, where a Schema decode costs several times the
 * `JSON.parse` itself (the OpenAI provider's `internal/decode.ts` has the measurements). The
 * Schemas in `AnthropicSchema` stay the statement of the shapes: `decode.test.ts` holds these
 * checks to them (values generated from the Schemas pass, a field of the wrong JSON kind fails).
 *
 * What users get wrong: these return the parsed JSON typed as the Schema's Type, right only while
 * the Schemas have no transformation; a wrong shape is `undefined` (a malformed response), never a
 * crash.
 */
import type * as AnthropicSchema from "../AnthropicSchema.ts"

type Json = { readonly [key: string]: unknown }

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value)
const optionalOf = (value: unknown, test: (value: unknown) => boolean): boolean => value === undefined || value === null || test(value)
const optionalKey = (value: unknown, test: (value: unknown) => boolean): boolean => value === undefined || test(value)
const isString = (value: unknown): boolean => typeof value === "string"
const isNumber = (value: unknown): boolean => typeof value === "number"

const isUsage = (value: unknown): boolean =>
  isObject(value) &&
  optionalOf(value["input_tokens"], isNumber) &&
  optionalOf(value["output_tokens"], isNumber) &&
  optionalOf(value["cache_read_input_tokens"], isNumber) &&
  optionalOf(value["cache_creation_input_tokens"], isNumber)

const isContentBlock = (value: unknown): boolean =>
  isObject(value) &&
  isString(value["type"]) &&
  optionalKey(value["text"], isString) &&
  optionalKey(value["id"], isString) &&
  optionalKey(value["name"], isString) &&
  optionalKey(value["thinking"], isString) &&
  optionalKey(value["signature"], isString) &&
  optionalKey(value["data"], isString)

const isDelta = (value: unknown): boolean =>
  isObject(value) &&
  optionalKey(value["type"], isString) &&
  optionalKey(value["text"], isString) &&
  optionalKey(value["thinking"], isString) &&
  optionalKey(value["signature"], isString) &&
  optionalKey(value["partial_json"], isString) &&
  optionalOf(value["stop_reason"], isString) &&
  optionalOf(value["stop_sequence"], isString)

const isErrorObject = (value: unknown): boolean =>
  isObject(value) && optionalOf(value["type"], isString) && optionalOf(value["message"], isString)

const isEventMessage = (value: unknown): boolean =>
  isObject(value) && optionalOf(value["id"], isString) && optionalOf(value["model"], isString) &&
  optionalOf(value["usage"], isUsage)

/** Whether a parsed value has the shape of `AnthropicSchema.StreamEvent`. */
export const isStreamEvent = (value: unknown): value is AnthropicSchema.StreamEvent =>
  isObject(value) &&
  isString(value["type"]) &&
  optionalKey(value["index"], isNumber) &&
  optionalKey(value["message"], isEventMessage) &&
  optionalKey(value["content_block"], isContentBlock) &&
  optionalKey(value["delta"], isDelta) &&
  optionalOf(value["usage"], isUsage) &&
  optionalOf(value["error"], isErrorObject)

/** Whether a parsed value has the shape of `AnthropicSchema.Message`. */
export const isMessage = (value: unknown): value is AnthropicSchema.Message =>
  isObject(value) &&
  isString(value["id"]) &&
  optionalKey(value["type"], isString) &&
  optionalKey(value["role"], isString) &&
  optionalOf(value["model"], isString) &&
  Array.isArray(value["content"]) && value["content"].every(isContentBlock) &&
  optionalOf(value["stop_reason"], isString) &&
  optionalOf(value["stop_sequence"], isString) &&
  optionalOf(value["usage"], isUsage)

const parse = <A>(text: string, test: (value: unknown) => value is A): A | undefined => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  return test(value) ? value : undefined
}

/** One stream event's data, or `undefined` when it is not JSON of that shape. */
export const parseEvent = (text: string): AnthropicSchema.StreamEvent | undefined => parse(text, isStreamEvent)

/** A whole message body, or `undefined`. */
export const parseMessage = (text: string): AnthropicSchema.Message | undefined => parse(text, isMessage)
