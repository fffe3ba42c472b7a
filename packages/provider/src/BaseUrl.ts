/**
 * A provider's base URL: the one rule for what config accepts as `baseUrl` (and a descriptor as an
 * endpoint), and how the transport joins a path to it.
 *
 * Accepted: an absolute `http:` or `https:` URL, with no credentials in it — no `user:password@`,
 * no query string (a key in `?api-key=…` would be printed wherever the URL is: errors, status,
 * logs), no `#fragment`. A key goes in `apiKey`, where it stays `Redacted`. The check says what is
 * wrong without repeating the URL, since the URL may hold the secret it rejects.
 *
 * What users get wrong: `not a url` or `ftp://…` used to load and then fail every call with a
 * retryable `Connection` error; now config refuses them when it loads. Code that builds a
 * transport itself (`HttpTransport.make`) may still pass a URL with a query: the transport keeps
 * the query as query parameters after the path (not the path after the query) and masks its
 * values and any user info out of everything it reports.
 *
 * @since 0.2.0
 */
import { Schema } from "effect"

/**
 * Why `url` is not a usable base URL (a sentence without the URL in it), or `undefined`.
 *
 * @category utils
 */
export const problem = (url: string): string | undefined => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return "expected an http(s) URL such as https://api.example.com/v1"
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return `expected an http(s) URL, not ${parsed.protocol.slice(0, 16)}`
  }
  if (parsed.username !== "" || parsed.password !== "") {
    return "must not hold credentials (user:password@): put the key in apiKey"
  }
  if (parsed.search !== "") return "must not have a query string (keys in a URL get printed): put the key in apiKey"
  if (parsed.hash !== "") return "must not have a #fragment"
  return undefined
}

/**
 * The check `BaseUrl` makes, for a field with a description of its own:
 * `Schema.NonEmptyString.annotate({ description }).check(isBaseUrl)` (annotate before the check:
 * an annotation after it lands on the check, which the JSON Schema does not show).
 *
 * @category checks
 */
export const isBaseUrl = Schema.makeFilter((url: string) => problem(url), {
  expected: "an http(s) URL without credentials, query string or fragment"
})

/**
 * A base URL: an absolute http(s) URL without credentials, query string or fragment (see `problem`).
 *
 * @category schemas
 */
export const BaseUrl = Schema.NonEmptyString.annotate({
  description: "An http(s) URL (no user:password@, no query string, no #fragment: keys go in apiKey)."
}).check(isBaseUrl)

/**
 * The parts of a URL that may be secrets: user name, password and every query value, decoded.
 * An unparsable URL gives its whole text (it may be a key pasted in the wrong place).
 *
 * @category utils
 */
export const secretsOf = (url: string): ReadonlyArray<string> => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return [url]
  }
  const secrets: Array<string> = []
  if (parsed.username !== "") secrets.push(decodeURIComponent(parsed.username), parsed.username)
  if (parsed.password !== "") secrets.push(decodeURIComponent(parsed.password), parsed.password)
  for (const [, value] of parsed.searchParams) if (value !== "") secrets.push(value, encodeURIComponent(value))
  return secrets
}

/** A base URL split for the transport. @category models */
export interface Split {
  /** The URL without query, fragment and trailing slashes: paths are appended to it. */
  readonly base: string
  /** Its query parameters, in order (sent after the path). */
  readonly params: ReadonlyArray<readonly [string, string]>
}

/**
 * Splits a base URL into what paths are appended to and its query parameters (`?a=1` stays a
 * query after `/chat/completions`, not the path after the query).
 *
 * @category utils
 */
export const split = (url: string): Split => {
  const query = url.search(/[?#]/)
  const base = (query < 0 ? url : url.slice(0, query)).replace(/\/+$/, "")
  if (query < 0 || url[query] === "#") return { base, params: [] }
  const hash = url.indexOf("#", query)
  const search = new URLSearchParams(url.slice(query + 1, hash < 0 ? undefined : hash))
  return { base, params: [...search] }
}
