import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsnSerializer } from '@peculiar/asn1-schema';
import { GeneralName, GeneralSubtree, GeneralSubtrees, Name, NameConstraints } from '@peculiar/asn1-x509';
import { X509Bundle, X509BundleSet, type X509BundleSource } from '../../../sidecar/bundle/index.ts';
import { ManualClock } from '../../../sidecar/core/index.ts';
import { CertificateAuthority, type KeyType } from '../../../sidecar/devagent/index.ts';
import { SpiffeId, TrustDomain } from '../../../sidecar/spiffe/index.ts';
import {
  PeerVerificationError,
  parseX509SvidPem,
  parsePemCertificates,
  splitDerCertificates,
  verifyX509SvidChain,
  type PeerVerificationErrorCode,
} from '../../../sidecar/svid/index.ts';
import { HOUR, SECOND, T0, keyPair, makeIntermediate, makeLeaf, makeRoot, type SpecOverrides, type TestCa } from '../../support/certs.ts';

const TD = TrustDomain.parse('example.org');
const ID = 'spiffe://example.org/workload';
const root = makeRoot('example.org');
const INTER_SUBJECT = [
  { type: 'O', value: 'SPIFFE' },
  { type: 'CN', value: 'example.org intermediate' },
];
const inter = makeIntermediate(root, 'example.org', { subject: INTER_SUBJECT });
const otherRoot = makeRoot('other.org');

function bundles(...entries: Array<[string, TestCa[]]>): X509BundleSet {
  return X509BundleSet.of(entries.map(([td, cas]) => X509Bundle.fromDer(TrustDomain.parse(td), Buffer.concat(cas.map((c) => c.der)))));
}

const trusted = bundles(['example.org', [root]], ['other.org', [otherRoot]]);

function rejects(code: PeerVerificationErrorCode) {
  return (err: unknown) => {
    assert.ok(err instanceof PeerVerificationError, `expected PeerVerificationError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.reason, code.slice('x509svid.'.length));
    assert.match(err.message, /^x509svid: /);
    return true;
  };
}

test('verifyX509SvidChain accepts leaf → root and leaf → intermediate → root', () => {
  const direct = makeLeaf(root, ID);
  const r1 = verifyX509SvidChain([direct.der], trusted, { at: T0 });
  assert.equal(r1.id.toString(), ID);
  assert.deepEqual(r1.verifiedChain.map((c) => c.der), [direct.der, root.der]);
  const viaInter = makeLeaf(inter, ID);
  const r2 = verifyX509SvidChain([viaInter.der, inter.der], trusted, { at: new Date(T0) });
  assert.deepEqual(r2.verifiedChain.map((c) => c.der), [viaInter.der, inter.der, root.der]);
  // A peer that also sends the root is fine: the bundle copy is the anchor.
  const r3 = verifyX509SvidChain([viaInter.der, inter.der, root.der], trusted, { at: T0 });
  assert.equal(r3.verifiedChain.length, 3);
});

// Helpers that break one thing at a time; every other property stays valid,
// so each row passes if its check is removed.
const leafRow = (overrides: SpecOverrides, id = ID) => () => [makeLeaf(inter, id, overrides).der, inter.der];
const interRow = (overrides: SpecOverrides) => () => {
  const ca = makeIntermediate(root, 'example.org', overrides);
  return [makeLeaf(ca, ID).der, ca.der];
};
const rootRow = (overrides: SpecOverrides) => () => {
  const r = makeRoot('example.org', overrides);
  return { chain: [makeLeaf(r, ID).der], bundles: bundles(['example.org', [r]]) };
};

const UNKNOWN_CRITICAL = [{ oid: '1.3.6.1.4.1.55555.7', critical: true, value: Buffer.from([0x05, 0x00]) }];

const rows: Array<{ rule: string; code: PeerVerificationErrorCode; chain: () => Buffer[] | { chain: Buffer[]; bundles: X509BundleSource }; at?: number }> = [
  { rule: 'peer presented certificates', code: 'x509svid.no_certificates', chain: () => [] },
  { rule: 'certificates are DER', code: 'x509svid.malformed', chain: () => [makeLeaf(inter).der, Buffer.from([0x30, 0x00])] },
  { rule: 'leaf has a URI SAN', code: 'x509svid.no_uri_san', chain: leafRow({ uriSans: [], dnsSans: ['x.example'] }) },
  { rule: 'leaf has one URI SAN', code: 'x509svid.multiple_uri_sans', chain: leafRow({ uriSans: [ID, 'spiffe://example.org/admin'] }) },
  { rule: 'empty subject needs a critical SAN', code: 'x509svid.san_not_critical', chain: leafRow({ subject: [], subjectAltNameCritical: false }) },
  { rule: 'URI SAN is a SPIFFE ID', code: 'x509svid.bad_spiffe_id', chain: leafRow({ uriSans: ['spiffe://example.org/a/../admin'] }) },
  { rule: 'leaf ID has a non-root path (stricter than GS Verify)', code: 'x509svid.root_path', chain: leafRow({ uriSans: ['spiffe://example.org'] }) },
  { rule: 'leaf is not a CA', code: 'x509svid.leaf_is_ca', chain: leafRow({ basicConstraints: { ca: true } }) },
  { rule: 'leaf has keyUsage', code: 'x509svid.key_usage_missing', chain: leafRow({ keyUsage: undefined }) },
  { rule: 'leaf keyUsage is critical', code: 'x509svid.key_usage_not_critical', chain: leafRow({ keyUsage: { usages: ['digitalSignature'], critical: false } }) },
  { rule: 'leaf has digitalSignature (stricter than GS Verify)', code: 'x509svid.leaf_no_digital_signature', chain: leafRow({ keyUsage: { usages: ['keyAgreement'] } }) },
  { rule: 'leaf lacks keyCertSign', code: 'x509svid.leaf_key_cert_sign', chain: leafRow({ keyUsage: { usages: ['digitalSignature', 'keyCertSign'] } }) },
  { rule: 'leaf lacks cRLSign', code: 'x509svid.leaf_crl_sign', chain: leafRow({ keyUsage: { usages: ['digitalSignature', 'cRLSign'] } }) },
  { rule: "bundle exists for the peer's trust domain", code: 'x509svid.no_bundle', chain: () => [makeLeaf(makeRoot('third.org'), 'spiffe://third.org/x').der] },
  { rule: 'self-signed leaf with the right ID is not trusted', code: 'x509svid.unknown_authority', chain: () => [makeLeaf('self', ID).der] },
  {
    rule: 'issuer name alone is not enough: signature must verify',
    code: 'x509svid.unknown_authority',
    chain: () => {
      // A forged intermediate: same subject as the presented one, different key.
      const forged = makeIntermediate(root, 'example.org', { subject: INTER_SUBJECT });
      return [makeLeaf(forged, ID).der, inter.der];
    },
  },
  {
    rule: 'issuer name must chain (RFC 5280 §6.1.3), not just the key',
    code: 'x509svid.unknown_authority',
    chain: () => {
      // Signed with the root's key, but naming an issuer that is not the root's subject.
      const alias = makeRoot('example.org', { subject: [{ type: 'CN', value: 'alias' }] }, { privateKey: root.privateKey, publicKey: root.certificate.publicKey });
      return [makeLeaf(alias, ID, { authorityKeyId: false }).der];
    },
  },
  {
    rule: 'intermediate must be presented',
    code: 'x509svid.unknown_authority',
    chain: () => [makeLeaf(inter, ID).der],
  },
  { rule: 'leaf not expired', code: 'x509svid.expired', chain: leafRow({ notAfter: new Date(T0 - SECOND) }) },
  { rule: 'leaf already valid', code: 'x509svid.not_yet_valid', chain: leafRow({ notBefore: new Date(T0 + SECOND) }) },
  { rule: 'intermediate not expired', code: 'x509svid.expired', chain: interRow({ notAfter: new Date(T0 - SECOND) }) },
  { rule: 'intermediate already valid', code: 'x509svid.not_yet_valid', chain: interRow({ notBefore: new Date(T0 + SECOND) }) },
  { rule: 'bundle root not expired', code: 'x509svid.expired', chain: rootRow({ notAfter: new Date(T0 - SECOND) }) },
  { rule: 'bundle root already valid', code: 'x509svid.not_yet_valid', chain: rootRow({ notBefore: new Date(T0 + SECOND) }) },
  { rule: 'no leeway after notAfter', code: 'x509svid.expired', chain: leafRow({ notAfter: new Date(T0) }), at: T0 + 1 },
  { rule: 'intermediate is a CA', code: 'x509svid.intermediate_not_ca', chain: interRow({ basicConstraints: { ca: false } }) },
  { rule: 'intermediate has basicConstraints', code: 'x509svid.intermediate_not_ca', chain: interRow({ basicConstraints: undefined }) },
  { rule: 'intermediate has keyUsage', code: 'x509svid.key_usage_missing', chain: interRow({ keyUsage: undefined }) },
  { rule: 'intermediate keyUsage critical', code: 'x509svid.key_usage_not_critical', chain: interRow({ keyUsage: { usages: ['keyCertSign'], critical: false } }) },
  { rule: 'intermediate has keyCertSign (stricter than GS Verify)', code: 'x509svid.intermediate_no_key_cert_sign', chain: interRow({ keyUsage: { usages: ['cRLSign'] } }) },
  {
    rule: 'root pathLen 0 forbids an intermediate',
    code: 'x509svid.path_len_exceeded',
    chain: () => {
      const r = makeRoot('example.org', { basicConstraints: { ca: true, pathLen: 0 } });
      const i = makeIntermediate(r);
      return { chain: [makeLeaf(i, ID).der, i.der], bundles: bundles(['example.org', [r]]) };
    },
  },
  {
    rule: 'intermediate pathLen 0 forbids another intermediate',
    code: 'x509svid.path_len_exceeded',
    chain: () => {
      const i1 = makeIntermediate(root, 'example.org', { basicConstraints: { ca: true, pathLen: 0 } });
      const i2 = makeIntermediate(i1);
      return [makeLeaf(i2, ID).der, i2.der, i1.der];
    },
  },
  { rule: 'leaf has no unhandled critical extension', code: 'x509svid.unhandled_critical_extension', chain: leafRow({ extraExtensions: UNKNOWN_CRITICAL }) },
  { rule: 'intermediate has no unhandled critical extension', code: 'x509svid.unhandled_critical_extension', chain: interRow({ extraExtensions: UNKNOWN_CRITICAL }) },
  { rule: 'root has no unhandled critical extension', code: 'x509svid.unhandled_critical_extension', chain: rootRow({ extraExtensions: UNKNOWN_CRITICAL }) },
  { rule: 'URI permitted subtree', code: 'x509svid.name_constraint_violation', chain: interRow({ nameConstraints: { permittedUris: ['example.net'] } }) },
  { rule: 'URI excluded subtree', code: 'x509svid.name_constraint_violation', chain: interRow({ nameConstraints: { excludedUris: ['example.org'] } }) },
  { rule: 'URI host constraint is exact (RFC 5280; Go also matches subdomains)', code: 'x509svid.name_constraint_violation', chain: interRow({ nameConstraints: { permittedUris: ['org'] } }) },
  { rule: 'URI ".domain" constraint excludes the domain itself', code: 'x509svid.name_constraint_violation', chain: interRow({ nameConstraints: { permittedUris: ['.example.org'] } }) },
  { rule: 'root name constraints apply to the leaf', code: 'x509svid.name_constraint_violation', chain: rootRow({ nameConstraints: { excludedUris: ['example.org'] } }) },
  {
    rule: 'root name constraints apply to the intermediate',
    code: 'x509svid.name_constraint_violation',
    chain: () => {
      const r = makeRoot('example.org', { nameConstraints: { excludedUris: ['.example.org'] } });
      const i = makeIntermediate(r, 'ca.example.org');
      return { chain: [makeLeaf(i, ID).der, i.der], bundles: bundles(['example.org', [r]]) };
    },
  },
  {
    rule: 'DNS permitted subtree',
    code: 'x509svid.name_constraint_violation',
    chain: () => {
      const ca = makeIntermediate(root, 'example.org', { nameConstraints: { permittedDns: ['svc.local'] } });
      return [makeLeaf(ca, ID, { dnsSans: ['evil.example'] }).der, ca.der];
    },
  },
  {
    rule: 'unsupported constraint forms fail closed',
    code: 'x509svid.name_constraint_violation',
    chain: () => {
      // A directoryName subtree; the leaf has a subject (C=US, O=SPIRE) it would apply to.
      const value = AsnSerializer.serialize(
        new NameConstraints({ permittedSubtrees: new GeneralSubtrees([new GeneralSubtree({ base: new GeneralName({ directoryName: new Name([]) }) })]) }),
      );
      const ca = makeIntermediate(root, 'example.org', { extraExtensions: [{ oid: '2.5.29.30', critical: true, value: Buffer.from(value) }] });
      return [makeLeaf(ca, ID).der, ca.der];
    },
  },
];

for (const row of rows) {
  test(`verifyX509SvidChain rule: ${row.rule} → ${row.code}`, () => {
    const made = row.chain();
    const { chain, bundles: source } = Array.isArray(made) ? { chain: made, bundles: trusted } : made;
    assert.throws(() => verifyX509SvidChain(chain, source, { at: row.at ?? T0 }), rejects(row.code));
  });
}

test('name constraints that match are accepted', () => {
  const cases: SpecOverrides[] = [
    { nameConstraints: { permittedUris: ['example.org'] } },
    { nameConstraints: { permittedUris: ['example.org'], excludedUris: ['.example.org'] } },
    { nameConstraints: { permittedDns: ['svc.local'] } },
    { nameConstraints: { excludedDns: ['evil.example'] } },
  ];
  for (const overrides of cases) {
    const ca = makeIntermediate(root, 'example.org', overrides);
    const leaf = makeLeaf(ca, ID, { dnsSans: ['a.svc.local'] });
    assert.equal(verifyX509SvidChain([leaf.der, ca.der], trusted, { at: T0 }).id.toString(), ID, JSON.stringify(overrides));
  }
});

test('validity boundaries are inclusive and there is no leeway', () => {
  const leaf = makeLeaf(inter, ID, { notBefore: new Date(T0), notAfter: new Date(T0 + HOUR) });
  const chain = [leaf.der, inter.der];
  verifyX509SvidChain(chain, trusted, { at: T0 });
  verifyX509SvidChain(chain, trusted, { at: T0 + HOUR });
  assert.throws(() => verifyX509SvidChain(chain, trusted, { at: T0 - 1 }), rejects('x509svid.not_yet_valid'));
  assert.throws(() => verifyX509SvidChain(chain, trusted, { at: T0 + HOUR + 1 }), rejects('x509svid.expired'));
  // Without `at`, the clock decides.
  verifyX509SvidChain(chain, trusted, { clock: new ManualClock(T0 + 5) });
  assert.throws(() => verifyX509SvidChain(chain, trusted, { clock: new ManualClock(T0 + 2 * HOUR) }), rejects('x509svid.expired'));
});

test('cross-trust-domain confusion: a leaf claiming td A signed by td B is unknown_authority', () => {
  // The set trusts both other.org and example.org; the leaf claims example.org but chains to other.org's root.
  const leaf = makeLeaf(otherRoot, ID);
  assert.throws(() => verifyX509SvidChain([leaf.der], trusted, { at: T0 }), (err: unknown) => {
    rejects('x509svid.unknown_authority')(err);
    assert.equal((err as PeerVerificationError).peerId?.toString(), ID);
    return true;
  });
  // Same through an other.org intermediate that claims to belong to example.org.
  const foreignInter = makeIntermediate(otherRoot, 'example.org');
  assert.throws(() => verifyX509SvidChain([makeLeaf(foreignInter, ID).der, foreignInter.der], trusted, { at: T0 }), rejects('x509svid.unknown_authority'));
});

test('a bundle with two roots (CA rotation) verifies SVIDs from either', () => {
  // Both roots share the subject, as SPIRE's successive CAs do; only the key differs.
  const subject = [
    { type: 'C', value: 'US' },
    { type: 'O', value: 'SPIFFE' },
  ];
  const oldRoot = makeRoot('example.org', { subject });
  const newRoot = makeRoot('example.org', { subject });
  const set = bundles(['example.org', [oldRoot, newRoot]]);
  for (const r of [oldRoot, newRoot]) {
    const leaf = makeLeaf(r, ID);
    const result = verifyX509SvidChain([leaf.der], set, { at: T0 });
    assert.ok(result.verifiedChain[1]!.der.equals(r.der));
  }
  // Without AKI the verifier must still find the right root by signature.
  const noAki = makeLeaf(newRoot, ID, { authorityKeyId: false });
  assert.ok(verifyX509SvidChain([noAki.der], set, { at: T0 }).verifiedChain[1]!.der.equals(newRoot.der));
  // An expired old root does not hide a valid path through the new one.
  const expiredOld = makeRoot('example.org', { subject, notAfter: new Date(T0 - SECOND) }, keyPair());
  const leaf = makeLeaf(newRoot, ID);
  assert.ok(verifyX509SvidChain([leaf.der], bundles(['example.org', [expiredOld, newRoot]]), { at: T0 }));
});

test('an empty bundle trusts nothing', () => {
  const empty = X509BundleSet.of([X509Bundle.fromDer(TD, Buffer.alloc(0))]);
  assert.throws(() => verifyX509SvidChain([makeLeaf(root, ID).der], empty, { at: T0 }), rejects('x509svid.unknown_authority'));
});

test('a leaf that is itself in the bundle is not accepted', () => {
  const leaf = makeLeaf('self', ID);
  const pinned = X509BundleSet.of([X509Bundle.fromDer(TD, leaf.der)]);
  assert.throws(() => verifyX509SvidChain([leaf.der], pinned, { at: T0 }), rejects('x509svid.unknown_authority'));
});

test('presented garbage intermediates and over-long chains are bounded', () => {
  const leaf = makeLeaf(inter, ID);
  const decoys = Array.from({ length: 10 }, () => makeIntermediate(root, 'example.org', { subject: INTER_SUBJECT }).der);
  // Decoys share the issuer name; the real intermediate is last. The search still finds it, with or without AKI.
  assert.equal(verifyX509SvidChain([leaf.der, ...decoys, inter.der], trusted, { at: T0 }).verifiedChain.length, 3);
  const noAki = makeLeaf(inter, ID, { authorityKeyId: false });
  assert.equal(verifyX509SvidChain([noAki.der, ...decoys, inter.der], trusted, { at: T0 }).verifiedChain.length, 3);
  assert.throws(() => verifyX509SvidChain(Array.from({ length: 17 }, () => leaf.der), trusted, { at: T0 }), rejects('x509svid.malformed'));
});

test('CA-issued SVIDs of every key type verify, with and without an intermediate', async () => {
  const clock = new ManualClock(T0);
  const id = SpiffeId.parse(ID);
  for (const keyType of ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-4096'] as KeyType[]) {
    for (const intermediate of [false, true]) {
      if (keyType === 'rsa-4096' && intermediate) continue; // RSA-4096 key generation is slow; one case is enough.
      const ca = await CertificateAuthority.create({ trustDomain: TD, keyType, clock, intermediate });
      const issued = await ca.issueX509Svid({ id, ttlMs: HOUR });
      const chain = splitDerCertificates(issued.chainDer);
      assert.equal(chain.length, intermediate ? 2 : 1);
      const result = verifyX509SvidChain(chain, X509BundleSet.of([ca.bundle()]), { clock });
      assert.equal(result.id.toString(), ID, `${keyType} intermediate=${intermediate}`);
      assert.equal(result.verifiedChain.length, intermediate ? 3 : 2);
    }
  }
});
