/**
 * Per-call options as the router reads them: a `Context.Reference` whose default is `undefined`,
 * so a call without options pays one reference read and one comparison. `Router.withCallOptions`
 * checks the options against the router's providers and sets this reference; the router reads it
 * once when a call starts.
 *
 * Internal: the reference holds options already checked (known names, a positive deadline); set it
 * through `Router.withCallOptions`, which fails with a typed error for bad ones.
 */
import { Context, type Duration } from "effect"
import type { Slot } from "./Slot.ts"

/** Checked per-call options. */
export interface Resolved {
  /** Replaces the policy's deadline for the call. */
  readonly deadline: Duration.Duration | undefined
  readonly only: ReadonlySet<string> | undefined
  readonly avoid: ReadonlySet<string> | undefined
}

export const CurrentCallOptions = Context.Reference<Resolved | undefined>("@flexiai/core/Router/CallOptions", {
  defaultValue: () => undefined
})

/** The slots a call may use, in the router's order. */
export const candidates = (slots: ReadonlyArray<Slot>, options: Resolved): ReadonlyArray<Slot> => {
  const { avoid, only } = options
  if (only === undefined && avoid === undefined) return slots
  return slots.filter((slot) => (only === undefined || only.has(slot.name)) && (avoid === undefined || !avoid.has(slot.name)))
}
