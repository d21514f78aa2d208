/**
 * The forwarded request head written from the parsed head's bytes: a field
 * kept unchanged leaves byte for byte as it came, a dropped one is gone,
 * an added or changed one is serialised and validated, and input the
 * writer could not copy safely never gets past the parser.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MAX_HEADER_COUNT, Http1Error, MessageParser, requestHeadFromFields, serializeRequestHead } from '../../../sidecar/http1/index.ts';
import { scanRequestHead, type RequestHeadSink } from '../../../sidecar/forward/hop-by-hop.ts';

interface Parsed {
  method: string;
  target: string;
  source: Buffer;
  lines: number[];
  raw: string[];
}

/** Parses one request head with the real parser, keeping what onHead saw. */
function parse(head: string): Parsed {
  let got: Parsed | null = null;
  const p: MessageParser = new MessageParser(
    'request',
    {
      onHead: () => {
        got = { method: p.method, target: p.target, source: p.headSource, lines: p.fieldLines, raw: p.raw };
      },
      onBody: () => {},
      onMessageEnd: () => {},
    },
    { maxHeaderBytes: 16384, maxHeaderCount: DEFAULT_MAX_HEADER_COUNT },
  );
  p.execute(Buffer.from(head, 'latin1'));
  assert.ok(got !== null, 'the parser delivered a head');
  return got;
}

function write(h: Parsed, headers: readonly string[], extra = '', target = h.target): string {
  return requestHeadFromFields(h.method, target, headers, h.source, h.lines, h.raw, extra).toString('latin1');
}

const HEAD = 'GET /a?b=1 HTTP/1.1\r\nHost: app\r\nX-Mixed-CASE:\t a  b\tc \r\nAccept:*/*\r\nX-Obs: caf\xe9\r\n\r\n';

test('fields forwarded unchanged keep their exact bytes: name case, whitespace around and inside the value, obs-text', () => {
  const h = parse(HEAD);
  assert.equal(write(h, h.raw), HEAD);
  // The string serialiser would have written the same fields, only with one space after each colon.
  assert.equal(serializeRequestHead(h.method, h.target, h.raw, ''), 'GET /a?b=1 HTTP/1.1\r\nHost: app\r\nX-Mixed-CASE: a  b\tc\r\nAccept: */*\r\nX-Obs: caf\xe9\r\n\r\n');
});

test('a dropped field is gone; the request line and framing lines are the ones given', () => {
  const h = parse('POST /up HTTP/1.1\r\nHost: app\r\nConnection: keep-alive, x-hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nX-Keep: 2\r\nContent-Length: 3\r\n\r\nabc');
  const sink: RequestHeadSink = { headers: [], authority: '', hasHostHeader: false, hasBody: false, upgrade: '', headerBytes: 0 };
  scanRequestHead(h.raw, sink);
  assert.deepEqual(sink.headers, ['Host', 'app', 'X-Keep', '2', 'Content-Length', '3']);
  assert.equal(write(h, sink.headers, 'connection: keep-alive\r\n', '/rewritten'), 'POST /rewritten HTTP/1.1\r\nHost: app\r\nX-Keep: 2\r\nContent-Length: 3\r\nconnection: keep-alive\r\n\r\n');
});

test('an identity header the caller sent is stripped and the one set by the proxy serialised (strip-then-set)', () => {
  const h = parse('GET / HTTP/1.1\r\nHost: app\r\nx-spiffe-id:  spiffe://evil/x \r\nAccept: a\r\n\r\n');
  const forwarded = ['Host', 'app', 'Accept', 'a', 'x-spiffe-id', 'spiffe://td/caller'];
  assert.equal(write(h, forwarded), 'GET / HTTP/1.1\r\nHost: app\r\nAccept: a\r\nx-spiffe-id: spiffe://td/caller\r\n\r\n');
});

test('a changed value and a reordered head are serialised where they no longer match the parsed lines', () => {
  const h = parse('GET / HTTP/1.1\r\nHost: app\r\nTraceparent: 00-aa-bb-01\r\nB: 2\r\nC: 3\r\n\r\n');
  assert.equal(write(h, ['Host', 'app', 'traceparent', '00-cc-dd-01', 'B', '2', 'C', '3']), 'GET / HTTP/1.1\r\nHost: app\r\ntraceparent: 00-cc-dd-01\r\nB: 2\r\nC: 3\r\n\r\n');
  assert.equal(write(h, ['C', '3', 'B', '2', 'Host', 'app']), 'GET / HTTP/1.1\r\nC: 3\r\nB: 2\r\nHost: app\r\n\r\n');
  assert.equal(write(h, []), 'GET / HTTP/1.1\r\n\r\n');
});

const refusedAdded: { rule: string; headers: string[] }[] = [
  { rule: 'CRLF in an added value', headers: ['x-user', 'a\r\nSet-Cookie: y'] },
  { rule: 'bare LF in an added value', headers: ['x-user', 'a\nb'] },
  { rule: 'a character above 0xff in an added value', headers: ['x-user', 'a\u0100'] },
  { rule: 'a space in an added name', headers: ['x user', 'a'] },
  { rule: 'an empty added name', headers: ['', 'a'] },
];

for (const row of refusedAdded) {
  test(`added field validated: ${row.rule}`, () => {
    const h = parse('GET / HTTP/1.1\r\nHost: app\r\n\r\n');
    assert.throws(
      () => write(h, ['Host', 'app', ...row.headers]),
      (err: unknown) => err instanceof Http1Error && err.code === 'http1.invalid_outgoing_field',
    );
  });
}

const refusedByParser: { rule: string; head: string; code: string }[] = [
  { rule: 'obs-fold', head: 'GET / HTTP/1.1\r\nHost: app\r\nX-A: 1\r\n 2\r\n\r\n', code: 'http1.obs_fold' },
  { rule: 'a bare LF ending a field line', head: 'GET / HTTP/1.1\r\nHost: app\r\nX-A: 1\n\r\n', code: 'http1.bare_lf' },
  { rule: 'a bare CR inside a value', head: 'GET / HTTP/1.1\r\nHost: app\r\nX-A: 1\r2\r\n\r\n', code: 'http1.bare_cr' },
  { rule: 'whitespace before the colon', head: 'GET / HTTP/1.1\r\nHost: app\r\nX-A : 1\r\n\r\n', code: 'http1.space_before_colon' },
];

for (const row of refusedByParser) {
  test(`never reaches the writer, the parser refuses it: ${row.rule}`, () => {
    assert.throws(
      () => parse(row.head),
      (err: unknown) => err instanceof Http1Error && err.code === row.code,
    );
  });
}

test('the head source is released once onHead returns; the line starts stay with the head', () => {
  const p = new MessageParser('request', { onHead: () => {}, onBody: () => {}, onMessageEnd: () => {} }, { maxHeaderBytes: 16384, maxHeaderCount: DEFAULT_MAX_HEADER_COUNT });
  p.execute(Buffer.from('GET / HTTP/1.1\r\nHost: app\r\nX-A: 1\r\n\r\n', 'latin1'));
  assert.equal(p.headSource.length, 0);
  assert.deepEqual(p.fieldLines, [16, 27, 35]);
});

test('pipelined heads in one chunk and a head split over two chunks copy their own bytes', () => {
  const heads: Buffer[] = [];
  const p: MessageParser = new MessageParser(
    'request',
    { onHead: () => heads.push(requestHeadFromFields(p.method, p.target, p.raw, p.headSource, p.fieldLines, p.raw, '')), onBody: () => {}, onMessageEnd: () => {} },
    { maxHeaderBytes: 16384, maxHeaderCount: DEFAULT_MAX_HEADER_COUNT },
  );
  const one = 'GET /1 HTTP/1.1\r\nHost: a\r\nX-One:  1\r\n\r\n';
  const two = 'GET /2 HTTP/1.1\r\nHost: b\r\nX-Two:\t2\r\n\r\n';
  const three = 'GET /3 HTTP/1.1\r\nHost: c\r\nX-Three: 3 \r\n\r\n';
  let chunk = Buffer.from(one + two + three.slice(0, 20), 'latin1');
  while (chunk.length > 0) chunk = chunk.subarray(p.execute(chunk));
  p.execute(Buffer.from(three.slice(20), 'latin1'));
  assert.deepEqual(
    heads.map((b) => b.toString('latin1')),
    [one, two, three],
  );
});
