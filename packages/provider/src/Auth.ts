/**
 * How a transport authenticates its requests: no auth, a static key in a named header (Azure's
 * `api-key`, Anthropic's `x-api-key`), a bearer key, a renewed token (`TokenSource`: Vertex, Azure
 * Entra, Flow), or a signer that computes headers per request from its final bytes (AWS SigV4).
 *
 * What users get wrong: putting a key in `headers`. Keys given here are masked out of every
 * provider message and redacted wherever Effect prints request headers; an extra header is not.
 * Static auth (`none`, `header`, `bearer`) costs nothing per request: its header is built once.
 *
 * @since 0.2.0
 */
import type { Effect, Redacted } from "effect"
import type * as ProviderError from "@flexiai/core/ProviderError"
import type { TokenSource } from "./TokenSource.ts"

/** What a signer sees: the request exactly as it goes on the wire. @category models */
export interface SignInput {
  readonly method: "GET" | "POST"
  /** The full URL, query included. */
  readonly url: URL
  /** Every header the request carries (names in lower case), `content-type` included when it has a body. */
  readonly headers: Readonly<Record<string, string>>
  /** The body bytes (empty for a GET): sign these, they are what is sent. */
  readonly body: Uint8Array
}

/**
 * Computes the headers to add to one request (SigV4: `authorization`, `x-amz-date`,
 * `x-amz-content-sha256`, `x-amz-security-token`). A failure fails the request with its reason.
 *
 * @category models
 */
export type Signer = (request: SignInput) => Effect.Effect<Readonly<Record<string, string>>, ProviderError.ProviderErrorReason>

/** @category models */
export type Auth =
  | { readonly _tag: "None" }
  | { readonly _tag: "Header"; readonly name: string; readonly key: Redacted.Redacted<string> }
  | { readonly _tag: "Bearer"; readonly key: Redacted.Redacted<string> }
  | { readonly _tag: "Token"; readonly source: TokenSource<ProviderError.ProviderErrorReason> }
  | {
    readonly _tag: "Signer"
    readonly sign: Signer
    /** Secrets the signer holds (a secret access key, a session token), masked out of provider messages. */
    readonly secrets: ReadonlyArray<Redacted.Redacted<string>>
    /**
     * Secrets that change while it runs (renewed temporary keys): the latest ones, newest first,
     * masked like a token source's `recent` (the same array until they change, so the transport
     * rebuilds its mask only then).
     */
    readonly recentSecrets?: (() => ReadonlyArray<Redacted.Redacted<string>>) | undefined
    /** Headers it adds that carry secrets, redacted where Effect prints headers. `authorization` always is. */
    readonly redactedNames: ReadonlyArray<string>
  }

/** No auth (a local server, a gateway that authenticates by network). @category constructors */
export const none: Auth = { _tag: "None" }

/** `key` as the value of header `name`. @category constructors */
export const header = (name: string, key: Redacted.Redacted<string>): Auth => ({ _tag: "Header", name, key })

/** `Authorization: Bearer <key>`. @category constructors */
export const bearer = (key: Redacted.Redacted<string>): Auth => ({ _tag: "Bearer", key })

/**
 * `Authorization: Bearer <token>` from a `TokenSource`: cached, renewed before expiry, one renewal
 * shared by concurrent callers; a 401 refreshes it once and sends the request again before the
 * failure counts (the 401's body is read off first, so its connection is reused, not left busy).
 *
 * @category constructors
 */
export const token = (source: TokenSource<ProviderError.ProviderErrorReason>): Auth => ({ _tag: "Token", source })

/** Headers computed per request from its final method, URL, headers and body bytes. @category constructors */
export const signer = (
  sign: Signer,
  options: {
    readonly secrets?: ReadonlyArray<Redacted.Redacted<string>>
    readonly recentSecrets?: (() => ReadonlyArray<Redacted.Redacted<string>>) | undefined
    readonly redactedNames?: ReadonlyArray<string>
  } = {}
): Auth => ({
  _tag: "Signer",
  sign,
  secrets: options.secrets ?? [],
  ...(options.recentSecrets === undefined ? {} : { recentSecrets: options.recentSecrets }),
  redactedNames: options.redactedNames ?? []
})

/** The secrets an auth holds that are known up front (a token source's are masked as they arrive). @category utils */
export const secretsOf = (auth: Auth): ReadonlyArray<Redacted.Redacted<string>> => {
  switch (auth._tag) {
    case "Header":
    case "Bearer":
      return [auth.key]
    case "Signer":
      return auth.secrets
    case "None":
    case "Token":
      return []
  }
}
