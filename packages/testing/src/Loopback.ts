/**
 * A bare `node:http` server on 127.0.0.1 and a free port, for tests that need exact control of
 * the bytes, timing and connection (a head and no body, a body that stops, a socket destroyed
 * mid-way) rather than `MockProviderServer`'s replies. Closed, with every connection, when the
 * scope closes.
 *
 * @since 0.2.0
 */
import { Effect, type Scope } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

/** A running server. @category models */
export interface Server {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string
  readonly port: number
  /** Closes it now (idempotent), dropping open connections. */
  readonly close: () => void
}

/**
 * Serves `handler` for the scope's lifetime. `handler` gets each request as it arrives (its body
 * unread): use `bodyThen` to answer after the body is in.
 *
 * @category constructors
 */
export const serve = (
  handler: (request: IncomingMessage, response: ServerResponse) => void
): Effect.Effect<Server, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<Server>((resume) => {
      const server = createServer(handler)
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        let closed = false
        resume(Effect.succeed({
          url: `http://127.0.0.1:${port}`,
          port,
          close: () => {
            if (closed) return
            closed = true
            server.closeAllConnections()
            server.close()
          }
        }))
      })
    }),
    (server) => Effect.sync(server.close)
  )

/**
 * A handler that reads the request body to its end, then calls `answer` with the body's bytes.
 *
 * @category combinators
 */
export const bodyThen = (
  answer: (request: IncomingMessage, response: ServerResponse, body: Buffer) => void
) =>
(request: IncomingMessage, response: ServerResponse): void => {
  const parts: Array<Buffer> = []
  request.on("data", (part: Buffer) => parts.push(part))
  request.on("end", () => answer(request, response, Buffer.concat(parts)))
}
