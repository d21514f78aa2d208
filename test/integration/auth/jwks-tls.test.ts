/**
 * JWKS over https against a real local TLS server whose certificate comes
 * from a test CA: trusted only through the provider's `ca` option, never
 * through the system roots.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { toPem } from '../../../sidecar/x509/index.ts';
import { TokenAuthenticator } from '../../../sidecar/auth/index.ts';
import { keyPair, makeLeaf, makeRoot } from '../../support/certs.ts';
import { jwks, publicJwk } from '../../support/jwt-sign.ts';
import { JwksServer, waitFor } from './jwks-server.ts';

const HOUR = 3_600_000;
const now = Date.now();
const validity = { notBefore: new Date(now - HOUR), notAfter: new Date(now + HOUR) };
const root = makeRoot('example.org', validity);
const otherRoot = makeRoot('other.org', validity);
const serverKey = keyPair();
const leaf = makeLeaf(root, 'spiffe://example.org/issuer', { ...validity, uriSans: undefined, dnsSans: ['localhost'] }, serverKey);
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });

let server: JwksServer;
const opened: TokenAuthenticator[] = [];

before(async () => {
  server = await JwksServer.start({ key: serverKey.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, cert: toPem(leaf.der, 'CERTIFICATE') });
  server.route('/jwks', { body: jwks(publicJwk(key.publicKey, { kid: 'k' })) });
});

after(async () => {
  await Promise.all(opened.map((a) => a.close()));
  await server.close();
});

function start(ca: string | undefined): TokenAuthenticator {
  const a = new TokenAuthenticator({
    providers: [{ name: 'tls', issuer: 'https://issuer.example', audiences: ['api'], jwksUri: server.url('/jwks', 'localhost'), ...(ca === undefined ? {} : { ca }) }],
  });
  opened.push(a);
  a.start();
  return a;
}

test('JWKS over TLS: loads keys from an issuer whose CA is configured', async () => {
  const a = start(toPem(root.der, 'CERTIFICATE'));
  const r = await a.ready(10_000);
  assert.equal(r.ready, true, JSON.stringify(r));
});

const refused: { name: string; ca: string | undefined }[] = [
  { name: 'no ca: the system roots do not trust the test CA', ca: undefined },
  { name: 'another CA', ca: toPem(otherRoot.der, 'CERTIFICATE') },
];
for (const row of refused) {
  test(`JWKS over TLS: refuses the issuer with ${row.name}`, async () => {
    const a = start(row.ca);
    await waitFor(() => a.status()[0]!.lastError !== undefined, 'the failed load');
    const s = a.status()[0]!;
    assert.equal(s.ready, false);
    assert.match(s.lastError!, /fetching the JWKS from "https:\/\/localhost:\d+\/jwks" failed/);
  });
}
