import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CertificateCache, CertificateError } from '../../../sidecar/x509/index.ts';
import { makeLeaf, makeRoot } from '../../support/certs.ts';

const root = makeRoot();
const [a, b, c] = [makeLeaf(root).der, makeLeaf(root).der, makeLeaf(root).der];

test('CertificateCache returns the same decoded certificate for the same bytes', () => {
  const cache = new CertificateCache(4);
  const first = cache.decode(a);
  assert.equal(cache.decode(Buffer.from(a)), first, 'equal bytes in another buffer hit');
  assert.notEqual(cache.decode(b), first);
  assert.ok(cache.decode(b).der.equals(b));
  assert.equal(cache.size, 2);
});

test('CertificateCache drops the least recently used entry and never caches failures', () => {
  const cache = new CertificateCache(2);
  const ia = cache.decode(a);
  cache.decode(b);
  cache.decode(a); // a is now most recent
  cache.decode(c); // evicts b
  assert.equal(cache.size, 2);
  assert.equal(cache.decode(a), ia);
  assert.throws(() => cache.decode(Buffer.from([0x30, 0x00]), 5), (err: unknown) => err instanceof CertificateError && err.index === 5);
  assert.throws(() => cache.decode(Buffer.from([0x30, 0x00]), 6), (err: unknown) => err instanceof CertificateError && err.index === 6);
  assert.equal(cache.size, 2);
});
