import type { Writable } from 'node:stream';
import { serializeTrailers } from './head-writer.ts';

const CRLF = '\r\n';

/**
 * Writes one chunk of a chunked body (RFC 9112 §7.1): size line, data,
 * CRLF, corked into one write. Returns the socket's backpressure answer.
 * An empty chunk would end the body, so it is skipped.
 */
export function writeChunk(out: Writable, data: Buffer): boolean {
  if (data.length === 0) return true;
  out.cork();
  out.write(data.length.toString(16) + CRLF, 'latin1');
  out.write(data);
  const ok = out.write(CRLF, 'latin1');
  out.uncork();
  return ok;
}

/** The last chunk and trailer section that end a chunked body (RFC 9112 §7.1.2). */
export function lastChunk(trailers: readonly string[] | null): string {
  return '0\r\n' + serializeTrailers(trailers);
}
