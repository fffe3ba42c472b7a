// Stand-in provider descriptors for config's own tests. Config knows no provider kind: it learns
// them from descriptors, which the provider packages export (config never imports one). These are
// shaped like the real kinds (their fields, secrets, standard variables and detections), so the
// tests read like real configs; the real OpenAI family is tested through `flexiai`
// (packages/flexiai/test/BundledKinds.test.ts). None of them is ever built into a provider.
import * as Capabilities from "@flexiai/core/Capabilities"
import * as ChatProvider from "@flexiai/core/ChatProvider"
import * as ProviderKind from "@flexiai/provider/ProviderKind"
import { Effect, Layer, Schema } from "effect"

const NonEmpty = Schema.NonEmptyString
const optional = Schema.optionalKey
const { Secret } = ProviderKind

const common = {
  capabilities: Capabilities.all,
  listsModels: true,
  layer: () => Layer.effect(ChatProvider.ChatProvider, Effect.die("config tests never build a provider"))
} as const

export const openai = ProviderKind.make({
  ...common,
  kind: "openai",
  description: "stand-in: OpenAI",
  options: Schema.Struct({}),
  requiresApiKey: true,
  secretFields: [],
  environment: {
    fields: [{ field: "apiKey", variables: ["OPENAI_API_KEY"], secret: true }, { field: "baseUrl", variables: ["OPENAI_BASE_URL"] }],
    detection: { requires: ["apiKey"], model: "gpt-4o-mini", priority: 10 }
  }
})

export const azureOpenAi = ProviderKind.make({
  ...common,
  kind: "azure-openai",
  description: "stand-in: Azure OpenAI (apiKey or bearerToken)",
  options: Schema.Struct({
    endpoint: NonEmpty,
    deployment: optional(NonEmpty),
    apiVersion: optional(NonEmpty),
    bearerToken: optional(Secret)
  }),
  requiresApiKey: false,
  secretFields: ["bearerToken"],
  environment: {
    fields: [
      { field: "apiKey", variables: ["AZURE_OPENAI_API_KEY"], secret: true },
      { field: "endpoint", variables: ["AZURE_OPENAI_ENDPOINT"] },
      { field: "deployment", variables: ["AZURE_OPENAI_DEPLOYMENT"] }
    ],
    detection: { requires: ["apiKey", "endpoint"], model: "gpt-4o-mini", modelFrom: "deployment", priority: 40 }
  },
  check: (entry) =>
    entry.apiKey === undefined && entry.bearerToken === undefined
      ? { path: "apiKey", message: "missing (set apiKey or bearerToken)" }
      : undefined
})

export const foundry = ProviderKind.make({
  ...common,
  kind: "foundry",
  description: "stand-in: a kind with no standard variables",
  options: Schema.Struct({ endpoint: NonEmpty, apiVersion: optional(NonEmpty) }),
  requiresApiKey: true,
  secretFields: []
})

export const openRouter = ProviderKind.make({
  ...common,
  kind: "openrouter",
  description: "stand-in: OpenRouter",
  options: Schema.Struct({ appUrl: optional(NonEmpty), appTitle: optional(NonEmpty) }),
  requiresApiKey: true,
  secretFields: [],
  environment: {
    fields: [{ field: "apiKey", variables: ["OPENROUTER_API_KEY"], secret: true }],
    detection: { requires: ["apiKey"], model: "openai/gpt-4o-mini", priority: 70 }
  }
})

export const ollama = ProviderKind.make({
  ...common,
  kind: "ollama-native",
  description: "stand-in: Ollama's native API, a local server without a key",
  options: Schema.Struct({ host: optional(NonEmpty) }),
  requiresApiKey: false,
  secretFields: [],
  environment: {
    fields: [{ field: "host", variables: ["OLLAMA_HOST"] }],
    detection: { requires: ["host"], model: "llama3.2", priority: 90 }
  }
})

export const openAiCompatible = ProviderKind.make({
  ...common,
  kind: "openai-compatible",
  description: "stand-in: a kind whose baseUrl is required",
  options: Schema.Struct({}),
  requiresApiKey: false,
  requiresBaseUrl: true,
  secretFields: []
})

export const anthropic = ProviderKind.make({
  ...common,
  kind: "anthropic",
  description: "stand-in: Anthropic",
  options: Schema.Struct({ apiVersion: optional(NonEmpty) }),
  requiresApiKey: true,
  secretFields: [],
  environment: {
    fields: [{ field: "apiKey", variables: ["ANTHROPIC_API_KEY"], secret: true }],
    detection: { requires: ["apiKey"], model: "claude-haiku-4-5", priority: 20 }
  }
})

export const gemini = ProviderKind.make({
  ...common,
  kind: "gemini",
  description: "stand-in: a key read from the first of two variables",
  options: Schema.Struct({}),
  requiresApiKey: true,
  secretFields: [],
  environment: {
    fields: [{ field: "apiKey", variables: ["GEMINI_API_KEY", "GOOGLE_API_KEY"], secret: true }],
    detection: { requires: ["apiKey"], model: "gemini-2.5-flash", priority: 30 }
  }
})

export const vertex = ProviderKind.make({
  ...common,
  kind: "vertex",
  description: "stand-in: detection with a default field",
  options: Schema.Struct({ project: NonEmpty, location: optional(NonEmpty), credentialsFile: NonEmpty }),
  requiresApiKey: false,
  secretFields: [],
  environment: {
    fields: [
      { field: "credentialsFile", variables: ["GOOGLE_APPLICATION_CREDENTIALS"] },
      { field: "project", variables: ["GOOGLE_CLOUD_PROJECT"] },
      { field: "location", variables: ["GOOGLE_CLOUD_LOCATION"] }
    ],
    detection: { requires: ["credentialsFile", "project"], model: "gemini-2.5-flash", defaults: { location: "us-central1" }, priority: 50 }
  }
})

export const bedrock = ProviderKind.make({
  ...common,
  kind: "bedrock",
  description: "stand-in: secrets of its own",
  options: Schema.Struct({ region: NonEmpty, accessKeyId: Secret, secretAccessKey: Secret, sessionToken: optional(Secret) }),
  requiresApiKey: false,
  secretFields: ["accessKeyId", "secretAccessKey", "sessionToken"],
  environment: {
    fields: [
      { field: "accessKeyId", variables: ["AWS_ACCESS_KEY_ID"], secret: true },
      { field: "secretAccessKey", variables: ["AWS_SECRET_ACCESS_KEY"], secret: true },
      { field: "sessionToken", variables: ["AWS_SESSION_TOKEN"], secret: true },
      { field: "region", variables: ["AWS_REGION", "AWS_DEFAULT_REGION"] }
    ],
    detection: {
      requires: ["accessKeyId", "secretAccessKey"],
      model: "anthropic.claude-3-haiku-20240307-v1:0",
      defaults: { region: "us-east-1" },
      priority: 60
    }
  }
})

export const flow = ProviderKind.make({
  ...common,
  kind: "flow",
  description: "stand-in: client credentials",
  options: Schema.Struct({ tenant: NonEmpty, clientId: NonEmpty, clientSecret: Secret }),
  requiresApiKey: false,
  requiresBaseUrl: true,
  secretFields: ["clientSecret"],
  environment: {
    fields: [
      { field: "baseUrl", variables: ["FLOW_BASE_URL"] },
      { field: "tenant", variables: ["FLOW_TENANT"] },
      { field: "clientId", variables: ["FLOW_CLIENT_ID"] },
      { field: "clientSecret", variables: ["FLOW_CLIENT_SECRET"], secret: true }
    ],
    detection: { requires: ["baseUrl", "tenant", "clientId", "clientSecret"], model: "openai:gpt-4o-mini", priority: 80 }
  }
})

/** Every stand-in, in the order the tests list them. */
export const kinds: ReadonlyArray<ProviderKind.Any> = [
  openai,
  azureOpenAi,
  foundry,
  openRouter,
  ollama,
  openAiCompatible,
  anthropic,
  gemini,
  vertex,
  bedrock,
  flow
]
