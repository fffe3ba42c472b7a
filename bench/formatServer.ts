/**
 * The per-format benchmark's upstream: a bare node:http server in its own process (its CPU is not
 * the client's) that answers every POST with one format's precomputed stream bytes, N text
 * deltas where N comes from the first `chunks-<N>` in the request's path or body (see
 * `formats/Format.ts`). Both sides get identical bytes.
 *
 * Usage: node bench/formatServer.ts <format file>; sends `{ port }` over IPC once listening.
 */
import { createServer } from "node:http"
import type { Format } from "./formats/Format.ts"

const format = (await import(process.argv[2]!) as { default: Format }).default
const bodies = new Map<number, Uint8Array>()
const bodyOf = (count: number): Uint8Array => {
  let bytes = bodies.get(count)
  if (bytes === undefined) {
    bytes = format.body(count)
    bodies.set(count, bytes)
  }
  return bytes
}

const server = createServer((request, response) => {
  const parts: Array<Buffer> = []
  request.on("data", (part: Buffer) => parts.push(part))
  request.on("end", () => {
    const count = /chunks-(\d+)/.exec(`${request.url ?? ""} ${Buffer.concat(parts).toString()}`)?.[1]
    if (count === undefined) {
      response.writeHead(400, { "content-type": "text/plain" })
      response.end("no chunks-<N> in the request")
      return
    }
    const bytes = bodyOf(Number(count))
    // chunked, as providers stream (no content-length), like bench/server.ts
    response.writeHead(200, { "content-type": format.contentType, "cache-control": "no-cache" })
    response.end(bytes)
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, "127.0.0.1", () => {
  const address = server.address()
  if (address !== null && typeof address === "object") process.send?.({ port: address.port })
})
process.on("disconnect", () => process.exit(0))
