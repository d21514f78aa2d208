import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpiffeId, SpiffeIdError, TrustDomain } from '../../../sidecar/spiffe/index.ts';
import type { SpiffeIdErrorCode } from '../../../sidecar/spiffe/index.ts';

type Row = { name: string; input: string; code?: SpiffeIdErrorCode; td?: string; path?: string };

const a = (n: number): string => 'a'.repeat(n);
/** An ID of exactly `n` bytes in trust domain 'td'. */
const idOfBytes = (n: number): string => 'spiffe://td/' + a(n - 'spiffe://td/'.length);

function expectCode(input: () => unknown, code: SpiffeIdErrorCode): void {
  assert.throws(input, (err: unknown) => {
    assert.ok(err instanceof SpiffeIdError, `expected SpiffeIdError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, /^spiffeid: /);
    return true;
  });
}

// One row per rule of SPIFFE-ID.md §2 (§2.1 trust domain, §2.2 path, §2.3
// length), with go-spiffe v2 spiffeid/id.go's order and byte-exact scheme.
const rows: Row[] = [
  // Valid shapes.
  { name: 'trust domain own ID (no path)', input: 'spiffe://td', td: 'td', path: '' },
  { name: 'simple path', input: 'spiffe://example.org/a/b', td: 'example.org', path: '/a/b' },
  { name: 'uppercase path allowed (case-sensitive)', input: 'spiffe://td/AbC', td: 'td', path: '/AbC' },
  { name: 'every path character class', input: 'spiffe://td/azAZ09.-_', td: 'td', path: '/azAZ09.-_' },
  { name: 'segments .a ..a ... are not dot segments', input: 'spiffe://td/.a/..a/...', td: 'td', path: '/.a/..a/...' },
  { name: 'every trust domain character class', input: 'spiffe://az09.-_/x', td: 'az09.-_', path: '/x' },
  { name: 'trust domain need not be DNS-valid (trailing dot)', input: 'spiffe://trustdomain./x', td: 'trustdomain.' },
  { name: 'trust domain need not be DNS-valid (leading dash)', input: 'spiffe://-x', td: '-x', path: '' },
  { name: 'IPv4 trust domain accepted', input: 'spiffe://192.168.0.1/x', td: '192.168.0.1', path: '/x' },
  { name: 'ID of exactly 2048 bytes accepted', input: idOfBytes(2048), td: 'td' },
  { name: 'trust domain of exactly 255 bytes accepted', input: `spiffe://${a(255)}/x`, td: a(255) },

  // Empty and scheme.
  { name: 'empty', input: '', code: 'spiffeid.empty' },
  { name: 'other scheme', input: 'https://td/x', code: 'spiffeid.bad_scheme' },
  { name: 'scheme with capital letter', input: 'Spiffe://td/x', code: 'spiffeid.bad_scheme' },
  { name: 'uppercase scheme', input: 'SPIFFE://td/x', code: 'spiffeid.bad_scheme' },
  { name: 'no scheme', input: 'td/x', code: 'spiffeid.bad_scheme' },
  { name: 'scheme without authority', input: 'spiffe:td/x', code: 'spiffeid.bad_scheme' },
  { name: 'scheme with one slash', input: 'spiffe:/td/x', code: 'spiffeid.bad_scheme' },
  { name: 'leading space', input: ' spiffe://td/x', code: 'spiffeid.bad_scheme' },

  // Trust domain.
  { name: 'trust domain missing', input: 'spiffe://', code: 'spiffeid.trust_domain_missing' },
  { name: 'trust domain missing before path', input: 'spiffe:///x', code: 'spiffeid.trust_domain_missing' },
  { name: 'uppercase trust domain rejected', input: 'spiffe://Example.org/x', code: 'spiffeid.trust_domain_char' },
  { name: 'port', input: 'spiffe://td:8080/x', code: 'spiffeid.trust_domain_char' },
  { name: 'userinfo', input: 'spiffe://user@td/x', code: 'spiffeid.trust_domain_char' },
  { name: 'userinfo with password', input: 'spiffe://u:p@td/x', code: 'spiffeid.trust_domain_char' },
  { name: 'query right after trust domain', input: 'spiffe://td?x=1', code: 'spiffeid.trust_domain_char' },
  { name: 'fragment right after trust domain', input: 'spiffe://td#f', code: 'spiffeid.trust_domain_char' },
  { name: 'percent-encoded trust domain', input: 'spiffe://%74d/x', code: 'spiffeid.trust_domain_char' },
  { name: 'IPv6 trust domain', input: 'spiffe://[::1]/x', code: 'spiffeid.trust_domain_char' },
  { name: 'trust domain of 256 bytes', input: `spiffe://${a(256)}/x`, code: 'spiffeid.trust_domain_too_long' },
  {
    name: 'trust domain limit counts bytes, not characters',
    input: `spiffe://${a(254)}\u00e9/x`,
    code: 'spiffeid.trust_domain_too_long',
  },

  // Path.
  { name: 'trailing slash after trust domain', input: 'spiffe://td/', code: 'spiffeid.path_trailing_slash' },
  { name: 'trailing slash after segment', input: 'spiffe://td/a/', code: 'spiffeid.path_trailing_slash' },
  { name: 'empty first segment', input: 'spiffe://td//a', code: 'spiffeid.path_empty_segment' },
  { name: 'empty middle segment', input: 'spiffe://td/a//b', code: 'spiffeid.path_empty_segment' },
  { name: 'dot segment', input: 'spiffe://td/.', code: 'spiffeid.path_dot_segment' },
  { name: 'dot-dot segment', input: 'spiffe://td/..', code: 'spiffeid.path_dot_segment' },
  { name: 'dot segment in the middle', input: 'spiffe://td/a/./b', code: 'spiffeid.path_dot_segment' },
  { name: 'dot-dot segment in the middle', input: 'spiffe://td/a/../b', code: 'spiffeid.path_dot_segment' },
  { name: 'query in path', input: 'spiffe://td/a?x=1', code: 'spiffeid.path_char' },
  { name: 'fragment in path', input: 'spiffe://td/a#f', code: 'spiffeid.path_char' },
  { name: 'colon in path', input: 'spiffe://td/a:b', code: 'spiffeid.path_char' },
  { name: 'at sign in path', input: 'spiffe://td/a@b', code: 'spiffeid.path_char' },
  { name: 'percent-encoding in path', input: 'spiffe://td/%41', code: 'spiffeid.path_char' },
  { name: 'space in path', input: 'spiffe://td/a b', code: 'spiffeid.path_char' },
  { name: 'tilde in path (only with go-spiffe backcompat tag)', input: 'spiffe://td/~a', code: 'spiffeid.path_char' },

  // Lengths.
  { name: 'ID of 2049 bytes', input: idOfBytes(2049), code: 'spiffeid.too_long' },
  {
    name: 'ID limit counts bytes, not characters',
    input: idOfBytes(2047) + '\u00e9',
    code: 'spiffeid.too_long',
  },

  // Error precedence: empty, length, scheme, trust domain (length, chars), path left to right.
  { name: 'length before scheme', input: 'SPIFFE://' + a(2100), code: 'spiffeid.too_long' },
  { name: 'ID length before trust domain length', input: 'spiffe://' + a(2100), code: 'spiffeid.too_long' },
  { name: 'scheme before trust domain', input: 'http://Bad/x', code: 'spiffeid.bad_scheme' },
  { name: 'trust domain length before characters', input: `spiffe://A${a(300)}`, code: 'spiffeid.trust_domain_too_long' },
  { name: 'trust domain before path', input: 'spiffe://Td/a//b', code: 'spiffeid.trust_domain_char' },
  { name: 'empty segment before later dot segment', input: 'spiffe://td/a//./b', code: 'spiffeid.path_empty_segment' },
  { name: 'dot segment before later bad character', input: 'spiffe://td/./a?', code: 'spiffeid.path_dot_segment' },
  { name: 'bad character before later empty segment', input: 'spiffe://td/a?//b', code: 'spiffeid.path_char' },
  { name: 'bad character before trailing slash', input: 'spiffe://td/a?/', code: 'spiffeid.path_char' },
  { name: 'empty segment before bad character', input: 'spiffe://td//?', code: 'spiffeid.path_empty_segment' },
];

for (const row of rows) {
  test(`SpiffeId.parse: ${row.name}`, () => {
    if (row.code) {
      expectCode(() => SpiffeId.parse(row.input), row.code);
      return;
    }
    const id = SpiffeId.parse(row.input);
    assert.equal(id.toString(), row.input);
    if (row.td !== undefined) assert.equal(id.trustDomain.name, row.td);
    if (row.path !== undefined) assert.equal(id.path, row.path);
  });
}

test('SpiffeId.parse: accepts exactly the allowed ASCII bytes in the trust domain', () => {
  for (let c = 0; c < 128; c++) {
    const ch = String.fromCharCode(c);
    const ok = /[a-z0-9._-]/.test(ch);
    const input = `spiffe://x${ch}y/p`;
    if (ch === '/') continue; // ends the trust domain; covered by the path rows
    if (ok) assert.equal(SpiffeId.parse(input).trustDomain.name, `x${ch}y`, `byte 0x${c.toString(16)}`);
    else expectCode(() => SpiffeId.parse(input), 'spiffeid.trust_domain_char');
  }
});

test('SpiffeId.parse: accepts exactly the allowed ASCII bytes in a path segment', () => {
  for (let c = 0; c < 128; c++) {
    const ch = String.fromCharCode(c);
    if (ch === '/') continue;
    const ok = /[a-zA-Z0-9._-]/.test(ch);
    const input = `spiffe://td/x${ch}y`;
    if (ok) assert.equal(SpiffeId.parse(input).path, `/x${ch}y`, `byte 0x${c.toString(16)}`);
    else expectCode(() => SpiffeId.parse(input), 'spiffeid.path_char');
  }
});

test('SpiffeId.parse: rejects every non-ASCII byte 0x80-0xFF in the trust domain and the path', () => {
  for (let c = 0x80; c <= 0xff; c++) {
    const ch = String.fromCharCode(c);
    expectCode(() => SpiffeId.parse(`spiffe://t${ch}d/x`), 'spiffeid.trust_domain_char');
    expectCode(() => SpiffeId.parse(`spiffe://td/x${ch}`), 'spiffeid.path_char');
  }
});

test('SpiffeId.parse: names the input and the rule in the message', () => {
  assert.throws(() => SpiffeId.parse('spiffe://Example.org/x'), {
    message:
      'spiffeid: trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores (in "spiffe://Example.org/x")',
  });
});

test('SpiffeId.parse: escapes control characters from the input in the message', () => {
  assert.throws(() => SpiffeId.parse('spiffe://td/a\nFAKE LOG LINE'), (err: Error) => {
    assert.ok(!err.message.includes('\n'));
    assert.ok(err.message.includes('\\u000a'));
    return true;
  });
});

test('SpiffeId.parse: rejects non-string input with a TypeError', () => {
  assert.throws(() => SpiffeId.parse(42 as unknown as string), { name: 'TypeError', message: /^spiffeid: expected a string/ });
});

{
  const td = TrustDomain.parse('td');
  const pathRows: { name: string; path: string; code?: SpiffeIdErrorCode }[] = [
    { name: 'empty path is the trust domain ID', path: '' },
    { name: 'one segment', path: '/a' },
    { name: 'uppercase path', path: '/A/B' },
    { name: 'no leading slash', path: 'a', code: 'spiffeid.path_no_leading_slash' },
    { name: 'no leading slash, bad character later', path: 'a?', code: 'spiffeid.path_no_leading_slash' },
    { name: 'trailing slash', path: '/a/', code: 'spiffeid.path_trailing_slash' },
    { name: 'only a slash', path: '/', code: 'spiffeid.path_trailing_slash' },
    { name: 'empty segment', path: '//a', code: 'spiffeid.path_empty_segment' },
    { name: 'dot segment', path: '/a/..', code: 'spiffeid.path_dot_segment' },
    { name: 'bad character', path: '/a?b', code: 'spiffeid.path_char' },
    { name: 'total of 2048 bytes', path: '/' + a(2048 - 'spiffe://td/'.length) },
    { name: 'total of 2049 bytes', path: '/' + a(2049 - 'spiffe://td/'.length), code: 'spiffeid.too_long' },
  ];
  for (const row of pathRows) {
    test(`SpiffeId.fromPath: ${row.name}`, () => {
      if (row.code) {
        expectCode(() => SpiffeId.fromPath(td, row.path), row.code);
        return;
      }
      const id = SpiffeId.fromPath(td, row.path);
      assert.equal(id.toString(), 'spiffe://td' + row.path);
      assert.equal(id.path, row.path);
      assert.ok(id.equals(SpiffeId.parse('spiffe://td' + row.path)));
    });
  }

  test('SpiffeId.fromPath: refuses a trust-domain look-alike', () => {
    const fake = { name: 'Evil', idString: () => 'spiffe://Evil' } as unknown as TrustDomain;
    assert.throws(() => SpiffeId.fromPath(fake, '/x'), { name: 'TypeError', message: /needs a TrustDomain/ });
  });
}

{
  const td = TrustDomain.parse('td');
  test('SpiffeId.fromSegments: joins segments with slashes', () => {
    assert.equal(SpiffeId.fromSegments(td, 'ns', 'prod', 'sa', 'web').toString(), 'spiffe://td/ns/prod/sa/web');
  });
  test('SpiffeId.fromSegments: gives the trust domain ID with no segments', () => {
    assert.ok(SpiffeId.fromSegments(td).isRoot());
  });
  test('SpiffeId.fromSegments: rejects a slash inside a segment', () => {
    expectCode(() => SpiffeId.fromSegments(td, 'a/b'), 'spiffeid.path_char');
  });
  test('SpiffeId.fromSegments: rejects an empty segment', () => {
    expectCode(() => SpiffeId.fromSegments(td, 'a', ''), 'spiffeid.path_trailing_slash');
    expectCode(() => SpiffeId.fromSegments(td, '', 'a'), 'spiffeid.path_empty_segment');
  });
  test('SpiffeId.fromSegments: rejects dot segments', () => {
    expectCode(() => SpiffeId.fromSegments(td, '..'), 'spiffeid.path_dot_segment');
  });
}

const id = SpiffeId.parse('spiffe://example.org/Web/api');

test('SpiffeId methods: exposes trust domain and path', () => {
  assert.equal(id.trustDomain.name, 'example.org');
  assert.equal(id.path, '/Web/api');
  assert.equal(String(id), 'spiffe://example.org/Web/api');
  assert.equal(JSON.stringify({ id }), '{"id":"spiffe://example.org/Web/api"}');
});

test('SpiffeId methods: equals compares the whole ID, path case included', () => {
  assert.ok(id.equals(SpiffeId.parse('spiffe://example.org/Web/api')));
  assert.ok(!id.equals(SpiffeId.parse('spiffe://example.org/web/api')));
  assert.ok(!id.equals(SpiffeId.parse('spiffe://example.com/Web/api')));
});

test('SpiffeId methods: memberOf compares trust domains exactly', () => {
  assert.ok(id.memberOf(TrustDomain.parse('example.org')));
  assert.ok(!id.memberOf(TrustDomain.parse('example.org.evil')));
  assert.ok(!id.memberOf(TrustDomain.parse('org')));
});

test('SpiffeId methods: isRoot is true only for the empty path', () => {
  assert.ok(SpiffeId.parse('spiffe://example.org').isRoot());
  assert.ok(!id.isRoot());
});

test('SpiffeId methods: is immutable', () => {
  assert.ok(Object.isFrozen(id));
  assert.throws(() => {
    (id as { path: string }).path = '/other';
  }, TypeError);
  assert.throws(() => {
    (id.trustDomain as { name: string }).name = 'evil.org';
  }, TypeError);
  assert.equal(id.toString(), 'spiffe://example.org/Web/api');
});
