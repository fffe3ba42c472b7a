/**
 * One streamed wire format in the per-format benchmark (`pnpm bench:formats`): the bytes a
 * provider sends for a stream of N text deltas, the loop a careful user would write with undici
 * alone to read them (the floor), and the FlexiAI config entry that reads the same bytes through
 * `FlexiAI.layer` and the `stream` accessor (the path a user runs).
 *
 * Each provider package's format lives in `bench/formats/<kind>.ts` and default-exports a
 * `Format`. The bench server (a child process, so its CPU is not counted) answers every POST with
 * `body(N)`, where N is read from the first `chunks-<N>` in the request's path or body: put the
 * model name `chunks-<N>` where the provider carries it (the body for Anthropic and Ollama, the
 * path for Gemini and Bedrock).
 *
 * @since 0.3.0
 */

export interface Format {
  /** The row label, e.g. `"Anthropic SSE"`. */
  readonly name: string
  /** The response's content type (`text/event-stream`, `application/x-ndjson`, `application/vnd.amazon.eventstream`). */
  readonly contentType: string
  /**
   * The complete streamed response for `count` text deltas (`tok0 `, `tok1 `, …), framed exactly as
   * the provider frames it, with its start and end events, usage and terminator.
   */
  readonly body: (count: number) => Uint8Array
  /** What the raw side sends for a stream of `model` (`chunks-<N>`): path, headers and body. */
  readonly request: (model: string) => {
    readonly path: string
    readonly headers: Readonly<Record<string, string>>
    readonly body: string
  }
  /**
   * The floor: a minimal hand-written decoder of this format over undici's body, returning the
   * concatenated text. It must do the work any correct reader does (split frames across reads,
   * parse each event's JSON, pick out the text), nothing more.
   */
  readonly read: (body: AsyncIterable<Uint8Array>) => Promise<string>
  /**
   * The FlexiAI provider entry (as in `FlexiAI.layer({ providers: [entry] })`) pointed at the bench
   * server at `baseUrl` (`http://127.0.0.1:PORT`), with fake credentials and `models: { "*": "*" }`
   * so every `chunks-<N>` model is sent as named.
   */
  readonly entry: (baseUrl: string) => Readonly<Record<string, unknown>>
}
