/**
 * Named router policies. A preset is the base a config's own policy fields are laid over, so
 * `preset: reliable` with `deadline: 60 seconds` is "reliable, but give up after a minute".
 *
 * - `fast`: for interactive use; short timeouts, one retry, a short Retry-After budget so a
 *   rate-limited provider is failed over at once rather than waited out.
 * - `balanced` (default): `RouterPolicy.defaults`.
 * - `reliable`: for batch work; more retries, longer timeouts and deadline, and a broken stream
 *   restarts on the next provider instead of failing.
 *
 * Each preset is a `RouterPolicy.Resolved`, the type `RouterPolicy.ResolvedSchema` describes, so a
 * field added there is a type error here until every preset sets it (a test also checks each
 * preset's values against the schema's ranges).
 *
 * @since 0.1.0
 */
import { Duration } from "effect"
import * as CircuitBreaker from "@flexiai/core/CircuitBreaker"
import * as RouterPolicy from "@flexiai/core/RouterPolicy"
import type { PresetName } from "./ConfigSchema.ts"

/** @category presets */
export const fast: RouterPolicy.Resolved = {
  retry: {
    maxRetries: 1,
    initialDelay: Duration.millis(100),
    factor: 2,
    maxDelay: Duration.seconds(1),
    jitter: true
  },
  maxRetryAfter: Duration.seconds(1),
  attemptTimeout: Duration.seconds(15),
  deadline: Duration.seconds(30),
  firstTokenTimeout: Duration.seconds(5),
  idleTimeout: Duration.seconds(10),
  streamPolicy: "fail",
  onMalformedEvent: "fail",
  failoverOnInvalidRequest: false,
  failoverOnContentFiltered: false,
  failoverOnBudgetExceeded: false
}

/** @category presets */
export const balanced: RouterPolicy.Resolved = RouterPolicy.defaults

/** @category presets */
export const reliable: RouterPolicy.Resolved = {
  retry: {
    maxRetries: 4,
    initialDelay: Duration.millis(500),
    factor: 2,
    maxDelay: Duration.seconds(20),
    jitter: true
  },
  maxRetryAfter: Duration.seconds(30),
  attemptTimeout: Duration.seconds(90),
  deadline: Duration.minutes(5),
  firstTokenTimeout: Duration.seconds(60),
  idleTimeout: Duration.seconds(60),
  streamPolicy: "restart",
  onMalformedEvent: "fail",
  failoverOnInvalidRequest: false,
  failoverOnContentFiltered: false,
  failoverOnBudgetExceeded: false
}

/** @category presets */
export const presets: Readonly<Record<PresetName, RouterPolicy.Resolved>> = { fast, balanced, reliable }

/** The preset used when none is named. @category presets */
export const defaultPreset: PresetName = "balanced"

/** Circuit breaker options with every field filled in (`@flexiai/core`'s `CircuitBreaker.Resolved`). @category models */
export type ResolvedBreaker = CircuitBreaker.Resolved

/** The breaker's defaults, `CircuitBreaker.defaults` (no preset changes them). @category presets */
export const breakerDefaults: ResolvedBreaker = CircuitBreaker.defaults
