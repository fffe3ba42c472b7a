/**
 * The descriptor of the `bedrock` kind: its config fields, secrets, standard variables and how a
 * resolved entry becomes a `BedrockChat` layer. Config and `flexiai` know Bedrock only through it.
 *
 * Mapping notes:
 * - `apiKey` (common field) is a Bedrock API key (`AWS_BEARER_TOKEN_BEDROCK`), sent as a bearer
 *   token; without it, `accessKeyId` + `secretAccessKey` (+ `sessionToken`) sign with SigV4; without
 *   those, the chain reads the environment and the `profile` (see `BedrockCredentials`).
 * - `baseUrl` (common field) replaces the regional endpoint (a VPC endpoint, a test server).
 * - The router times every attempt, so the client gets only the limits an entry sets.
 *
 * @since 0.2.0
 */
import * as ProviderKind from "@flexiai/provider/ProviderKind"
import { Duration, Layer, Schema } from "effect"
import * as BedrockChat from "./BedrockChat.ts"
import * as BedrockClient from "./BedrockClient.ts"

const optional = Schema.optionalKey
const NonEmpty = Schema.NonEmptyString

/** @category descriptors */
export const bedrock = ProviderKind.make({
  kind: "bedrock",
  description: "Amazon Bedrock Converse (any model id, inference profile or ARN); SigV4 with AWS keys or a Bedrock API key (apiKey).",
  options: Schema.Struct({
    region: optional(NonEmpty.annotate({ description: "The AWS region. Default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1." })),
    accessKeyId: optional(ProviderKind.Secret),
    secretAccessKey: optional(ProviderKind.Secret),
    sessionToken: optional(ProviderKind.Secret),
    profile: optional(NonEmpty.annotate({
      description: "The profile in ~/.aws/credentials or ~/.aws/config (credential_process included) when no keys are given. Default: AWS_PROFILE, else default."
    }))
  }),
  example: { model: "us.amazon.nova-micro-v1:0", region: "us-east-1" },
  requiresApiKey: false,
  secretFields: ["accessKeyId", "secretAccessKey", "sessionToken"],
  environment: {
    fields: [
      { field: "region", variables: ["AWS_REGION", "AWS_DEFAULT_REGION"] },
      { field: "apiKey", variables: ["AWS_BEARER_TOKEN_BEDROCK"], secret: true },
      { field: "accessKeyId", variables: ["AWS_ACCESS_KEY_ID"], secret: true },
      { field: "secretAccessKey", variables: ["AWS_SECRET_ACCESS_KEY"], secret: true },
      { field: "sessionToken", variables: ["AWS_SESSION_TOKEN"], secret: true },
      { field: "profile", variables: ["AWS_PROFILE"] }
    ],
    detection: { requires: ["region", "accessKeyId", "secretAccessKey"], model: BedrockChat.fallbackModel, priority: 50 }
  },
  capabilities: BedrockChat.defaultCapabilities,
  listsModels: false,
  check: (entry) =>
    (entry.accessKeyId === undefined) !== (entry.secretAccessKey === undefined)
      ? { path: entry.accessKeyId === undefined ? "accessKeyId" : "secretAccessKey", message: "missing (accessKeyId and secretAccessKey go together)" }
      : undefined,
  layer: (entry) =>
    BedrockChat.layer({ name: entry.name, defaultModel: entry.model, capabilities: entry.capabilities }).pipe(
      Layer.provide(BedrockClient.layer({
        name: entry.name,
        region: entry.region,
        endpoint: entry.baseUrl,
        apiKey: entry.apiKey,
        credentials: entry.accessKeyId !== undefined && entry.secretAccessKey !== undefined
          ? { accessKeyId: entry.accessKeyId, secretAccessKey: entry.secretAccessKey, sessionToken: entry.sessionToken }
          : undefined,
        profile: entry.profile,
        defaultModel: entry.model,
        timeouts: {
          firstByte: entry.timeouts.firstByte ?? Duration.infinity,
          idle: Duration.infinity,
          total: entry.timeouts.total ?? Duration.infinity
        }
      }))
    )
})

/** The kinds this package registers. @category descriptors */
export const kinds = [bedrock] as const
