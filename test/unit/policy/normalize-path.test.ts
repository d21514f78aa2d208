import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizePath } from '../../../sidecar/policy/index.ts';

type Accept = { name: string; input: string; path: string; forward?: string };
type Refuse = { name: string; input: string; reason: RegExp };

// One row per normalisation rule, and the bypass strings Envoy/Istio had CVEs for.
const accepted: Accept[] = [
  { name: 'root', input: '/', path: '/' },
  { name: 'plain path unchanged', input: '/api/v1/items', path: '/api/v1/items' },
  { name: 'query stripped from path, kept in forward target', input: '/a?x=1&y=%2F', path: '/a', forward: '/a?x=1&y=%2F' },
  { name: 'query keeps characters a path may not have', input: '/a?b=[1]|{x}', path: '/a', forward: '/a?b=[1]|{x}' },
  { name: 'empty query kept as sent', input: '/a?', path: '/a', forward: '/a?' },
  { name: 'fragment dropped', input: '/a#frag', path: '/a', forward: '/a' },
  { name: 'fragment dropped after query', input: '/a?q=1#f', path: '/a', forward: '/a?q=1' },
  { name: 'query kept after a rewritten path', input: '/a/../b?q', path: '/b', forward: '/b?q' },
  { name: 'dot-dot segment resolved (/api/../admin)', input: '/api/../admin', path: '/admin' },
  { name: 'encoded dot-dot resolved (/api/%2e%2e/admin)', input: '/api/%2e%2e/admin', path: '/admin' },
  { name: 'half-encoded, uppercase dot-dot resolved', input: '/api/.%2E/admin', path: '/admin' },
  { name: 'dot segment removed (/./admin)', input: '/./admin', path: '/admin' },
  { name: 'encoded dot segment removed', input: '/%2e/admin', path: '/admin' },
  { name: 'final dot leaves a trailing slash', input: '/a/.', path: '/a/' },
  { name: 'final dot-dot leaves a trailing slash', input: '/a/b/..', path: '/a/' },
  { name: 'dot-dot above the root stays at the root', input: '/../../admin', path: '/admin' },
  { name: 'only dot-dot gives the root', input: '/..', path: '/' },
  { name: 'leading double slash merged (//admin)', input: '//admin', path: '/admin' },
  { name: 'inner slashes merged', input: '/a//b///c', path: '/a/b/c' },
  { name: 'trailing double slash merged', input: '/a//', path: '/a/' },
  { name: 'trailing slash kept', input: '/a/', path: '/a/' },
  { name: 'dot-dot after an empty segment climbs past it', input: '/a//../b', path: '/b' },
  { name: 'segments merely starting with dots kept', input: '/.well-known/..a/...', path: '/.well-known/..a/...' },
  { name: 'case preserved (/ADMIN)', input: '/ADMIN', path: '/ADMIN' },
  { name: '%41 decodes to A', input: '/%41dmin', path: '/Admin' },
  { name: '%7e decodes to ~', input: '/%7euser', path: '/~user' },
  { name: 'digit, dash, underscore decoded', input: '/%30%2D%5f', path: '/0-_' },
  { name: 'reserved encoding kept, hex uppercased', input: '/a%3cb', path: '/a%3Cb' },
  { name: 'encoded semicolon kept as data', input: '/a%3bb', path: '/a%3Bb' },
  { name: 'encoded percent kept (no double decoding)', input: '/%252e%252e/admin', path: '/%252e%252e/admin' },
  { name: 'encoded non-ASCII kept, hex uppercased', input: '/caf%c3%a9', path: '/caf%C3%A9' },
  { name: 'sub-delims, colon and at-sign allowed literally', input: "/a!$&'()*+,=:@b", path: "/a!$&'()*+,=:@b" },
];

const refused: Refuse[] = [
  { name: 'empty', input: '', reason: /^empty request target$/ },
  { name: 'asterisk-form', input: '*', reason: /origin-form/ },
  { name: 'absolute-form', input: 'http://h/a', reason: /origin-form/ },
  { name: 'relative path', input: 'a/b', reason: /origin-form/ },
  { name: 'encoded slash (/api%2F..%2Fadmin)', input: '/api%2F..%2Fadmin', reason: /%2F, %5C/ },
  { name: 'encoded slash, lowercase hex', input: '/a%2fb', reason: /%2F, %5C/ },
  { name: 'encoded backslash', input: '/a%5cb', reason: /%2F, %5C/ },
  { name: 'backslash', input: '/a\\b', reason: /^backslash/ },
  { name: 'backslash dot-dot', input: '/api\\..\\admin', reason: /^backslash/ },
  { name: 'semicolon (/admin;foo)', input: '/admin;foo', reason: /^semicolon/ },
  { name: 'Tomcat /..;/ traversal', input: '/public/..;/admin', reason: /^semicolon/ },
  { name: 'encoded NUL (/a%00b)', input: '/a%00b', reason: /NUL or control/ },
  { name: 'encoded CR LF', input: '/a%0d%0ab', reason: /NUL or control/ },
  { name: 'encoded DEL', input: '/a%7fb', reason: /NUL or control/ },
  { name: 'raw NUL', input: '/a\u0000b', reason: /control, space or non-ASCII/ },
  { name: 'space', input: '/a b', reason: /control, space or non-ASCII/ },
  { name: 'tab', input: '/a\tb', reason: /control, space or non-ASCII/ },
  { name: 'DEL', input: '/a\u007fb', reason: /control, space or non-ASCII/ },
  { name: 'non-ASCII', input: '/caf\u00e9', reason: /control, space or non-ASCII/ },
  { name: 'control in query', input: '/a?q=\r\n', reason: /control, space or non-ASCII/ },
  { name: 'control in fragment', input: '/a#\u0001', reason: /control, space or non-ASCII/ },
  { name: 'percent at end', input: '/a%', reason: /malformed percent-encoding/ },
  { name: 'one hex digit', input: '/a%2', reason: /malformed percent-encoding/ },
  { name: 'non-hex digits', input: '/a%zz', reason: /malformed percent-encoding/ },
  { name: 'percent cut by query', input: '/a%2?x', reason: /malformed percent-encoding/ },
  { name: 'unencoded double quote', input: '/a"b', reason: /not allowed in a path/ },
  { name: 'unencoded brace', input: '/a{b}', reason: /not allowed in a path/ },
];

for (const row of accepted) {
  test(`normalizePath accepts and normalises: ${row.name}`, () => {
    const got = normalizePath(row.input);
    assert.deepEqual(got, { ok: true, path: row.path, forwardTarget: row.forward ?? row.path });
  });
}

for (const row of refused) {
  test(`normalizePath refuses: ${row.name}`, () => {
    const got = normalizePath(row.input);
    assert.equal(got.ok, false, `expected refusal, got ${JSON.stringify(got)}`);
    if (!got.ok) assert.match(got.reason, row.reason);
  });
}

test('normalizePath output: is a fixed point for every accepted row', () => {
  for (const row of accepted) {
    const again = normalizePath(row.path);
    assert.ok(again.ok && again.path === row.path, `${row.name}: ${JSON.stringify(again)}`);
  }
});

test('normalizePath output: never throws on non-string input', () => {
  assert.equal(normalizePath(undefined as unknown as string).ok, false);
});
