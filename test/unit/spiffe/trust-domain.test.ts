import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpiffeIdError, TrustDomain } from '../../../sidecar/spiffe/index.ts';
import type { SpiffeIdErrorCode } from '../../../sidecar/spiffe/index.ts';

const rows: { name: string; input: string; want?: string; code?: SpiffeIdErrorCode }[] = [
  { name: 'bare name', input: 'example.org', want: 'example.org' },
  { name: 'trust domain ID', input: 'spiffe://example.org', want: 'example.org' },
  { name: 'full ID gives its trust domain', input: 'spiffe://example.org/ns/x', want: 'example.org' },
  { name: 'IPv4 name', input: '192.168.1.1', want: '192.168.1.1' },
  { name: 'trailing dot', input: 'trustdomain.', want: 'trustdomain.' },
  { name: 'leading dash', input: '-x', want: '-x' },
  { name: '255 bytes', input: 'a'.repeat(255), want: 'a'.repeat(255) },
  { name: 'empty', input: '', code: 'spiffeid.trust_domain_missing' },
  { name: '256 bytes', input: 'a'.repeat(256), code: 'spiffeid.trust_domain_too_long' },
  { name: 'byte count, not characters', input: 'a'.repeat(254) + '\u00e9', code: 'spiffeid.trust_domain_too_long' },
  { name: 'uppercase', input: 'Example.org', code: 'spiffeid.trust_domain_char' },
  { name: 'a path without a scheme', input: 'example.org/x', code: 'spiffeid.trust_domain_char' },
  { name: 'port without scheme', input: 'example.org:8080', code: 'spiffeid.trust_domain_char' },
  { name: 'non-ASCII', input: 'ex\u00e4mple.org', code: 'spiffeid.trust_domain_char' },
  { name: 'full ID with uppercase trust domain', input: 'spiffe://Example.org', code: 'spiffeid.trust_domain_char' },
  { name: "':/' means a full ID: bad scheme", input: 'Spiffe://example.org', code: 'spiffeid.bad_scheme' },
  { name: "':/' means a full ID: bad path", input: 'spiffe://example.org/a//b', code: 'spiffeid.path_empty_segment' },
  { name: "':/' means a full ID: missing trust domain", input: 'spiffe://', code: 'spiffeid.trust_domain_missing' },
];

for (const row of rows) {
  test(`TrustDomain.parse: ${row.name}`, () => {
    if (row.code) {
      assert.throws(
        () => TrustDomain.parse(row.input),
        (err: unknown) => err instanceof SpiffeIdError && err.code === row.code,
      );
      return;
    }
    assert.equal(TrustDomain.parse(row.input).name, row.want);
  });
}

const td = TrustDomain.parse('example.org');
test('TrustDomain methods: idString is the spiffe:// form, toString the bare name', () => {
  assert.equal(td.idString(), 'spiffe://example.org');
  assert.equal(td.toString(), 'example.org');
  assert.equal(`${td}`, 'example.org');
  assert.equal(JSON.stringify([td]), '["example.org"]');
});
test('TrustDomain methods: equals compares names', () => {
  assert.ok(td.equals(TrustDomain.parse('spiffe://example.org/x')));
  assert.ok(!td.equals(TrustDomain.parse('example.com')));
});
test('TrustDomain methods: is immutable', () => {
  assert.throws(() => {
    (td as { name: string }).name = 'evil.org';
  }, TypeError);
});
