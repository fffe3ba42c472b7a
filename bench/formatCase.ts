/**
 * One side of the per-format benchmark in a process of its own: CPU per streamed chunk reading one
 * format's bytes, either with raw undici and the format's hand-written decoder (`raw`) or through
 * `FlexiAI.layer` and the `stream` accessor with the default policy (`flex`), the path a user runs.
 * Both check the text they read, so neither side can win by skipping work.
 *
 * Usage: node --expose-gc bench/formatCase.ts <raw|flex> <format file> <port> [concurrency];
 * prints one JSON number (µs per chunk).
 */
import { Effect, ManagedRuntime, Stream } from "effect"
import { FlexiAI, stream } from "flexiai"
import { Agent, request as undiciRequest } from "undici"
import type { Format } from "./formats/Format.ts"
import { perChunkMicros } from "./measure.ts"

const [side, file, portText, concurrencyText] = process.argv.slice(2) as [string, string, string, string | undefined]
const format = (await import(file) as { default: Format }).default
const base = `http://127.0.0.1:${portText}`
const concurrency = Number(concurrencyText ?? 1)

const expected = (model: string): string => {
  const count = Number(model.slice("chunks-".length))
  let text = ""
  for (let index = 0; index < count; index++) text += `tok${index} `
  return text
}
const expectedTexts = new Map(["chunks-1", "chunks-200"].map((model) => [model, expected(model)]))
const check = (model: string, text: string): void => {
  if (text !== expectedTexts.get(model)) throw new Error(`${side} read ${JSON.stringify(text.slice(0, 60))}… for ${model}`)
}

const agent = new Agent({ keepAliveTimeout: 60_000 })
const rawRun = async (model: string): Promise<void> => {
  const { path, headers, body } = format.request(model)
  const response = await undiciRequest(`${base}${path}`, { method: "POST", headers, body, dispatcher: agent })
  check(model, await format.read(response.body as AsyncIterable<Uint8Array>))
}

const runtime = side === "flex"
  ? ManagedRuntime.make(FlexiAI.layer({ providers: [format.entry(base) as NonNullable<FlexiAI.Input["providers"]>[number]], logging: { level: "warn" } }))
  : undefined
const flexRun = (model: string): Promise<void> => {
  let text = ""
  return runtime!.runPromise(
    Stream.runForEach(stream({ model, messages: [{ role: "user", content: "hello" }] }), (part) =>
      Effect.sync(() => {
        if (part.type === "text-delta") text += part.text
      }))
  ).then(() => check(model, text))
}

const value = await perChunkMicros(side === "flex" ? flexRun : rawRun, concurrency)
console.log(JSON.stringify(value))
await runtime?.dispose()
await agent.close()
process.exit(0)
