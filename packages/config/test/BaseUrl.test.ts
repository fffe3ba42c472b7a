// `baseUrl` is checked when the config loads (the provider kit's `BaseUrl`): what is not an
// http(s) URL, or carries credentials in it, is a problem at its path, never a call that fails
// later with a retryable Connection error, and the message never repeats the URL.
import { assert, describe, it } from "@effect/vitest"
import * as ProviderKind from "@flexiai/provider/ProviderKind"
import { Effect, Layer, Schema } from "effect"
import { loadWith, printed } from "./helpers.ts"

const secret = "sk-canary-url-0123456789abcdef"

// kinds registered as descriptors, the way flexiai registers its own: one whose baseUrl is
// optional (a common field), one that requires it
const kind = (name: string, requiresBaseUrl: boolean) =>
  ProviderKind.make({
    kind: name,
    description: "test kind",
    options: Schema.Struct({}),
    requiresApiKey: false,
    requiresBaseUrl,
    secretFields: [],
    capabilities: { streaming: true, tools: false, images: false, jsonSchema: false, assistantPrefill: false },
    listsModels: false,
    layer: () => Layer.empty as never
  })
const kinds = [kind("optional-url", false), kind("needs-url", true)]

const bad = ["not a url", "ftp://files.example/v1", `https://user:${secret}@api.example/v1`, `https://api.example/v1?api-key=${secret}`]

describe("baseUrl", () => {
  it.effect("a bad or credential-bearing baseUrl is a problem at its path, for an optional and a required one", () =>
    Effect.gen(function*() {
      for (const baseUrl of bad) {
        for (const name of ["optional-url", "needs-url"]) {
          const error = yield* Effect.flip(loadWith({}, {
            file: false,
            providers: kinds,
            overrides: { providers: [{ kind: name, model: "m", baseUrl } as never] }
          }))
          assert.strictEqual(error._tag, "FlexiConfigError")
          assert.deepStrictEqual(error.problems.map((problem) => problem.path), ["providers[0].baseUrl"], `${name} ${baseUrl}`)
          assert.notInclude(printed(error), secret)
        }
      }
    }))

  it.effect("an http(s) URL with a path loads", () =>
    Effect.gen(function*() {
      const config = yield* loadWith({}, {
        file: false,
        providers: kinds,
        overrides: { providers: [{ kind: "optional-url", model: "m", baseUrl: "http://127.0.0.1:8000/v1" } as never] }
      })
      assert.strictEqual(config.providers[0]?.baseUrl, "http://127.0.0.1:8000/v1")
    }))
})
