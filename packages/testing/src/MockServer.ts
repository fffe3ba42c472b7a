/**
 * The mock's HTTP server on `node:http` (127.0.0.1, a random port): routes each request to the first
 * encoder that claims it, takes the next reply from the script's queues, records the call, and
 * serves the reply with its faults (resets before headers, cuts, stalls, malformed events,
 * missing terminators, in-band errors) in the encoder's wire format.
 *
 * It is written on `node:http` rather than an HTTP framework on purpose: faults need byte-level
 * control (destroy the socket before headers, cut a chunked body without its terminator, hold a
 * socket open and send nothing) that a framework server hides behind its response abstraction.
 *
 * What people get wrong: a queue that runs dry falls back to `fallback` (echo by default), so a
 * test that expects N faults should script exactly N; `stop` closes every socket, hung ones too.
 *
 * @since 0.1.0
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { anthropicEncoder } from "./encoders/AnthropicEncoder.ts"
import { bedrockEncoder } from "./encoders/BedrockEncoder.ts"
import { googleEncoder } from "./encoders/GoogleEncoder.ts"
import { ollamaEncoder } from "./encoders/OllamaEncoder.ts"
import { openAiEncoder } from "./encoders/OpenAiEncoder.ts"
import type { Answer, Encoder, Frame, IncomingRequest } from "./MockEncoder.ts"
import * as Fixture from "./MockFixture.ts"
import { echo, type Reply, type Script, splitWords } from "./MockReply.ts"

/**
 * The built-in wire formats, tried in order: OpenAI Chat Completions (and its compatible family),
 * Anthropic Messages, Ollama's native API, Bedrock Converse, Gemini (Gemini API and Vertex AI paths).
 *
 * @category encoders
 */
export const encoders: ReadonlyArray<Encoder> = [openAiEncoder, anthropicEncoder, ollamaEncoder, bedrockEncoder, googleEncoder]
const builtInEncoders = encoders

/**
 * Server options. `encoders` replaces the list the server routes with (tried in order): pass
 * `[myEncoder, ...MockProviderServer.encoders]` to add a format of your own.
 *
 * @category models
 */
export interface Options {
  readonly port?: number | undefined
  readonly encoders?: ReadonlyArray<Encoder> | undefined
}

/** A request the server received. Auth headers are masked (`Bearer ****wxyz`). @category models */
export interface RecordedCall {
  readonly method: string
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  readonly headers: Readonly<Record<string, string>>
  /** The parsed JSON body, or `undefined` when there was none or it was not JSON. */
  readonly body: unknown
  readonly rawBody: string
  /** The encoder that handled it (`"openai"`) and the reply tag served. */
  readonly format: string | undefined
  readonly reply: Reply["_tag"] | "Models" | "NotFound"
  readonly receivedAt: number
  /**
   * When the client went away before the response was complete (a stream it dropped, a request
   * it gave up on); `undefined` while the response runs or once it ended normally. Set later than
   * the rest of the record, when the connection closes.
   */
  readonly clientClosedAt: number | undefined
}

/** The plain (Promise) handle. @category models */
export interface Handle {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string
  readonly calls: () => ReadonlyArray<RecordedCall>
  readonly clearCalls: () => void
  /** Replaces the script; queues start afresh. */
  readonly setScript: (script: Script) => void
  readonly stop: () => Promise<void>
}

const maskedHeaders = new Set(["authorization", "api-key", "x-api-key", "x-goog-api-key", "proxy-authorization"])

const mask = (value: string): string => {
  const space = value.indexOf(" ")
  const scheme = space > 0 && space < 10 ? value.slice(0, space + 1) : ""
  const secret = value.slice(scheme.length)
  return `${scheme}****${secret.length >= 12 ? secret.slice(-4) : ""}`
}

const delay = (millis: number | undefined): Promise<void> =>
  millis === undefined || millis <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, millis))

const estimateTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4))

let idCounter = 0

/** Starts a server for non-Effect code. @category constructors */
export const start = (initial: Script, options: Options = {}): Promise<Handle> => {
  const encoders = options.encoders ?? builtInEncoders
  let script = initial
  let queues = new Map<string, Array<Reply>>()
  const calls: Array<RecordedCall> = []
  let stopped = false
  // responses the server itself cut (resets, cuts): their close is not the client's doing
  const closedByServer = new WeakSet<Http.ServerResponse>()

  const next = (key: string, replies: ReadonlyArray<Reply> | undefined): Reply | undefined => {
    if (replies === undefined) return undefined
    let queue = queues.get(key)
    if (queue === undefined) {
      queue = [...replies]
      queues.set(key, queue)
    }
    return queue.shift()
  }

  const pick = (path: string, model: string | undefined): Reply =>
    next(`path:${path}`, script.byPath?.[path]) ??
      (model === undefined ? undefined : next(`model:${model}`, script.byModel?.[model])) ??
      next("replies", script.replies) ??
      script.fallback ??
      echo()

  const server = Http.createServer((request, response) => {
    const pieces: Array<Buffer> = []
    request.on("data", (piece: Buffer) => pieces.push(piece))
    request.on("end", () => {
      const rawBody = Buffer.concat(pieces).toString("utf8")
      const url = new URL(request.url ?? "/", "http://127.0.0.1")
      let body: unknown = undefined
      try {
        body = rawBody.length === 0 ? undefined : JSON.parse(rawBody)
      } catch {
        body = undefined
      }
      const incoming: IncomingRequest = {
        method: request.method ?? "GET",
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body,
        rawHeaders: request.headers,
        rawBody
      }
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(request.headers)) {
        const text = Array.isArray(value) ? value.join(", ") : value ?? ""
        headers[name] = maskedHeaders.has(name) ? mask(text) : text
      }
      const authorization = request.headers["authorization"] ?? request.headers["api-key"] ?? request.headers["x-goog-api-key"]
      const secret = typeof authorization === "string" ? authorization.replace(/^Bearer\s+/i, "") : ""
      const encoder = encoders.find((candidate) => candidate.chat(incoming) || candidate.models(incoming))
      const record = (reply: RecordedCall["reply"]) => {
        const call: { -readonly [K in keyof RecordedCall]: RecordedCall[K] } = {
          method: incoming.method,
          path: incoming.path,
          query: incoming.query,
          headers,
          body,
          rawBody,
          format: encoder?.name,
          reply,
          receivedAt: Date.now(),
          clientClosedAt: undefined
        }
        calls.push(call)
        // 'close' also follows a response that ended normally, and the server's own stop
        response.once("close", () => {
          if (!response.writableFinished && !stopped && !closedByServer.has(response)) call.clientClosedAt = Date.now()
        })
      }
      if (encoder === undefined) {
        record("NotFound")
        response.writeHead(404, { "content-type": "application/json" })
        response.end(JSON.stringify({ error: { message: `no route for ${incoming.method} ${incoming.path}`, type: "invalid_request_error", param: null, code: "unknown_url" } }))
        return
      }
      if (encoder.models(incoming) && script.byPath?.[incoming.path] === undefined) {
        record("Models")
        const models = script.models ?? Object.keys(script.byModel ?? {})
        response.writeHead(200, { "content-type": "application/json", "x-request-id": `req_mock_${++idCounter}` })
        response.end(JSON.stringify(encoder.modelList(models.length === 0 ? ["mock-model"] : models, incoming)))
        return
      }
      const answer = () => {
        const reply = pick(incoming.path, encoder.modelOf(incoming))
        record(reply._tag)
        serve(encoder, incoming, reply, secret, request, response).catch(() => {
          if (!response.destroyed) {
            closedByServer.add(response)
            response.destroy()
          }
        })
      }
      if (encoder.verify === undefined) return answer()
      // an encoder that checks requests (a signature) answers a refused one itself
      void encoder.verify(incoming).then((refusal) => {
        if (refusal === undefined) return answer()
        record("Error")
        response.writeHead(refusal.status, { "content-type": "application/json", ...refusal.headers })
        response.end(JSON.stringify(refusal.body))
      }, () => {
        closedByServer.add(response)
        response.destroy()
      })
    })
  })

  const isGone = (response: Http.ServerResponse) => stopped || response.destroyed || response.socket === null

  const write = async (response: Http.ServerResponse, frames: ReadonlyArray<Frame>, delayMillis: number | undefined) => {
    for (const frame of frames) {
      await delay(delayMillis)
      if (isGone(response)) return false
      response.write(frame)
    }
    return true
  }

  const serve = async (
    encoder: Encoder,
    incoming: IncomingRequest,
    reply: Reply,
    secret: string,
    request: Http.IncomingMessage,
    response: Http.ServerResponse
  ): Promise<void> => {
    const requestId = `req_mock_${++idCounter}`
    switch (reply._tag) {
      case "Reset": {
        closedByServer.add(response)
        request.socket.destroy()
        return
      }
      case "Hang":
        return
      case "Error": {
        const echoedKey = secret.length >= 12 ? `${secret.slice(0, 8)}${"*".repeat(secret.length - 12)}${secret.slice(-4)}` : "****"
        const error = { ...reply.error, message: reply.error.message.replace("{key}", echoedKey) }
        response.writeHead(reply.status, { "content-type": "application/json", "x-request-id": requestId, ...reply.headers })
        response.end(reply.rawBody ?? JSON.stringify(encoder.errorBody(reply.status, error)))
        return
      }
      case "Fixture": {
        const replay = Fixture.load(reply.path, encoder, reply)
        await delay(reply.delivery.headersDelayMillis)
        if (isGone(response)) return
        response.writeHead(replay.status, {
          "content-type": replay.contentType,
          ...(replay.contentType.startsWith("application/json") ? {} : { "cache-control": "no-cache" }),
          "x-request-id": requestId
        })
        response.flushHeaders()
        for (const { delayMillis, frame } of replay.frames) {
          await delay(reply.delivery.chunkDelayMillis ?? delayMillis)
          if (isGone(response)) return
          response.write(frame)
        }
        response.end()
        return
      }
      case "Raw": {
        await delay(reply.delivery.headersDelayMillis)
        response.writeHead(reply.status, { "x-request-id": requestId, ...reply.headers })
        response.flushHeaders()
        if (await write(response, reply.frames, reply.delivery.chunkDelayMillis)) response.end()
        return
      }
      case "Answer": {
        const delivery = reply.delivery
        const model = reply.model ?? encoder.modelOf(incoming) ?? "mock-model"
        const pieces = reply.pieces ?? splitWords(`${reply.echoPrefix}${encoder.lastUserText(incoming)}`)
        const result: Answer = {
          id: `chatcmpl-mock${++idCounter}`,
          model,
          pieces,
          toolCalls: reply.toolCalls,
          argumentChunks: reply.argumentChunks,
          finishReason: reply.finishReason,
          usage: reply.usage ?? {
            promptTokens: estimateTokens(JSON.stringify(incoming.body ?? "")),
            completionTokens: Math.max(1, pieces.length + reply.toolCalls.length)
          },
          created: Math.floor(Date.now() / 1000)
        }
        await delay(delivery.headersDelayMillis)
        if (isGone(response)) return
        if (!encoder.isStream(incoming)) {
          response.writeHead(200, { "content-type": "application/json", "x-request-id": requestId, ...reply.headers })
          response.end(JSON.stringify(encoder.completion(result, incoming)))
          return
        }
        response.writeHead(200, {
          "content-type": encoder.streamContentType,
          "cache-control": "no-cache",
          "x-request-id": requestId,
          ...reply.headers
        })
        response.flushHeaders()
        const frames = encoder.frames(result, incoming)
        if (!(await write(response, frames.head, undefined))) return
        for (let index = 0; index <= frames.content.length; index++) {
          if (delivery.cutAfterChunks === index) {
            await delay(delivery.chunkDelayMillis)
            // let the written chunks reach the client before the cut, so it sees the partial text
            await new Promise<void>((resolve) => response.write("", () => resolve()))
            await delay(20)
            closedByServer.add(response)
            response.socket?.destroy()
            return
          }
          if (delivery.stallAfterChunks === index) return
          if (delivery.malformedAfterChunks === index) response.write(encoder.malformedFrame)
          if (delivery.errorAfterChunks === index && delivery.streamError !== undefined) {
            response.end(encoder.errorFrame(delivery.streamError))
            return
          }
          const frame = frames.content[index]
          if (frame === undefined) break
          await delay(index === 0 ? delivery.firstTokenDelayMillis ?? delivery.chunkDelayMillis : delivery.chunkDelayMillis)
          if (isGone(response)) return
          response.write(frame)
        }
        if (!(await write(response, frames.tail, undefined))) return
        if (delivery.omitDone === "hold") return
        if (delivery.omitDone !== true && frames.done !== undefined) response.write(frames.done)
        response.end()
        return
      }
    }
  }

  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      const address = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${address.port}`,
        calls: () => [...calls],
        clearCalls: () => {
          calls.length = 0
        },
        setScript: (replacement) => {
          script = replacement
          queues = new Map()
        },
        stop: () =>
          new Promise<void>((resolveStop) => {
            stopped = true
            server.close(() => resolveStop())
            server.closeAllConnections()
          })
      })
    })
  })
}

