/**
 * Newline-delimited JSON framing (Ollama's native stream): bytes in, one line's text out per
 * event. Parsing the JSON is the provider's event decoder's business, as for SSE data.
 *
 * Lines split on LF (a CR before it is dropped); blank lines are skipped; a last line without its
 * LF is handed out when the body ends (servers do end without one). Splitting on the LF byte is
 * safe in UTF-8, which never uses it inside a character, so each line is decoded once, whole.
 *
 * @since 0.2.0
 */
import type * as Framing from "./Framing.ts"

/** 10 MiB: a line larger than this is an error, not a buffer that grows forever. @category constants */
export const defaultMaxLineSize = 10 * 1024 * 1024

const LF = 0x0a
const CR = 0x0d

/** @category constructors */
export const framing = (maxLineSize: number = defaultMaxLineSize): Framing.Framing<string> => ({
  make: (onEvent) => {
    const decoder = new TextDecoder()
    // bytes after the last LF, in the pieces they came in
    let rest: Array<Uint8Array> = []
    let restLength = 0

    const line = (bytes: Uint8Array): void => {
      const end = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length
      const text = decoder.decode(end === bytes.length ? bytes : bytes.subarray(0, end))
      if (text.trim() !== "") onEvent(text)
    }

    const joined = (tail: Uint8Array): Uint8Array => {
      if (restLength === 0) return tail
      const whole = new Uint8Array(restLength + tail.length)
      let offset = 0
      for (const piece of rest) {
        whole.set(piece, offset)
        offset += piece.length
      }
      whole.set(tail, offset)
      rest = []
      restLength = 0
      return whole
    }

    const tooLarge = () => {
      rest = []
      restLength = 0
      return `an NDJSON line is larger than ${maxLineSize} bytes`
    }

    const feed = (bytes: Uint8Array): string | undefined => {
      let start = 0
      let end = bytes.indexOf(LF)
      while (end >= 0) {
        const first = joined(bytes.subarray(start, end))
        if (first.length > maxLineSize) return tooLarge()
        line(first)
        start = end + 1
        end = bytes.indexOf(LF, start)
      }
      if (start < bytes.length) {
        // copied: the caller may reuse its buffer
        rest.push(bytes.slice(start))
        restLength += bytes.length - start
        if (restLength > maxLineSize) return tooLarge()
      }
      return undefined
    }

    const end = (): string | undefined => {
      if (restLength > 0) line(joined(new Uint8Array(0)))
      return undefined
    }

    return { feed, end }
  }
})
