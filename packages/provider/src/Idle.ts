/**
 * An idle timeout on a stream: each pull must deliver within `duration`, or the stream fails.
 *
 * Why not `Stream.timeoutOrElse`: on a stream that waits (an open LLM response between chunks) it
 * holds far more memory per open stream (about 14 KiB here, measured with 1,000 open streams)
 * than timing the pull itself (with `TimeLimit`, which shares one timer between all pending waits).
 * Put it on the body's bytes (a network read), not on decoded events: a read carries many events.
 *
 * @since 0.2.0
 */
import * as TimeLimit from "@flexiai/core/TimeLimit"
import { Effect, Stream } from "effect"
import type { Duration } from "effect"

/** @category combinators */
export const idleTimeout = <A, E, R, E2>(
  stream: Stream.Stream<A, E, R>,
  duration: Duration.Duration,
  onTimeout: () => E2
): Stream.Stream<A, E | E2, R> =>
  Stream.transformPull(stream, (pull) =>
    Effect.succeed(TimeLimit.within(pull, duration, onTimeout)))
