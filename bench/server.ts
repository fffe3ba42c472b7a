/**
 * The benchmark's upstream: a bare node:http server in its own process, answering OpenAI Chat
 * Completions from precomputed bytes. Not MockProviderServer on purpose: the benchmark measures
 * the client, so the server must cost as little as possible and send identical bytes to both
 * clients, and running it in another process keeps its CPU out of the client's figures.
 *
 * Routes by the request's `model`: `json` (a complete answer), `chunks-N` (an SSE stream of N
 * content chunks), `stall` (one chunk, then the socket stays open).
 */
import { createServer } from "node:http"
import openAi, { chunk } from "./formats/openai.ts"

const completion = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1,
  model: "bench",
  choices: [{ index: 0, message: { role: "assistant", content: "Hello from the benchmark server." }, finish_reason: "stop" }],
  usage: { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 }
})

// the same bytes as the per-format benchmark's OpenAI row (one definition of the stream)
const streams = new Map<number, Uint8Array>()
const streamOf = (count: number): Uint8Array => {
  let bytes = streams.get(count)
  if (bytes === undefined) {
    bytes = openAi.body(count)
    streams.set(count, bytes)
  }
  return bytes
}

let received = 0
process.on("message", (message: { readonly type?: string }) => {
  if (message.type === "count") process.send?.({ count: received })
})

const server = createServer((request, response) => {
  received++
  const parts: Array<Buffer> = []
  request.on("data", (part: Buffer) => parts.push(part))
  request.on("end", () => {
    const model = /"model":"([^"]+)"/.exec(Buffer.concat(parts).toString())?.[1] ?? "json"
    if (model === "json") {
      response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(completion) })
      response.end(completion)
      return
    }
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
    if (model === "stall") {
      response.write(chunk({ role: "assistant", content: "first " }, null))
      return // held open until the client goes away
    }
    response.end(streamOf(Number(model.slice("chunks-".length))))
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, "127.0.0.1", () => {
  const address = server.address()
  if (address !== null && typeof address === "object") process.send?.({ port: address.port })
})
process.on("disconnect", () => process.exit(0))
