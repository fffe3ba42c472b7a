/**
 * Terminal output for the demo: colour that switches itself off without a TTY (or with
 * `NO_COLOR`), one line per attempt, and the final status table. Kept apart from the scenes so
 * the demo script reads as a story, and so a test can capture plain text by passing
 * `color: false`.
 */
import type { Attempt } from "@flexiai/core/ProviderError"
import type * as Router from "@flexiai/core/Router"
import { Duration } from "effect"

/** ANSI styles, or identities when colour is off. */
export interface Style {
  readonly bold: (text: string) => string
  readonly dim: (text: string) => string
  readonly red: (text: string) => string
  readonly green: (text: string) => string
  readonly yellow: (text: string) => string
  readonly cyan: (text: string) => string
  readonly magenta: (text: string) => string
}

const ansi = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`
const plain = (text: string) => text

export const makeStyle = (color: boolean): Style =>
  color
    ? {
      bold: ansi(1, 22),
      dim: ansi(2, 22),
      red: ansi(31, 39),
      green: ansi(32, 39),
      yellow: ansi(33, 39),
      cyan: ansi(36, 39),
      magenta: ansi(35, 39)
    }
    : { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain, magenta: plain }

/** Colour by default only where a person is watching: a TTY, and no `NO_COLOR` (https://no-color.org). */
export const defaultColor = (): boolean => process.stdout.isTTY === true && process.env["NO_COLOR"] === undefined

// pad before colouring: escape codes would count towards the width
const padEnd = (text: string, width: number) => text.length >= width ? text : text + " ".repeat(width - text.length)
const padStart = (text: string, width: number) => text.length >= width ? text : " ".repeat(width - text.length) + text

export const millis = (value: number | undefined): string => value === undefined ? "-" : `${Math.round(value)} ms`

export const seconds = (value: number): string => `${(value / 1000).toFixed(1)} s`

/** What went wrong in an attempt, with the detail a reader wants (status, Retry-After, why it was skipped). */
export const describeReason = (attempt: Attempt): string => {
  const error = attempt.error
  if (error === undefined) return attempt.reason ?? ""
  if (error._tag === "CircuitOpen") {
    const wait = error.retryAfter === undefined ? "" : `, ${seconds(Duration.toMillis(error.retryAfter))} left`
    return `${error.state}${wait}`
  }
  const reason = error.reason
  switch (reason._tag) {
    case "ServerError":
      return `ServerError ${reason.status}`
    case "RateLimited":
      return reason.retryAfter === undefined
        ? "RateLimited"
        : `RateLimited, Retry-After ${seconds(Duration.toMillis(reason.retryAfter))}`
    default:
      return reason._tag
  }
}

/** One line per attempt: provider, outcome, reason, tries, latency. */
export const attemptLine = (style: Style, attempt: Attempt): string => {
  const outcome = attempt.outcome === "success"
    ? style.green(padEnd("✓ success", 10))
    : attempt.outcome === "skipped"
    ? style.yellow(padEnd("↷ skipped", 10))
    : style.red(padEnd("✗ failure", 10))
  const reason = padEnd(describeReason(attempt), 36)
  const tries = attempt.outcome === "skipped" ? style.dim("no request") : `tries ${attempt.tries}`
  return `      ${padEnd(attempt.provider, 9)} ${outcome} ${reason} ${padEnd(tries, 10)} ${padStart(millis(attempt.latencyMillis), 8)}`
}

/** The `Router.status` table. `now` is the router's clock, for "rate limited for …". */
export const statusTable = (style: Style, statuses: ReadonlyArray<Router.ProviderStatus>, now: number): Array<string> => {
  const header = ["provider", "requests", "ok", "failed", "skipped", "success", "p50", "p95", "circuit", "last error"]
  const rows = statuses.map((status) => [
    status.name,
    String(status.requests),
    String(status.successes),
    String(status.failures),
    String(status.skipped),
    status.successRate === undefined ? "-" : `${Math.round(status.successRate * 100)}%`,
    millis(status.latencyP50Millis),
    millis(status.latencyP95Millis),
    [
      status.circuits.map((circuit) => circuit.state).join(",") || "-",
      ...(status.rateLimitedUntil === undefined ? [] : [`rate limited ${seconds(status.rateLimitedUntil - now)}`])
    ].join(", "),
    status.lastError?.reason ?? "-"
  ])
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)))
  const numeric = new Set([1, 2, 3, 4, 5, 6, 7])
  const format = (row: ReadonlyArray<string>) =>
    "  " + row.map((cell, column) => {
      const width = widths[column] ?? 0
      return numeric.has(column) ? padStart(cell, width) : padEnd(cell, width)
    }).join("  ").trimEnd()
  return [style.bold(format(header)), ...rows.map(format)]
}
