/**
 * A throwaway `redis-server` on 127.0.0.1 and a random free port (never 6379, where a machine's own
 * Redis may run), without persistence, for tests and benchmarks: `start()`, then `stop()`, or
 * `kill()` / `pause()` and `restart()` / `resume()` on the same port (a restart comes back empty:
 * `--save "" --appendonly no`). The binary is `REDIS_SERVER`, else `/usr/bin/redis-server`.
 *
 * @since 0.2.0
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"

/** Where the binary is looked for. @category constants */
export const redisServerPath = process.env["REDIS_SERVER"] ?? "/usr/bin/redis-server"

/** A loopback port nothing listens on now (the OS picks it), never 6379. @category utils */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => port === 6379 ? resolve(freePort()) : resolve(port))
    })
  })

/** A running (or killed, or paused) server. @category models */
export interface RedisServer {
  readonly port: number
  readonly url: string
  readonly running: () => boolean
  /** SIGKILL: Redis vanishes at once, connections reset. */
  readonly kill: () => Promise<void>
  /** SIGSTOP / SIGCONT: Redis hangs (connections stay open, nothing answers), then carries on. */
  readonly pause: () => void
  readonly resume: () => void
  /** Starts again on the same port (empty). */
  readonly restart: () => Promise<void>
  readonly stop: () => Promise<void>
}

const launch = (port: number): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(redisServerPath, [
      "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"
    ], { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`redis-server on ${port} did not start: ${output}`))
    }, 10_000)
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer)
        resolve(child)
      }
    })
    child.on("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`redis-server on ${port} exited with ${code}: ${output}`))
    })
  })

const exited = (child: ChildProcess, signal: NodeJS.Signals): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("exit", () => resolve())
    child.kill(signal)
  })

/** Starts one on `port` (default: a free one) and waits until it accepts connections. @category constructors */
export const start = async (port?: number): Promise<RedisServer> => {
  const chosen = port ?? await freePort()
  let child: ChildProcess | undefined = await launch(chosen)
  return {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    running: () => child !== undefined,
    kill: async () => {
      if (child === undefined) return
      const dying = child
      child = undefined
      await exited(dying, "SIGKILL")
    },
    pause: () => {
      child?.kill("SIGSTOP")
    },
    resume: () => {
      child?.kill("SIGCONT")
    },
    restart: async () => {
      if (child !== undefined) return
      child = await launch(chosen)
    },
    stop: async () => {
      if (child === undefined) return
      const stopping = child
      stopping.kill("SIGCONT")
      child = undefined
      await exited(stopping, "SIGTERM")
    }
  }
}
