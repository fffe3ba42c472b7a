/**
 * Length-prefixed binary frames in the AWS event-stream layout (Bedrock's streaming responses):
 *
 *   total length (4 bytes) · headers length (4) · prelude CRC (4, CRC-32 of the first 8 bytes) ·
 *   headers · payload · message CRC (4, CRC-32 of everything before it)
 *
 * all integers big-endian. A header is a name (1-byte length, UTF-8), a type byte and a value.
 * Each frame is decoded (both CRCs checked, headers parsed) and encoded by the AWS SDK's own
 * codec, `@smithy/eventstream-codec`, not by code of ours. What is ours is only the buffering its
 * `decode` needs (it takes one whole frame): bytes are gathered until the length the prelude
 * announces has arrived, and that length is trusted only once the prelude's CRC matches (a
 * corrupt length must not make us wait for gigabytes). Smithy's own stream decoder works on async
 * iterables, a Promise per frame; the kit's framers are synchronous, one pass per network read.
 *
 * A frame that fails either CRC is a framing error, never a guess at where the next one starts.
 * Payloads stay bytes (they are not always text).
 *
 * `encode` writes the same layout, for mock servers and tests.
 *
 * @since 0.2.0
 */
import { EventStreamCodec, type Message, type MessageHeaders } from "@smithy/eventstream-codec"
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
 * Node ≥ 22.2), over a view of the range, so no bytes are copied. Used for the early prelude check
 * (and by tests that build frames by hand); the codec checks both CRCs again itself.
 *
 * @category utils
 */
export const crc32 = (bytes: Uint8Array, start = 0, end = bytes.length): number =>
  zlibCrc32(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end))

// fatal: a header name or string that is not UTF-8 is a corrupt frame, not replacement characters
const utf8Decoder = new TextDecoder("utf-8", { fatal: true })
const utf8Encoder = new TextEncoder()

/** The AWS SDK's event-stream codec, with the platform's UTF-8. @category constants */
export const codec: EventStreamCodec = new EventStreamCodec(
  (bytes) => utf8Decoder.decode(bytes),
  (text) => utf8Encoder.encode(text)
)

const hexOfUuid = (uuid: string) => uuid.replace(/-/g, "").toLowerCase()

/** The codec's typed headers as plain values (64-bit integers as `bigint`, UUIDs as hex). */
const plainHeaders = (headers: MessageHeaders): Record<string, HeaderValue> => {
  const plain: Record<string, HeaderValue> = {}
  for (const name in headers) {
    const header = headers[name]!
    switch (header.type) {
      case "long":
        plain[name] = BigInt(header.value.toString())
        break
      case "uuid":
        plain[name] = hexOfUuid(header.value)
        break
      default:
        plain[name] = header.value
    }
  }
  return plain
}

/** The codec's error, in the kit's words (the tests and the stream decoder's messages name the CRC). */
const decodeProblem = (error: unknown): string => {
  const message = error instanceof Error ? error.message : String(error)
  if (/prelude checksum/i.test(message)) return "a binary frame's prelude CRC does not match"
  if (/message checksum/i.test(message)) return "a binary frame's message CRC does not match"
  return `a binary frame is corrupt: ${message}`
}

/**
 * One whole frame through the codec: its headers and a copy of its payload, or what is wrong.
 *
 * @category utils
 */
export const decodeFrame = (bytes: Uint8Array): Frame | string => {
  let message: Message
  try {
    message = codec.decode(bytes)
  } catch (error) {
    return decodeProblem(error)
  }
  // copied: the codec's body is a view into the caller's buffer, which may be reused
  return { headers: plainHeaders(message.headers), payload: message.body.slice() }
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
        const frame = decodeFrame(buffer.subarray(at, at + total))
        if (typeof frame === "string") return fail(frame)
        onEvent(frame)
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

/**
 * One frame in the event-stream layout, with string headers (type 7), as AWS sends
 * `:event-type`, `:content-type` and `:message-type`; written by the codec.
 *
 * @category constructors
 */
export const encode = (headers: Readonly<Record<string, string>>, payload: Uint8Array | string): Uint8Array => {
  const typed: MessageHeaders = {}
  for (const name in headers) typed[name] = { type: "string", value: headers[name]! }
  return codec.encode({ headers: typed, body: typeof payload === "string" ? utf8Encoder.encode(payload) : payload })
}
