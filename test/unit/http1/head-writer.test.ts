/**
 * Head serialization: one string per head, and no field the proxy sends
 * can split into two lines (response splitting): one row per refusal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Http1Error, lastChunk, serializeRequestHead, serializeResponseHead, writeChunk } from '../../../sidecar/http1/index.ts';

test('request and response heads serialize in order with the extra framing lines', () => {
  assert.equal(serializeRequestHead('GET', '/a', ['Host', 'x', 'X-A', '1'], 'content-length: 0\r\n'), 'GET /a HTTP/1.1\r\nHost: x\r\nX-A: 1\r\ncontent-length: 0\r\n\r\n');
  assert.equal(serializeResponseHead(404, ['a', 'b'], ''), 'HTTP/1.1 404 Not Found\r\na: b\r\n\r\n');
});

const refused: { rule: string; headers: string[] }[] = [
  { rule: 'CRLF in a value', headers: ['x', 'a\r\nSet-Cookie: y'] },
  { rule: 'bare LF in a value', headers: ['x', 'a\nb'] },
  { rule: 'NUL in a value', headers: ['x', 'a\0b'] },
  { rule: 'a character above 0xff in a value', headers: ['x', 'a\u0100'] },
  { rule: 'a space in a name', headers: ['x y', 'a'] },
  { rule: 'a colon in a name', headers: ['x:', 'a'] },
  { rule: 'an empty name', headers: ['', 'a'] },
];

for (const row of refused) {
  test(`outgoing field refused: ${row.rule}`, () => {
    assert.throws(() => serializeResponseHead(200, row.headers, ''), (err: unknown) => err instanceof Http1Error && err.code === 'http1.invalid_outgoing_field');
  });
}

test('chunked writer: size line, data, CRLF; empty chunks skipped; last chunk with trailers', () => {
  const out = new PassThrough();
  const got: Buffer[] = [];
  out.on('data', (b: Buffer) => got.push(b));
  writeChunk(out, Buffer.from('hello'));
  writeChunk(out, Buffer.alloc(0));
  writeChunk(out, Buffer.alloc(17, 0x61));
  out.end(lastChunk(['grpc-status', '0']), 'latin1');
  assert.equal(Buffer.concat(got).toString('latin1'), `5\r\nhello\r\n11\r\n${'a'.repeat(17)}\r\n0\r\ngrpc-status: 0\r\n\r\n`);
  assert.equal(lastChunk(null), '0\r\n\r\n');
});
