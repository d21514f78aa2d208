/**
 * Raw HTTP/2 frames (RFC 9113 §4.1) for clients that must do what node's
 * http2 client never does: reset a stream in the same write as its HEADERS
 * (rapid reset), or reset a stream mid-body without first sending
 * END_STREAM. Header blocks use HPACK literals without indexing (RFC 7541
 * §6.2.2) with literal names, so no table state is needed.
 */
import tls from 'node:tls';
import { once } from 'node:events';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const FLAG_END_STREAM = 0x1;
export const FLAG_END_HEADERS = 0x4;
export const NO_ERROR = 0x0;
export const CANCEL = 0x8;

/** One frame: 9-byte header (length, type, flags, stream ID) and payload. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([h, payload]);
}

function literal(s: string): Buffer {
  const b = Buffer.from(s, 'latin1');
  if (b.length > 126) throw new Error('test header too long for a one-byte HPACK length');
  return Buffer.concat([Buffer.from([b.length]), b]);
}

/** A HEADERS frame (END_HEADERS set) with the given fields. */
export function headers(streamId: number, fields: readonly [string, string][], endStream: boolean): Buffer {
  const block = Buffer.concat(fields.flatMap(([n, v]) => [Buffer.from([0x00]), literal(n), literal(v)]));
  return frame(0x1, FLAG_END_HEADERS | (endStream ? FLAG_END_STREAM : 0), streamId, block);
}

/** A DATA frame. */
export function data(streamId: number, body: string, endStream: boolean): Buffer {
  return frame(0x0, endStream ? FLAG_END_STREAM : 0, streamId, Buffer.from(body, 'latin1'));
}

/** A RST_STREAM frame with `code`. */
export function rstStream(streamId: number, code: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code);
  return frame(0x3, 0, streamId, p);
}

/** The client preface and an empty SETTINGS frame. */
export function clientPreface(): Buffer {
  return Buffer.concat([PREFACE, frame(0x4, 0, 0, Buffer.alloc(0))]);
}

/** A request's pseudo-headers plus `extra`. */
export function request(method: string, path: string, extra: readonly [string, string][] = []): [string, string][] {
  return [[':method', method], [':scheme', 'https'], [':path', path], [':authority', 'backend'], ...extra];
}

/** A TLS connection offering only h2 (ALPN), ready for raw frames; its input is drained and ignored. */
export async function rawH2(options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  const s = tls.connect({ ...options, ALPNProtocols: ['h2'] });
  s.on('error', () => {});
  await once(s, 'secureConnect');
  if (s.alpnProtocol !== 'h2') throw new Error(`server did not pick h2 (ALPN ${String(s.alpnProtocol)})`);
  s.resume();
  return s;
}
