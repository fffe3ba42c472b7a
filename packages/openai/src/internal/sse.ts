/**
 * A tolerant SSE decoder over effect's exported parser. `Sse.decode()` fails the whole stream
 * with `Sse.Retry` on a `retry:` field (and drops every later event when it arrives in its own
 * network chunk), which a proxy in front of a provider may send; here `retry:` is ignored.
 */
import { Effect, Stream } from "effect"
import { Sse } from "effect/encoding"

/** Text chunks in, SSE events out, whatever the chunk boundaries. */
export const events = <E, R>(text: Stream.Stream<string, E, R>): Stream.Stream<Sse.Event, E | Sse.SseError, R> =>
  Stream.suspend(() => {
    const pending: Array<Sse.Event> = []
    const parser = Sse.makeParser((event) => {
      if (event._tag === "Event") pending.push(event)
    })
    return text.pipe(
      Stream.mapEffect((chunk) => {
        const error = parser.feed(chunk)
        return error === undefined ? Effect.succeed(pending.splice(0)) : Effect.fail(error)
      }),
      // a last event without its blank line is still an event (servers that end mid-frame)
      Stream.concat(Stream.suspend(() => {
        parser.feed("\n\n")
        return Stream.succeed(pending.splice(0))
      })),
      Stream.flattenIterable
    )
  })
