/**
 * Fixture replay for `MockProviderServer`: turns a recorded file from `test-data/fixtures` (see its
 * SOURCES.md) into a status, a content type and the frames to send, per format:
 *
 * - `*.json`: a non-streamed body, sent as is.
 * - `*.chunks.txt`: one payload a line, stripped of its framing; re-framed by the request's
 *   encoder (`data:` lines and `[DONE]` for OpenAI, named events for Anthropic, NDJSON lines for
 *   Ollama, event-stream frames for Bedrock).
 * - `*.sse`, `*.txt`, `*.ndjson`: raw stream bytes; `*.bin`: raw AWS event-stream bytes.
 * - `*.jsonl` (OpenRouter's recorder): `{comment}` sent raw, `{json}` and `{text}` as `data:`
 *   events, `{delay_ms}` waited before the next frame (a `chunkDelayMillis` given to `fixture` replaces
 *   the recorded delays: 0 replays at once).
 * - `*.yaml` (VCR cassettes): one interaction's response, its recorded status and content type,
 *   the body as recorded (text, `!!binary` bytes or `parsed_body` as JSON).
 *
 * What people get wrong: the recorded headers other than `content-type` are not replayed
 * (`content-length`, `content-encoding` and `transfer-encoding` would describe another body).
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as Yaml from "yaml"
import { type Encoder, type Frame, isRecord, sse } from "./MockEncoder.ts"

/** One frame of a replay and the pause before it. @category models */
export interface TimedFrame {
  readonly frame: Frame
  readonly delayMillis?: number | undefined
}

/** A fixture ready to send. @category models */
export interface Replay {
  readonly status: number
  readonly contentType: string
  readonly frames: ReadonlyArray<TimedFrame>
}

const lines = (content: Buffer): ReadonlyArray<string> =>
  content.toString("utf8").split("\n").filter((line) => line.trim().length > 0)

const text = (value: unknown): string =>
  value instanceof Uint8Array ? Buffer.from(value).toString("utf8") : typeof value === "string" ? value : ""

const cassette = (content: Buffer, interaction: number, path: string): Replay => {
  const document: unknown = Yaml.parse(content.toString("utf8"), { customTags: ["binary"] })
  const interactions = isRecord(document) && Array.isArray(document.interactions) ? document.interactions : []
  const recorded: unknown = interactions[interaction]
  const response = isRecord(recorded) && isRecord(recorded.response) ? recorded.response : undefined
  if (response === undefined) throw new Error(`${path}: no interaction ${interaction} (it has ${interactions.length})`)
  const headers = isRecord(response.headers) ? response.headers : {}
  const contentType = Object.entries(headers).find(([name]) => name.toLowerCase() === "content-type")?.[1]
  const status = isRecord(response.status) && typeof response.status.code === "number" ? response.status.code : 200
  const body = isRecord(response.body) ? response.body.string : undefined
  const frame: Frame = body instanceof Uint8Array
    ? body
    : typeof body === "string"
    ? body
    : JSON.stringify(response.parsed_body ?? "")
  return {
    status,
    contentType: text(Array.isArray(contentType) ? contentType[0] : contentType) || "application/json",
    frames: [{ frame }]
  }
}

const openRouterRecording = (content: Buffer): ReadonlyArray<TimedFrame> => {
  const frames: Array<TimedFrame> = []
  let pause: number | undefined = undefined
  for (const line of lines(content)) {
    const entry: unknown = JSON.parse(line)
    if (!isRecord(entry)) continue
    if (typeof entry.delay_ms === "number") {
      pause = (pause ?? 0) + entry.delay_ms
      continue
    }
    const frame = typeof entry.comment === "string"
      ? entry.comment
      : "json" in entry
      ? sse(entry.json)
      : typeof entry.text === "string"
      ? sse(entry.text)
      : undefined
    if (frame === undefined) continue
    frames.push({ frame, delayMillis: pause })
    pause = undefined
  }
  return frames
}

/**
 * Reads `path` and renders it for a request handled by `encoder`. `interaction` picks a cassette's
 * exchange; `status` overrides the recorded (or default 200) status.
 *
 * @category constructors
 */
export const load = (
  path: string,
  encoder: Encoder,
  options: { readonly interaction?: number | undefined; readonly status?: number | undefined } = {}
): Replay => {
  const content = Fs.readFileSync(path)
  const replay = ((): Replay => {
    if (path.endsWith(".json")) return { status: 200, contentType: "application/json", frames: [{ frame: content }] }
    if (path.endsWith(".chunks.txt")) {
      const frame = encoder.fixtureFrame ?? sse
      return {
        status: 200,
        contentType: encoder.streamContentType,
        frames: [...lines(content).map((line) => ({ frame: frame(line) })), ...(encoder.fixtureEnd === undefined ? [] : [{ frame: encoder.fixtureEnd }])]
      }
    }
    if (path.endsWith(".jsonl")) return { status: 200, contentType: "text/event-stream", frames: openRouterRecording(content) }
    if (path.endsWith(".yaml") || path.endsWith(".yml")) return cassette(content, options.interaction ?? 0, path)
    if (path.endsWith(".bin")) return { status: 200, contentType: "application/vnd.amazon.eventstream", frames: [{ frame: content }] }
    if (path.endsWith(".ndjson")) return { status: 200, contentType: "application/x-ndjson", frames: [{ frame: content }] }
    return { status: 200, contentType: "text/event-stream", frames: [{ frame: content }] }
  })()
  return options.status === undefined ? replay : { ...replay, status: options.status }
}
