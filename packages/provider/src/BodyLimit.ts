/**
 * A cap on a non-streamed response body. Without one a misbehaving endpoint (a proxy's error
 * page, a log dump, a loop) fills the heap, and the failure escapes as a raw `Error` that the
 * router does not even count as an attempt. Past the cap the read stops and the call fails with a
 * `MalformedResponse`, which fails over.
 *
 * A streamed body has a cap of its own (`capStream`, default 256 MiB over the whole body; each
 * event is also bounded by the framing's event size limit): a stream that never ends, or a server
 * that loops, would otherwise grow the decoder's state and hold the connection forever. Past it the
 * stream fails with `MalformedResponse`: before its first content that fails over like any failed
 * request; after it the router's stream policy decides (`StreamInterrupted`), and it never ends as
 * if complete.
 *
 * What users get wrong: setting a cap below the largest answer a model can give. The defaults are
 * far above any chat completion: 32 MiB of JSON, and 256 MiB of stream (a long answer streamed one
 * token per event, each event a few hundred bytes of framing and JSON, stays well under 100 MiB).
 *
 * @since 0.2.0
 */
import { Effect, Stream } from "effect"
import type { HttpClientError, HttpClientResponse } from "effect/http"
import { MalformedResponse } from "@flexiai/core/ProviderError"
import { concat } from "./internal/bytes.ts"

/** 32 MiB. @category constants */
export const defaultMaxBytes = 32 * 1024 * 1024

/** 256 MiB, for a whole streamed body. @category constants */
export const defaultMaxStreamBytes = 256 * 1024 * 1024

/** The reason for a body past its cap. @category constructors */
export const tooLarge = (maxBytes: number, seen?: number): MalformedResponse =>
  new MalformedResponse({
    message: `the response body is larger than the ${maxBytes}-byte limit${seen === undefined ? "" : ` (${seen} bytes announced)`}`
  })

/** The reason for a streamed body past its cap. @category constructors */
export const streamTooLarge = (maxBytes: number): MalformedResponse =>
  new MalformedResponse({ message: `the streamed response body is larger than the ${maxBytes}-byte limit` })

/**
 * `stream`, failing with `onOver()` at the read that takes it past `maxBytes` in all (that read is
 * not delivered). One step per network read; `Infinity` returns the stream as it is.
 *
 * @category combinators
 */
export const capStream = <E, R, E2>(
  stream: Stream.Stream<Uint8Array, E, R>,
  maxBytes: number,
  onOver: () => E2
): Stream.Stream<Uint8Array, E | E2, R> =>
  maxBytes === Infinity ? stream : Stream.transformPull(stream, (pull) =>
    Effect.sync(() => {
      let seen = 0
      return Effect.flatMap(pull, (chunks) => {
        for (let i = 0; i < chunks.length; i++) seen += chunks[i]!.length
        return seen > maxBytes ? Effect.fail(onOver()) : Effect.succeed(chunks)
      })
    }))

const decoder = new TextDecoder()

/**
 * The body as text, at most `maxBytes` of it. A `content-length` within the cap takes the
 * response's own `text` (the usual case, no extra step; the client holds the server to its
 * length); a larger one fails before reading; a body without one is read piece by piece and
 * stopped as soon as it passes the cap.
 *
 * @category utils
 */
export const readText = (
  response: HttpClientResponse.HttpClientResponse,
  maxBytes: number = defaultMaxBytes
): Effect.Effect<string, HttpClientError.HttpClientError | MalformedResponse> => {
  const announced = response.headers["content-length"]
  if (announced !== undefined) {
    const length = Number(announced)
    if (Number.isFinite(length) && length >= 0) {
      return length <= maxBytes ? response.text : Effect.fail(tooLarge(maxBytes, length))
    }
  }
  return Effect.suspend(() => {
    const chunks: Array<Uint8Array> = []
    let length = 0
    return Effect.map(
      Stream.runForEachArray(response.stream, (pieces) => {
        for (const piece of pieces) {
          length += piece.length
          if (length > maxBytes) return Effect.fail(tooLarge(maxBytes))
          chunks.push(piece)
        }
        return Effect.void
      }),
      () => decoder.decode(concat(chunks, length))
    )
  })
}
