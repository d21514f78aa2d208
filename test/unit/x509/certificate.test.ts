import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCertificate } from '../../../sidecar/devagent/index.ts';
import {
  CertificateError,
  decodeCertificate,
  parsePemBlocks,
  parsePemCertificates,
  splitDerCertificates,
  toPem,
} from '../../../sidecar/x509/index.ts';
import { HOUR, T0, keyPair, leafSpec, makeLeaf, makeRoot } from '../../support/certs.ts';

const root = makeRoot('example.org', { basicConstraints: { ca: true, pathLen: 1 } });

function malformedAt(index: number) {
  return (err: unknown) => {
    assert.ok(err instanceof CertificateError, String(err));
    assert.equal(err.code, 'certificate.malformed');
    assert.equal(err.index, index);
    assert.match(err.message, new RegExp(`^certificate: (certificate|PEM block) ${index} `));
    return true;
  };
}

test('decodeCertificate exposes the SPIFFE-relevant facts of a leaf', () => {
  const leaf = makeLeaf(root, 'spiffe://example.org/web', { dnsSans: ['web.local', 'web'] });
  const c = leaf.certificate;
  assert.deepEqual(c.uriSans, ['spiffe://example.org/web']);
  assert.deepEqual(c.dnsSans, ['web.local', 'web']);
  assert.equal(c.isCa, false);
  assert.equal(c.basicConstraintsPresent, true);
  assert.equal(c.pathLen, undefined);
  assert.deepEqual(c.keyUsage, { critical: true, digitalSignature: true, keyEncipherment: true, keyAgreement: true, keyCertSign: false, cRLSign: false });
  assert.deepEqual(c.extKeyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  assert.equal(c.notBefore.getTime(), T0 - 10_000);
  assert.equal(c.notAfter.getTime(), T0 + HOUR);
  assert.deepEqual(c.unhandledCriticalExtensions, []);
  assert.ok(c.authorityKeyId?.equals(root.certificate.subjectKeyId!));
  assert.ok(c.issuerDer.equals(root.certificate.subjectDer));
  assert.equal(c.subject, 'C=US\nO=SPIRE');
  assert.ok(c.x509.verify(root.certificate.publicKey));
  assert.ok(Object.isFrozen(c));
});

test('decodeCertificate reads CA facts: cA, pathLen, keyCertSign, name constraints', () => {
  const ca = makeRoot('example.org', {
    basicConstraints: { ca: true, pathLen: 0 },
    nameConstraints: { permittedUris: ['example.org'], excludedDns: ['.bad.example'] },
  });
  const c = ca.certificate;
  assert.equal(c.isCa, true);
  assert.equal(c.pathLen, 0);
  assert.equal(c.keyUsage?.keyCertSign, true);
  assert.equal(c.keyUsage?.cRLSign, true);
  assert.deepEqual(c.nameConstraints, {
    critical: true,
    permitted: [{ type: 'uri', value: 'example.org' }],
    excluded: [{ type: 'dns', value: '.bad.example' }],
  });
  assert.ok(c.subjectKeyId && c.subjectKeyId.length === 20);
});

test('decodeCertificate tells absent extensions and criticality apart', () => {
  const none = makeLeaf(root, 'spiffe://example.org/a', { keyUsage: undefined, basicConstraints: undefined, extKeyUsage: undefined });
  assert.equal(none.certificate.keyUsage, undefined);
  assert.equal(none.certificate.basicConstraintsPresent, false);
  assert.equal(none.certificate.isCa, false);
  assert.equal(none.certificate.extKeyUsage, undefined);
  const soft = makeLeaf(root, 'spiffe://example.org/a', { keyUsage: { usages: ['digitalSignature'], critical: false } });
  assert.equal(soft.certificate.keyUsage?.critical, false);
});

test('decodeCertificate lists unhandled critical extensions only', () => {
  const leaf = makeLeaf(root, 'spiffe://example.org/a', {
    extraExtensions: [
      { oid: '1.3.6.1.4.1.55555.1', critical: true, value: Buffer.from([0x05, 0x00]) },
      { oid: '1.3.6.1.4.1.55555.2', critical: false, value: Buffer.from([0x05, 0x00]) },
    ],
  });
  assert.deepEqual(leaf.certificate.unhandledCriticalExtensions, ['1.3.6.1.4.1.55555.1']);
});

test('decodeCertificate rejects what is not exactly one well-formed certificate', () => {
  const good = makeLeaf(root).der;
  const dup = buildCertificate(
    leafSpec('spiffe://example.org/a', {
      extraExtensions: [{ oid: '2.5.29.19', critical: true, value: Buffer.from([0x30, 0x00]) }],
    }),
    keyPair().publicKey,
    root,
  );
  const rows: Array<[string, Uint8Array]> = [
    ['empty', Buffer.alloc(0)],
    ['not a SEQUENCE', Buffer.from([0x02, 0x01, 0x00])],
    ['truncated', good.subarray(0, good.length - 1)],
    ['trailing bytes', Buffer.concat([good, Buffer.from([0])])],
    ['indefinite length', Buffer.from([0x30, 0x80, 0x00, 0x00])],
    ['a SEQUENCE that is no certificate', Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00])],
    ['duplicate extension', dup],
  ];
  for (const [name, der] of rows) {
    assert.throws(() => decodeCertificate(der, 3), malformedAt(3), name);
  }
});

test('splitDerCertificates splits concatenated DER and names the bad index', () => {
  const a = makeLeaf(root).der;
  const b = root.der;
  assert.deepEqual(splitDerCertificates(Buffer.alloc(0)), []);
  const parts = splitDerCertificates(Buffer.concat([a, b, a]));
  assert.equal(parts.length, 3);
  assert.ok(parts[0]!.equals(a) && parts[1]!.equals(b) && parts[2]!.equals(a));
  assert.throws(() => splitDerCertificates(Buffer.concat([a, b.subarray(0, 10)])), malformedAt(1));
  assert.throws(() => splitDerCertificates(Buffer.concat([a, b, Buffer.from([0x04, 0x00])])), malformedAt(2));
});

test('toPem and parsePemCertificates round-trip, skipping other block types', () => {
  const a = makeLeaf(root).der;
  const pem = `comment line\n${toPem(a, 'CERTIFICATE')}${toPem(Buffer.from([1, 2, 3]), 'PRIVATE KEY')}\n${toPem(root.der, 'CERTIFICATE')}`;
  const certs = parsePemCertificates(pem);
  assert.equal(certs.length, 2);
  assert.ok(certs[0]!.equals(a) && certs[1]!.equals(root.der));
  assert.ok(toPem(a, 'CERTIFICATE').split('\n').every((l) => l.length <= 64));
  assert.deepEqual(parsePemCertificates('no pem here'), []);
});

test('PEM errors name the block or certificate', () => {
  const a = toPem(makeLeaf(root).der, 'CERTIFICATE');
  const rows: Array<[string, string, number]> = [
    ['unterminated', `${a}-----BEGIN CERTIFICATE-----\nAAAA\n`, 1],
    ['bad base64', `${a}-----BEGIN CERTIFICATE-----\nA*AA\n-----END CERTIFICATE-----\n`, 1],
    ['headers', `-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END CERTIFICATE-----\n`, 0],
    ['not one DER element', `${a}${toPem(Buffer.from([0x30, 0x00, 0x30, 0x00]), 'CERTIFICATE')}`, 1],
  ];
  for (const [name, pem, index] of rows) assert.throws(() => parsePemCertificates(pem), malformedAt(index), name);
  assert.deepEqual(
    parsePemBlocks(toPem(Buffer.from('hi'), 'X')).map((b) => [b.label, b.der.toString()]),
    [['X', 'hi']],
  );
});
