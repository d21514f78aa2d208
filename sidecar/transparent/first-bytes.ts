/**
 * What the first bytes of an intercepted client-first stream say about
 * its protocol: an HTTP/1 request line (or the HTTP/2 preface, whose
 * request line is `PRI * HTTP/2.0`), a TLS handshake record, or anything
 * else, which the proxies treat as opaque TCP.
 */
export type FirstBytesClass = 'http' | 'tls' | 'opaque';

/** The ALPN protocol ID a sidecar's outbound offers for an opaque TCP stream (docs/decisions/014-outbound-classification.md). */
export const OPAQUE_TCP_ALPN = 'spiffe-sidecar-opaque/1';

/**
 * Ports treated as opaque TCP without reading a byte: linkerd2's default
 * `proxy.opaquePorts` (charts/linkerd-control-plane/values.yaml): SMTP 25
 * and 587, MySQL 3306, Galera 4444, PostgreSQL 5432, Redis 6379,
 * Elasticsearch transport 9300, memcached 11211. Server-first protocols
 * among them would otherwise wait out the detection time on every
 * connection, and the others are kept off the HTTP path whatever their
 * first bytes look like.
 */
export const DEFAULT_OPAQUE_PORTS: readonly number[] = Object.freeze([25, 587, 3306, 4444, 5432, 6379, 9300, 11211]);

/** RFC 9110 §5.6.2 tchar: the characters of a method token. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
/** TLS ContentType handshake (RFC 8446 §5.1). */
const TLS_HANDSHAKE = 0x16;
/** The major version byte of every TLS and SSL 3 record (legacy_record_version 0x03XX, RFC 8446 §5.1). */
const TLS_MAJOR = 0x03;

/**
 * Classifies the first bytes of a stream, or returns undefined while they
 * do not decide yet (the caller bounds how many it reads and how long it
 * waits).
 *
 * - `tls`: a handshake record, content type 22 and major version 3
 *   (RFC 8446 §5.1; a ClientHello is the first record a TLS client sends).
 * - `http`: after optional blank space, one or more tchar and then SP: the
 *   method and its separator of an HTTP/1 request line (RFC 9112 §3). The
 *   leading CR and LF are the empty lines a server should ignore before a
 *   request line (RFC 9112 §2.2); SP and HTAB are skipped too, since some
 *   lenient parsers do, and an inbound relying on this check must never
 *   mistake a request for opaque bytes. Any method token counts, known or
 *   not: an app's parser may accept methods this one has never heard of.
 * - `opaque`: anything else, e.g. a PostgreSQL startup message (a length,
 *   first byte 0) or a Redis RESP array (`*1\r\n`: a tchar followed by CR).
 */
export function classifyFirstBytes(b: Uint8Array): FirstBytesClass | undefined {
  const n = b.length;
  if (n === 0) return undefined;
  if (b[0] === TLS_HANDSHAKE) {
    if (n === 1) return undefined;
    return b[1] === TLS_MAJOR ? 'tls' : 'opaque';
  }
  let i = 0;
  while (i < n && (b[i] === CR || b[i] === LF || b[i] === SP || b[i] === HTAB)) i++;
  if (i === n) return undefined;
  const method = i;
  while (i < n && b[i]! < 128 && TCHAR[b[i]!] === 1) i++;
  if (i === n) return undefined;
  return i > method && b[i] === SP ? 'http' : 'opaque';
}

/** True when `b` starts like the HTTP/2 client connection preface (RFC 9113 §3.4), whose request line begins `PRI * `. */
export function startsLikeH2Preface(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x52 && b[2] === 0x49 && b[3] === SP;
}
