/**
 * The primary process of the multi-worker service: it forks the workers, keeps them running and
 * stops them. It serves nothing itself (with `node:cluster` it holds the shared listening socket
 * and hands connections to the workers in turn).
 *
 * - Each worker gets a slot (`FLEXIAI_WORKER_SLOT`, 1..N) that a restarted worker keeps, so
 *   `x-worker` and `/health` name the same slot across restarts (the pid changes).
 * - A worker that exits while the service runs is restarted after a delay that doubles with each
 *   exit of that slot in the last minute (0.1 s up to 30 s), so a crash loop does not spin. A
 *   worker that fails before the service was ever ready (a bad config, a port in use) stops the
 *   whole service with exit code 1: restarting it would fail the same way.
 * - SIGTERM or SIGINT: every worker gets SIGTERM and drains (see `worker.ts`); the primary exits
 *   when all have exited, 0 when every one exited cleanly. Workers still alive
 *   `SHUTDOWN_GRACE_MS` + 5 s later are killed (SIGKILL) and the exit code is 1.
 *
 * Plain Node on purpose: the cluster API is a handful of events, and the part that must be
 * Effect (serving, FlexiAI, draining) runs in the workers.
 */
import cluster, { type Worker } from "node:cluster"
import { availableParallelism } from "node:os"
import { resolve } from "node:path"
import { startMocks } from "./mocks.ts"
import { fromEnv, isWorkerMessage, slotVariable } from "./settings.ts"

const log = (text: string) => process.stdout.write(`[primary ${process.pid}] ${text}\n`)

const usage = `usage: node examples/multi-worker/main.ts [--config PATH] [--mock]
  --config PATH  FlexiAI config file for every worker (sets FLEXIAI_CONFIG_FILE)
  --mock         start two stand-in providers on 127.0.0.1 (one flaky, one healthy) and use them
environment: PORT (8787), HOST (127.0.0.1), WORKERS (CPUs), SHUTDOWN_GRACE_MS (10000),
  KEEP_ALIVE_TIMEOUT_MS (65000), and FlexiAI's FLEXIAI_* variables`

export const main = async (args: ReadonlyArray<string>): Promise<void> => {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`${usage}\n`)
    return
  }
  const settings = fromEnv(process.env, availableParallelism())
  const configAt = args.indexOf("--config")
  if (configAt !== -1) {
    const path = args[configAt + 1]
    if (path === undefined) throw new Error("--config needs a path")
    process.env["FLEXIAI_CONFIG_FILE"] = resolve(path)
  }
  const mocks = args.includes("--mock") ? await startMocks() : undefined
  if (mocks !== undefined) {
    process.env["FLEXIAI_CONFIG_FILE"] = mocks.configFile
    log(`--mock: flaky provider ${mocks.flakyUrl}, healthy provider ${mocks.healthyUrl}, config ${mocks.configFile}`)
  }

  const slots = new Map<number, Worker>()
  const recentExits = new Map<number, Array<number>>()
  let everReady = false
  const ready = new Set<number>()
  let stopping = false
  let failed = false

  const fork = (slot: number) => {
    const worker = cluster.fork({ [slotVariable]: String(slot) })
    slots.set(slot, worker)
    worker.on("message", (message: unknown) => {
      if (!isWorkerMessage(message)) return
      if (message.type === "draining") {
        log(`worker ${message.slot} (pid ${message.pid}) draining ${message.inFlight} request(s)`)
        return
      }
      ready.add(slot)
      if (!everReady && ready.size === settings.workers) {
        everReady = true
        const pids = [...slots.values()].map((each) => each.process.pid).join(", ")
        log(`ready: ${settings.workers} workers on http://${settings.host}:${message.port} (pids ${pids})`)
      } else if (everReady) {
        log(`worker ${slot} (pid ${message.pid}) ready`)
      }
    })
  }

  const finish = async () => {
    await mocks?.stop()
    log(failed ? "stopped, with failures" : "stopped")
    process.exit(failed ? 1 : 0)
  }

  const stop = (why: string) => {
    if (stopping) {
      log(`${why}: already stopping`)
      return
    }
    stopping = true
    log(`${why}: stopping ${slots.size} worker(s)`)
    if (slots.size === 0) return void finish()
    for (const worker of slots.values()) worker.process.kill("SIGTERM")
    setTimeout(() => {
      for (const worker of slots.values()) {
        log(`worker pid ${worker.process.pid} still running after the grace period: killing it`)
        worker.process.kill("SIGKILL")
      }
      failed = true
    }, settings.shutdownGraceMillis + 5000).unref()
  }

  cluster.on("exit", (worker, code, signal) => {
    const slot = [...slots.entries()].find(([, each]) => each === worker)?.[0]
    if (slot === undefined) return
    slots.delete(slot)
    ready.delete(slot)
    const how = signal === null ? `code ${code}` : `signal ${signal}`
    if (stopping) {
      if (code !== 0) failed = true
      log(`worker ${slot} (pid ${worker.process.pid}) exited (${how})`)
      if (slots.size === 0) void finish()
      return
    }
    if (!everReady) {
      log(`worker ${slot} (pid ${worker.process.pid}) failed to start (${how}): stopping`)
      failed = true
      stop("startup failed")
      return
    }
    const now = Date.now()
    const exits = (recentExits.get(slot) ?? []).filter((at) => now - at < 60_000)
    exits.push(now)
    recentExits.set(slot, exits)
    const delay = Math.min(30_000, 100 * 2 ** (exits.length - 1))
    log(`worker ${slot} (pid ${worker.process.pid}) exited unexpectedly (${how}): restarting in ${delay} ms`)
    setTimeout(() => {
      if (!stopping) fork(slot)
    }, delay)
  })

  process.on("SIGTERM", () => stop("SIGTERM"))
  process.on("SIGINT", () => stop("SIGINT"))

  log(`starting ${settings.workers} worker(s)`)
  for (let slot = 1; slot <= settings.workers; slot++) fork(slot)
}
