// The URL shapes: Gemini API's base and model paths, Vertex AI's global and regional endpoints and
// publisher-model paths (the tests against the mock override the host, so the defaults are held here).
import { assert, describe, it } from "@effect/vitest"
import * as GoogleClient from "../src/GoogleClient.ts"

describe("URLs", () => {
  it("Gemini API: base URL and model paths (plain, models/…, tunedModels/…)", () => {
    assert.strictEqual(GoogleClient.geminiBaseUrl, "https://generativelanguage.googleapis.com/v1beta")
    assert.strictEqual(GoogleClient.geminiModelPath("gemini-2.5-flash"), "/models/gemini-2.5-flash")
    assert.strictEqual(GoogleClient.geminiModelPath("models/gemini-2.5-flash"), "/models/gemini-2.5-flash")
    assert.strictEqual(GoogleClient.geminiModelPath("tunedModels/mine-123"), "/tunedModels/mine-123")
  })

  it("Vertex AI: the global endpoint, regional endpoints, publisher and full resource paths", () => {
    assert.strictEqual(GoogleClient.vertexBaseUrl("global"), "https://aiplatform.googleapis.com/v1")
    assert.strictEqual(GoogleClient.vertexBaseUrl("europe-west4"), "https://europe-west4-aiplatform.googleapis.com/v1")
    assert.strictEqual(
      GoogleClient.vertexModelPath("p", "us-central1", "gemini-2.5-pro"),
      "/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro"
    )
    assert.strictEqual(
      GoogleClient.vertexModelPath("p", "global", "publishers/google/models/gemini-2.5-pro"),
      "/projects/p/locations/global/publishers/google/models/gemini-2.5-pro"
    )
    assert.strictEqual(
      GoogleClient.vertexModelPath("p", "global", "projects/other/locations/us-east1/endpoints/123"),
      "/projects/other/locations/us-east1/endpoints/123"
    )
  })
})
