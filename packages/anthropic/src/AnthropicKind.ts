/**
 * The descriptor of kind `anthropic`: its config fields, its secret, the standard variables
 * (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`), detection, capabilities per model, and how a
 * resolved entry becomes an `AnthropicChat` layer. Config and `flexiai` know the provider only
 * through this.
 *
 * Mapping notes: `baseUrl` is the API root without `/v1` (as `ANTHROPIC_BASE_URL` is for
 * Anthropic's SDKs). The router times every attempt, so the client gets only the limits an
 * entry sets. `capabilities.assistantPrefill` defaults per model (`AnthropicChat.prefillSupported`)
 * and is off whenever `thinkingBudget` is set.
 *
 * @since 0.2.0
 */
import * as ProviderKind from "@flexiai/provider/ProviderKind"
import { Duration, Layer, Schema } from "effect"
import * as AnthropicChat from "./AnthropicChat.ts"
import * as AnthropicClient from "./AnthropicClient.ts"
import { CacheOptions, defaultMaxTokens } from "./AnthropicCodec.ts"

const optional = Schema.optionalKey
const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0))

/** Anthropic Messages. @category descriptors */
export const anthropic = ProviderKind.make({
  kind: "anthropic",
  description: "Anthropic Messages (api.anthropic.com, or baseUrl: the API root without /v1).",
  options: Schema.Struct({
    maxTokens: optional(PositiveInt.annotate({
      description: `max_tokens sent when a request sets no maxTokens (the API requires one). Default: ${defaultMaxTokens}.`
    })),
    anthropicVersion: optional(Schema.NonEmptyString.annotate({
      description: `The anthropic-version header. Default: ${AnthropicClient.defaultVersion}.`
    })),
    betas: optional(Schema.Array(Schema.NonEmptyString).annotate({ description: "anthropic-beta feature flags sent with every request." })),
    cache: optional(CacheOptions),
    thinkingBudget: optional(PositiveInt.check(Schema.isGreaterThanOrEqualTo(1024)).annotate({
      description: "Extended thinking on every request with this token budget (at least 1024); turns assistant prefill off."
    }))
  }),
  example: { model: "claude-sonnet-4-5" },
  requiresApiKey: true,
  secretFields: [],
  environment: {
    fields: [
      { field: "apiKey", variables: ["ANTHROPIC_API_KEY"], secret: true },
      { field: "baseUrl", variables: ["ANTHROPIC_BASE_URL"] }
    ],
    detection: { requires: ["apiKey"], model: AnthropicChat.defaultModel, priority: 20 }
  },
  capabilities: AnthropicChat.capabilitiesFor(AnthropicChat.defaultModel),
  capabilitiesFor: AnthropicChat.capabilitiesFor,
  listsModels: true,
  layer: (entry) =>
    AnthropicChat.layer({
      name: entry.name,
      defaultModel: entry.model,
      maxTokens: entry.maxTokens,
      cache: entry.cache,
      thinkingBudget: entry.thinkingBudget,
      capabilities: entry.thinkingBudget === undefined ? entry.capabilities : { ...entry.capabilities, assistantPrefill: false }
    }).pipe(
      Layer.provide(AnthropicClient.layer({
        name: entry.name,
        // requiresApiKey: config has checked it is set
        apiKey: entry.apiKey!,
        apiUrl: entry.baseUrl,
        version: entry.anthropicVersion,
        betas: entry.betas,
        defaultModel: entry.model,
        timeouts: {
          firstByte: entry.timeouts.firstByte ?? Duration.infinity,
          idle: Duration.infinity,
          total: entry.timeouts.total ?? Duration.infinity
        }
      }))
    )
})

/** The kinds this package registers, in order. @category descriptors */
export const kinds = [anthropic] as const
