import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Bundle, X509BundleSet } from '../../../sidecar/bundle/index.ts';
import { SecureContextStore } from '../../../sidecar/tls/index.ts';
import { MutableSource, bundleSetOf, makeCa, makeLeaf, svidOf } from '../../support/tls-pki.ts';

const caA = await makeCa('a.test');
const caB = await makeCa('b.test');
const svid1 = svidOf(await makeLeaf(caA, 'spiffe://a.test/me'));
const svid2 = svidOf(await makeLeaf(caA, 'spiffe://a.test/me'));

test('same SVID and bundle-set objects: same snapshot and context, no rebuild', () => {
  const src = new MutableSource(svid1, bundleSetOf(caA));
  const store = new SecureContextStore({ svidSource: src, bundleSource: src });
  const s1 = store.snapshot();
  const c1 = store.current();
  assert.equal(store.snapshot(), s1);
  assert.equal(store.current(), c1);
  assert.equal(s1.generation, 1);
});

test('a new SVID object rebuilds; so does a new bundle-set object', () => {
  const src = new MutableSource(svid1, bundleSetOf(caA));
  const store = new SecureContextStore({ svidSource: src, bundleSource: src });
  const c1 = store.current();
  src.setSvid(svid2);
  const c2 = store.current();
  assert.notEqual(c2, c1);
  assert.equal(store.snapshot().generation, 2);
  assert.equal(store.snapshot().options.cert, svid2.certChainPem());
  src.setBundles(bundleSetOf(caA, caB));
  assert.notEqual(store.current(), c2);
  assert.equal(store.snapshot().generation, 3);
});

test('ca is the de-duplicated union of every bundle root, as PEM', () => {
  // b.test also lists a.test's root (as during a migration): it appears once.
  const bWithA = X509Bundle.fromCertificates(caB.td, [caB.certificate, caA.certificate]);
  const src = new MutableSource(svid1, X509BundleSet.of([caA.bundle, bWithA]));
  const s = new SecureContextStore({ svidSource: src, bundleSource: () => src.bundles() }).snapshot();
  assert.deepEqual(s.options.ca, [caA.certificate.x509.toString(), caB.certificate.x509.toString()]);
});

test('no bundles means an empty ca list, never the public web roots', () => {
  const src = new MutableSource(svid1, X509BundleSet.of([]));
  const s = new SecureContextStore({ svidSource: src, bundleSource: src }).snapshot();
  assert.deepEqual(s.options.ca, []);
});

test('TLS 1.2 is the floor even if 1.0 is asked for', () => {
  const src = new MutableSource(svid1, bundleSetOf(caA));
  const s = new SecureContextStore({ svidSource: src, bundleSource: src, minVersion: 'TLSv1' }).snapshot();
  assert.equal(s.options.minVersion, 'TLSv1.2');
});

test('the key is the SVID key and the context builds (key matches the chain)', () => {
  const src = new MutableSource(svid1, bundleSetOf(caA));
  const store = new SecureContextStore({ svidSource: src, bundleSource: src });
  assert.equal(store.snapshot().options.key, svid1.privateKeyPem());
  assert.ok(store.current().context);
});

test('errors of the SVID source propagate (no SVID yet)', () => {
  const store = new SecureContextStore({
    svidSource: {
      getX509Svid() {
        throw new Error('no svid yet');
      },
    },
    bundleSource: () => X509BundleSet.of([]),
  });
  assert.throws(() => store.snapshot(), /no svid yet/);
});
