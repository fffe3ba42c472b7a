/**
 * Secret masking for provider text: every message a provider sends back goes through a mask before
 * it lands in an error, a log line or a span, because providers echo keys (OpenAI's 401 quotes the
 * rejected key as `sk-proj-****wxyz`).
 *
 * @since 0.2.0
 */
import { Redacted } from "effect"

const REDACTED = "[REDACTED]"

/** A function that scrubs secrets out of a text. @category models */
export type Mask = (text: string) => string

/**
 * Replaces every run of text covered by a known 8-character piece with one `[REDACTED]`. One pass
 * over the text with a set lookup per position, however many secrets (a long JWT has a thousand
 * pieces, and a token source's recent tokens are several), rather than one search per piece.
 */
const maskFragments = (text: string, fragments: ReadonlySet<string>): string => {
  let out = ""
  let copied = 0
  let coveredUntil = -1
  let runStart = -1
  for (let start = 0; start + 8 <= text.length; start++) {
    if (!fragments.has(text.slice(start, start + 8))) continue
    if (start > coveredUntil) {
      if (runStart >= 0) out += REDACTED
      out += text.slice(copied, start)
      runStart = start
    }
    coveredUntil = start + 8
    copied = coveredUntil
  }
  if (runStart < 0) return text
  return out + REDACTED + text.slice(copied)
}

/**
 * Masks every secret, every 8-character piece of one, and anything that looks like a partly
 * starred key (`sk-abcd****wxyz`). Secrets shorter than 8 characters are not matched (they would
 * mask ordinary words).
 *
 * @category constructors
 */
export const make = (secrets: ReadonlyArray<Redacted.Redacted<string> | string>): Mask => {
  const values = secrets.map((secret) => (typeof secret === "string" ? secret : Redacted.value(secret))).filter((value) =>
    value.length >= 8
  )
  const fragments = new Set<string>()
  for (const value of values) {
    for (let start = 0; start + 8 <= value.length; start++) fragments.add(value.slice(start, start + 8))
  }
  return (text: string): string => {
    let masked = text
    for (const value of values) masked = masked.split(value).join(REDACTED)
    if (fragments.size > 0) masked = maskFragments(masked, fragments)
    return masked.replace(/[A-Za-z0-9_\-.]*\*{4,}[A-Za-z0-9_\-.]*/g, REDACTED)
  }
}
