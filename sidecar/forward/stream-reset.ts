import { constants as h2constants, type Http2Stream } from 'node:http2';
import { ForwardError } from './forward-error.ts';

/**
 * Resets an HTTP/2 stream with RST_STREAM and never ends it. Node's
 * `Http2Stream.close(code)` first ends the writable side, and its session
 * flushes that END_STREAM before the RST_STREAM, so a peer would see a
 * complete (truncated) message and only then the reset (RFC 9113 §8.1: a
 * message is complete only with END_STREAM). Destroying the stream with an
 * error leaves the writable side un-ended and sends RST_STREAM
 * INTERNAL_ERROR, which every HTTP/2 server treats as an aborted request.
 * A stream whose writable side already ended has nothing to truncate and is
 * closed with CANCEL (RFC 9113 §7: the stream is no longer needed).
 */
export function resetStream(stream: Http2Stream, why: string): void {
  if (stream.destroyed) return;
  if (stream.writableEnded) {
    if (!stream.closed) stream.close(h2constants.NGHTTP2_CANCEL);
    return;
  }
  stream.destroy(new ForwardError('forward.cancelled', why));
}
