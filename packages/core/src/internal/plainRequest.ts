/**
 * The common chat request, checked by hand: `ChatRequest.decode` tries this before the Schema.
 *
 * A Schema decode is about a tenth of the router's own time on a call (it runs as an Effect and
 * allocates per field). Most calls send text messages and a few options, so `plain` recognizes
 * exactly that shape and builds what the decode would (a fresh object, keys in the schema's
 * order); anything else, valid or not, goes to the Schema, which stays the one definition of a
 * request. A key it does not know (on the request or a message) makes it decline, as the Schema
 * (decoded with `onExcessProperty: "error"`) refuses it. `plain` may only decline, never differ: a property test holds it equal to the Schema.
 *
 * Internal: not exported from the package.
 */
import type { ChatRequest, Message } from "../ChatRequest.ts"

const isPlainObject = (input: unknown): input is Record<string, unknown> => {
  if (typeof input !== "object" || input === null) return false
  const proto = Object.getPrototypeOf(input)
  return proto === Object.prototype || proto === null
}

// own keys only, enumerable and string-named: what `Object.keys` sees is all there is
const hasOnlyKeys = (input: object, keys: Array<string>): boolean =>
  Object.getOwnPropertyNames(input).length === keys.length && Object.getOwnPropertySymbols(input).length === 0

const plainMessage = (input: unknown): Message | undefined => {
  if (!isPlainObject(input) || !Object.hasOwn(input, "role")) return undefined
  const keys = Object.keys(input)
  if (!hasOnlyKeys(input, keys)) return undefined
  const { content, role } = input
  const hasContent = Object.hasOwn(input, "content")
  switch (role) {
    case "system":
    case "developer":
      return keys.length === 2 && hasContent && typeof content === "string" ? { role, content } : undefined
    case "user": {
      if (!hasContent || typeof content !== "string") return undefined
      if (keys.length === 2) return { role, content }
      const name = input["name"]
      return keys.length === 3 && Object.hasOwn(input, "name") && typeof name === "string" ? { role, content, name } : undefined
    }
    case "assistant":
      if (keys.length === 1) return { role }
      return keys.length === 2 && hasContent && (typeof content === "string" || content === null) ? { role, content } : undefined
    default:
      return undefined
  }
}

const inRange = (value: unknown, maximum: number): value is number =>
  typeof value === "number" && value >= 0 && value <= maximum

/** Fields `plain` takes, with their checks, in the schema's order. */
const plainFields: ReadonlyArray<readonly [string, (value: unknown) => boolean]> = [
  ["model", (value) => typeof value === "string" && value.length > 0],
  ["temperature", (value) => inRange(value, 2)],
  ["maxTokens", (value) => Number.isSafeInteger(value) && (value as number) > 0],
  ["topP", (value) => inRange(value, 1)],
  ["seed", (value) => Number.isSafeInteger(value)],
  ["user", (value) => typeof value === "string"]
]

/** The decoded request when `input` is a plain text request, else `undefined` (the Schema decides). */
export const plain = (input: unknown): ChatRequest | undefined => {
  if (!isPlainObject(input)) return undefined
  const keys = Object.keys(input)
  if (!hasOnlyKeys(input, keys) || !Object.hasOwn(input, "messages")) return undefined
  const source = input["messages"]
  if (!Array.isArray(source) || source.length === 0) return undefined
  const messages: Array<Message> = []
  for (let i = 0; i < source.length; i++) {
    const message = plainMessage(source[i])
    if (message === undefined) return undefined
    messages.push(message)
  }
  const request: Record<string, unknown> = { messages }
  let seen = 1
  for (const [key, valid] of plainFields) {
    if (!Object.hasOwn(input, key)) continue
    const value = input[key]
    if (!valid(value)) return undefined
    request[key] = value
    seen++
  }
  return seen === keys.length ? request as ChatRequest : undefined
}
