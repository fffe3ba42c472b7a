/**
 * Amazon Bedrock Converse on the mock: `POST /model/{modelId}/converse` (JSON) and
 * `…/converse-stream`, whose body is AWS event-stream: binary frames, each a prelude (total and
 * headers length, CRC32), string headers (`:event-type`, `:content-type`, `:message-type`), a JSON
 * payload and a CRC32 of the whole frame. `eventStreamFrame` writes one; the tests read them back
 * with `@smithy/eventstream-codec`, an independent implementation.
 *
 * Errors: Bedrock names an error by its exception (`ThrottlingException`), in the
 * `x-amzn-errortype` header and, from some services, the body's `__type`; the mock's generic
 * error replies get the exception their status means (`exceptionFor`) as `__type` beside
 * `message` (script the header with `error(..., { headers })` for the header form). In a stream
 * an exception is a frame with `:message-type: exception` and `:exception-type` in lower camel
 * case (`throttlingException`).
 *
 * SigV4: `bedrockEncoderVerifying(keys)` checks every request's signature with the same signer
 * Bedrock clients use (`@smithy/signature-v4`: the request is signed again with the headers it
 * names and its own `x-amz-date`, and the two `authorization` values must be equal), and refuses
 * a bad or missing one as Bedrock does (403 `InvalidSignatureException` /
 * `MissingAuthenticationTokenException`, an unknown key `UnrecognizedClientException`). Opt-in,
 * so tests that do not sign need not. A bearer token (a Bedrock API key) is accepted when it is
 * the configured `apiKey`.
 *
 * What people get wrong: the model id is URL-encoded in the path (`us.amazon.nova-micro-v1%3A0`);
 * an in-band error is a frame with `:message-type: exception`, not an event; the stream's last
 * frame is `metadata` (usage), which `withoutDone` drops.
 *
 * @since 0.1.0
 */
import { Hash } from "@smithy/hash-node"
import { HttpRequest } from "@smithy/protocol-http"
import { SignatureV4 } from "@smithy/signature-v4"
import * as EventStreamFrames from "@flexiai/provider/EventStreamFrames"
import { argumentFragments, argumentsObject, type Encoder, type IncomingRequest, isRecord, type Refusal } from "../MockEncoder.ts"
import type { ErrorSpec } from "../MockReply.ts"

/**
 * One AWS event-stream frame with string headers (type 7) and `payload`.
 *
 * @category encoders
 */
export const eventStreamFrame: (headers: Readonly<Record<string, string>>, payload: string | Uint8Array) => Uint8Array =
  EventStreamFrames.encode

const event = (type: string, payload: unknown): Uint8Array =>
  eventStreamFrame(
    { ":event-type": type, ":content-type": "application/json", ":message-type": "event" },
    typeof payload === "string" ? payload : JSON.stringify(payload)
  )

const converse = /^\/model\/([^/]+)\/(converse|converse-stream)$/

const stopReason = (finish: string): string =>
  finish === "stop" ? "end_turn" : finish === "tool_calls" ? "tool_use" : finish === "length" ? "max_tokens" : finish

/**
 * The Bedrock exception a generic error reply stands for: its `type` when it already is one
 * (`ThrottlingException`), else what its status and code mean on Bedrock.
 *
 * @category encoders
 */
export const exceptionFor = (status: number, error: ErrorSpec): string => {
  if (error.type !== undefined && error.type !== null && error.type.endsWith("Exception")) return error.type
  if (error.code === "context_length_exceeded") return "ValidationException"
  switch (status) {
    case 400:
    case 422:
      return "ValidationException"
    case 401:
      return "UnrecognizedClientException"
    case 403:
      return "AccessDeniedException"
    case 404:
      return "ResourceNotFoundException"
    case 408:
      return "ModelTimeoutException"
    case 424:
      return "ModelErrorException"
    case 429:
      return "ThrottlingException"
    case 503:
      return "ServiceUnavailableException"
    default:
      return "InternalServerException"
  }
}

const lowerFirst = (name: string) => name.charAt(0).toLowerCase() + name.slice(1)

/** Amazon Bedrock Converse and ConverseStream (AWS event-stream frames). @category encoders */
export const bedrockEncoder: Encoder = {
  name: "bedrock",
  chat: (request) => request.method === "POST" && converse.test(request.path),
  models: () => false,
  modelOf: (request) => {
    const id = converse.exec(request.path)?.[1]
    return id === undefined ? undefined : decodeURIComponent(id)
  },
  isStream: (request) => request.path.endsWith("/converse-stream"),
  lastUserText: (request) => {
    const messages = isRecord(request.body) && Array.isArray(request.body.messages) ? request.body.messages : []
    const last = [...messages].reverse().find((message) => isRecord(message) && message.role === "user")
    return isRecord(last) && Array.isArray(last.content)
      ? last.content.map((block) => (isRecord(block) && typeof block.text === "string" ? block.text : "")).join("")
      : ""
  },
  completion: (answer) => ({
    output: {
      message: {
        role: "assistant",
        content: [
          ...(answer.pieces.length === 0 ? [] : [{ text: answer.pieces.join("") }]),
          ...answer.toolCalls.map((call) => ({ toolUse: { toolUseId: call.id, name: call.name, input: argumentsObject(call) } }))
        ]
      }
    },
    stopReason: stopReason(answer.finishReason),
    usage: {
      inputTokens: answer.usage.promptTokens,
      outputTokens: answer.usage.completionTokens,
      totalTokens: answer.usage.promptTokens + answer.usage.completionTokens
    },
    metrics: { latencyMs: 1 }
  }),
  frames: (answer) => {
    const first = answer.pieces.length > 0 ? 1 : 0
    const toolFrames = answer.toolCalls.flatMap((call, offset) => {
      const contentBlockIndex = first + offset
      return [
        event("contentBlockStart", { contentBlockIndex, start: { toolUse: { toolUseId: call.id, name: call.name } } }),
        ...argumentFragments(call, answer.argumentChunks).map((input) =>
          event("contentBlockDelta", { contentBlockIndex, delta: { toolUse: { input } } })
        ),
        event("contentBlockStop", { contentBlockIndex })
      ]
    })
    const textStop = first === 1 ? [event("contentBlockStop", { contentBlockIndex: 0 })] : []
    return {
      head: [event("messageStart", { role: "assistant" })],
      content: [
        ...answer.pieces.map((text) => event("contentBlockDelta", { contentBlockIndex: 0, delta: { text } })),
        ...(toolFrames.length === 0 ? [] : [...textStop, ...toolFrames])
      ],
      tail: [...(toolFrames.length === 0 ? textStop : []), event("messageStop", { stopReason: stopReason(answer.finishReason) })],
      done: event("metadata", {
        usage: {
          inputTokens: answer.usage.promptTokens,
          outputTokens: answer.usage.completionTokens,
          totalTokens: answer.usage.promptTokens + answer.usage.completionTokens
        },
        metrics: { latencyMs: 1 }
      })
    }
  },
  streamContentType: "application/vnd.amazon.eventstream",
  malformedFrame: event("contentBlockDelta", "{not json"),
  errorBody: (status, error) => ({
    __type: exceptionFor(status, error),
    message: error.code === "context_length_exceeded" ? `Input is too long for requested model. ${error.message}` : error.message
  }),
  errorFrame: (error) =>
    eventStreamFrame(
      { ":exception-type": lowerFirst(exceptionFor(500, error)), ":content-type": "application/json", ":message-type": "exception" },
      JSON.stringify({ message: error.message })
    ),
  modelList: (models) => ({ modelSummaries: models.map((modelId) => ({ modelId })) }),
  // a `.chunks.txt` line is `{"<event type>": payload}`, already decoded from its frame
  fixtureFrame: (line) => {
    const decoded: unknown = JSON.parse(line)
    const [type, payload] = isRecord(decoded) ? Object.entries(decoded)[0] ?? ["unknown", {}] : ["unknown", {}]
    return event(type, payload)
  }
}

// ---------------------------------------------------------------------------
// SigV4 verification
// ---------------------------------------------------------------------------

/** The keys (and region) requests must be signed with; `apiKey`: a Bedrock API key also accepted. @category models */
export interface SigningKeys {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string | undefined
  readonly region: string
  readonly apiKey?: string | undefined
}

const refuse = (status: number, type: string, message: string): Refusal => ({
  status,
  body: { message },
  headers: { "x-amzn-errortype": `${type}:http://internal.amazon.com/coral/com.amazon.coral.service/`, "x-amzn-requestid": "mock-refused" }
})

const headerOf = (request: IncomingRequest, name: string): string | undefined => {
  const value = request.rawHeaders?.[name]
  return typeof value === "string" ? value : Array.isArray(value) ? value.join(", ") : undefined
}

// `20261207T174800Z` as a Date
const amzDate = (value: string): Date | undefined => {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  return match === null ? undefined : new Date(Date.UTC(+match[1]!, +match[2]! - 1, +match[3]!, +match[4]!, +match[5]!, +match[6]!))
}

/**
 * Whether `request` carries a valid SigV4 signature for `keys` (service `bedrock`), or the
 * refusal Bedrock would answer.
 *
 * @category encoders
 */
export const verifySignature = async (request: IncomingRequest, keys: SigningKeys): Promise<Refusal | undefined> => {
  const authorization = headerOf(request, "authorization")
  if (authorization === undefined) return refuse(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
  if (authorization.startsWith("Bearer ")) {
    return keys.apiKey !== undefined && authorization === `Bearer ${keys.apiKey}`
      ? undefined
      : refuse(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
  }
  const parsed = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(authorization)
  if (parsed === null) return refuse(403, "IncompleteSignatureException", "Authorization header requires Credential, SignedHeaders and Signature.")
  const [, accessKeyId, , region, service, signedHeaders] = parsed
  if (accessKeyId !== keys.accessKeyId) return refuse(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
  if (keys.sessionToken !== undefined && headerOf(request, "x-amz-security-token") !== keys.sessionToken) {
    return refuse(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
  }
  const date = amzDate(headerOf(request, "x-amz-date") ?? "")
  if (date === undefined || region !== keys.region || service !== "bedrock") {
    return refuse(403, "InvalidSignatureException", "Credential should be scoped to a valid region and service, with an x-amz-date.")
  }
  const names = signedHeaders!.split(";")
  const headers: Record<string, string> = {}
  for (const name of names) {
    const value = headerOf(request, name)
    if (value !== undefined) headers[name] = value
  }
  const host = headers.host ?? "127.0.0.1"
  const [hostname, port] = host.split(":")
  const query: Record<string, string> = { ...request.query }
  const signer = new SignatureV4({
    service: "bedrock",
    region: keys.region,
    sha256: Hash.bind(null, "sha256"),
    credentials: {
      accessKeyId: keys.accessKeyId,
      secretAccessKey: keys.secretAccessKey,
      ...(keys.sessionToken === undefined ? {} : { sessionToken: keys.sessionToken })
    }
  })
  const resigned = await signer.sign(
    new HttpRequest({
      method: request.method,
      protocol: "http:",
      hostname: hostname!,
      ...(port === undefined ? {} : { port: Number(port) }),
      path: request.path,
      query,
      headers,
      body: request.rawBody ?? ""
    }),
    { signingDate: date }
  )
  return resigned.headers.authorization === authorization
    ? undefined
    : refuse(403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided.")
}

/**
 * `bedrockEncoder` that refuses every request not signed with `keys` (see the module header).
 * Put it before the built-in encoders: `encoders: [bedrockEncoderVerifying(keys), ...encoders]`.
 *
 * @category encoders
 */
export const bedrockEncoderVerifying = (keys: SigningKeys): Encoder => ({
  ...bedrockEncoder,
  verify: (request) => verifySignature(request, keys)
})
