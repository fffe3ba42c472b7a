// A throwaway redis-server on 127.0.0.1 and a random free port (never 6379), no persistence, for
// tests and the benchmark: `start()`, then `stop()`, or `kill()` and `restart()` on the same port
// (a restart comes back empty: `--save "" --appendonly no`).
import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"

export const redisServerPath = process.env["REDIS_SERVER"] ?? "/usr/bin/redis-server"

/** A port nothing listens on now (the OS picks it). */
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
