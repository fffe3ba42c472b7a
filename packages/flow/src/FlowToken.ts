/**
 * Flow's client-credentials token: the client id and secret (and the tenant, and an optional app
 * or agent id) exchanged at the gateway's token endpoint for an access token, behind the kit's
 * `TokenSource` (cached, renewed before expiry, one renewal shared by concurrent callers, one
 * refresh on a 401) — the same pattern as Vertex's service-account token.
 *
 * Gotchas: the token endpoint being down is a `Connection`/`ServerError` reason (the router fails
 * over); a refusal is `Authentication`, naming the tenant when the gateway says it does not know
 * it. The secret and the tokens are `Redacted` and masked out of every message.
 *
 * @since 0.3.0
 */
import { Clock, Duration, Effect, Redacted } from "effect"
import { HttpClientRequest, type HttpClient } from "effect/http"
import { Authentication } from "@flexiai/core/ProviderError"
import type * as ProviderError from "@flexiai/core/ProviderError"
import * as BodyLimit from "@flexiai/provider/BodyLimit"
import * as Mask from "@flexiai/provider/Mask"
import * as StatusReasons from "@flexiai/provider/StatusReasons"
import * as TokenSource from "@flexiai/provider/TokenSource"

/** @category models */
export interface Credentials {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly tenant: string
  /** The app or agent the calls are made for (sent as a form field and a header). */
  readonly appId?: string | undefined
}

/** @category models */
export interface Options extends Credentials {
  /** The token endpoint's full URL. */
  readonly tokenUrl: string
  /** Extra form fields (a `scope`). */
  readonly extraFields?: Readonly<Record<string, string>> | undefined
  /** Default 30 s. */
  readonly timeout?: Duration.Input | undefined
  readonly renewBefore?: Duration.Input | undefined
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null

const parseJson = (text: string): Record<string, unknown> | undefined => {
  try {
    const parsed: unknown = JSON.parse(text)
    return isRecord(parsed) ? parsed : undefined
  } catch {
    return undefined
  }
}

const oauthDetail = (body: Record<string, unknown> | undefined): string | undefined => {
  if (body === undefined) return undefined
  const code = typeof body.error === "string" ? body.error : undefined
  const description = typeof body.error_description === "string" ? body.error_description : undefined
  return code === undefined ? description : description === undefined ? code : `${code}: ${description}`
}

/** One token fetch at the token endpoint over the given client. @category constructors */
export const fetchToken = (
  client: HttpClient.HttpClient,
  options: Options
): Effect.Effect<TokenSource.Token, ProviderError.ProviderErrorReason> => {
  const timeout = Duration.fromInputUnsafe(options.timeout ?? Duration.seconds(30))
  const mask = Mask.make([options.clientSecret])
  const request = HttpClientRequest.post(options.tokenUrl).pipe(
    HttpClientRequest.acceptJson,
    HttpClientRequest.bodyUrlParams({
      grant_type: "client_credentials",
      client_id: options.clientId,
      client_secret: Redacted.value(options.clientSecret),
      tenant: options.tenant,
      ...(options.appId === undefined ? {} : { app_id: options.appId }),
      ...options.extraFields
    })
  )
  const exchange = Effect.flatMap(Clock.currentTimeMillis, (nowMillis) =>
    Effect.flatMap(client.execute(request), (response) =>
      Effect.flatMap(BodyLimit.readText(response, 1024 * 1024), (text): Effect.Effect<TokenSource.Token, ProviderError.ProviderErrorReason> => {
        const body = parseJson(text)
        if (response.status >= 500) {
          return Effect.fail(StatusReasons.reasonFor(StatusReasons.defaults, { status: response.status, headers: {}, nowMillis, message: `the Flow token endpoint failed (HTTP ${response.status})` }))
        }
        if (response.status < 200 || response.status >= 300) {
          const detail = oauthDetail(body)
          const unknownTenant = detail !== undefined && /tenant/i.test(detail)
          return Effect.fail(
            new Authentication({
              message: mask(
                unknownTenant
                  ? `the Flow gateway does not know tenant "${options.tenant}" (HTTP ${response.status}: ${detail.slice(0, 300)})`
                  : `the Flow token endpoint refused the client credentials of tenant "${options.tenant}" (HTTP ${response.status}${detail === undefined ? "" : `: ${detail.slice(0, 300)}`})`
              )
            })
          )
        }
        const token = body?.access_token
        if (typeof token !== "string" || token === "") {
          return Effect.fail(new Authentication({ message: "the Flow token endpoint answered without an access_token" }))
        }
        const expiresIn = typeof body?.expires_in === "number" ? body.expires_in : undefined
        return Effect.succeed({
          value: Redacted.make(token),
          expiresAtMillis: nowMillis + (expiresIn ?? 3600) * 1000
        })
      })))
  return exchange.pipe(
    Effect.catchTag("HttpClientError", (error) => Effect.fail(StatusReasons.reasonFromHttpClientError(error, mask))),
    Effect.timeoutOrElse({
      duration: timeout,
      orElse: () => Effect.fail<ProviderError.ProviderErrorReason>(new Authentication({ message: `no answer from the Flow token endpoint within ${Duration.format(timeout)}` }))
    })
  )
}

/** A renewing token source over the client credentials. @category constructors */
export const tokenSource = (client: HttpClient.HttpClient, options: Options): TokenSource.TokenSource<ProviderError.ProviderErrorReason> =>
  TokenSource.make(fetchToken(client, options), { renewBefore: options.renewBefore })
