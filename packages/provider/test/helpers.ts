// Shared helpers for the kit's framing property tests.

/**
 * `whole` cut at `cuts` (taken modulo its length, duplicates dropped): the pieces a network could
 * deliver it in.
 */
export const splitAt = <T extends { readonly length: number; slice(start: number, end: number): T }>(
  whole: T,
  cuts: ReadonlyArray<number>
): Array<T> => {
  const points = [...new Set(cuts.map((cut) => cut % (whole.length + 1)))].sort((a, b) => a - b)
  const pieces: Array<T> = []
  let start = 0
  for (const point of [...points, whole.length]) {
    pieces.push(whole.slice(start, point))
    start = point
  }
  return pieces
}

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
