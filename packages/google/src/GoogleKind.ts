/**
 * The descriptors of Google's two chat APIs: `gemini` (the Gemini API, an API key) and `vertex`
 * (Vertex AI, an OAuth token: a service-account key file, a token command or a fixed token).
 * Config and `flexiai` know them only through these.
 *
 * Why `gemini` and not `google`: Vertex AI is Google's too, with another URL, auth and model
 * catalogue; `gemini` names the API the key belongs to (`GEMINI_API_KEY`).
 *
 * Mapping notes: `credentialsFile` is a path (relative to the working directory), read when the
 * provider is built; the private key in it is never copied into the config. `project` defaults
 * to the key file's `project_id`. As for the OpenAI family, the client gets only the time limits
 * an entry sets (the router times every attempt).
 *
 * @since 0.1.0
 */
import * as ProviderKind from "@flexiai/provider/ProviderKind"
import { Duration, Schema } from "effect"
import type * as Capabilities from "@flexiai/core/Capabilities"
import * as GoogleChat from "./GoogleChat.ts"
import type * as GoogleClient from "./GoogleClient.ts"
import * as GoogleProvider from "./GoogleProvider.ts"

const NonEmpty = Schema.NonEmptyString
const optional = Schema.optionalKey

/** What Gemini can do (`GoogleChat.defaultCapabilities`). @category models */
export const capabilities: Capabilities.Capabilities = GoogleChat.defaultCapabilities

const clientTimeouts = (entry: ProviderKind.Common): GoogleClient.Timeouts => ({
  firstByte: entry.timeouts.firstByte ?? Duration.infinity,
  idle: Duration.infinity,
  total: entry.timeouts.total ?? Duration.infinity
})

/** The options both kinds take. */
const shared = {
  schemaField: optional(Schema.Literals(["gemini", "json"]).annotate({
    description: "Where JSON Schemas go: gemini (default) converts them to Gemini's schema subset (responseSchema, parameters); " +
      "json sends them as they are (responseJsonSchema, parametersJsonSchema), for models that take full JSON Schema."
  })),
  includeThoughts: optional(Schema.Boolean.annotate({
    description: "Send thinkingConfig.includeThoughts: the model's thought summaries come back as reasoning. Only for thinking models."
  })),
  thinkingBudget: optional(Schema.Int.annotate({
    description: "Send thinkingConfig.thinkingBudget (tokens; 0 switches thinking off where the model allows, -1 is dynamic)."
  }))
}

const thinkingOf = (entry: { readonly includeThoughts?: boolean | undefined; readonly thinkingBudget?: number | undefined }) =>
  entry.includeThoughts === undefined && entry.thinkingBudget === undefined
    ? undefined
    : { includeThoughts: entry.includeThoughts, thinkingBudget: entry.thinkingBudget }

/** The Gemini API (generativelanguage.googleapis.com), key in the x-goog-api-key header. @category descriptors */
export const gemini = ProviderKind.make({
  kind: "gemini",
  description: "Google Gemini API (generativelanguage.googleapis.com/v1beta, or baseUrl); the key goes in the x-goog-api-key header.",
  options: Schema.Struct(shared),
  requiresApiKey: true,
  secretFields: [],
  environment: {
    fields: [
      { field: "apiKey", variables: ["GEMINI_API_KEY", "GOOGLE_API_KEY"], secret: true },
      { field: "baseUrl", variables: ["GOOGLE_GEMINI_BASE_URL"] }
    ],
    detection: { requires: ["apiKey"], model: "gemini-2.5-flash", priority: 20 }
  },
  example: { model: "gemini-2.5-flash" },
  capabilities,
  listsModels: true,
  layer: (entry) =>
    GoogleProvider.gemini({
      name: entry.name,
      defaultModel: entry.model,
      apiKey: entry.apiKey,
      baseUrl: entry.baseUrl,
      capabilities: entry.capabilities,
      schemaField: entry.schemaField,
      thinking: thinkingOf(entry),
      timeouts: clientTimeouts(entry)
    })
})

/** Vertex AI: project and location in the URL, an OAuth token from a service account or a command. @category descriptors */
export const vertex = ProviderKind.make({
  kind: "vertex",
  description: "Google Vertex AI (Gemini models): project and location in the URL; auth by a service-account key file " +
    "(credentialsFile), a token command or a fixed accessToken.",
  options: Schema.Struct({
    project: optional(NonEmpty.annotate({ description: "The Google Cloud project. Default: the key file's project_id." })),
    location: optional(NonEmpty.annotate({ description: "The region (us-central1, europe-west4, …) or global. Default: us-central1." })),
    credentialsFile: optional(NonEmpty.annotate({ description: "Path of a service-account key file (JSON)." })),
    tokenCommand: optional(NonEmpty.annotate({
      description: "A shell command printing an access token (gcloud auth print-access-token), run again every 5 minutes and on a 401."
    })),
    accessToken: optional(ProviderKind.Secret),
    tokenUri: optional(NonEmpty.annotate({ description: "Replaces the key file's token_uri (an OAuth token endpoint)." })),
    ...shared
  }),
  requiresApiKey: false,
  secretFields: ["accessToken"],
  environment: {
    fields: [
      { field: "credentialsFile", variables: ["GOOGLE_APPLICATION_CREDENTIALS"] },
      { field: "project", variables: ["GOOGLE_CLOUD_PROJECT"] },
      { field: "location", variables: ["GOOGLE_CLOUD_LOCATION"] }
    ],
    detection: { requires: ["credentialsFile", "project"], model: "gemini-2.5-flash", priority: 30 }
  },
  example: { model: "gemini-2.5-flash", project: "my-project", location: "us-central1", credentialsFile: "./service-account.json" },
  capabilities,
  listsModels: false,
  check: (entry) =>
    entry.credentialsFile === undefined && entry.tokenCommand === undefined && entry.accessToken === undefined
      ? { path: "credentialsFile", message: "missing (set credentialsFile, tokenCommand or accessToken)" }
      : entry.project === undefined && entry.credentialsFile === undefined
      ? { path: "project", message: "missing (set project, or a credentialsFile whose key names its project_id)" }
      : undefined,
  layer: (entry) =>
    GoogleProvider.vertex({
      name: entry.name,
      defaultModel: entry.model,
      project: entry.project,
      location: entry.location,
      baseUrl: entry.baseUrl,
      credentialsFile: entry.credentialsFile,
      tokenCommand: entry.tokenCommand,
      accessToken: entry.accessToken,
      tokenUri: entry.tokenUri,
      capabilities: entry.capabilities,
      schemaField: entry.schemaField,
      thinking: thinkingOf(entry),
      timeouts: clientTimeouts(entry)
    })
})

/** Both kinds, in the order `flexiai` registers them. @category descriptors */
export const kinds = [gemini, vertex] as const
