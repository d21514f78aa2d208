import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Bundle, X509BundleError } from '../../../sidecar/bundle/index.ts';
import { TrustDomain } from '../../../sidecar/spiffe/index.ts';
import { CertificateError, toPem } from '../../../sidecar/x509/index.ts';
import { makeRoot } from '../../support/certs.ts';

const TD = TrustDomain.parse('example.org');
const a = makeRoot();
const b = makeRoot();

function malformed(err: unknown): boolean {
  assert.ok(err instanceof X509BundleError, String(err));
  assert.equal(err.code, 'x509bundle.malformed');
  assert.match(err.message, /^x509bundle: bundle for trust domain "example.org" is malformed: certificate: /);
  assert.ok(err.cause instanceof CertificateError);
  return true;
}

test('fromDer splits concatenated DER; empty input is an empty bundle', () => {
  const bundle = X509Bundle.fromDer(TD, Buffer.concat([a.der, b.der]));
  assert.equal(bundle.trustDomain, TD);
  assert.deepEqual(bundle.authorities.map((c) => c.der), [a.der, b.der]);
  assert.equal(bundle.authorities[0]!.isCa, true);
  assert.ok(bundle.toDer().equals(Buffer.concat([a.der, b.der])));
  assert.equal(X509Bundle.fromDer(TD, Buffer.alloc(0)).authorities.length, 0);
  assert.ok(Object.isFrozen(bundle) && Object.isFrozen(bundle.authorities));
});

test('fromPem reads CERTIFICATE blocks and toPem writes them back', () => {
  const pem = toPem(a.der, 'CERTIFICATE') + toPem(b.der, 'CERTIFICATE');
  const bundle = X509Bundle.fromPem(TD, pem);
  assert.equal(bundle.toPem(), pem);
  assert.ok(bundle.equals(X509Bundle.fromDer(TD, Buffer.concat([a.der, b.der]))));
});

test('duplicate certificates are kept once', () => {
  assert.equal(X509Bundle.fromDer(TD, Buffer.concat([a.der, a.der, b.der])).authorities.length, 2);
});

test('malformed input is x509bundle.malformed wrapping the CertificateError', () => {
  assert.throws(() => X509Bundle.fromDer(TD, Buffer.concat([a.der, Buffer.from([0x30, 0x05, 1])])), malformed);
  assert.throws(() => X509Bundle.fromDer(TD, Buffer.concat([a.der, Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00])])), malformed);
  assert.throws(() => X509Bundle.fromPem(TD, '-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n'), malformed);
});

test('equals compares trust domain and certificates in order', () => {
  const ab = X509Bundle.fromDer(TD, Buffer.concat([a.der, b.der]));
  assert.ok(ab.equals(X509Bundle.fromCertificates(TD, [a.certificate, b.certificate])));
  assert.ok(!ab.equals(X509Bundle.fromDer(TD, Buffer.concat([b.der, a.der]))));
  assert.ok(!ab.equals(X509Bundle.fromDer(TD, a.der)));
  assert.ok(!ab.equals(X509Bundle.fromDer(TrustDomain.parse('other.org'), Buffer.concat([a.der, b.der]))));
});
