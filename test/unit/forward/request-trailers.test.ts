import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderNameSet } from '../../../sidecar/forward/header-name-set.ts';
import { fieldObject, requestTrailersToForward } from '../../../sidecar/forward/request-trailers.ts';

const dropped = new HeaderNameSet(['x-http-method-override']);

// One row per rule: a trailer section that is acceptable except for one field.
const rows: { field: string; forwarded: boolean; rule: string }[] = [
  { field: 'x-checksum', forwarded: true, rule: 'an ordinary field is forwarded' },
  { field: 'X-Checksum', forwarded: true, rule: 'names keep their case' },
  { field: ':path', forwarded: false, rule: 'pseudo-header fields never (RFC 9113 §8.1)' },
  { field: 'connection', forwarded: false, rule: 'hop-by-hop fields never (RFC 9110 §7.6.1)' },
  { field: 'content-length', forwarded: false, rule: 'framing (RFC 9110 §6.5.1)' },
  { field: 'host', forwarded: false, rule: 'routing (RFC 9110 §6.5.1)' },
  { field: 'trailer', forwarded: false, rule: 'the Trailer field itself' },
  { field: 'authorization', forwarded: false, rule: 'authentication (RFC 9110 §6.5.1)' },
  { field: 'Proxy-Authorization', forwarded: false, rule: 'authentication, any case' },
  { field: 'cookie', forwarded: false, rule: 'credentials' },
  { field: 'expect', forwarded: false, rule: 'request modifiers (RFC 9110 §6.5.1)' },
  { field: 'if-none-match', forwarded: false, rule: 'conditionals (RFC 9110 §6.5.1)' },
  { field: 'range', forwarded: false, rule: 'range requests (RFC 9110 §6.5.1)' },
  { field: 'cache-control', forwarded: false, rule: 'cache controls (RFC 9110 §6.5.1)' },
  { field: 'content-type', forwarded: false, rule: 'content metadata (RFC 9110 §6.5.1)' },
  { field: 'content-encoding', forwarded: false, rule: 'content metadata (RFC 9110 §6.5.1)' },
  { field: 'forwarded', forwarded: false, rule: 'proxy-set fields' },
  { field: 'via', forwarded: false, rule: 'proxy-set fields' },
  { field: 'x-forwarded-for', forwarded: false, rule: 'the x-forwarded- family' },
  { field: 'x-forwarded-client-cert', forwarded: false, rule: 'the XFCC identity header' },
  { field: 'x-client-spiffe-id', forwarded: false, rule: 'the SPIFFE ID identity header' },
  { field: 'X-Auth-Subject', forwarded: false, rule: 'the x-auth- end-user identity family, any case' },
  { field: 'x-http-method-override', forwarded: false, rule: "the listener's stripped request headers" },
];

for (const row of rows) {
  test(`requestTrailersToForward: ${row.rule} (${row.field})`, () => {
    const out = requestTrailersToForward(['x-keep', '1', row.field, 'v'], dropped);
    assert.deepEqual(out, row.forwarded ? ['x-keep', '1', row.field, 'v'] : ['x-keep', '1']);
  });
}

test('requestTrailersToForward: null when nothing is left or nothing came', () => {
  assert.equal(requestTrailersToForward(['authorization', 'Bearer t'], null), null);
  assert.equal(requestTrailersToForward([], null), null);
  assert.equal(requestTrailersToForward(null, null), null);
});

test('requestTrailersToForward: without a stripped set, only the fixed rules apply', () => {
  assert.deepEqual(requestTrailersToForward(['x-http-method-override', 'DELETE'], null), ['x-http-method-override', 'DELETE']);
});

test('fieldObject: lowercase names, repeated names as arrays, empty for null', () => {
  assert.deepEqual({ ...fieldObject(['X-A', '1', 'x-a', '2', 'x-b', '3', 'x-a', '4']) }, { 'x-a': ['1', '2', '4'], 'x-b': '3' });
  assert.deepEqual({ ...fieldObject(null) }, {});
});
