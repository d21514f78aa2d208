/**
 * Phantom-token mode against a real authorization server (oidc-provider):
 * the app gets a JWT the sidecar has verified with the issuer's published
 * keys, either the RFC 9701 signed introspection response or an RFC 9068
 * access token obtained by RFC 8693 token exchange. Key rotation, a forged
 * key set and a server that ignores the JWT request fail or recover as they
 * must.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../../../sidecar/core/index.ts';
import { IntrospectionVerifier } from '../../../sidecar/auth/introspection-verifier.ts';
import { PHANTOM_KEYS_MIN_REFETCH_MS } from '../../../sidecar/auth/introspection-key-set.ts';
import type { IntrospectionOptions } from '../../../sidecar/auth/introspection-options.ts';
import type { TokenOutcome, VerifiedToken } from '../../../sidecar/auth/verified-token.ts';
import { startOidcProvider, JWT_RESOURCE, OPAQUE_RESOURCE, type OidcProvider, type SidecarClientAuth } from '../../support/oidc-provider.ts';

let as: OidcProvider;
let clientAuth: SidecarClientAuth;
const verifiers: IntrospectionVerifier[] = [];
const servers: Server[] = [];

before(async () => {
  as = await startOidcProvider();
  clientAuth = as.sidecarClientAuth('sidecar.secret');
});
after(async () => {
  await Promise.all(verifiers.map((v) => v.close()));
  for (const s of servers) s.close();
  await as?.stop();
});

function verifier(clock: ManualClock, extra: Partial<IntrospectionOptions>): IntrospectionVerifier {
  const v = new IntrospectionVerifier(
    {
      provider: 'phantom',
      endpoint: as.introspectionEndpoint,
      issuer: as.issuer,
      clientAuth,
      phantom: true,
      ...extra,
    },
    { clock },
  );
  verifiers.push(v);
  return v;
}

function valid(o: TokenOutcome): VerifiedToken {
  assert.equal(o.kind, 'valid', `expected valid, got ${JSON.stringify(o)}`);
  return (o as Extract<TokenOutcome, { kind: 'valid' }>).token;
}

function unavailable(o: TokenOutcome, detail: RegExp): void {
  assert.equal(o.kind, 'unavailable', `expected unavailable, got ${JSON.stringify(o)}`);
  assert.match((o as { detail: string }).detail, detail);
}

function decode(jwt: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = jwt.split('.');
  return { header: JSON.parse(Buffer.from(h!, 'base64url').toString()), payload: JSON.parse(Buffer.from(p!, 'base64url').toString()) };
}

const userToken = (subject: string): Promise<string> => as.issueToken({ format: 'opaque', clientId: 'app', subject, scope: 'read', claims: { tier: 'gold' } });

test('jwt-introspection: the app gets the verified RFC 9701 response JWT, and the claims come from inside it', async () => {
  const t = valid(await verifier(new ManualClock(Date.now()), {}).verify(await userToken('alice'), undefined));
  assert.equal(t.subject, 'alice');
  assert.equal(t.claims['tier'], 'gold');
  assert.ok(t.jwt !== undefined);
  const { header, payload } = decode(t.jwt);
  assert.equal(header['typ'], 'token-introspection+jwt');
  assert.equal(payload['iss'], as.issuer);
  assert.equal(payload['aud'], as.clients.sidecar.id);
  assert.equal((payload['token_introspection'] as Record<string, unknown>)['sub'], 'alice');
});

test('token-exchange: the app gets a verified RFC 9068 at+jwt for the same subject and client', async () => {
  const v = verifier(new ManualClock(Date.now()), { phantomSource: 'token-exchange', exchangeEndpoint: as.tokenEndpoint, exchangeAudience: JWT_RESOURCE });
  const t = valid(await v.verify(await userToken('bob'), undefined));
  assert.equal(t.kind, 'opaque');
  const { header, payload } = decode(t.jwt!);
  assert.equal(header['typ'], 'at+jwt');
  assert.equal(payload['sub'], 'bob');
  assert.equal(payload['client_id'], 'app');
  assert.equal(payload['aud'], JWT_RESOURCE);
  assert.equal(payload['tier'], 'gold');
});

test('token-exchange works for a client-credentials token (no subject)', async () => {
  const v = verifier(new ManualClock(Date.now()), { phantomSource: 'token-exchange', exchangeEndpoint: as.tokenEndpoint, exchangeAudience: JWT_RESOURCE });
  const { access_token } = await as.clientCredentials(as.clients.app, { scope: 'read' });
  const t = valid(await v.verify(access_token, undefined));
  assert.equal(t.subject, '');
  assert.equal(decode(t.jwt!).payload['sub'], 'app');
});

test('token-exchange refused by the AS (audience it will not mint JWTs for) fails closed', async () => {
  const v = verifier(new ManualClock(Date.now()), { phantomSource: 'token-exchange', exchangeEndpoint: as.tokenEndpoint, exchangeAudience: OPAQUE_RESOURCE });
  unavailable(await v.verify(await userToken('carol'), undefined), /token exchange answered 400/);
});

test('a server that answers plain JSON when a JWT was asked for is refused, never degraded to no JWT', async (t) => {
  const token = await userToken('dave');
  await as.setIntrospectionFault('ignore-jwt-accept');
  t.after(() => as.setIntrospectionFault('none'));
  unavailable(await verifier(new ManualClock(Date.now()), {}).verify(token, undefined), /RFC 9701.*got application\/json/);
});

test('key rotation: an unknown kid refetches the key set, at most once per minimum interval', async () => {
  const clock = new ManualClock(Date.now());
  const v = verifier(clock, {});
  valid(await v.verify(await userToken('erin'), undefined));
  const kid = await as.rotateKeys();
  const fresh = await userToken('erin2');
  // Just fetched: a kid we have not seen does not trigger another fetch yet.
  unavailable(await v.verify(fresh, undefined), /no published key has its "kid"/);
  clock.advance(PHANTOM_KEYS_MIN_REFETCH_MS);
  const t = valid(await v.verify(fresh, undefined));
  assert.equal(decode(t.jwt!).header['kid'], kid);
});

test('a key set with the right kid but another key: the signature does not verify, fail closed', async () => {
  const real = (await (await fetch(as.jwksUri)).json()) as { keys: Record<string, unknown>[] };
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
  const forged = JSON.stringify({ keys: real.keys.map((k) => ({ ...k, n: other.n, e: other.e })) });
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(forged));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  unavailable(await verifier(new ManualClock(Date.now()), { jwksUri }).verify(await userToken('frank'), undefined), /signature does not verify/);
});
