import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509BundleSet } from '../../../sidecar/bundle/index.ts';
import { ManualClock } from '../../../sidecar/core/index.ts';
import { CaError, CertificateAuthority, type CaErrorCode, type KeyType } from '../../../sidecar/devagent/index.ts';
import { SpiffeId, TrustDomain } from '../../../sidecar/spiffe/index.ts';
import { decodeCertificate, parseX509Svid, splitDerCertificates, verifyX509SvidChain } from '../../../sidecar/svid/index.ts';
import { HOUR, SECOND, T0 } from '../../support/certs.ts';

const TD = TrustDomain.parse('example.org');
const ID = SpiffeId.parse('spiffe://example.org/web');
const DAY = 24 * HOUR;

function caError(code: CaErrorCode) {
  return (err: unknown) => {
    assert.ok(err instanceof CaError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, /^ca: /);
    return true;
  };
}

test('issued leaf follows SPIRE’s workload profile (pkg/server/credtemplate/builder.go)', async () => {
  const clock = new ManualClock(T0);
  const ca = await CertificateAuthority.create({ trustDomain: TD, clock });
  clock.advance(5 * SECOND);
  const issued = await ca.issueX509Svid({ id: ID, ttlMs: HOUR, dnsNames: ['web.local'] });
  const [leafDer, ...rest] = splitDerCertificates(issued.chainDer);
  assert.equal(rest.length, 0, 'no intermediate without an UpstreamAuthority');
  const leaf = decodeCertificate(leafDer!);
  assert.equal(leaf.subject, 'C=US\nO=SPIRE');
  assert.deepEqual(leaf.uriSans, [ID.toString()]);
  assert.deepEqual(leaf.dnsSans, ['web.local']);
  assert.deepEqual(leaf.keyUsage, { critical: true, digitalSignature: true, keyEncipherment: true, keyAgreement: true, keyCertSign: false, cRLSign: false });
  assert.deepEqual(leaf.extKeyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  assert.equal(leaf.basicConstraintsPresent, true);
  assert.equal(leaf.isCa, false);
  assert.equal(leaf.notBefore.getTime(), T0 + 5 * SECOND - 10 * SECOND);
  assert.equal(leaf.notAfter.getTime(), T0 + 5 * SECOND + HOUR);
  assert.equal(issued.notAfter.getTime(), leaf.notAfter.getTime());
  assert.ok(leaf.subjectKeyId);
  const root = ca.bundle().authorities[0]!;
  assert.ok(leaf.authorityKeyId?.equals(root.subjectKeyId!));
  // 128-bit random serial: at most 16 significant bytes, and different every time.
  assert.ok(leaf.serialNumber.replace(/^0+/, '').length <= 32);
  const again = decodeCertificate(splitDerCertificates((await ca.issueX509Svid({ id: ID, ttlMs: HOUR })).chainDer)[0]!);
  assert.notEqual(again.serialNumber, leaf.serialNumber);
  // Key and chain parse as an SVID; the EC P-256 default.
  const svid = parseX509Svid(issued.chainDer, issued.keyPkcs8Der);
  assert.equal(svid.privateKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
});

test('CA certificate follows SPIRE’s CA profile', async () => {
  const clock = new ManualClock(T0);
  const ca = await CertificateAuthority.create({ trustDomain: TD, clock });
  const [root] = ca.bundle().authorities;
  assert.ok(root);
  assert.deepEqual(root.uriSans, ['spiffe://example.org']);
  assert.match(root.subject, /^C=US\nO=SPIFFE\nserialNumber=\d+$/);
  assert.deepEqual(root.keyUsage, { critical: true, digitalSignature: false, keyEncipherment: false, keyAgreement: false, keyCertSign: true, cRLSign: true });
  assert.equal(root.isCa, true);
  assert.equal(root.notBefore.getTime(), T0 - 10 * SECOND);
  assert.equal(root.notAfter.getTime(), T0 + DAY);
  assert.ok(root.x509.verify(root.publicKey), 'self-signed');
  assert.ok(ca.bundleDer().equals(root.der));
});

test('leaf lifetime is capped at the CA’s expiry; an expired CA refuses to issue', async () => {
  const clock = new ManualClock(T0);
  const ca = await CertificateAuthority.create({ trustDomain: TD, clock, caTtlMs: 2 * HOUR });
  clock.advance(HOUR + 30 * 60 * SECOND);
  const issued = await ca.issueX509Svid({ id: ID, ttlMs: HOUR });
  assert.equal(issued.notAfter.getTime(), T0 + 2 * HOUR);
  clock.advance(HOUR);
  await assert.rejects(ca.issueX509Svid({ id: ID, ttlMs: HOUR }), caError('ca.expired'));
});

test('issueX509Svid refuses what SPIRE would refuse', async () => {
  const ca = await CertificateAuthority.create({ trustDomain: TD, clock: new ManualClock(T0) });
  await assert.rejects(ca.issueX509Svid({ id: SpiffeId.parse('spiffe://other.org/web'), ttlMs: HOUR }), caError('ca.foreign_trust_domain'));
  await assert.rejects(ca.issueX509Svid({ id: SpiffeId.parse('spiffe://example.org'), ttlMs: HOUR }), caError('ca.bad_id'));
  await assert.rejects(ca.issueX509Svid({ id: ID, ttlMs: 0 }), caError('ca.bad_ttl'));
  await assert.rejects(ca.issueX509Svid({ id: ID, ttlMs: Number.NaN }), caError('ca.bad_ttl'));
  await assert.rejects(CertificateAuthority.create({ trustDomain: TD, caTtlMs: 5 }), caError('ca.bad_ttl'));
});

test('rotate() adds a new root and keeps the old one until it expires', async () => {
  const clock = new ManualClock(T0);
  const ca = await CertificateAuthority.create({ trustDomain: TD, clock, caTtlMs: 10 * HOUR });
  const before = await ca.issueX509Svid({ id: ID, ttlMs: 20 * HOUR });
  const oldRoot = ca.bundle().authorities[0]!;
  clock.advance(5 * HOUR);
  await ca.rotate();
  const after = await ca.issueX509Svid({ id: ID, ttlMs: HOUR });
  const bundle = ca.bundle();
  assert.equal(bundle.authorities.length, 2);
  assert.ok(bundle.authorities[0]!.der.equals(oldRoot.der), 'old root first');
  assert.equal(ca.bundle(), bundle, 'bundle object reused while unchanged');
  const set = X509BundleSet.of([bundle]);
  for (const svid of [before, after]) {
    assert.equal(verifyX509SvidChain(splitDerCertificates(svid.chainDer), set, { clock }).id.toString(), ID.toString());
  }
  // SVIDs from the old CA were capped at its expiry; once it has passed, only the new root is published.
  assert.equal(before.notAfter.getTime(), oldRoot.notAfter.getTime());
  clock.advance(5 * HOUR + SECOND);
  assert.equal(ca.bundle().authorities.length, 1);
  assert.ok(!ca.bundle().authorities[0]!.der.equals(oldRoot.der));
  assert.ok(ca.bundleDer().equals(ca.bundle().authorities[0]!.der));
});

test('intermediate mode issues from an intermediate and publishes only the root', async () => {
  const clock = new ManualClock(T0);
  const ca = await CertificateAuthority.create({ trustDomain: TD, clock, intermediate: true });
  const issued = await ca.issueX509Svid({ id: ID, ttlMs: HOUR });
  const chain = splitDerCertificates(issued.chainDer).map((d) => decodeCertificate(d));
  assert.equal(chain.length, 2);
  const [leaf, inter] = chain as [ReturnType<typeof decodeCertificate>, ReturnType<typeof decodeCertificate>];
  assert.equal(inter.isCa, true);
  assert.deepEqual(inter.uriSans, ['spiffe://example.org']);
  assert.equal(inter.keyUsage?.keyCertSign, true);
  assert.ok(leaf.x509.verify(inter.publicKey));
  const root = ca.bundle().authorities;
  assert.equal(root.length, 1);
  assert.ok(!root[0]!.der.equals(inter.der));
  assert.ok(inter.x509.verify(root[0]!.publicKey));
  assert.equal(verifyX509SvidChain(chain.map((c) => c.der), X509BundleSet.of([ca.bundle()]), { clock }).verifiedChain.length, 3);
});

test('key types: the CA key and the SVID key follow the options', async () => {
  const expected: Record<KeyType, [string, string | number]> = {
    'ec-p256': ['ec', 'prime256v1'],
    'ec-p384': ['ec', 'secp384r1'],
    'rsa-2048': ['rsa', 2048],
    'rsa-4096': ['rsa', 4096],
  };
  const describe = (k: { asymmetricKeyType?: string; asymmetricKeyDetails?: { namedCurve?: string; modulusLength?: number } }) => [
    k.asymmetricKeyType,
    k.asymmetricKeyDetails?.namedCurve ?? k.asymmetricKeyDetails?.modulusLength,
  ];
  const ca = await CertificateAuthority.create({ trustDomain: TD, keyType: 'ec-p384', clock: new ManualClock(T0) });
  assert.deepEqual(describe(ca.bundle().authorities[0]!.publicKey), expected['ec-p384']);
  for (const keyType of Object.keys(expected) as KeyType[]) {
    const issued = await ca.issueX509Svid({ id: ID, ttlMs: HOUR, keyType });
    assert.deepEqual(describe(parseX509Svid(issued.chainDer, issued.keyPkcs8Der).privateKey), expected[keyType], keyType);
  }
  // The default SVID key type is the CA's.
  const dflt = await ca.issueX509Svid({ id: ID, ttlMs: HOUR });
  assert.deepEqual(describe(parseX509Svid(dflt.chainDer, dflt.keyPkcs8Der).privateKey), expected['ec-p384']);
});

test('exportState/fromState round trip: same roots and key, SVIDs verify across the restart', async () => {
  const clock = new ManualClock(T0);
  const ca = await CertificateAuthority.create({ trustDomain: TD, clock, caTtlMs: 10 * HOUR });
  const before = await ca.issueX509Svid({ id: ID, ttlMs: 20 * HOUR });
  clock.advance(5 * HOUR);
  await ca.rotate();
  const state = ca.exportState();
  assert.equal(state.rootsDer.length, 2, 'the old root is kept during a rotation');
  assert.equal(state.intermediateDer, undefined);
  const restored = CertificateAuthority.fromState(state, { trustDomain: TD, clock, caTtlMs: 10 * HOUR });
  assert.ok(restored.bundleDer().equals(ca.bundleDer()));
  assert.equal(restored.signerNotAfter.getTime(), ca.signerNotAfter.getTime());
  const after = await restored.issueX509Svid({ id: ID, ttlMs: HOUR });
  // Issued by the restored CA, trusted by the original's bundle, and the other way round.
  assert.equal(verifyX509SvidChain(splitDerCertificates(after.chainDer), X509BundleSet.of([ca.bundle()]), { clock }).id.toString(), ID.toString());
  assert.equal(verifyX509SvidChain(splitDerCertificates(before.chainDer), X509BundleSet.of([restored.bundle()]), { clock }).id.toString(), ID.toString());
  // Once the old root has expired, it is no longer exported.
  clock.advance(5 * HOUR + SECOND);
  assert.equal(restored.exportState().rootsDer.length, 1);
});

test('exportState/fromState round trip in intermediate mode', async () => {
  const clock = new ManualClock(T0);
  const ca = await CertificateAuthority.create({ trustDomain: TD, clock, intermediate: true });
  const state = ca.exportState();
  assert.ok(state.intermediateDer);
  const restored = CertificateAuthority.fromState(state, { trustDomain: TD, clock, intermediate: true });
  const chain = splitDerCertificates((await restored.issueX509Svid({ id: ID, ttlMs: HOUR })).chainDer);
  assert.equal(chain.length, 2);
  assert.ok(chain[1]!.equals(state.intermediateDer));
  assert.equal(verifyX509SvidChain(chain, X509BundleSet.of([ca.bundle()]), { clock }).verifiedChain.length, 3);
});

test('fromState accepts an expired CA; it refuses to issue until rotated', async () => {
  const clock = new ManualClock(T0);
  const ca = await CertificateAuthority.create({ trustDomain: TD, clock, caTtlMs: 2 * HOUR });
  const state = ca.exportState();
  clock.advance(3 * HOUR);
  const restored = CertificateAuthority.fromState(state, { trustDomain: TD, clock, caTtlMs: 2 * HOUR });
  assert.ok(restored.signerNotAfter.getTime() < clock.now());
  await assert.rejects(restored.issueX509Svid({ id: ID, ttlMs: HOUR }), caError('ca.expired'));
  await restored.rotate();
  const issued = await restored.issueX509Svid({ id: ID, ttlMs: HOUR });
  assert.equal(verifyX509SvidChain(splitDerCertificates(issued.chainDer), X509BundleSet.of([restored.bundle()]), { clock }).id.toString(), ID.toString());
  assert.equal(restored.exportState().rootsDer.length, 1, 'the expired root is dropped');
});

test('fromState refuses a state that is corrupt or does not fit the options', async () => {
  const clock = new ManualClock(T0);
  const plain = (await CertificateAuthority.create({ trustDomain: TD, clock })).exportState();
  const plain2 = (await CertificateAuthority.create({ trustDomain: TD, clock })).exportState();
  const inter = await CertificateAuthority.create({ trustDomain: TD, clock, intermediate: true });
  const interState = inter.exportState();
  const interLeaf = splitDerCertificates((await inter.issueX509Svid({ id: ID, ttlMs: HOUR })).chainDer)[0]!;
  const otherTd = TrustDomain.parse('other.org');
  const other = (await CertificateAuthority.create({ trustDomain: otherTd, clock })).exportState();
  const otherInter = (await CertificateAuthority.create({ trustDomain: otherTd, clock, intermediate: true })).exportState();
  const p384 = (await CertificateAuthority.create({ trustDomain: TD, clock, keyType: 'ec-p384' })).exportState();
  const plainCa = CertificateAuthority.fromState(plain, { trustDomain: TD, clock });
  const leaf = splitDerCertificates((await plainCa.issueX509Svid({ id: ID, ttlMs: HOUR })).chainDer)[0]!;
  const rows: { name: string; state: typeof plain; intermediate?: boolean; message: RegExp }[] = [
    { name: 'no root', state: { ...plain, rootsDer: [] }, message: /has no root certificate/ },
    { name: 'root not DER', state: { ...plain, rootsDer: [Buffer.from('not a certificate')] }, message: /root 0 is not a certificate/ },
    { name: 'root of another trust domain', state: other, message: /root 0 is for spiffe:\/\/other\.org, not spiffe:\/\/example\.org/ },
    { name: 'root is a leaf', state: { ...plain, rootsDer: [leaf] }, message: /root 0 is not a CA certificate/ },
    {
      name: 'root not self-signed',
      state: { rootsDer: [interState.intermediateDer!], signingKeyPkcs8Der: interState.signingKeyPkcs8Der },
      message: /root 0 is not self-signed/,
    },
    { name: 'intermediate missing in intermediate mode', state: plain, intermediate: true, message: /has no intermediate CA/ },
    { name: 'intermediate present outside intermediate mode', state: interState, message: /has an intermediate CA/ },
    { name: 'intermediate of another trust domain', state: { ...interState, intermediateDer: otherInter.intermediateDer! }, intermediate: true, message: /the intermediate is for spiffe:\/\/other\.org/ },
    { name: 'intermediate is a leaf', state: { ...interState, intermediateDer: interLeaf }, intermediate: true, message: /the intermediate is not a CA certificate/ },
    { name: 'intermediate not signed by the current root', state: { ...interState, rootsDer: plain.rootsDer }, intermediate: true, message: /not signed by the current root/ },
    { name: 'key not PKCS#8', state: { ...plain, signingKeyPkcs8Der: Buffer.from('junk') }, message: /not a PKCS#8 private key/ },
    { name: 'key of another CA', state: { ...plain, signingKeyPkcs8Der: plain2.signingKeyPkcs8Der }, message: /does not belong to the signing CA certificate/ },
    { name: 'key type differs from the options', state: p384, message: /the CA key is ec-p384, but the key type is ec-p256/ },
  ];
  for (const row of rows) {
    assert.throws(
      () => CertificateAuthority.fromState(row.state, { trustDomain: TD, clock, ...(row.intermediate ? { intermediate: true } : {}) }),
      (err: unknown) => {
        caError('ca.bad_state')(err);
        assert.match((err as Error).message, /^ca: saved state of example\.org: /, row.name);
        assert.match((err as Error).message, row.message, row.name);
        return true;
      },
      row.name,
    );
  }
});
