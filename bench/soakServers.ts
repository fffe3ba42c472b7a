/**
 * The fault soak's providers (`soak.ts`): three `MockProviderServer`s in a process of their own (so
 * their memory and CPU stay out of the client's heap figure): `flaky-a` and `flaky-b` answer each
 * request with a reply drawn at random from every fault MockProviderServer can script, `steady`
 * always answers. Every answer echoes the request's prompt (`echo: <prompt>`), so the client knows
 * the text each request must end with.
 *
 * Usage: forked by soak.ts with `<requests> <seed> <slowDripMillis>`; sends `{ urls }` once
 * listening. Flaky replies are queued up front, enough for the worst case (every try of every
 * request on both flaky providers), and drawn with a seeded generator, so a run can be repeated.
 */
import * as Mock from "@flexiai/testing/MockProviderServer"

const [requestsText, seedText, dripText] = process.argv.slice(2)
const requests = Number(requestsText ?? 3000)
let seed = Number(seedText ?? 1) >>> 0
const slowDripMillis = Number(dripText ?? 15_000)

// mulberry32: a small seeded generator, enough to draw faults reproducibly
const random = (): number => {
  seed = (seed + 0x6d2b79f5) >>> 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const streamError = { message: "The server had an error while processing your request.", type: "server_error", code: null }

// A content event replaced by an undecodable one: the "NOT" of the sentence is lost if the client
// skips it. Raw frames cannot echo, so this answer's text is never a request's expected text: a
// client that serves it has served a wrong answer (counted as truncated-but-complete).
const sseChunk = (delta: object, finish: string | null) =>
  `data: ${JSON.stringify({ id: "chatcmpl-soak", object: "chat.completion.chunk", created: 1, model: "soak", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
const corrupted = Mock.raw([
  sseChunk({ role: "assistant", content: "" }, null),
  sseChunk({ content: "Transfer " }, null),
  "data: {\"id\":\"chatcmpl-soak\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"NOT \"\n\n",
  sseChunk({ content: "one million dollars." }, null),
  sseChunk({}, "stop"),
  "data: [DONE]\n\n"
], { headers: { "content-type": "text/event-stream" } })

/** Every fault kind, with its weight out of the flaky providers' replies (the rest answer normally). */
const faults: ReadonlyArray<readonly [string, number, () => Mock.Reply]> = [
  ["500", 3, () => Mock.serverError(500)],
  ["502", 2, () => Mock.serverError(502)],
  ["503 overloaded", 2, () => Mock.overloaded(503)],
  ["529 overloaded", 1, () => Mock.overloaded(529)],
  ["429 Retry-After 1 s", 3, () => Mock.rateLimited({ retryAfterSeconds: 1 })],
  ["429 retry-after-ms 300", 2, () => Mock.rateLimited({ retryAfterMillis: 300 })],
  ["429 Retry-After 30 s", 1, () => Mock.rateLimited({ retryAfterSeconds: 30 })],
  ["reset before headers", 3, () => Mock.reset()],
  ["hang", 1, () => Mock.hang()],
  ["slow headers 2 s", 2, () => Mock.echo({ headersDelayMillis: 2000 })],
  ["slow first token 1.5 s", 2, () => Mock.echo({ firstTokenDelayMillis: 1500 })],
  ["cut before content", 2, () => Mock.echo({ cutAfterChunks: 0 })],
  ["cut after 2 chunks", 2, () => Mock.echo({ cutAfterChunks: 2 })],
  ["stall before content", 1, () => Mock.echo({ stallAfterChunks: 0 })],
  ["stall after 2 chunks", 1, () => Mock.echo({ stallAfterChunks: 2 })],
  ["undecodable event inserted", 2, () => Mock.echo({ malformedAfterChunks: 2 })],
  ["content event corrupted", 2, () => corrupted],
  ["malformed JSON body", 2, () => Mock.raw("{\"id\":\"chatcmpl-soak\",\"choices\":[{", { headers: { "content-type": "application/json" } })],
  ["HTML error page", 2, () => Mock.error(502, { message: "" }, { headers: { "content-type": "text/html" }, rawBody: "<html><body><h1>502 Bad Gateway</h1></body></html>" })],
  ["error event before content", 1, () => Mock.echo({ errorAfterChunks: 0, streamError })],
  ["error event after content", 1, () => Mock.echo({ errorAfterChunks: 2, streamError })],
  ["no [DONE], socket held", 1, () => Mock.echo({ omitDone: "hold" })],
  ["slow drip 150 ms/chunk", 2, () => Mock.echo({ chunkDelayMillis: 150 })],
  ["slow drip past the deadline", 2, () => Mock.echo({ chunkDelayMillis: slowDripMillis })]
]
const faultShare = 0.45
const totalWeight = faults.reduce((sum, [, weight]) => sum + weight, 0)

const draw = (): Mock.Reply => {
  if (random() >= faultShare) return Mock.echo()
  let pick = random() * totalWeight
  for (const [, weight, reply] of faults) {
    pick -= weight
    if (pick < 0) return reply()
  }
  return Mock.echo()
}

// the worst case per request: every try (1 + 2 retries by default) on each flaky provider, plus slack
const queue = (): ReadonlyArray<Mock.Reply> => Array.from({ length: requests * 4 + 100 }, draw)

const flakyA = await Mock.start({ replies: queue(), fallback: Mock.echo() })
const flakyB = await Mock.start({ replies: queue(), fallback: Mock.echo() })
const steady = await Mock.start({ fallback: Mock.echo() })
// the servers record every call; this process only serves, so drop the records as they pile up
const clear = setInterval(() => {
  flakyA.clearCalls()
  flakyB.clearCalls()
  steady.clearCalls()
}, 2000)
process.send?.({ urls: { flakyA: flakyA.url, flakyB: flakyB.url, steady: steady.url }, faults: faults.map(([name]) => name) })
process.on("disconnect", () => {
  clearInterval(clear)
  void Promise.all([flakyA.stop(), flakyB.stop(), steady.stop()]).finally(() => process.exit(0))
})
