/**
 * The mock's Flow mode: the Flow gateway in front of Azure OpenAI, Gemini, Bedrock and Azure AI
 * Foundry, as encoders for `MockServer`. `flowEncoders(gateway)` gives a token endpoint (client
 * credentials in, expiring bearer tokens out), per-upstream model lists in the gateway's format,
 * and per-upstream chat routes that strip the upstream's prefix and hand the request to the
 * existing encoder of its wire format. Every route is an encoder, so the script's fault
 * scripting (`byPath`, `byModel`, `replies`) works on the token endpoint and the model lists too.
 *
 * Decisions: tokens expire on the server's own (real) clock; tests of renewal drive the client's
 * TestClock and use `gateway.rejectTokens` to make the server refuse every token issued so far
 * (the next one is accepted), which is what a 401 after a server-side revocation looks like.
 *
 * @since 0.3.0
 */
import type { Encoder, IncomingRequest, Refusal } from "../MockEncoder.ts"
import { bedrockEncoder } from "./BedrockEncoder.ts"
import { googleEncoder } from "./GoogleEncoder.ts"
import { openAiEncoder } from "./OpenAiEncoder.ts"

/** A model the gateway lists. @category models */
export interface FlowModel {
  readonly id: string
  readonly contextWindow?: number | undefined
  readonly capabilities?: ReadonlyArray<string> | undefined
}

/** The gateway's state, changed by tests at run time. @category models */
export interface FlowGateway {
  readonly clientId: string
  readonly clientSecret: string
  readonly tenant: string
  /** Lifetime of an issued token, seconds. Default 3600. */
  tokenTtlSeconds: number
  /** Models per upstream (`azure-openai`, `google`, `bedrock`, `azure-foundry`); chat to others is a 404. */
  models: Record<string, ReadonlyArray<FlowModel>>
  /** Tokens handed out, in order. */
  readonly issued: Array<string>
  /** Refuses every token issued so far (a revocation): the next fetched token works. */
  readonly rejectTokens: () => void
}

/** @category constructors */
export const makeFlowGateway = (options: {
  readonly clientId?: string
  readonly clientSecret?: string
  readonly tenant?: string
  readonly tokenTtlSeconds?: number
  readonly models?: Record<string, ReadonlyArray<FlowModel>>
} = {}): FlowGateway => {
  const issued: Array<string> = []
  const gateway: FlowGateway & { revokedBelow: number } = {
    clientId: options.clientId ?? "flow-client",
    clientSecret: options.clientSecret ?? "flow-secret-0123456789",
    tenant: options.tenant ?? "acme",
    tokenTtlSeconds: options.tokenTtlSeconds ?? 3600,
    models: options.models ?? {
      "azure-openai": [{ id: "gpt-4o", contextWindow: 128000, capabilities: ["chat", "tools"] }],
      google: [{ id: "gemini-2.5-pro", contextWindow: 1048576 }],
      bedrock: [{ id: "anthropic.claude-sonnet-4" }],
      "azure-foundry": [{ id: "DeepSeek-R1" }]
    },
    issued,
    revokedBelow: 0,
    rejectTokens: () => {
      gateway.revokedBelow = issued.length
    }
  }
  return gateway
}

const expiries = new WeakMap<FlowGateway, Map<string, number>>()

const header = (request: IncomingRequest, name: string): string | undefined => {
  const value = request.rawHeaders?.[name]
  return Array.isArray(value) ? value[0] : typeof value === "string" ? value : undefined
}

const unauthorized = (message: string): Refusal => ({ status: 401, body: { error: { code: "invalid_token", message } } })

/** Checks the bearer token and the tenant header of a gateway call. */
const checkToken = (gateway: FlowGateway & { revokedBelow?: number }, request: IncomingRequest): Refusal | undefined => {
  const token = header(request, "authorization")?.replace(/^Bearer\s+/i, "")
  const index = token === undefined ? -1 : gateway.issued.indexOf(token)
  if (index < 0) return unauthorized("unknown token")
  if (index < (gateway.revokedBelow ?? 0)) return unauthorized("token revoked")
  const expiresAt = expiries.get(gateway)?.get(token!) ?? 0
  if (Date.now() >= expiresAt) return unauthorized("token expired")
  if (header(request, "x-flow-tenant") !== gateway.tenant) {
    return { status: 403, body: { error: { code: "tenant_unknown", message: `tenant ${header(request, "x-flow-tenant") ?? "(none)"} unknown` } } }
  }
  return undefined
}

let tokenCounter = 0

const tokenEncoder = (gateway: FlowGateway, path: string): Encoder => ({
  name: "flow-token",
  chat: (request) => request.method === "POST" && request.path === path,
  models: () => false,
  modelOf: () => undefined,
  isStream: () => false,
  lastUserText: () => "",
  // an answer is a fresh token
  completion: () => {
    const token = `flow-token-${++tokenCounter}-${Math.random().toString(36).slice(2, 12)}`
    gateway.issued.push(token)
    let map = expiries.get(gateway)
    if (map === undefined) expiries.set(gateway, map = new Map())
    map.set(token, Date.now() + gateway.tokenTtlSeconds * 1000)
    return { access_token: token, token_type: "Bearer", expires_in: gateway.tokenTtlSeconds }
  },
  frames: () => ({ head: [], content: [], tail: [], done: undefined }),
  streamContentType: "application/json",
  malformedFrame: "{",
  errorBody: (_status, error) => ({ error: error.type ?? "server_error", error_description: error.message }),
  errorFrame: () => "",
  modelList: () => ({}),
  verify: (request) => {
    const form = new URLSearchParams(request.rawBody ?? "")
    if (form.get("tenant") !== gateway.tenant) {
      return Promise.resolve({ status: 400, body: { error: "invalid_tenant", error_description: `tenant ${form.get("tenant") ?? ""} unknown` } })
    }
    if (form.get("client_id") !== gateway.clientId || form.get("client_secret") !== gateway.clientSecret) {
      return Promise.resolve({ status: 401, body: { error: "invalid_client", error_description: "bad client credentials" } })
    }
    return Promise.resolve(undefined)
  }
})

const modelsEncoder = (gateway: FlowGateway, upstream: string, path: string): Encoder => ({
  ...openAiEncoder,
  name: `flow-models-${upstream}`,
  // claimed as a "chat" so the token check (`verify`) and the script's faults apply to it
  chat: (request) => request.method === "GET" && request.path === path,
  models: () => false,
  isStream: () => false,
  completion: () => ({
    data: (gateway.models[upstream] ?? []).map((model) => ({
      id: model.id,
      ...(model.contextWindow === undefined ? {} : { context_window: model.contextWindow }),
      ...(model.capabilities === undefined ? {} : { capabilities: model.capabilities })
    }))
  }),
  verify: (request) => Promise.resolve(checkToken(gateway, request))
})

const strip = (prefix: string, request: IncomingRequest): IncomingRequest => ({ ...request, path: request.path.slice(prefix.length) })

const upstreamEncoder = (gateway: FlowGateway, upstream: string, prefix: string, inner: Encoder): Encoder => {
  const wrap = <A>(f: (request: IncomingRequest) => A) => (request: IncomingRequest) => f(strip(prefix, request))
  return {
    ...inner,
    name: `flow-${upstream}`,
    chat: (request) => request.path.startsWith(`${prefix}/`) && inner.chat(strip(prefix, request)),
    models: () => false,
    modelOf: wrap(inner.modelOf),
    isStream: wrap(inner.isStream),
    lastUserText: wrap(inner.lastUserText),
    completion: (answer, request) => inner.completion(answer, strip(prefix, request)),
    frames: (answer, request) => inner.frames(answer, strip(prefix, request)),
    modelList: (models, request) => inner.modelList(models, strip(prefix, request)),
    verify: (request) => {
      const refused = checkToken(gateway, request)
      if (refused !== undefined) return Promise.resolve(refused)
      const model = inner.modelOf(strip(prefix, request))
      if (model !== undefined && !(gateway.models[upstream] ?? []).some((entry) => entry.id === model)) {
        return Promise.resolve({
          status: 404,
          body: inner.errorBody(404, { message: `model ${model} is not enabled for tenant ${gateway.tenant}`, type: "not_found_error" })
        })
      }
      return Promise.resolve(undefined)
    }
  }
}

/** The default paths of the Flow gateway (the same as `@flexiai/flow`'s `defaultRoutes`). @category constants */
export const flowPaths = {
  token: "/oauth2/token",
  "azure-openai": { base: "/azure-openai/openai", models: "/azure-openai/models" },
  google: { base: "/google/v1beta", models: "/google/models" },
  bedrock: { base: "/bedrock", models: "/bedrock/models" },
  "azure-foundry": { base: "/azure-foundry/models", models: "/azure-foundry/model-list" }
} as const

/**
 * The encoders of Flow mode, for `MockProviderServer.make(script, { encoders: flowEncoders(gateway) })`.
 * The google prefix keeps `/v1beta` for the inner encoder (its paths start there).
 *
 * @category encoders
 */
export const flowEncoders = (gateway: FlowGateway): ReadonlyArray<Encoder> => [
  tokenEncoder(gateway, flowPaths.token),
  ...(["azure-openai", "google", "bedrock", "azure-foundry"] as const).map((upstream) => modelsEncoder(gateway, upstream, flowPaths[upstream].models)),
  upstreamEncoder(gateway, "azure-openai", "/azure-openai", openAiEncoder),
  upstreamEncoder(gateway, "google", "/google", googleEncoder),
  upstreamEncoder(gateway, "bedrock", "/bedrock", bedrockEncoder),
  upstreamEncoder(gateway, "azure-foundry", "/azure-foundry", openAiEncoder)
]
