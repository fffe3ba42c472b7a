/**
 * The measuring loops the benchmark cases share (`case.ts`, `formatCase.ts`): runs kept in flight
 * at a fixed concurrency, CPU per run, and CPU per streamed chunk. CPU (user + system) rather than
 * wall time: the server runs in another process, so the figure is what the client itself spends.
 *
 * @since 0.3.0
 */

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {
  throw new Error("run with node --expose-gc")
})

/** Runs `run` `count` times with `concurrency` runs in flight at all times. */
export const repeat = async (count: number, concurrency: number, run: () => Promise<unknown>): Promise<void> => {
  if (concurrency === 1) {
    for (let index = 0; index < count; index++) await run()
    return
  }
  let left = count
  const worker = async () => {
    while (left > 0) {
      left--
      await run()
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

/** CPU (user + system) per run, over `count` runs. */
export const cpuPerRun = async (count: number, run: () => Promise<unknown>, concurrency = 1): Promise<number> => {
  const start = process.cpuUsage()
  await repeat(count, concurrency, run)
  const used = process.cpuUsage(start)
  return (used.user + used.system) / count
}

export const median = (values: ReadonlyArray<number>): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

/**
 * CPU per streamed chunk: phases of 200-chunk streams and of 1-chunk streams, alternating in this
 * one process; each pair of phases gives (CPU per long stream − CPU per short one) / 199, and the
 * median of those is reported. Taking the difference inside one process cancels what a second
 * process would add (its own JIT state, the machine's load at another moment).
 *
 * Each phase runs for about a second (800 long or 3,200 short streams): several collections of
 * both generations land in every phase, so each phase pays for its own garbage. Phases of 64 and
 * 304 streams (50 ms, shorter than a collection cycle) made a phase's CPU depend on which
 * collection work happened to fall in it: the same code read 1.4 to 3.7 µs per chunk from one
 * process to the next.
 */
export const perChunkMicros = async (run: (model: string) => Promise<unknown>, concurrency = 1): Promise<number> => {
  await repeat(600, concurrency, () => run("chunks-200"))
  await repeat(3000, concurrency, () => run("chunks-1"))
  gc()
  // no forced GC between phases: a full collection drops optimized code, which the next phase
  // would pay to rebuild (it doubled the figure on the FlexiAI side)
  const perChunk: Array<number> = []
  for (let phase = 0; phase < 5; phase++) {
    const long = await cpuPerRun(800, () => run("chunks-200"), concurrency)
    const short = await cpuPerRun(3200, () => run("chunks-1"), concurrency)
    perChunk.push((long - short) / 199)
  }
  return median(perChunk)
}

