import { isIP } from 'node:net';
import { canonicalHost } from '../core/index.ts';

/**
 * The server name a TLS client asks for, read from the ClientHello in the
 * first record of the stream (RFC 8446 §4.1.2 and §5.1; the server_name
 * extension of RFC 6066 §3).
 */
export type ClientHelloServerName =
  | { readonly kind: 'sni'; readonly name: string }
  /** A well-formed ClientHello without a host_name. */
  | { readonly kind: 'none' }
  /** The first record does not hold the whole ClientHello (it continues in a later record, or has not arrived). */
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'malformed'; readonly reason: string };

/** The largest record a TLS peer may send: 2^14 bytes of plaintext plus the 5-byte header (RFC 8446 §5.1). */
export const MAX_FIRST_RECORD_BYTES = 5 + 16_384;

const HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const SERVER_NAME = 0;
const HOST_NAME = 0;
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** True once `b` holds the whole first TLS record (or more bytes than any record may have). */
export function firstRecordComplete(b: Uint8Array): boolean {
  if (b.length >= MAX_FIRST_RECORD_BYTES) return true;
  return b.length >= 5 && b.length >= 5 + ((b[3]! << 8) | b[4]!);
}

/**
 * A cursor over one ClientHello; every read checks the bounds, so a
 * length field pointing past the data ends the parse as malformed.
 */
class Reader {
  readonly #b: Uint8Array;
  #at: number;
  readonly #end: number;

  constructor(b: Uint8Array, start: number, end: number) {
    this.#b = b;
    this.#at = start;
    this.#end = end;
  }

  get left(): number {
    return this.#end - this.#at;
  }

  u8(): number | undefined {
    return this.#at < this.#end ? this.#b[this.#at++] : undefined;
  }

  u16(): number | undefined {
    if (this.left < 2) return undefined;
    const v = (this.#b[this.#at]! << 8) | this.#b[this.#at + 1]!;
    this.#at += 2;
    return v;
  }

  /** A sub-reader over the next `n` bytes, which are skipped here. */
  take(n: number): Reader | undefined {
    if (n > this.left) return undefined;
    const r = new Reader(this.#b, this.#at, this.#at + n);
    this.#at += n;
    return r;
  }

  text(): string {
    return Buffer.from(this.#b.buffer, this.#b.byteOffset + this.#at, this.left).toString('latin1');
  }
}

const malformed = (reason: string): ClientHelloServerName => ({ kind: 'malformed', reason });

/**
 * Reads the host_name of the server_name extension from the ClientHello
 * that `bytes` (the stream from its first byte) starts with. The name is
 * returned lowercase and must be a DNS name: RFC 6066 §3 allows neither
 * IP literals nor a trailing dot, and a name this proxy dials must not
 * smuggle anything else. Only the first record is read: a ClientHello
 * split over several records is `incomplete`, so callers fall back to the
 * destination address.
 */
export function clientHelloServerName(bytes: Uint8Array): ClientHelloServerName {
  if (bytes.length < 5) return { kind: 'incomplete' };
  if (bytes[0] !== HANDSHAKE) return malformed('not a handshake record');
  const recordLength = (bytes[3]! << 8) | bytes[4]!;
  const record = new Reader(bytes, 5, Math.min(bytes.length, 5 + recordLength));
  if (record.u8() !== CLIENT_HELLO) return record.left === 0 ? { kind: 'incomplete' } : malformed('the first handshake message is not a ClientHello');
  const b1 = record.u8();
  const b2 = record.u8();
  const b3 = record.u8();
  if (b3 === undefined) return { kind: 'incomplete' };
  const helloLength = (b1! << 16) | (b2! << 8) | b3;
  const hello = record.take(helloLength);
  if (hello === undefined) return { kind: 'incomplete' };
  // legacy_version (2) and random (32)
  if (hello.take(34) === undefined) return malformed('ClientHello too short');
  const sessionId = hello.u8();
  if (sessionId === undefined || sessionId > 32 || hello.take(sessionId) === undefined) return malformed('bad legacy_session_id');
  const suites = hello.u16();
  if (suites === undefined || suites < 2 || suites % 2 !== 0 || hello.take(suites) === undefined) return malformed('bad cipher_suites');
  const compression = hello.u8();
  if (compression === undefined || compression < 1 || hello.take(compression) === undefined) return malformed('bad legacy_compression_methods');
  // A ClientHello without extensions is valid TLS 1.2 (RFC 5246 §7.4.1.2), and has no server name.
  if (hello.left === 0) return { kind: 'none' };
  const extLength = hello.u16();
  const exts = extLength === undefined ? undefined : hello.take(extLength);
  if (exts === undefined || hello.left !== 0) return malformed('bad extensions length');
  let found: ClientHelloServerName = { kind: 'none' };
  const seen = new Set<number>();
  while (exts.left > 0) {
    const type = exts.u16();
    const len = exts.u16();
    const ext = len === undefined ? undefined : exts.take(len);
    if (type === undefined || ext === undefined) return malformed('bad extension');
    // RFC 8446 §4.2: no extension type may appear twice.
    if (seen.has(type)) return malformed(`extension ${type} appears twice`);
    seen.add(type);
    if (type === SERVER_NAME) found = serverName(ext);
    if (found.kind === 'malformed') return found;
  }
  return found;
}

/** The server_name extension's ServerNameList (RFC 6066 §3): one host_name at most. */
function serverName(ext: Reader): ClientHelloServerName {
  const listLength = ext.u16();
  const list = listLength === undefined ? undefined : ext.take(listLength);
  if (list === undefined || ext.left !== 0 || list.left === 0) return malformed('bad server_name list');
  let name: string | undefined;
  while (list.left > 0) {
    const nameType = list.u8();
    const len = list.u16();
    const entry = len === undefined ? undefined : list.take(len);
    if (nameType === undefined || entry === undefined || entry.left === 0) return malformed('bad server_name entry');
    if (nameType !== HOST_NAME) continue;
    if (name !== undefined) return malformed('more than one host_name');
    name = entry.text();
  }
  if (name === undefined) return { kind: 'none' };
  const lower = name.toLowerCase();
  if (lower.length > 253 || !lower.split('.').every((l) => DNS_LABEL.test(l))) return malformed('host_name is not a DNS name');
  // Spellings such as `10.5` or `0x7f000001` are IPv4 addresses to resolvers (RFC 6066 §3 forbids literals).
  const canonical = canonicalHost(lower);
  if (canonical === undefined || isIP(canonical) !== 0) return malformed('host_name is an IP address');
  return { kind: 'sni', name: lower };
}
