// The README's error example, run as written: the code between the markers below must be the
// README's example (its `ts` block, less the imports, which are checked to name what this file
// imports), and what it answers against a real OpenAI-compatible server on loopback must be what
// the README says it answers. If the README's example stops working, or drifts from this copy,
// this test fails.
import { assert, describe, it } from "@effect/vitest"
import * as MockProviderServer from "@flexiai/testing/MockProviderServer"
import { Duration, Effect } from "effect"
import * as Fs from "node:fs"
import { fileURLToPath } from "node:url"
import { chat, FlexiAI, ProviderError } from "../src/index.ts"

// README example: begin
const answer = chat("Say hello").pipe(
  Effect.map((response) => response.text),
  ProviderError.catchReason("RateLimited", (reason, error) =>
    Effect.succeed(`${error.provider} is rate limited: retry in ${Duration.format(reason.retryAfter ?? Duration.seconds(1))}`)),
  Effect.catchTag("AllProvidersFailed", (error) => Effect.succeed(`no answer: ${error.message}`))
)
// README example: end

const readme = Fs.readFileSync(fileURLToPath(new URL("../../../README.md", import.meta.url)), "utf8")
const self = Fs.readFileSync(fileURLToPath(import.meta.url), "utf8")

const exampleBlock = (): string => {
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!)
  const block = blocks.find((text) => text.includes("ProviderError.catchReason("))
  assert.isDefined(block, "README has no ts block with ProviderError.catchReason")
  return block!
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
  it("the example in this file is the README's, with the README's imports", () => {
    const block = exampleBlock()
    const code = block.split("\n").filter((line) => !line.startsWith("import ")).join("\n").trim()
    const copy = self.slice(self.indexOf("// README example: begin\n") + 25, self.indexOf("// README example: end")).trim()
    assert.strictEqual(code, copy)
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
})
