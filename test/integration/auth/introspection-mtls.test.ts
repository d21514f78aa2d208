/**
 * RFC 8705 against a real authorization server (oidc-provider over HTTPS):
 * the sidecar authenticates to the introspection endpoint with its X509-SVID
 * (tls_client_auth, the SPIFFE ID registered as tls_client_auth_san_uri),
 * picks up a rotated certificate, and enforces certificate-bound tokens
 * issued over mTLS.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ManualClock } from '../../../sidecar/core/index.ts';
import { toPem } from '../../../sidecar/x509/index.ts';
import { IntrospectionVerifier } from '../../../sidecar/auth/introspection-verifier.ts';
import type { TlsClientCertificate } from '../../../sidecar/auth/introspection-options.ts';
import type { TokenOutcome } from '../../../sidecar/auth/verified-token.ts';
import { makeLeaf, makeRoot, type TestCa, type TestLeaf } from '../../support/certs.ts';
import { startOidcProvider, type OidcProvider } from '../../support/oidc-provider.ts';

const SIDECAR_ID = 'spiffe://example.org/ns/shop/sa/sidecar';
const HOUR = 3_600_000;
const validity = () => ({ notBefore: new Date(Date.now() - HOUR), notAfter: new Date(Date.now() + HOUR) });
/** subjectAltName = SEQUENCE { [7] 127.0.0.1 } (RFC 5280 §4.2.1.6): the builder has no IP SAN knob. */
const IP_SAN_127 = { oid: '2.5.29.17', critical: false, value: Buffer.from('300687047f000001', 'hex') };

let root: TestCa;
let rootPem: string;
let svid: TestLeaf;
let as: OidcProvider;
const verifiers: IntrospectionVerifier[] = [];

const creds = (leaf: TestLeaf): TlsClientCertificate => ({
  certChainPem: toPem(leaf.der, 'CERTIFICATE'),
  keyPem: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
});
const sha256Hex = (der: Buffer): string => createHash('sha256').update(der).digest('hex');

before(async () => {
  root = makeRoot('example.org', validity());
  rootPem = toPem(root.der, 'CERTIFICATE');
  svid = makeLeaf(root, SIDECAR_ID, validity());
  const server = makeLeaf(root, 'spiffe://example.org/as', { ...validity(), uriSans: undefined, extraExtensions: [IP_SAN_127] });
  const s = creds(server);
  as = await startOidcProvider({ tls: { certPem: s.certChainPem, keyPem: s.keyPem, caPem: rootPem, clientCaPem: rootPem, mtlsClientSanUri: SIDECAR_ID } });
});
after(async () => {
  await Promise.all(verifiers.map((v) => v.close()));
  await as?.stop();
});

function verifier(current: () => TlsClientCertificate, trustAs = true): IntrospectionVerifier {
  const v = new IntrospectionVerifier(
    { provider: 'mtls', endpoint: as.introspectionEndpoint, issuer: as.issuer, clientAuth: { method: 'tls_client_auth', clientId: as.clients.sidecarMtls.id, clientCertificate: current }, ca: trustAs ? rootPem : undefined },
    { clock: new ManualClock(Date.now()) },
  );
  verifiers.push(v);
  return v;
}

function reasonOf(o: TokenOutcome): string {
  return o.kind === 'invalid' || o.kind === 'unavailable' ? `${o.kind}/${o.reason}` : o.kind;
}

test('tls_client_auth with the SVID: a token bound to that SVID is valid from it and only from it', async () => {
  const mine = creds(svid);
  const { access_token } = await as.clientCredentials(as.clients.appMtls, { scope: 'read', tlsClient: { certPem: mine.certChainPem, keyPem: mine.keyPem } });
  const v = verifier(() => mine);
  const peer = sha256Hex(svid.der);
  const o = await v.verify(access_token, peer);
  assert.equal(o.kind, 'valid', JSON.stringify(o));
  assert.equal(o.kind === 'valid' && o.token.certThumbprint, Buffer.from(peer, 'hex').toString('base64url'));
  assert.equal(reasonOf(v.verify(access_token, sha256Hex(root.der)) as TokenOutcome), 'invalid/cert_mismatch');
});

test('a client certificate with another SPIFFE ID is refused by the AS: fail closed', async () => {
  const intruder = creds(makeLeaf(root, 'spiffe://example.org/ns/shop/sa/intruder', validity()));
  const token = await as.issueToken({ format: 'opaque', clientId: 'app', subject: 'alice', scope: 'read' });
  const o = await verifier(() => intruder).verify(token, undefined);
  assert.equal(reasonOf(o), 'unavailable/introspection_unavailable');
  assert.match((o as { detail: string }).detail, /answered 401/);
});

test('a rotated certificate is used for the next connection', async () => {
  let current = creds(svid);
  const v = verifier(() => current);
  const t1 = await as.issueToken({ format: 'opaque', clientId: 'app', subject: 'bob', scope: 'read' });
  assert.equal(reasonOf(await v.verify(t1, undefined)), 'valid');
  // A certificate the AS does not trust: if it is really used, the AS refuses.
  current = creds(makeLeaf('self', SIDECAR_ID, validity()));
  const t2 = await as.issueToken({ format: 'opaque', clientId: 'app', subject: 'bob', scope: 'read' });
  assert.equal(reasonOf(await v.verify(t2, undefined)), 'unavailable/introspection_unavailable');
  current = creds(makeLeaf(root, SIDECAR_ID, validity()));
  assert.equal(reasonOf(await v.verify(t2, undefined)), 'valid');
});

test('without the CA of the AS the TLS handshake fails: fail closed', async () => {
  const token = await as.issueToken({ format: 'opaque', clientId: 'app', subject: 'carol', scope: 'read' });
  const o = await verifier(() => creds(svid), false).verify(token, undefined);
  assert.equal(reasonOf(o), 'unavailable/introspection_unavailable');
  assert.match((o as { detail: string }).detail, /certificate/i);
});
