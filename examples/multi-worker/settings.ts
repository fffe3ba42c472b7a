/**
 * The service's own settings, read once from the environment (the primary and every worker read
 * the same variables; the workers inherit them). FlexiAI's settings are not here: providers,
 * policy, breaker, logging and Redis come from FlexiAI's config file (`FLEXIAI_CONFIG_FILE`, or
 * `--config PATH`, which sets it) and its `FLEXIAI_*` variables, read by `FlexiAI.layerConfig`
 * inside each worker.
 *
 * A bad value is an error at startup naming the variable, not a silent default.
 */

export interface Settings {
  /** `HOST`: the address to listen on. Default `127.0.0.1`; `0.0.0.0` to accept from other machines. */
  readonly host: string
  /** `PORT`: shared by every worker (the primary hands out connections). `0` picks a free one. Default 8787. */
  readonly port: number
  /** `WORKERS`: how many worker processes. Default: the number of CPUs. */
  readonly workers: number
  /** `SHUTDOWN_GRACE_MS`: how long a stopping worker lets in-flight requests and streams finish. Default 10000. */
  readonly shutdownGraceMillis: number
  /** `KEEP_ALIVE_TIMEOUT_MS`: idle keep-alive connections are closed after this. Default 65000 (longer than a load balancer's 60 s idle timeout). */
  readonly keepAliveTimeoutMillis: number
}

const integer = (env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number => {
  const raw = env[name]
  if (raw === undefined || raw.trim() === "") return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name}=${JSON.stringify(raw)}: expected an integer >= ${min}`)
  }
  return value
}

/** Reads the settings; throws an `Error` naming the variable when one is malformed. */
export const fromEnv = (env: NodeJS.ProcessEnv, cpus: number): Settings => {
  const port = integer(env, "PORT", 8787, 0)
  if (port > 65535) throw new Error(`PORT=${port}: expected a port number (0..65535)`)
  return {
    host: env["HOST"]?.trim() || "127.0.0.1",
    port,
    workers: integer(env, "WORKERS", Math.max(1, cpus), 1),
    shutdownGraceMillis: integer(env, "SHUTDOWN_GRACE_MS", 10_000, 0),
    keepAliveTimeoutMillis: integer(env, "KEEP_ALIVE_TIMEOUT_MS", 65_000, 1)
  }
}

/** What a worker is told by the primary that forked it (`FLEXIAI_WORKER_SLOT`): its slot, kept across restarts. */
export const slotVariable = "FLEXIAI_WORKER_SLOT"

/** Messages a worker sends its primary over the cluster IPC channel. */
export type WorkerMessage =
  | { readonly type: "ready"; readonly slot: number; readonly pid: number; readonly port: number }
  | { readonly type: "draining"; readonly slot: number; readonly pid: number; readonly inFlight: number }

export const isWorkerMessage = (message: unknown): message is WorkerMessage =>
  typeof message === "object" && message !== null && "type" in message &&
  (message.type === "ready" || message.type === "draining")
