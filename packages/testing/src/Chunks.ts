/**
 * Cutting a body the way a network may deliver it, for framing and decoding property tests: any
 * split of the bytes must give the same events.
 *
 * @since 0.2.0
 */

/**
 * `whole` cut at `cuts` (taken modulo its length + 1, duplicates dropped, sorted): the pieces, in
 * order, that join back to `whole`. Works on strings and `Uint8Array`s.
 *
 * @category constructors
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
