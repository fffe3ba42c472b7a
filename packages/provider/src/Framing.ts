/**
 * Framing: the first step of reading a streamed body, from bytes to the wire format's events,
 * before any provider meaning. One interface for every format: SSE (`Sse`), NDJSON (`Ndjson`) and
 * length-prefixed binary frames (`EventStreamFrames`, AWS's layout).
 *
 * What users get wrong: decoding UTF-8 before framing. Bytes arrive split anywhere, in the middle
 * of a character or of a binary frame's length; a framer takes them as they come, decodes text
 * itself when its format is text, and hands out an event only once all of it has arrived. Any split
 * of the same bytes gives the same events (each framing has a property test saying so).
 *
 * @since 0.2.0
 */

/** A running framer: one per response body. @category models */
export interface Framer {
  /**
   * Frames the next bytes, calling the framer's `onEvent` for each complete event, in order.
   * Returns an error message when the input cannot be framed (an event past its size limit, a
   * corrupt binary frame); the events framed before the error were handed out already.
   */
  readonly feed: (bytes: Uint8Array) => string | undefined
  /** The body ended: hands out what a format allows at the end (NDJSON's last unterminated line), or says what is cut off. */
  readonly end: () => string | undefined
}

/** A wire format: makes a framer that hands its events to `onEvent`. @category models */
export interface Framing<Event> {
  readonly make: (onEvent: (event: Event) => void) => Framer
}
