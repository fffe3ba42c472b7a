/**
 * A cap on a non-streamed response body. Without one a misbehaving endpoint (a proxy's error
 * page, a log dump, a loop) fills the heap, and the failure escapes as a raw `Error` that the
 * router does not even count as an attempt. Past the cap the read stops and the call fails with a
 * `MalformedResponse`, which fails over.
 *
 * What users get wrong: setting the cap below the largest answer a model can give. The default
 * (32 MiB) is far above any chat completion; streams are not capped here (their events are, by the
 * framing's event size limit).
 *
 * @since 0.2.0
 */
import { Effect, Stream } from "effect"
import type { HttpClientError, HttpClientResponse } from "effect/http"
import { MalformedResponse } from "@flexiai/core/ProviderError"
import { concat } from "./internal/bytes.ts"

/** 32 MiB. @category constants */
export const defaultMaxBytes = 32 * 1024 * 1024

/** The reason for a body past its cap. @category constructors */
export const tooLarge = (maxBytes: number, seen?: number): MalformedResponse =>
  new MalformedResponse({
    message: `the response body is larger than the ${maxBytes}-byte limit${seen === undefined ? "" : ` (${seen} bytes announced)`}`
  })

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
