// Test side of fixtures/worker.ts: forks a worker process over a config and sends it commands.
import { type ChildProcess, fork } from "node:child_process"
import { fileURLToPath } from "node:url"

const script = fileURLToPath(new URL("./fixtures/worker.ts", import.meta.url))

export interface ChatResult {
  readonly provider: string
  readonly millis: number
  readonly attempts: ReadonlyArray<readonly [provider: string, outcome: string, reason: string]>
}

export interface StatusRow {
  readonly name: string
  readonly circuit: "Closed" | "Open" | "HalfOpen"
  readonly circuitStore: "local" | "shared" | "degraded"
  readonly enabled: boolean
  /** Left out (IPC is JSON) when there is none. */
  readonly rateLimitedUntil?: number | undefined
}

export interface Worker {
  readonly pid: number
  readonly chat: (text: string) => Promise<ChatResult>
  readonly status: () => Promise<ReadonlyArray<StatusRow>>
  readonly reset: () => Promise<void>
  readonly disable: (name: string) => Promise<void>
  readonly enable: (name: string) => Promise<void>
  /** Resolves once `status` says provider `name` is `enabled` (at most `withinMillis`, default 5 s). */
  readonly untilEnabled: (name: string, enabled: boolean, withinMillis?: number) => Promise<void>
  /** Resolves once `status` says `circuitStore` is `store` for every provider (at most 10 s). */
  readonly until: (store: StatusRow["circuitStore"]) => Promise<void>
  readonly kill: (signal?: NodeJS.Signals) => Promise<void>
}

const workers = new Set<ChildProcess>()

/** Kills every worker still running (call in afterEach). */
export const killAll = async () => {
  await Promise.all([...workers].map((child) => stop(child, "SIGKILL")))
}

const stop = (child: ChildProcess, signal: NodeJS.Signals) =>
  new Promise<void>((resolve) => {
    workers.delete(child)
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("exit", () => resolve())
    child.kill(signal)
  })

export const start = (config: unknown): Promise<Worker> =>
  new Promise((resolve, reject) => {
    const child = fork(script, [], {
      env: { ...process.env, WORKER_CONFIG: JSON.stringify(config) },
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    workers.add(child)
    let next = 0
    const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
    const request = <A>(command: Record<string, unknown>): Promise<A> =>
      new Promise((resolveRequest, rejectRequest) => {
        const id = next++
        pending.set(id, { resolve: resolveRequest as (value: unknown) => void, reject: rejectRequest })
        child.send({ id, ...command })
      })
    child.on("exit", (code, signal) => {
      for (const { reject: rejectRequest } of pending.values()) rejectRequest(new Error(`worker exited (${code ?? signal})`))
      pending.clear()
      reject(new Error(`worker exited before it was ready (${code ?? signal})`))
    })
    const worker: Worker = {
      pid: child.pid ?? 0,
      chat: (text) => request({ cmd: "chat", text }),
      status: () => request({ cmd: "status" }),
      reset: () => request({ cmd: "reset" }),
      disable: (name) => request({ cmd: "disable", name }),
      enable: (name) => request({ cmd: "enable", name }),
      untilEnabled: async (name, enabled, withinMillis = 5_000) => {
        const deadline = Date.now() + withinMillis
        while (true) {
          const row = (await worker.status()).find((candidate) => candidate.name === name)
          if (row?.enabled === enabled) return
          if (Date.now() > deadline) throw new Error(`worker ${child.pid}: ${name} is not enabled: ${enabled}: ${JSON.stringify(row)}`)
          await new Promise((wait) => setTimeout(wait, 20))
        }
      },
      until: async (store) => {
        const deadline = Date.now() + 10_000
        while (true) {
          const rows = await worker.status()
          if (rows.every((row) => row.circuitStore === store)) return
          if (Date.now() > deadline) throw new Error(`worker ${child.pid}: circuitStore is not ${store}: ${JSON.stringify(rows)}`)
          await new Promise((wait) => setTimeout(wait, 20))
        }
      },
      kill: (signal = "SIGTERM") => stop(child, signal)
    }
    child.on("message", (message: { ready?: boolean; id?: number; result?: unknown; error?: string }) => {
      if (message.ready === true) return resolve(worker)
      const waiting = message.id === undefined ? undefined : pending.get(message.id)
      if (waiting === undefined) return
      pending.delete(message.id!)
      if (message.error !== undefined) waiting.reject(new Error(message.error))
      else waiting.resolve(message.result)
    })
  })
