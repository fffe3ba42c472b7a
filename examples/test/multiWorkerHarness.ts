/**
 * Test harness for `examples/multi-worker`: runs the service as a real process tree (primary + N
 * workers), and talks to one chosen worker at a time.
 *
 * Connections from a client to the shared port are handed to the workers in turn, so a test picks
 * a worker by opening connections until one is answered by it (`x-worker`), then keeps that
 * connection (a keep-alive agent with a single socket). Every response's `x-worker` is checked, so
 * a socket that was silently replaced (and may have landed on another worker) fails loudly.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Http from "node:http"
import { fileURLToPath } from "node:url"

const mainPath = fileURLToPath(new URL("../multi-worker/main.ts", import.meta.url))

export interface Reply {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

export interface SseEvent {
  readonly event: string
  readonly data: unknown
}

/** Every body the service sent, for the secret check. */
export const seenBodies: Array<string> = []

export const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

/** Polls `check` every 20 ms until it returns a value, or fails after `timeoutMillis` with `what` (and `context()`). */
export const waitFor = async <A>(
  what: string,
  check: () => A | undefined | Promise<A | undefined>,
  timeoutMillis: number,
  context: () => string = () => ""
): Promise<A> => {
  const until = Date.now() + timeoutMillis
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMillis} ms waiting for ${what}\n${context()}`)
    await sleep(20)
  }
}

const send = (
  agent: Http.Agent | undefined,
  port: number,
  method: string,
  path: string,
  body?: unknown,
  onChunk?: (text: string) => void
): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body)
    const request = Http.request({
      host: "127.0.0.1",
      port,
      method,
      path,
      ...(agent === undefined ? { agent: false } : { agent }),
      headers: payload === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
    }, (response) => {
      let text = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => {
        text += chunk
        onChunk?.(chunk)
      })
      response.on("end", () => {
        seenBodies.push(text)
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text })
      })
      response.on("error", reject)
    })
    request.on("error", reject)
    // a connection handed to a worker as it died can hang: fail it instead of the whole test
    request.setTimeout(5000, () => request.destroy(new Error(`${method} ${path}: no answer within 5 s`)))
    request.end(payload)
  })

/** Parses a complete SSE body into its events (`data` JSON-decoded). */
export const parseSse = (text: string): ReadonlyArray<SseEvent> =>
  text.split("\n\n").filter((block) => block.trim() !== "").map((block) => {
    let event = "message"
    let data = ""
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim()
      else if (line.startsWith("data:")) data += line.slice(5).trim()
    }
    return { event, data: data === "" ? undefined : JSON.parse(data) as unknown }
  })

/** The data of the last event, which must be named `name`. */
export const lastEvent = <A>(events: ReadonlyArray<SseEvent>, name: string): A => {
  const last = events.at(-1)
  if (last?.event !== name) throw new Error(`expected the last event to be ${name}, got ${JSON.stringify(events.slice(-3))}`)
  return last.data as A
}

/** One kept connection to one worker. */
export class Pinned {
  readonly slot: number
  readonly port: number
  private readonly agent: Http.Agent

  constructor(slot: number, port: number, agent: Http.Agent) {
    this.slot = slot
    this.port = port
    this.agent = agent
  }

  async request(method: string, path: string, body?: unknown, onChunk?: (text: string) => void): Promise<Reply> {
    const reply = await send(this.agent, this.port, method, path, body, onChunk)
    if (reply.headers["x-worker"] !== String(this.slot)) {
      throw new Error(`expected worker ${this.slot} to answer ${method} ${path}, got ${String(reply.headers["x-worker"])}`)
    }
    return reply
  }

  async health(): Promise<Health> {
    return JSON.parse((await this.request("GET", "/health")).body) as Health
  }

  close() {
    this.agent.destroy()
  }
}

export interface ProviderHealth {
  readonly name: string
  readonly circuit: string
  readonly circuits: ReadonlyArray<{ readonly key: string; readonly state: string }>
  readonly requests: number
  readonly failures: number
  readonly skipped: number
  readonly latencyP50Millis?: number
}

export interface Health {
  readonly status: string
  readonly worker: { readonly slot: number; readonly pid: number; readonly draining: boolean; readonly inFlight: number }
  readonly providers: ReadonlyArray<ProviderHealth>
  readonly [key: string]: unknown
}

/** The service as a process tree. */
export class App {
  output = ""
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
  port = 0
  private readonly pids = new Set<number>()
  private readonly process: ChildProcess

  constructor(env: Readonly<Record<string, string>>) {
    this.process = spawn(process.execPath, [mainPath], {
      env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    this.process.stdout?.setEncoding("utf8").on("data", (text: string) => { this.output += text })
    this.process.stderr?.setEncoding("utf8").on("data", (text: string) => { this.output += text })
    this.process.on("exit", (code, signal) => { this.exit = { code, signal } })
  }

  get pid(): number {
    return this.process.pid ?? -1
  }

  tail = () => `--- app output ---\n${this.output.split("\n").slice(-60).join("\n")}`

  /** Waits for the primary's `ready:` line (every worker listening) and reads the port from it. */
  async ready(timeoutMillis = 20_000): Promise<void> {
    const line = await waitFor("the ready line", () => {
      if (this.exit !== undefined) throw new Error(`the app exited before it was ready (${JSON.stringify(this.exit)})\n${this.tail()}`)
      return /ready: \d+ workers on http:\/\/127\.0\.0\.1:(\d+)/.exec(this.output) ?? undefined
    }, timeoutMillis, this.tail)
    this.port = Number(line[1])
  }

  /** A kept connection to worker `slot`: fresh connections until one is answered by it. */
  async pin(slot: number, timeoutMillis = 10_000): Promise<Pinned> {
    return waitFor(`a connection answered by worker ${slot}`, async () => {
      const agent = new Http.Agent({ keepAlive: true, maxSockets: 1 })
      const reply = await send(agent, this.port, "GET", "/health")
      if (reply.headers["x-worker"] === String(slot)) {
        this.pids.add(Number(reply.headers["x-worker-pid"]))
        return new Pinned(slot, this.port, agent)
      }
      agent.destroy()
      return undefined
    }, timeoutMillis, this.tail)
  }

  /** A request on a new connection that the client drops as soon as the first bytes of the body arrive. */
  dropAfterFirstChunk(path: string, body: unknown): Promise<void> {
    return new Promise((resolve, reject) => {
      const payload = JSON.stringify(body)
      const request = Http.request({
        host: "127.0.0.1",
        port: this.port,
        method: "POST",
        path,
        agent: false,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
      }, (response) => {
        response.once("data", () => {
          request.destroy()
          resolve()
        })
      })
      request.on("error", (error: NodeJS.ErrnoException) => error.code === "ECONNRESET" ? resolve() : reject(error))
      request.end(payload)
    })
  }

  /** A request on a new connection (whichever worker takes it). */
  fresh(method: string, path: string, body?: unknown): Promise<Reply> {
    return send(undefined, this.port, method, path, body)
  }

  remember(pid: number) {
    this.pids.add(pid)
  }

  signal(signal: NodeJS.Signals) {
    this.process.kill(signal)
  }

  waitForExit(timeoutMillis: number) {
    return waitFor("the app to exit", () => this.exit, timeoutMillis, this.tail)
  }

  /** Kills whatever is left: the primary and every worker pid seen. Safe to call twice. */
  kill() {
    const pids = this.exit === undefined ? [this.pid, ...this.pids] : [...this.pids]
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL")
      } catch {
        // already gone
      }
    }
  }
}

/** Whether a process is alive (signal 0 checks without signalling). */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

