import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { SpiffeIdError, TrustDomain } from '../../../sidecar/spiffe/index.ts';
import { JwtBundle, JwtBundleError, JwtBundleSet } from '../../../sidecar/bundle/index.ts';

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
const jwks = (kid: string): string => JSON.stringify({ keys: [{ ...key.export({ format: 'jwk' }), kid }] });
const bundle = (td: string, kid: string): JwtBundle => JwtBundle.fromKeys(TrustDomain.parse(td), [[kid, key]]);

test('JwtBundleSet: looks bundles up by trust domain', () => {
  const set = JwtBundleSet.of([bundle('b.org', 'k1'), bundle('a.org', 'k2')]);
  assert.equal(set.size, 2);
  assert.deepEqual(set.get(TrustDomain.parse('a.org'))?.keyIds, ['k2']);
  assert.deepEqual(set.getJwtBundleForTrustDomain(TrustDomain.parse('b.org'))?.keyIds, ['k1']);
  assert.equal(set.get(TrustDomain.parse('c.org')), undefined);
  assert.equal(set.getJwtBundleForTrustDomain(TrustDomain.parse('c.org')), undefined);
});

test('JwtBundleSet: lists trust domains and bundles sorted by name', () => {
  const set = JwtBundleSet.of([bundle('c.org', 'x'), bundle('a.org', 'y'), bundle('b.org', 'z')]);
  assert.deepEqual(set.trustDomains().map(String), ['a.org', 'b.org', 'c.org']);
  assert.deepEqual(set.bundles().map((b) => b.keyIds[0]), ['y', 'z', 'x']);
});

test('JwtBundleSet: iterates bundles sorted by trust domain', () => {
  const set = JwtBundleSet.of([bundle('b.org', 'k1'), bundle('a.org', 'k2')]);
  assert.deepEqual([...set].map((b) => b.trustDomain.name), ['a.org', 'b.org']);
});

test('JwtBundleSet: equals compares trust domains and keys', () => {
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const set = JwtBundleSet.of([bundle('a.org', 'k'), bundle('b.org', 'k')]);
  assert.equal(set.equals(JwtBundleSet.of([bundle('b.org', 'k'), bundle('a.org', 'k')])), true);
  assert.equal(set.equals(JwtBundleSet.of([bundle('a.org', 'k')])), false);
  assert.equal(JwtBundleSet.of([bundle('a.org', 'k')]).equals(set), false);
  assert.equal(set.equals(JwtBundleSet.of([bundle('a.org', 'k'), bundle('c.org', 'k')])), false);
  const changed = JwtBundle.fromKeys(TrustDomain.parse('b.org'), [['k', other]]);
  assert.equal(set.equals(JwtBundleSet.of([bundle('a.org', 'k'), changed])), false);
});

test('JwtBundleSet: keeps the later bundle when two share a trust domain', () => {
  const set = JwtBundleSet.of([bundle('a.org', 'old'), bundle('a.org', 'new')]);
  assert.equal(set.size, 1);
  assert.deepEqual(set.get(TrustDomain.parse('a.org'))?.keyIds, ['new']);
});

test('JwtBundleSet: does not share state with the input iterable', () => {
  const input = [bundle('a.org', 'k')];
  const set = JwtBundleSet.of(input);
  input.push(bundle('b.org', 'k'));
  assert.equal(set.size, 1);
  assert.ok(Object.isFrozen(set));
});

test('JwtBundleSet: parses a Workload API bundle map with spiffe:// and bare keys', () => {
  const set = JwtBundleSet.parseBundleMap([
    ['spiffe://a.org', new TextEncoder().encode(jwks('ka'))],
    ['b.org', jwks('kb')],
  ]);
  assert.deepEqual(set.trustDomains().map(String), ['a.org', 'b.org']);
  assert.deepEqual(set.get(TrustDomain.parse('a.org'))?.keyIds, ['ka']);
});

test('JwtBundleSet: refuses a bad trust domain key in a bundle map', () => {
  assert.throws(
    () => JwtBundleSet.parseBundleMap([['spiffe://A.org', jwks('k')]]),
    (err: unknown) => err instanceof JwtBundleError && err.code === 'jwtbundle.malformed' && err.cause instanceof SpiffeIdError,
  );
});

test('JwtBundleSet: refuses a bad JWKS in a bundle map', () => {
  assert.throws(
    () => JwtBundleSet.parseBundleMap([['spiffe://a.org', '{}']]),
    (err: unknown) => err instanceof JwtBundleError && err.code === 'jwtbundle.malformed',
  );
});
