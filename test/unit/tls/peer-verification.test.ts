import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { DetailedPeerCertificate } from 'node:tls';
import { ManualClock } from '../../../sidecar/core/index.ts';
import { PeerVerificationError } from '../../../sidecar/svid/index.ts';
import { PeerNotAuthorized, authorizeAny, authorizeId, peerChainDer, peerIdentity, verifyPeerChain } from '../../../sidecar/tls/index.ts';
import { bundleSetOf, makeCa, makeIntermediate, makeLeaf } from '../../support/tls-pki.ts';

const caA = await makeCa('a.test');
const caB = await makeCa('b.test');
const bundles = bundleSetOf(caA, caB);
const leaf = await makeLeaf(caA, 'spiffe://a.test/peer');
const clock = new ManualClock(Date.now());

/** Node's detailed certificate shape: issuerCertificate links, a self-issued root pointing to itself. */
function detailed(ders: Buffer[]): DetailedPeerCertificate {
  const nodes = ders.map((raw, i) => ({ raw, fingerprint256: `fp${i}:${raw.length}` }) as unknown as DetailedPeerCertificate);
  nodes.forEach((n, i) => ((n as { issuerCertificate: DetailedPeerCertificate }).issuerCertificate = nodes[i + 1] ?? n));
  return nodes[0]!;
}

test('peerChainDer follows issuerCertificate and stops at the self-reference', () => {
  const chain = peerChainDer(detailed([leaf.chainDer[0]!, caA.certificate.der]));
  assert.deepEqual(chain, [leaf.chainDer[0], caA.certificate.der]);
});

test('peerChainDer of no certificate (Node gives {}) is empty', () => {
  assert.deepEqual(peerChainDer({} as DetailedPeerCertificate), []);
  assert.deepEqual(peerChainDer(undefined), []);
});

test('verifyPeerChain: a chain with our own root spliced in verifies (Node appends it)', () => {
  const r = verifyPeerChain([leaf.chainDer[0]!, caA.certificate.der], { bundles, authorize: authorizeAny(), clock });
  assert.equal(r.ok, true);
  if (r.ok) {
    assert.equal(r.identity.id.toString(), 'spiffe://a.test/peer');
    assert.equal(r.identity.leafSha256Hex, createHash('sha256').update(leaf.chainDer[0]!).digest('hex'));
  }
});

test("verifyPeerChain: another trust domain's root spliced in cannot vouch for the peer", async () => {
  const crossed = await makeLeaf(caA, 'spiffe://b.test/peer');
  const r = verifyPeerChain([crossed.chainDer[0]!, caA.certificate.der], { bundles, authorize: authorizeAny(), clock });
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.ok(r.error instanceof PeerVerificationError);
    assert.equal(r.reason, 'unknown_authority');
  }
});

test('verifyPeerChain: expiry follows the injected clock, not the wall clock', () => {
  const late = new ManualClock(Date.now() + 2 * 3_600_000);
  const r = verifyPeerChain([leaf.chainDer[0]!], { bundles, authorize: authorizeAny(), clock: late });
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.reason, 'expired');
});

test('verifyPeerChain: an empty chain is refused', () => {
  const r = verifyPeerChain([], { bundles, authorize: authorizeAny(), clock });
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.error.code, 'x509svid.no_certificates');
    // The metrics label OpenSSL's certificate_required alert also maps to.
    assert.equal(r.reason, 'no_certificate');
  }
});

test('verifyPeerChain: a chain through an intermediate verifies, and one without it does not', async () => {
  const inter = await makeIntermediate(caA);
  const chained = await makeLeaf(inter, 'spiffe://a.test/chained');
  const ok = verifyPeerChain(chained.chainDer, { bundles, authorize: authorizeAny(), clock });
  assert.equal(ok.ok, true);
  const bare = verifyPeerChain(chained.chainDer.slice(0, 1), { bundles, authorize: authorizeAny(), clock });
  assert.equal(bare.ok, false);
  if (!bare.ok) assert.equal(bare.reason, 'unknown_authority');
});

test('verifyPeerChain: the authorizer runs only after verification and its refusal is typed', () => {
  const r = verifyPeerChain([leaf.chainDer[0]!], { bundles, authorize: authorizeId('spiffe://a.test/other'), clock });
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.ok(r.error instanceof PeerNotAuthorized);
    assert.equal(r.presentedId, 'spiffe://a.test/peer');
    assert.equal(r.error.expected, 'spiffe://a.test/other');
  }
});

test('peerIdentity of an unverified socket is undefined', () => {
  assert.equal(peerIdentity({}), undefined);
});
