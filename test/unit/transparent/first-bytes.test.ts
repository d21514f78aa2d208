import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_OPAQUE_PORTS, classifyFirstBytes, startsLikeH2Preface, type FirstBytesClass } from '../../../sidecar/transparent/index.ts';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const hex = (h: string): Buffer => Buffer.from(h.replace(/ /g, ''), 'hex');

// One row per rule of classifyFirstBytes; `want: undefined` means "read more".
const rows: { name: string; bytes: Buffer; want: FirstBytesClass | undefined }[] = [
  { name: 'nothing yet', bytes: b(''), want: undefined },
  // HTTP/1 request line: tchar+ SP (RFC 9112 §3)
  { name: 'GET request line', bytes: b('GET / HTTP/1.1\r\n'), want: 'http' },
  { name: 'a method and its space are enough', bytes: b('POST '), want: 'http' },
  { name: 'a method without its space yet', bytes: b('POS'), want: undefined },
  { name: 'an unknown method token is still HTTP (lenient app parsers accept it)', bytes: b('BREW /pot HTTP/1.1'), want: 'http' },
  { name: 'a token with tchar punctuation', bytes: b("M-S!#$%&'*+.^_`|~ / HTTP/1.1"), want: 'http' },
  { name: 'h2 preface', bytes: b('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), want: 'http' },
  // skipped leading bytes (RFC 9112 §2.2 empty lines; SP and HTAB for lenient parsers)
  { name: 'leading CRLF before a request line', bytes: b('\r\n\r\nGET / HTTP/1.1'), want: 'http' },
  { name: 'leading SP and HTAB before a request line', bytes: b(' \tGET / HTTP/1.1'), want: 'http' },
  { name: 'only blank bytes so far', bytes: b('\r\n \t'), want: undefined },
  // not a request line
  { name: 'a token ended by CR (Redis inline PING)', bytes: b('PING\r\n'), want: 'opaque' },
  { name: 'RESP array (redis-cli)', bytes: b('*1\r\n$4\r\nPING\r\n'), want: 'opaque' },
  { name: 'a non-token byte first', bytes: b('/ GET'), want: 'opaque' },
  { name: 'PostgreSQL SSLRequest (length first, byte 0)', bytes: hex('00 00 00 08 04 d2 16 2f'), want: 'opaque' },
  { name: 'a byte above 0x7f', bytes: hex('c3 a9 20'), want: 'opaque' },
  { name: 'a control byte inside the token', bytes: b('GE\x00T '), want: 'opaque' },
  // TLS (RFC 8446 §5.1)
  { name: 'TLS handshake record', bytes: hex('16 03 01 00 c8 01'), want: 'tls' },
  { name: 'TLS: content type alone is not enough', bytes: hex('16'), want: undefined },
  { name: 'content type 22 with a major version other than 3', bytes: hex('16 02 00'), want: 'opaque' },
  { name: 'TLS alert record is not a ClientHello start', bytes: hex('15 03 03 00 02'), want: 'opaque' },
];

for (const row of rows) {
  test(`classifyFirstBytes: ${row.name}`, () => assert.equal(classifyFirstBytes(row.bytes), row.want));
}

const cases: { name: string; bytes: Buffer; want: boolean }[] = [
  { name: 'the preface', bytes: b('PRI * HTTP/2.0\r\n'), want: true },
  { name: 'its method and space', bytes: b('PRI '), want: true },
  { name: 'another method', bytes: b('PUT / HTTP/1.1'), want: false },
  { name: 'PRI without its space', bytes: b('PRIX'), want: false },
  { name: 'too short', bytes: b('PRI'), want: false },
];
for (const c of cases) test(`startsLikeH2Preface: ${c.name}`, () => assert.equal(startsLikeH2Preface(c.bytes), c.want));

test("DEFAULT_OPAQUE_PORTS: is linkerd2's list", () => assert.deepEqual([...DEFAULT_OPAQUE_PORTS], [25, 587, 3306, 4444, 5432, 6379, 9300, 11211]));
