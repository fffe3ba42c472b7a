// The README's error examples, run as written: the code between each pair of markers below must be
// the README's example (its `ts` block, less the imports, which are checked to be the README's),
// and what it answers must be what the README says it answers: the catch example against a real
// OpenAI-compatible server on loopback, the spec example on scripted providers. If a README example
// stops working, or drifts from the copy here, this test fails.
import { assert, describe, it } from "@effect/vitest"
import { ChatProvider, CircuitBreaker, Router } from "@flexiai/core"
import { TestChatProvider } from "@flexiai/testing"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Duration, Effect, Layer } from "effect"
import * as Fs from "node:fs"
import { fileURLToPath } from "node:url"
import { chat, FlexiAI, ProviderError } from "../src/index.ts"

// README example (catch): begin
const answer = chat("Say hello").pipe(
  Effect.map((response) => response.text),
  ProviderError.catchReason("RateLimited", (reason, error) =>
    Effect.succeed(`${error.provider} is rate limited: retry in ${Duration.format(reason.retryAfter ?? Duration.seconds(1))}`)),
  Effect.catchTag("AllProvidersFailed", (error) => Effect.succeed(`no answer: ${error.message}`))
)
// README example (catch): end

const readme = Fs.readFileSync(fileURLToPath(new URL("../../../README.md", import.meta.url)), "utf8")
const self = Fs.readFileSync(fileURLToPath(import.meta.url), "utf8")

const exampleBlock = (marker: string): string => {
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!)
  const block = blocks.find((text) => text.includes(marker))
  assert.isDefined(block, `README has no ts block with ${marker}`)
  return block!
}

// the README's code and the copy here, each without imports and indentation, line by line
const codeOf = (text: string): string =>
  text.split("\n").filter((line) => !line.startsWith("import ")).map((line) => line.trim()).join("\n").trim()
const copyOf = (name: string): string => {
  const begin = `// README example (${name}): begin\n`
  return codeOf(self.slice(self.indexOf(begin) + begin.length, self.indexOf(`// README example (${name}): end`)))
}

const key = "sk-readme-0123456789abcdef"

const run = (reply: MockProviderServer.Reply) =>
  Effect.gen(function*() {
    const server = yield* MockProviderServer.make({ fallback: reply })
    return yield* answer.pipe(Effect.provide(FlexiAI.layer({
      providers: [{ kind: "openai", model: "gpt-4o-mini", apiKey: key, baseUrl: `${server.url}/v1` }],
      logging: { level: "none" }
    })))
  })

describe("README: catching errors", () => {
  it("the catch example in this file is the README's, with the README's imports", () => {
    const block = exampleBlock("ProviderError.catchReason(")
    assert.strictEqual(codeOf(block), copyOf("catch"))
    assert.include(block, `import { Duration, Effect } from "effect"`)
    assert.include(block, `import { chat, ProviderError } from "flexiai"`)
  })

  it.live("a rate limit behind the router is caught by its reason, as the README says", () =>
    Effect.gen(function*() {
      const text = yield* run(MockProviderServer.rateLimited({ retryAfterSeconds: 60 }))
      assert.strictEqual(text, "openai is rate limited: retry in 1m")
      assert.include(readme, `\`answer\` is\n\`${text}\``)
    }))

  it.live("a refused key: the summary names the reason and the provider's masked message, as the README shows", () =>
    Effect.gen(function*() {
      const text = yield* run(MockProviderServer.error(401, { message: "Invalid API key.", type: "invalid_request_error", code: "invalid_api_key" }))
      assert.strictEqual(text, "no answer: all providers failed (1 attempt): openai/gpt-4o-mini: Authentication (Invalid API key.)")
      assert.include(readme, `\`\`\`text\n${text}\n\`\`\``)
    }))

  it.live("a healthy provider: the answer's text", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* run(MockProviderServer.text("Hello!")), "Hello!")
    }))

  it("the spec example in this file is the README's, with the README's imports", () => {
    const block = exampleBlock("TestChatProvider.serverError(503)")
    assert.strictEqual(codeOf(block), copyOf("spec"))
    assert.include(block, `import { ChatProvider, CircuitBreaker, Router } from "@flexiai/core"`)
    assert.include(block, `import { TestChatProvider } from "@flexiai/testing"`)
    assert.include(block, `import { Effect, Layer } from "effect"`)
  })

  it("the spec example: a failed primary, retried, then the backup answers, as the README's comments say", async () => {
    // README example (spec): begin
    const primary = TestChatProvider.layer({ name: "primary", script: [{ fail: TestChatProvider.serverError(503) }] })
    const backup = TestChatProvider.layer({ name: "backup", script: [{ reply: "Hello!" }] })
    const TestLayer = Router.layer({ providers: [primary, backup] }).pipe(Layer.provide(CircuitBreaker.layerMemory()))

    const response = await Effect.runPromise(ChatProvider.chat("Say hello").pipe(Effect.provide(TestLayer)))
    // response.text "Hello!", response.provider "backup",
    // response.attempts [{ provider: "primary", outcome: "failure", reason: "ServerError", tries: 3, … }, { provider: "backup", outcome: "success", … }]
    // README example (spec): end
    assert.strictEqual(response.text, "Hello!")
    assert.strictEqual(response.provider, "backup")
    assert.deepStrictEqual(
      response.attempts.map(({ outcome, provider, reason, tries }) => ({ provider, outcome, reason, tries })),
      [
        { provider: "primary", outcome: "failure", reason: "ServerError", tries: 3 },
        { provider: "backup", outcome: "success", reason: undefined, tries: 1 }
      ]
    )
  })
})
