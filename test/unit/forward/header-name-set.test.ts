/**
 * Method-override and original-URL headers never reach the app by default
 * (issue 12): the request scan drops every name of the set, in any case,
 * and nothing else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_STRIPPED_REQUEST_HEADERS, HeaderNameSet, scanRequestHead, type RequestHeadSink } from '../../../sidecar/forward/index.ts';

function scan(raw: string[], drop: HeaderNameSet | null): string[] {
  const sink: RequestHeadSink = { headers: [], authority: '', hasHostHeader: false, hasBody: false, upgrade: '', headerBytes: 0 };
  scanRequestHead(raw, sink, drop);
  return sink.headers;
}

const defaults = new HeaderNameSet(DEFAULT_STRIPPED_REQUEST_HEADERS);

// One row per header a framework routes by.
for (const name of ['X-HTTP-Method-Override', 'X-Method-Override', 'X-HTTP-Method', 'X-Original-URL', 'X-Rewrite-URL', 'x-http-method-override', 'X-ORIGINAL-URL']) {
  test(`dropped by default: ${name}`, () => {
    assert.deepEqual(scan(['Host', 'app', name, 'DELETE', 'X-Keep', '1'], defaults), ['Host', 'app', 'X-Keep', '1']);
  });
}

test('names of the same lengths that are not in the set are kept', () => {
  // 13, 14, 17 and 22 characters, like the defaults.
  const raw = ['Authorization', 'b', 'Cache-Control', 'c', 'Accept-Charset', 'd', 'If-Modified-Since', 'e', 'X-Forwarded-Prefix-Abc', 'f'];
  assert.deepEqual(scan(raw, defaults), raw);
});

test('without a set nothing extra is dropped', () => {
  assert.deepEqual(scan(['X-HTTP-Method-Override', 'DELETE'], null), ['X-HTTP-Method-Override', 'DELETE']);
});

test('a configured set replaces the defaults', () => {
  const custom = new HeaderNameSet(['X-Forwarded-Prefix']);
  assert.deepEqual(scan(['x-forwarded-prefix', '/admin', 'X-HTTP-Method', 'PUT'], custom), ['X-HTTP-Method', 'PUT']);
  assert.equal(custom.size, 1);
  assert.equal(new HeaderNameSet(['A', 'a']).size, 1);
});
