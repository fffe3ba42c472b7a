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
import * as OptionSchema from "@flexiai/core/OptionSchema"
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
    maxTokens: optional(OptionSchema.option(
      PositiveInt,
      "max_tokens sent when a request sets no maxTokens (the API requires one).",
      defaultMaxTokens
    )),
    anthropicVersion: optional(OptionSchema.option(Schema.NonEmptyString, "The anthropic-version header.", AnthropicClient.defaultVersion)),
    betas: optional(Schema.NonEmptyString.annotate({
      description: "anthropic-beta feature flags sent with every request, comma-separated (prompt-caching-2024-07-31,...)."
    })),
    cache: optional(CacheOptions.annotate({ default: {} })),
    thinkingBudget: optional(OptionSchema.option(
      Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
      "Extended thinking on every request with this token budget (the API takes 1024 or more); 0 is off. On, it turns assistant prefill off.",
      0
    ))
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
  layer: (entry) => {
    const thinkingBudget = entry.thinkingBudget === undefined || entry.thinkingBudget === 0 ? undefined : entry.thinkingBudget
    return AnthropicChat.layer({
      name: entry.name,
      defaultModel: entry.model,
      maxTokens: entry.maxTokens,
      cache: entry.cache,
      thinkingBudget,
      capabilities: thinkingBudget === undefined ? entry.capabilities : { ...entry.capabilities, assistantPrefill: false }
    }).pipe(
      Layer.provide(AnthropicClient.layer({
        name: entry.name,
        // requiresApiKey: config has checked it is set
        apiKey: entry.apiKey!,
        apiUrl: entry.baseUrl,
        version: entry.anthropicVersion,
        betas: entry.betas?.split(",").map((beta) => beta.trim()).filter((beta) => beta !== ""),
        defaultModel: entry.model,
        timeouts: {
          firstByte: entry.timeouts.firstByte ?? Duration.infinity,
          idle: Duration.infinity,
          total: entry.timeouts.total ?? Duration.infinity
        }
      }))
    )
  }
})

/** The kinds this package registers, in order. @category descriptors */
export const kinds = [anthropic] as const
