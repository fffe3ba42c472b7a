// Shared helpers for the kit's framing property tests (splitAt is @flexiai/testing's Chunks.splitAt).
export { splitAt } from "@flexiai/testing/Chunks"

/** Runs a framing over `pieces`; the events, and the first error (from `feed` or `end`). */
export const frameAll = <E>(
  framing: { readonly make: (onEvent: (event: E) => void) => { feed: (bytes: Uint8Array) => string | undefined; end: () => string | undefined } },
  pieces: ReadonlyArray<Uint8Array>
): { readonly events: Array<E>; readonly error: string | undefined } => {
  const events: Array<E> = []
  const framer = framing.make((event) => events.push(event))
  for (const piece of pieces) {
    const error = framer.feed(piece)
    if (error !== undefined) return { events, error }
  }
  return { events, error: framer.end() }
}
