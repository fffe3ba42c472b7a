/**
 * The providers' own rate-limit headers, read where something asked for them: OpenAI / Azure
 * (`x-ratelimit-remaining-requests|tokens`, `x-ratelimit-reset-requests|tokens` as Go-style
 * durations such as `6m0s`, `1s`, `20ms`) and Anthropic (`anthropic-ratelimit-requests-remaining`,
 * `…-tokens-remaining`, `…-requests-reset`, `…-tokens-reset` as RFC 3339 times).
 *
 * How they travel: `HttpTransport` reads the `Listener` reference from the calling fiber once per
 * request and, only when one is set, hands it every response's headers (2xx and errors alike).
 * FlexiAI's rate limiter sets it around the calls of a provider that has a `rateLimit`; with none
 * set (the default) the transport does nothing more than that one lookup.
 *
 * @since 0.2.0
 */
import { Context } from "effect"

/** Response headers, names in lower case. @category models */
export type Headers = Readonly<Record<string, string | undefined>>

/** Called with each response's headers (synchronously, on the transport's path: keep it short). @category models */
export type Listener = (headers: Headers) => void

/** The listener of the current call, `undefined` (nothing read) by default. @category references */
export const Listener = Context.Reference<Listener | undefined>("@flexiai/provider/RateLimitHeaders/Listener", {
  defaultValue: () => undefined
})

/** What a provider said about one limit: how many are left, and when the window resets (`Clock` millis). @category models */
export interface Window {
  readonly remaining: number
  readonly resetAtMillis: number | undefined
}

/** Both limits a provider reports, each where it sent it. @category models */
export interface Reported {
  readonly requests: Window | undefined
  readonly tokens: Window | undefined
}

const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, "µs": 0.001, ns: 0.000001 }

/**
 * A Go-style duration (`6m0s`, `1.5s`, `20ms`, `1h2m`) in millis; `undefined` when it is not one.
 *
 * @category parsing
 */
export const parseDuration = (text: string): number | undefined => {
  const trimmed = text.trim()
  if (trimmed.length === 0) return undefined
  const pattern = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/gy
  let total = 0
  let end = 0
  for (const match of trimmed.matchAll(pattern)) {
    total += Number(match[1]) * units[match[2]!]!
    end = (match.index ?? 0) + match[0].length
  }
  return end === trimmed.length && end > 0 ? total : undefined
}

const remainingOf = (text: string | undefined): number | undefined => {
  if (text === undefined) return undefined
  const value = Number(text.trim())
  return Number.isFinite(value) && value >= 0 ? value : undefined
}

const openAiWindow = (headers: Headers, which: "requests" | "tokens", nowMillis: number): Window | undefined => {
  const remaining = remainingOf(headers[`x-ratelimit-remaining-${which}`])
  if (remaining === undefined) return undefined
  const reset = headers[`x-ratelimit-reset-${which}`]
  const millis = reset === undefined ? undefined : parseDuration(reset)
  return { remaining, resetAtMillis: millis === undefined ? undefined : nowMillis + millis }
}

const anthropicWindow = (headers: Headers, which: "requests" | "tokens"): Window | undefined => {
  const remaining = remainingOf(headers[`anthropic-ratelimit-${which}-remaining`])
  if (remaining === undefined) return undefined
  const reset = headers[`anthropic-ratelimit-${which}-reset`]
  const at = reset === undefined ? Number.NaN : Date.parse(reset)
  return { remaining, resetAtMillis: Number.isFinite(at) ? at : undefined }
}

/**
 * Both header families read; `undefined` when the response carries neither (most calls of most
 * providers), so the caller can stop there.
 *
 * @category parsing
 */
export const read = (headers: Headers, nowMillis: number): Reported | undefined => {
  const requests = openAiWindow(headers, "requests", nowMillis) ?? anthropicWindow(headers, "requests")
  const tokens = openAiWindow(headers, "tokens", nowMillis) ?? anthropicWindow(headers, "tokens")
  return requests === undefined && tokens === undefined ? undefined : { requests, tokens }
}
