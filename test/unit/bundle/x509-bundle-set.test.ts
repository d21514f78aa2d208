import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Bundle, X509BundleError, X509BundleSet } from '../../../sidecar/bundle/index.ts';
import { TrustDomain } from '../../../sidecar/spiffe/index.ts';
import { makeRoot } from '../../support/certs.ts';

const ex = TrustDomain.parse('example.org');
const other = TrustDomain.parse('other.org');
const exRoot = makeRoot('example.org');
const otherRoot = makeRoot('other.org');

test('of() indexes bundles by trust domain; the later bundle for a trust domain wins', () => {
  const first = X509Bundle.fromDer(ex, exRoot.der);
  const second = X509Bundle.fromDer(ex, Buffer.alloc(0));
  const o = X509Bundle.fromDer(other, otherRoot.der);
  const set = X509BundleSet.of([o, first, second]);
  assert.equal(set.size, 2);
  assert.equal(set.get(ex), second);
  assert.equal(set.getX509BundleForTrustDomain(TrustDomain.parse('example.org')), second);
  assert.equal(set.get(TrustDomain.parse('third.org')), undefined);
  assert.deepEqual(set.trustDomains().map((t) => t.name), ['example.org', 'other.org']);
  assert.deepEqual([...set].map((b) => b.trustDomain.name), ['example.org', 'other.org']);
  assert.ok(Object.isFrozen(set));
});

test('parseBundleMap accepts spiffe://td and bare keys with DER values', () => {
  const set = X509BundleSet.parseBundleMap([
    ['spiffe://example.org', exRoot.der],
    ['other.org', otherRoot.der],
  ]);
  assert.ok(set.get(ex)!.authorities[0]!.der.equals(exRoot.der));
  assert.ok(set.get(other)!.authorities[0]!.der.equals(otherRoot.der));
  assert.throws(
    () => X509BundleSet.parseBundleMap([['spiffe://Bad.org', exRoot.der]]),
    (err: unknown) => err instanceof X509BundleError && err.code === 'x509bundle.malformed' && /bad trust domain key "spiffe:\/\/Bad.org"/.test(err.message),
  );
  assert.throws(() => X509BundleSet.parseBundleMap([['example.org', Buffer.from([1, 2])]]), (err: unknown) => err instanceof X509BundleError);
});
