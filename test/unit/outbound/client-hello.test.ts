import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { clientHelloServerName, firstRecordComplete, type ClientHelloServerName } from '../../../sidecar/outbound/client-hello.ts';

const u16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
const u24 = (n: number): number[] => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const ascii = (s: string): number[] => [...Buffer.from(s, 'latin1')];

/** A server_name extension body with the given (type, name) entries (RFC 6066 §3). */
function sniBody(entries: readonly (readonly [number, string])[]): number[] {
  const list = entries.flatMap(([type, name]) => [type, ...u16(name.length), ...ascii(name)]);
  return [...u16(list.length), ...list];
}

interface Hello {
  sessionId?: number[];
  suites?: number[];
  compression?: number[];
  /** (type, body) pairs; undefined leaves the extensions block out. */
  extensions?: readonly (readonly [number, number[]])[] | undefined;
  /** Overrides the extensions block length. */
  extLength?: number;
  /** Overrides the handshake message type. */
  msgType?: number;
  /** Overrides the handshake length. */
  helloLength?: number;
  /** Bytes appended after the extensions, inside the ClientHello. */
  trailing?: number[];
}

/** Builds one TLS record holding one ClientHello (RFC 8446 §4.1.2, §5.1). */
function record(h: Hello = {}): Buffer {
  const exts = h.extensions === undefined ? [] : h.extensions.flatMap(([type, body]) => [...u16(type), ...u16(body.length), ...body]);
  const sessionId = h.sessionId ?? [];
  const suites = h.suites ?? [0x13, 0x01];
  const compression = h.compression ?? [0];
  const body = [
    0x03, 0x03,
    ...new Array<number>(32).fill(7),
    sessionId.length, ...sessionId,
    ...u16(suites.length), ...suites,
    compression.length, ...compression,
    ...(h.extensions === undefined ? [] : [...u16(h.extLength ?? exts.length), ...exts]),
    ...(h.trailing ?? []),
  ];
  const msg = [h.msgType ?? 1, ...u24(h.helloLength ?? body.length), ...body];
  return Buffer.from([0x16, 0x03, 0x01, ...u16(msg.length), ...msg]);
}

const withSni = (name: string): Hello => ({ extensions: [[0, sniBody([[0, name]])]] });

type Want = string | ClientHelloServerName['kind'];
const rows: { name: string; bytes: Buffer; want: Want }[] = [
  { name: 'a host_name', bytes: record(withSni('api.example.com')), want: 'api.example.com' },
  { name: 'the name is lowercased', bytes: record(withSni('API.Example.COM')), want: 'api.example.com' },
  { name: 'server_name after another extension', bytes: record({ extensions: [[10, [0, 2, 0, 29]], [0, sniBody([[0, 'db.internal']])]] }), want: 'db.internal' },
  { name: 'a session ID is skipped', bytes: record({ ...withSni('a.example'), sessionId: new Array<number>(32).fill(1) }), want: 'a.example' },
  { name: 'unknown name types are ignored', bytes: record({ extensions: [[0, sniBody([[9, 'x'], [0, 'b.example']])]] }), want: 'b.example' },
  { name: 'no server_name extension', bytes: record({ extensions: [[10, [0, 2, 0, 29]]] }), want: 'none' },
  { name: 'no extensions at all (TLS 1.2, RFC 5246 §7.4.1.2)', bytes: record({}), want: 'none' },
  // incomplete: the caller falls back to the address
  { name: 'fewer than 5 bytes', bytes: Buffer.from([0x16, 0x03, 0x01]), want: 'incomplete' },
  { name: 'the record is cut short', bytes: record(withSni('api.example.com')).subarray(0, 40), want: 'incomplete' },
  { name: 'the ClientHello runs past its record', bytes: record({ ...withSni('a.example'), helloLength: 5000 }), want: 'incomplete' },
  // malformed: one row per length or rule check
  { name: 'not a handshake record', bytes: Buffer.from([0x17, 0x03, 0x03, 0x00, 0x01, 0x00]), want: 'malformed' },
  { name: 'first message is not a ClientHello', bytes: record({ ...withSni('a.example'), msgType: 2 }), want: 'malformed' },
  { name: 'legacy_session_id longer than 32', bytes: record({ ...withSni('a.example'), sessionId: new Array<number>(33).fill(1) }), want: 'malformed' },
  { name: 'odd cipher_suites length', bytes: record({ ...withSni('a.example'), suites: [0x13, 0x01, 0x13] }), want: 'malformed' },
  { name: 'empty cipher_suites', bytes: record({ ...withSni('a.example'), suites: [] }), want: 'malformed' },
  { name: 'no compression method', bytes: record({ ...withSni('a.example'), compression: [] }), want: 'malformed' },
  { name: 'extensions length past the end', bytes: record({ ...withSni('a.example'), extLength: 500 }), want: 'malformed' },
  { name: 'bytes after the extensions', bytes: record({ ...withSni('a.example'), trailing: [0] }), want: 'malformed' },
  { name: 'an extension type twice (RFC 8446 §4.2)', bytes: record({ extensions: [[10, [0, 2, 0, 29]], [10, [0, 2, 0, 29]]] }), want: 'malformed' },
  { name: 'two host_names (RFC 6066 §3)', bytes: record({ extensions: [[0, sniBody([[0, 'a.example'], [0, 'b.example']])]] }), want: 'malformed' },
  { name: 'empty server_name list', bytes: record({ extensions: [[0, [0, 0]]] }), want: 'malformed' },
  { name: 'empty host_name', bytes: record({ extensions: [[0, sniBody([[0, '']])]] }), want: 'malformed' },
  { name: 'host_name with a character no DNS name has', bytes: record(withSni('a_b.example')), want: 'malformed' },
  { name: 'host_name with a slash', bytes: record(withSni('evil.example/x')), want: 'malformed' },
  { name: 'host_name that is an IPv4 literal', bytes: record(withSni('10.0.0.5')), want: 'malformed' },
  { name: 'host_name that is an IPv4 address in another spelling', bytes: record(withSni('0x7f000001')), want: 'malformed' },
  { name: 'host_name with a trailing dot', bytes: record(withSni('api.example.com.')), want: 'malformed' },
];

for (const row of rows) {
  test(`clientHelloServerName: ${row.name}`, () => {
    const got = clientHelloServerName(row.bytes);
    if (got.kind === 'sni') assert.equal(got.name, row.want);
    else assert.equal(got.kind, row.want);
  });
}

test("clientHelloServerName: reads the SNI of Node's own TLS client", async () => {
  const server = net.createServer();
  after(() => server.close());
  const first = new Promise<Buffer>((res) => server.once('connection', (s) => s.once('data', (d: Buffer) => (res(d), s.destroy()))));
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const c = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, servername: 'backend.demo.svc', rejectUnauthorized: false });
  c.on('error', () => {});
  const bytes = await first;
  c.destroy();
  assert.ok(firstRecordComplete(bytes));
  assert.deepEqual(clientHelloServerName(bytes), { kind: 'sni', name: 'backend.demo.svc' });
});

const full = record(withSni('a.example'));
const cases: { name: string; bytes: Buffer; want: boolean }[] = [
  { name: 'the whole record', bytes: full, want: true },
  { name: 'one byte short', bytes: full.subarray(0, full.length - 1), want: false },
  { name: 'only the header', bytes: full.subarray(0, 5), want: false },
  { name: 'shorter than the header', bytes: full.subarray(0, 4), want: false },
  { name: 'as many bytes as any record may have', bytes: Buffer.concat([Buffer.from([0x16, 3, 1, 0xff, 0xff]), Buffer.alloc(16_384)]), want: true },
];
for (const c of cases) test(`firstRecordComplete: ${c.name}`, () => assert.equal(firstRecordComplete(c.bytes), c.want));
