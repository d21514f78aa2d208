/**
 * The HTTP/1.1 parser's framing rules (RFC 9112, RFC 9110): one row per
 * rule, each input valid except for the one defect it is about, asserting
 * on the error code (and the status a server answers with it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Http1Error, MessageParser, type MessageSink } from '../../../sidecar/http1/index.ts';

interface Parsed {
  heads: { method: string; target: string; status: number; raw: string[]; framing: string; keepAlive: boolean; expect: boolean; minor: number }[];
  body: string;
  trailers: (string[] | null)[];
  ends: number;
  rest: string;
}

class Collector implements MessageSink {
  parser!: MessageParser;
  out: Parsed = { heads: [], body: '', trailers: [], ends: 0, rest: '' };
  onHead(): void {
    const p = this.parser;
    this.out.heads.push({ method: p.method, target: p.target, status: p.status, raw: p.raw, framing: p.framing, keepAlive: p.keepAlive, expect: p.expectContinue, minor: p.versionMinor });
  }
  onBody(chunk: Buffer): void {
    this.out.body += chunk.toString('latin1');
  }
  onMessageEnd(trailers: string[] | null): void {
    this.out.trailers.push(trailers);
    this.out.ends++;
  }
}

/** Parses `text` fed in pieces of `step` bytes (0: at once), every message to the end. */
function parse(kind: 'request' | 'response', text: string, step = 0, limits = { maxHeaderBytes: 1024, maxHeaderCount: 16 }, eof = false): Parsed {
  const c = new Collector();
  const p = new MessageParser(kind, c, limits);
  c.parser = p;
  const all = Buffer.from(text, 'latin1');
  const pieces: Buffer[] = [];
  if (step === 0) pieces.push(all);
  else for (let i = 0; i < all.length; i += step) pieces.push(all.subarray(i, i + step));
  for (let piece of pieces) {
    while (piece.length > 0) {
      const n = p.execute(piece);
      piece = piece.subarray(n);
      if (p.upgraded) {
        c.out.rest += piece.toString('latin1');
        piece = Buffer.alloc(0);
      }
    }
  }
  if (eof) p.finish();
  return c.out;
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof Http1Error, `not an Http1Error: ${err}`);
    return err.code;
  }
  return 'none';
}

const H = 'Host: a\r\n';

const refusedRequests: { rule: string; text: string; code: string; status: number }[] = [
  { rule: 'bare LF ends a field line', text: `GET / HTTP/1.1\r\nHost: a\n\r\n`, code: 'http1.bare_lf', status: 400 },
  { rule: 'bare LF ends the request line', text: `GET / HTTP/1.1\n${H}\r\n`, code: 'http1.bare_lf', status: 400 },
  { rule: 'bare CR inside a field value', text: `GET / HTTP/1.1\r\n${H}X: a\rb\r\n\r\n`, code: 'http1.bare_cr', status: 400 },
  { rule: 'obs-fold', text: `GET / HTTP/1.1\r\n${H}X: a\r\n b\r\n\r\n`, code: 'http1.obs_fold', status: 400 },
  { rule: 'whitespace before the colon', text: `GET / HTTP/1.1\r\n${H}X : a\r\n\r\n`, code: 'http1.space_before_colon', status: 400 },
  { rule: 'field name not a token', text: `GET / HTTP/1.1\r\n${H}X(y): a\r\n\r\n`, code: 'http1.bad_header_name', status: 400 },
  { rule: 'empty field name', text: `GET / HTTP/1.1\r\n${H}: a\r\n\r\n`, code: 'http1.bad_header_name', status: 400 },
  { rule: 'field line without a colon', text: `GET / HTTP/1.1\r\n${H}Xa\r\n\r\n`, code: 'http1.bad_header_name', status: 400 },
  { rule: 'control byte in a field value', text: `GET / HTTP/1.1\r\n${H}X: a\x01b\r\n\r\n`, code: 'http1.bad_header_value', status: 400 },
  { rule: 'NUL in a field value', text: `GET / HTTP/1.1\r\n${H}X: a\x00b\r\n\r\n`, code: 'http1.bad_header_value', status: 400 },
  { rule: 'head larger than maxHeaderBytes', text: `GET / HTTP/1.1\r\n${H}X: ${'a'.repeat(1100)}\r\n\r\n`, code: 'http1.header_too_large', status: 431 },
  { rule: 'head never ends within maxHeaderBytes', text: `GET / HTTP/1.1\r\n${H}X: ${'a'.repeat(1100)}`, code: 'http1.header_too_large', status: 431 },
  { rule: 'more field lines than maxHeaderCount', text: `GET / HTTP/1.1\r\n${H}${'X: 1\r\n'.repeat(16)}\r\n`, code: 'http1.too_many_headers', status: 431 },
  { rule: 'method not a token', text: `G(T / HTTP/1.1\r\n${H}\r\n`, code: 'http1.bad_method', status: 400 },
  { rule: 'a start line that cannot be a method, before any line end (TLS ClientHello)', text: '\x16\x03\x01\x02\x00\x01', code: 'http1.bad_method', status: 400 },
  { rule: 'two spaces after the method', text: `GET  / HTTP/1.1\r\n${H}\r\n`, code: 'http1.bad_target', status: 400 },
  { rule: 'non-ASCII byte in the target', text: `GET /\xe9 HTTP/1.1\r\n${H}\r\n`, code: 'http1.bad_target', status: 400 },
  { rule: 'control byte in the target', text: `GET /\x7f HTTP/1.1\r\n${H}\r\n`, code: 'http1.bad_target', status: 400 },
  { rule: 'request line without a version', text: `GET /\r\n${H}\r\n`, code: 'http1.bad_request_line', status: 400 },
  { rule: 'version not HTTP/DIGIT.DIGIT', text: `GET / HTTP/1.10\r\n${H}\r\n`, code: 'http1.bad_version', status: 400 },
  { rule: 'lowercase version', text: `GET / http/1.1\r\n${H}\r\n`, code: 'http1.bad_version', status: 400 },
  { rule: 'major version other than 1', text: `GET / HTTP/2.0\r\n${H}\r\n`, code: 'http1.unsupported_version', status: 505 },
  { rule: 'HTTP/1.1 without Host', text: `GET / HTTP/1.1\r\nX: 1\r\n\r\n`, code: 'http1.bad_host', status: 400 },
  { rule: 'two Host fields', text: `GET / HTTP/1.1\r\n${H}${H}\r\n`, code: 'http1.bad_host', status: 400 },
  { rule: 'Content-Length not a number', text: `POST / HTTP/1.1\r\n${H}Content-Length: 1a\r\n\r\n`, code: 'http1.bad_content_length', status: 400 },
  { rule: 'Content-Length with a sign', text: `POST / HTTP/1.1\r\n${H}Content-Length: +1\r\n\r\n`, code: 'http1.bad_content_length', status: 400 },
  { rule: 'empty Content-Length', text: `POST / HTTP/1.1\r\n${H}Content-Length:\r\n\r\n`, code: 'http1.bad_content_length', status: 400 },
  { rule: 'Content-Length above 2^53-1', text: `POST / HTTP/1.1\r\n${H}Content-Length: 9007199254740992\r\n\r\n`, code: 'http1.bad_content_length', status: 400 },
  { rule: 'two Content-Length fields, equal values', text: `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\nContent-Length: 1\r\n\r\nx`, code: 'http1.duplicate_content_length', status: 400 },
  { rule: 'Content-Length as a list', text: `POST / HTTP/1.1\r\n${H}Content-Length: 1, 1\r\n\r\nx`, code: 'http1.duplicate_content_length', status: 400 },
  { rule: 'Content-Length and Transfer-Encoding', text: `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n`, code: 'http1.content_length_with_transfer_encoding', status: 400 },
  { rule: 'chunked not the final coding', text: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n`, code: 'http1.chunked_not_final', status: 400 },
  { rule: 'chunked not final across two fields', text: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n`, code: 'http1.chunked_not_final', status: 400 },
  { rule: 'chunked twice', text: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n`, code: 'http1.chunked_not_final', status: 400 },
  { rule: 'a coding besides chunked', text: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n`, code: 'http1.unsupported_transfer_encoding', status: 501 },
  { rule: 'Transfer-Encoding in HTTP/1.0', text: `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n`, code: 'http1.transfer_encoding_http10', status: 400 },
  { rule: 'Expect other than 100-continue', text: `POST / HTTP/1.1\r\n${H}Expect: 200-ok\r\n\r\n`, code: 'http1.unsupported_expectation', status: 417 },
  { rule: 'chunk size not hex', text: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nz\r\n`, code: 'http1.bad_chunk_size', status: 400 },
  { rule: 'chunk size with 14 hex digits', text: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${'1'.repeat(14)}\r\n`, code: 'http1.bad_chunk_size', status: 400 },
  { rule: 'chunk size followed by junk', text: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1x\r\na\r\n0\r\n\r\n`, code: 'http1.bad_chunk_extension', status: 400 },
  { rule: 'chunk extension without a name', text: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1;=a\r\na\r\n0\r\n\r\n`, code: 'http1.bad_chunk_extension', status: 400 },
  { rule: 'unterminated quoted chunk extension', text: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1;a="b\r\na\r\n0\r\n\r\n`, code: 'http1.bad_chunk_extension', status: 400 },
  { rule: 'chunk-size line too long', text: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1;a=${'b'.repeat(5000)}`, code: 'http1.bad_chunk_extension', status: 400 },
  { rule: 'chunk size line ends with bare LF', text: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1\na\r\n0\r\n\r\n`, code: 'http1.bare_lf', status: 400 },
  { rule: 'chunk data not followed by CRLF', text: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n`, code: 'http1.bad_chunk_terminator', status: 400 },
  { rule: 'chunk data followed by bare LF', text: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1\r\na\n0\r\n\r\n`, code: 'http1.bad_chunk_terminator', status: 400 },
  { rule: 'trailer section larger than maxHeaderBytes', text: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nX: ${'a'.repeat(1100)}\r\n\r\n`, code: 'http1.header_too_large', status: 431 },
  { rule: 'obs-fold in the trailers', text: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nX: a\r\n b\r\n\r\n`, code: 'http1.obs_fold', status: 400 },
];

for (const row of refusedRequests) {
  test(`request refused: ${row.rule}`, () => {
    let err: unknown;
    try {
      parse('request', row.text);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof Http1Error, `accepted: ${JSON.stringify(row.text.slice(0, 80))}`);
    assert.equal(err.code, row.code);
    assert.equal(err.status, row.status);
  });
}

const refusedResponses: { rule: string; text: string; code: string }[] = [
  { rule: 'status code of two digits', text: 'HTTP/1.1 20 OK\r\n\r\n', code: 'http1.bad_status_line' },
  { rule: 'no space after the version', text: 'HTTP/1.1-200 OK\r\n\r\n', code: 'http1.bad_status_line' },
  { rule: 'status code followed by junk', text: 'HTTP/1.1 200x OK\r\n\r\n', code: 'http1.bad_status_line' },
  { rule: 'control byte in the reason', text: 'HTTP/1.1 200 O\x01K\r\n\r\n', code: 'http1.bad_status_line' },
  { rule: 'bad version', text: 'HTTP/1.x 200 OK\r\n\r\n', code: 'http1.bad_version' },
  { rule: 'Content-Length and Transfer-Encoding', text: 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', code: 'http1.content_length_with_transfer_encoding' },
  { rule: 'two Content-Length fields', text: 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', code: 'http1.duplicate_content_length' },
  { rule: 'a transfer coding besides chunked', text: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', code: 'http1.unsupported_transfer_encoding' },
  { rule: 'chunked body cut by EOF', text: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab', code: 'http1.truncated' },
  { rule: 'Content-Length body cut by EOF', text: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab', code: 'http1.truncated' },
  { rule: 'head cut by EOF', text: 'HTTP/1.1 200 OK\r\nX: 1\r\n', code: 'http1.truncated' },
];

for (const row of refusedResponses) {
  test(`response refused: ${row.rule}`, () => {
    assert.equal(
      code(() => parse('response', row.text, 0, undefined, true)),
      row.code,
    );
  });
}

test('accepted: request with Content-Length body, then a pipelined request, parsed the same in any split', () => {
  const text = `POST /a?q=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX-Y:  v  \r\n\r\nhelloGET /b HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n`;
  for (const step of [0, 1, 3, 7]) {
    const r = parse('request', text, step);
    assert.equal(r.heads.length, 2, `step ${step}`);
    assert.deepEqual(r.heads[0], { method: 'POST', target: '/a?q=1', status: 0, raw: ['Host', 'a', 'Content-Length', '5', 'X-Y', 'v'], framing: 'length', keepAlive: true, expect: false, minor: 1 });
    assert.equal(r.body, 'hello');
    assert.equal(r.heads[1]!.framing, 'none');
    assert.equal(r.heads[1]!.keepAlive, false, 'Connection: close');
    assert.equal(r.ends, 2);
  }
});

test('accepted: chunked request with extensions and trailers, in any split', () => {
  const text = `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n3;a=b;c="d\\"e"\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n`;
  for (const step of [0, 1, 2, 5]) {
    const r = parse('request', text, step);
    assert.equal(r.heads[0]!.framing, 'chunked');
    assert.equal(r.body, 'abc0123456789', `step ${step}`);
    assert.deepEqual(r.trailers, [['X-T', '1']]);
  }
});

test('accepted: leading empty lines before a request line are ignored (RFC 9112 §2.2)', () => {
  const r = parse('request', `\r\n\r\nGET / HTTP/1.1\r\n${H}\r\n`, 1);
  assert.equal(r.heads.length, 1);
});

test('accepted: HTTP/1.0 request without Host, persistent only with keep-alive', () => {
  assert.equal(parse('request', 'GET / HTTP/1.0\r\n\r\n').heads[0]!.keepAlive, false);
  assert.equal(parse('request', 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n').heads[0]!.keepAlive, true);
  assert.equal(parse('request', 'GET / HTTP/1.0\r\n\r\n').heads[0]!.minor, 0);
});

test('accepted: Expect: 100-continue is reported, not refused', () => {
  assert.equal(parse('request', `POST / HTTP/1.1\r\n${H}Expect: 100-Continue\r\nContent-Length: 1\r\n\r\nx`).heads[0]!.expect, true);
});

test('response: 1xx skipped, 204 and HEAD without a body, close-delimited body ends at EOF', () => {
  const r = parse('response', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n');
  assert.equal(r.heads.length, 1);
  assert.equal(r.heads[0]!.status, 204);
  assert.equal(r.heads[0]!.framing, 'none');
  const c = parse('response', 'HTTP/1.1 200 OK\r\n\r\nabc', 0, undefined, true);
  assert.equal(c.body, 'abc');
  assert.equal(c.heads[0]!.keepAlive, false);
  assert.equal(c.ends, 1);
});

test('response: a 101 stops the parser; the bytes after it are the new protocol', () => {
  const r = parse('response', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nframe');
  assert.equal(r.heads[0]!.status, 101);
  assert.equal(r.rest, 'frame');
});

test('response: a reason phrase is optional', () => {
  assert.equal(parse('response', 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n').heads[0]!.status, 200);
});
