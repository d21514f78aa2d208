/**
 * Hop-by-hop rules (RFC 9110 §7.6.1) on raw header arrays: one row per
 * rule, each failing if its rule is removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptsUpgrade, hasToken, scanRequestHead, scanResponseHead, trailersToForward, type RequestHeadSink, type ResponseHeadSink } from '../../../sidecar/forward/index.ts';

function req(raw: string[]): RequestHeadSink {
  const sink: RequestHeadSink = { headers: [], authority: '', hasHostHeader: false, hasBody: false, upgrade: '', headerBytes: 0 };
  scanRequestHead(raw, sink);
  return sink;
}

function res(raw: (string | Buffer)[], upgraded = false): ResponseHeadSink {
  const sink: ResponseHeadSink = { responseHeaders: [], responseChunked: false };
  scanResponseHead(raw, upgraded, sink);
  return sink;
}

const requestRows: { rule: string; raw: string[]; headers: string[] }[] = [
  { rule: 'end-to-end headers pass in order with their case', raw: ['Host', 'a', 'X-One', '1', 'accept', '*/*'], headers: ['Host', 'a', 'X-One', '1', 'accept', '*/*'] },
  { rule: 'Connection is removed', raw: ['Connection', 'keep-alive', 'X', '1'], headers: ['X', '1'] },
  { rule: 'headers named by Connection are removed (any case)', raw: ['Connection', 'X-Hop, close', 'x-hop', 'v', 'X-Keep', 'k'], headers: ['X-Keep', 'k'] },
  { rule: 'Connection named in two header lines', raw: ['Connection', 'a', 'Connection', 'b', 'A', '1', 'B', '2', 'C', '3'], headers: ['C', '3'] },
  { rule: 'Keep-Alive is removed', raw: ['Keep-Alive', 'timeout=5', 'X', '1'], headers: ['X', '1'] },
  { rule: 'Transfer-Encoding is removed', raw: ['Transfer-Encoding', 'chunked', 'X', '1'], headers: ['X', '1'] },
  { rule: 'TE is removed unless it has trailers', raw: ['TE', 'gzip', 'X', '1'], headers: ['X', '1'] },
  { rule: 'TE: trailers is kept as te: trailers', raw: ['TE', 'gzip, trailers', 'X', '1'], headers: ['X', '1', 'te', 'trailers'] },
  { rule: 'Upgrade is removed from the headers (carried separately)', raw: ['Upgrade', 'websocket', 'X', '1'], headers: ['X', '1'] },
  { rule: 'Proxy-* headers are removed', raw: ['Proxy-Authorization', 'Basic x', 'proxy-connection', 'keep-alive', 'Proxyish', 'kept'], headers: ['Proxyish', 'kept'] },
  { rule: 'Expect is removed (answered by this hop)', raw: ['Expect', '100-continue', 'X', '1'], headers: ['X', '1'] },
  { rule: 'HTTP/2 pseudo-headers are removed', raw: [':method', 'GET', ':path', '/', ':authority', 'h', 'x', '1'], headers: ['x', '1'] },
];

for (const row of requestRows) {
  test(`request: ${row.rule}`, () => {
    assert.deepEqual(req(row.raw).headers, row.headers);
  });
}

test('request: authority from Host, or from :authority (preferred)', () => {
  assert.equal(req(['Host', 'a:1']).authority, 'a:1');
  assert.equal(req(['Host', 'a:1']).hasHostHeader, true);
  assert.equal(req([':authority', 'b', 'host', 'a']).authority, 'b');
  assert.equal(req([':authority', 'b']).hasHostHeader, false);
  assert.equal(req([]).authority, '');
});

test('request: body presence from Content-Length > 0 or Transfer-Encoding', () => {
  assert.equal(req(['Content-Length', '0']).hasBody, false);
  assert.equal(req(['Content-Length', '5']).hasBody, true);
  assert.equal(req(['Transfer-Encoding', 'chunked']).hasBody, true);
  assert.equal(req(['X', '1']).hasBody, false);
});

test('request: upgrade only when Connection lists upgrade', () => {
  assert.equal(req(['Connection', 'Upgrade', 'Upgrade', 'websocket']).upgrade, 'websocket');
  assert.equal(req(['Upgrade', 'websocket']).upgrade, '');
  assert.equal(req(['Connection', 'keep-alive', 'Upgrade', 'websocket']).upgrade, '');
});

// Upgrades are an allow-list of one (RFC 6455 §4.1); h2c must never pass (RFC 7540 §3.2).
for (const [upgrade, expected] of [
  ['websocket', 'websocket'],
  ['WebSocket', 'websocket'],
  [' websocket ', 'websocket'],
  ['h2c', ''],
  ['H2C', ''],
  ['websocket, h2c', ''],
  ['h2c, websocket', ''],
  ['TLS/1.2', ''],
  ['websocketx', ''],
  ['', ''],
] as const) {
  test(`request: Upgrade ${JSON.stringify(upgrade)} → upgrade ${JSON.stringify(expected)}`, () => {
    const s = req(['Host', 'b', 'Connection', 'Upgrade, HTTP2-Settings', 'Upgrade', upgrade, 'HTTP2-Settings', 'AAMAAABk']);
    assert.equal(s.upgrade, expected);
    assert.deepEqual(s.headers, ['Host', 'b'], 'Upgrade, Connection and HTTP2-Settings are never forwarded as headers');
  });
}

test('request: HTTP2-Settings is hop-by-hop even when Connection does not name it', () => {
  assert.deepEqual(req(['Host', 'b', 'http2-settings', 'AAMAAABk', 'X-A', '1']).headers, ['Host', 'b', 'X-A', '1']);
});

test('acceptsUpgrade: only a WebSocket upgrade leaves the request path', () => {
  assert.equal(acceptsUpgrade({ headers: { connection: 'Upgrade', upgrade: 'websocket' } }), true);
  assert.equal(acceptsUpgrade({ headers: { connection: 'keep-alive, Upgrade', upgrade: 'WebSocket' } }), true);
  assert.equal(acceptsUpgrade({ headers: { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c' } }), false);
  assert.equal(acceptsUpgrade({ headers: { upgrade: 'websocket' } }), false);
  assert.equal(acceptsUpgrade({ headers: { connection: 'Upgrade', upgrade: 'websocket, h2c' } }), false);
});

test('request: header bytes count name + value + 32 per field (RFC 9113 §6.5.2)', () => {
  assert.equal(req(['ab', 'cde']).headerBytes, 37);
});

test('response: hop-by-hop removed; chunked noticed; Buffers decoded as latin1', () => {
  const r = res([Buffer.from('Content-Type'), Buffer.from('text/plain'), Buffer.from('Transfer-Encoding'), Buffer.from('chunked'), Buffer.from('Connection'), Buffer.from('keep-alive'), Buffer.from('X-Caf'), Buffer.from([0xe9])]);
  assert.deepEqual(r.responseHeaders, ['Content-Type', 'text/plain', 'X-Caf', '\u00e9']);
  assert.equal(r.responseChunked, true);
  assert.equal(res(['Content-Length', '3']).responseChunked, false);
});

test('response: a 101 keeps Upgrade and gets Connection: upgrade', () => {
  assert.deepEqual(res(['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', 'x'], true).responseHeaders, [
    'Upgrade',
    'websocket',
    'Sec-WebSocket-Accept',
    'x',
    'connection',
    'upgrade',
  ]);
  assert.deepEqual(res(['Upgrade', 'h2c', 'X', '1']).responseHeaders, ['X', '1']);
});

test('trailers: pseudo and hop-by-hop fields dropped, null when nothing is left', () => {
  assert.deepEqual(trailersToForward(['grpc-status', '0', 'grpc-message', 'ok']), ['grpc-status', '0', 'grpc-message', 'ok']);
  assert.equal(trailersToForward([]), null);
  assert.equal(trailersToForward(null), null);
  assert.equal(trailersToForward(['Connection', 'close']), null);
});

test('hasToken: comma lists, case and spaces', () => {
  assert.equal(hasToken('keep-alive, Upgrade', 'upgrade'), true);
  assert.equal(hasToken('upgrade2', 'upgrade'), false);
  assert.equal(hasToken(' trailers ', 'trailers'), true);
  assert.equal(hasToken('', 'x'), false);
});
