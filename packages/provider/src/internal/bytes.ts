// Byte helpers shared by the kit's modules.

/** The pieces as one fresh `Uint8Array` (the piece itself when there is one). `length` when known. */
export const concat = (chunks: ReadonlyArray<Uint8Array>, length?: number): Uint8Array => {
  if (chunks.length === 1) return chunks[0]!
  let total = length ?? 0
  if (length === undefined) for (const chunk of chunks) total += chunk.byteLength
  const whole = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    whole.set(chunk, offset)
    offset += chunk.byteLength
  }
  return whole
}
