/**
 * Secret masking for provider text: every message a provider sends back goes through a mask before
 * it lands in an error, a log line or a span, because providers echo keys (OpenAI's 401 quotes the
 * rejected key as `sk-proj-****wxyz`).
 *
 * Providers and proxies echo keys whole, in 8-character pieces, and shortened: the key's first
 * characters, a run of filler (`...`, `…`, `xxxx`, `****`, `•••`, `###`) and its last four
 * (`sk-C...cdef`, `sk-CANxxxxxxxxabcdef`). Each of those forms of a configured secret is masked, and
 * so is anything that looks like a starred key even when the secret is unknown. What users get
 * wrong: a secret under 8 characters is not matched (it would mask ordinary words).
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
    for (const value of values) masked = maskShortened(masked, value)
    if (fragments.size > 0) masked = maskFragments(masked, fragments)
    return masked.replace(starred, REDACTED)
  }
}

// a key-like run with four or more stars in it: a key shortened by someone, ours or not
const starred = /[A-Za-z0-9_\-.]*\*{4,}[A-Za-z0-9_\-.]*/g

/** Characters a shortened key uses in place of the middle it leaves out. */
const isFiller = (char: string): boolean =>
  char === "." || char === "*" || char === "x" || char === "X" || char === "\u2026" || char === "\u2022" || char === "#"

/** Characters a key (or a piece of one) is made of: what may not touch a masked form on either side. */
const isKeyChar = (char: string | undefined): boolean => {
  if (char === undefined) return false
  const code = char.charCodeAt(0)
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code === 45
}

/**
 * Masks the shortened forms of `secret` in `text`: `P F T` where `P` is the secret's first
 * characters (at least 3; may be empty when `F` is 3 or more characters long and nothing key-like
 * is right before it), `F` a run of filler
 * (at least 2 characters, or one `…`), and `T` the secret's last characters (at least 4). The
 * tail decides: `T` must end the secret, so `sk-...` alone or an ordinary ellipsis is left alone.
 */
const maskShortened = (text: string, secret: string): string => {
  const tail = secret.slice(-4)
  let at = text.indexOf(tail)
  if (at < 0) return text
  let out = ""
  let copied = 0
  while (at >= 0) {
    const end = at + 4
    let start = -1
    if (!isKeyChar(text[end])) {
      // the longest piece of the secret's end that the text has before `end`
      let t = 4
      while (t < secret.length && at - (t - 4) - 1 >= 0 && text[at - (t - 4) - 1] === secret[secret.length - t - 1]) t++
      // filler before it; a filler character the secret itself ends with counts as filler
      let f = end - t
      while (f > 0 && isFiller(text[f - 1]!)) f--
      const fillerLength = end - t - f
      if (fillerLength >= 2 || (fillerLength >= 1 && text[f] === "\u2026")) {
        // the secret's first characters before the filler
        if (!isKeyChar(text[f - 1])) {
          if (fillerLength >= 3) start = f
        } else {
          // the longest start of the secret that the text has right before the filler (what is
          // before that may be anything: `req-sk-C...cdef`, `key=sk-C...cdef`)
          for (let p = Math.min(secret.length - 1, f); p >= 3; p--) {
            if (text.startsWith(secret.slice(0, p), f - p)) {
              start = f - p
              break
            }
          }
        }
      }
    }
    if (start >= copied) {
      out += text.slice(copied, start) + REDACTED
      copied = end
    }
    at = text.indexOf(tail, end)
  }
  return copied === 0 ? text : out + text.slice(copied)
}
