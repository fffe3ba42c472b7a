/**
 * `pnpm example:workers`: FlexiAI behind an HTTP service run as several worker processes.
 *
 * The primary (`primary.ts`) forks `WORKERS` workers (`worker.ts`) with `node:cluster`; they share
 * one port, and each uses FlexiAI from the same config (`--config PATH` or `FLEXIAI_CONFIG_FILE`,
 * plus `FLEXIAI_*` variables), so with a Redis in the config they share their circuits. `--mock`
 * starts two stand-in providers on loopback (one flaky, one healthy) and a config for them, for a
 * run with no keys.
 *
 * Run: `pnpm example:workers --mock`, or `FLEXIAI_CONFIG_FILE=flexiai.config.yaml WORKERS=4 PORT=8787
 * pnpm example:workers`. Stop with Ctrl+C or SIGTERM: workers drain their streams, then exit.
 */
import cluster from "node:cluster"

if (cluster.isPrimary) {
  const { main } = await import("./primary.ts")
  await main(process.argv.slice(2))
} else {
  const { main } = await import("./worker.ts")
  main()
}
