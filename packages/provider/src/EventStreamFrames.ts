/**
 * Length-prefixed binary frames in the AWS event-stream layout (Bedrock's streaming responses):
 *
 *   total length (4 bytes) · headers length (4) · prelude CRC (4, CRC-32 of the first 8 bytes) ·
 *   headers · payload · message CRC (4, CRC-32 of everything before it)
 *
 * all integers big-endian. A header is a name (1-byte length, UTF-8), a type byte and a value.
 * Both CRCs are checked: a frame that fails either is a framing error, never a guess at where the
 * next one starts. Payloads stay bytes (they are not always text); nothing here decodes UTF-8
 * except header names and string values.
 *
 * `encode` writes the same layout, for mock servers and tests.
 *
 * @since 0.2.0
 */
import { crc32 as zlibCrc32 } from "node:zlib"
import type * as Framing from "./Framing.ts"

/** A header value, by its wire type: booleans, integers (64-bit ones as `bigint`), bytes, strings, timestamps (ms), UUIDs (hex). @category models */
export type HeaderValue = boolean | number | bigint | string | Uint8Array | Date

/** One frame: its headers by name and its payload. @category models */
export interface Frame {
  readonly headers: Readonly<Record<string, HeaderValue>>
  readonly payload: Uint8Array
}

/** 16 MiB (AWS's own limit): a frame announcing more is an error. @category constants */
export const defaultMaxFrameSize = 16 * 1024 * 1024

const PRELUDE = 12
const MINIMUM = PRELUDE + 4

/**
 * CRC-32 (IEEE 802.3): the checksum of the event-stream layout. Node's own `zlib.crc32` (native,
 * Node ≥ 22.2), over a view of the range, so no bytes are copied.
 *
 * @category utils
 */
export const crc32 = (bytes: Uint8Array, start = 0, end = bytes.length): number =>
  zlibCrc32(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end))

const utf8 = new TextDecoder("utf-8", { fatal: true })
const hex = (bytes: Uint8Array) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")

/** Decodes a frame's headers; a message when they are corrupt. */
const decodeHeaders = (view: DataView, bytes: Uint8Array, start: number, end: number): Record<string, HeaderValue> | string => {
  const headers: Record<string, HeaderValue> = {}
  let at = start
  const need = (count: number) => at + count <= end
  while (at < end) {
    const nameLength = bytes[at]!
    at += 1
    if (!need(nameLength + 1)) return "a frame header runs past its headers"
    const name = utf8.decode(bytes.subarray(at, at + nameLength))
    at += nameLength
    const type = bytes[at]!
    at += 1
    switch (type) {
      case 0:
      case 1:
        headers[name] = type === 0
        break
      case 2:
        if (!need(1)) return "a frame header runs past its headers"
        headers[name] = view.getInt8(at)
        at += 1
        break
      case 3:
        if (!need(2)) return "a frame header runs past its headers"
        headers[name] = view.getInt16(at)
        at += 2
        break
      case 4:
        if (!need(4)) return "a frame header runs past its headers"
        headers[name] = view.getInt32(at)
        at += 4
        break
      case 5:
      case 8:
        if (!need(8)) return "a frame header runs past its headers"
        headers[name] = type === 5 ? view.getBigInt64(at) : new Date(Number(view.getBigInt64(at)))
        at += 8
        break
      case 6:
      case 7: {
        if (!need(2)) return "a frame header runs past its headers"
        const length = view.getUint16(at)
        at += 2
        if (!need(length)) return "a frame header runs past its headers"
        const value = bytes.slice(at, at + length)
        headers[name] = type === 6 ? value : utf8.decode(value)
        at += length
        break
      }
      case 9:
        if (!need(16)) return "a frame header runs past its headers"
        headers[name] = hex(bytes.subarray(at, at + 16))
        at += 16
        break
      default:
        return `a frame header has an unknown type ${type}`
    }
  }
  return headers
}

/** @category constructors */
export const framing = (maxFrameSize: number = defaultMaxFrameSize): Framing.Framing<Frame> => ({
  make: (onEvent) => {
    // bytes not yet part of a whole frame
    let buffer: Uint8Array = new Uint8Array(0)
    let failed: string | undefined

    const fail = (message: string) => {
      failed = message
      buffer = new Uint8Array(0)
      return message
    }

    const feed = (bytes: Uint8Array): string | undefined => {
      if (failed !== undefined) return failed
      if (buffer.length === 0) buffer = bytes
      else {
        const joined = new Uint8Array(buffer.length + bytes.length)
        joined.set(buffer)
        joined.set(bytes, buffer.length)
        buffer = joined
      }
      let at = 0
      while (buffer.length - at >= PRELUDE) {
        const view = new DataView(buffer.buffer, buffer.byteOffset + at, buffer.length - at)
        const total = view.getUint32(0)
        const headersLength = view.getUint32(4)
        if (crc32(buffer, at, at + 8) !== view.getUint32(8)) return fail("a binary frame's prelude CRC does not match")
        if (total < MINIMUM || headersLength > total - MINIMUM) return fail(`a binary frame announces an impossible length ${total}`)
        if (total > maxFrameSize) return fail(`a binary frame is larger than ${maxFrameSize} bytes`)
        if (buffer.length - at < total) break
        if (crc32(buffer, at, at + total - 4) !== view.getUint32(total - 4)) return fail("a binary frame's message CRC does not match")
        const frame = buffer.subarray(at, at + total)
        const headers = decodeHeaders(view, frame, PRELUDE, PRELUDE + headersLength)
        if (typeof headers === "string") return fail(headers)
        // copied: the caller may reuse its buffer
        onEvent({ headers, payload: frame.slice(PRELUDE + headersLength, total - 4) })
        at += total
      }
      buffer = at === buffer.length ? new Uint8Array(0) : buffer.slice(at)
      return undefined
    }

    const end = (): string | undefined =>
      failed ?? (buffer.length === 0 ? undefined : `the body ended inside a binary frame (${buffer.length} bytes left)`)

    return { feed, end }
  }
})

const encoder = new TextEncoder()

/**
 * One frame in the event-stream layout, with string headers (type 7), as AWS sends
 * `:event-type`, `:content-type` and `:message-type`.
 *
 * @category constructors
 */
export const encode = (headers: Readonly<Record<string, string>>, payload: Uint8Array | string): Uint8Array => {
  const body = typeof payload === "string" ? encoder.encode(payload) : payload
  const encodedHeaders = Object.entries(headers).map(([name, value]) => [encoder.encode(name), encoder.encode(value)] as const)
  const headersLength = encodedHeaders.reduce((sum, [name, value]) => sum + 1 + name.length + 1 + 2 + value.length, 0)
  const total = PRELUDE + headersLength + body.length + 4
  const frame = new Uint8Array(total)
  const view = new DataView(frame.buffer)
  view.setUint32(0, total)
  view.setUint32(4, headersLength)
  view.setUint32(8, crc32(frame, 0, 8))
  let at = PRELUDE
  for (const [name, value] of encodedHeaders) {
    frame[at] = name.length
    frame.set(name, at + 1)
    at += 1 + name.length
    frame[at] = 7
    view.setUint16(at + 1, value.length)
    frame.set(value, at + 3)
    at += 3 + value.length
  }
  frame.set(body, at)
  view.setUint32(total - 4, crc32(frame, 0, total - 4))
  return frame
}
