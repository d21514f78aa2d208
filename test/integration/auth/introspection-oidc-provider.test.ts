/**
 * IntrospectionVerifier against a real authorization server (oidc-provider
 * in a child process, test/support/oidc-provider.ts): RFC 7662 verdicts,
 * cache lifetimes driven by a ManualClock (no sleeping), single flight,
 * certificate binding, and fail-closed behaviour when the server is down or
 * misbehaves.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify as cryptoVerify, type JsonWebKey } from 'node:crypto';
import { ManualClock } from '../../../sidecar/core/index.ts';
import { IntrospectionVerifier } from '../../../sidecar/auth/introspection-verifier.ts';
import type { IntrospectionOptions } from '../../../sidecar/auth/introspection-options.ts';
import type { IntrospectionRequestResult } from '../../../sidecar/auth/introspection-observer.ts';
import type { TokenOutcome } from '../../../sidecar/auth/verified-token.ts';
import { startOidcProvider, JWT_RESOURCE, OPAQUE_RESOURCE, type IntrospectionFault, type OidcProvider } from '../../support/oidc-provider.ts';

const INTROSPECT = '/token/introspection';
let as: OidcProvider;
let secretFile: string;
let postSecretFile: string;
const verifiers: IntrospectionVerifier[] = [];

before(async () => {
  as = await startOidcProvider();
  secretFile = as.writeSecretFile('sidecar.secret', `${as.clients.sidecar.secret!}\n`);
  postSecretFile = as.writeSecretFile('sidecar-post.secret', as.clients.sidecarPost.secret!);
});
after(async () => {
  await Promise.all(verifiers.map((v) => v.close()));
  await as?.stop();
});

function verifier(clock: ManualClock, extra: Partial<IntrospectionOptions> = {}, observer?: { request(p: string, r: IntrospectionRequestResult): void; cacheHit(p: string): void }): IntrospectionVerifier {
  const v = new IntrospectionVerifier(
    {
      provider: 'oidc',
      endpoint: as.introspectionEndpoint,
      issuer: as.issuer,
      clientAuth: { method: 'client_secret_basic', clientId: as.clients.sidecar.id, clientSecretFile: secretFile },
      ...extra,
    },
    { clock, ...(observer ? { observer } : {}) },
  );
  verifiers.push(v);
  return v;
}

const now = (): ManualClock => new ManualClock(Date.now());

function valid(o: TokenOutcome): Extract<TokenOutcome, { kind: 'valid' }>['token'] {
  assert.equal(o.kind, 'valid', `expected valid, got ${JSON.stringify(o)}`);
  return (o as Extract<TokenOutcome, { kind: 'valid' }>).token;
}

test('an active opaque user token is accepted with its subject, client, scopes and claims', async () => {
  const token = await as.issueToken({ format: 'opaque', clientId: 'app', subject: 'alice', scope: 'read write', claims: { customer_id: 'c-42' } });
  const t = valid(await verifier(now()).verify(token, undefined));
  assert.equal(t.kind, 'opaque');
  assert.equal(t.provider, 'oidc');
  assert.equal(t.issuer, as.issuer);
  assert.equal(t.subject, 'alice');
  assert.equal(t.clientId, 'app');
  assert.deepEqual(t.scopes, ['read', 'write']);
  assert.equal(t.claims['customer_id'], 'c-42');
  assert.equal(t.jwt, undefined);
  assert.ok(Object.isFrozen(t.claims));
});

test('a client-credentials token from the real token endpoint is accepted with no subject', async () => {
  const { access_token } = await as.clientCredentials(as.clients.app, { scope: 'read' });
  const t = valid(await verifier(now()).verify(access_token, undefined));
  assert.equal(t.subject, '');
  assert.equal(t.clientId, 'app');
  assert.deepEqual(t.scopes, ['read']);
});

test('client_secret_post authenticates as well as client_secret_basic', async () => {
  const token = await as.issueToken({ format: 'opaque', clientId: 'app', subject: 'bob', scope: 'read' });
  const v = verifier(now(), { clientAuth: { method: 'client_secret_post', clientId: as.clients.sidecarPost.id, clientSecretFile: postSecretFile } });
  assert.equal(valid(await v.verify(token, undefined)).subject, 'bob');
});

test('a wrong client secret fails closed (the AS refuses the caller, which says nothing about the token)', async () => {
  const token = await as.issueToken({ format: 'opaque', clientId: 'app', subject: 'bob', scope: 'read' });
  const wrong = as.writeSecretFile('wrong.secret', 'not-the-secret');
  const v = verifier(now(), { clientAuth: { method: 'client_secret_basic', clientId: as.clients.sidecar.id, clientSecretFile: wrong } });
  const o = await v.verify(token, undefined);
  assert.equal(o.kind, 'unavailable');
  assert.match((o as { detail: string }).detail, /answered 401/);
});

test('audience and issuer rules refuse an otherwise active token', async () => {
  const token = await as.issueToken({ format: 'opaque', clientId: 'app', subject: 'carol', scope: 'read', audience: OPAQUE_RESOURCE });
  assert.deepEqual(valid(await verifier(now(), { audiences: [OPAQUE_RESOURCE] }).verify(token, undefined)).audiences, [OPAQUE_RESOURCE]);
  const wrongAud = await verifier(now(), { audiences: ['https://elsewhere.example'] }).verify(token, undefined);
  assert.deepEqual([wrongAud.kind, (wrongAud as { reason: string }).reason], ['invalid', 'wrong_audience']);
  const wrongIss = await verifier(now(), { issuer: 'https://other-issuer.example' }).verify(token, undefined);
  assert.deepEqual([wrongIss.kind, (wrongIss as { reason: string }).reason], ['invalid', 'unknown_issuer']);
});

test('a revoked token is refused once the positive cache entry (maxTtl 1 s) has lapsed', async () => {
  const clock = now();
  const v = verifier(clock, { cacheMaxTtlMs: 1_000 });
  const token = await as.issueToken({ format: 'opaque', clientId: 'app', subject: 'dave', scope: 'read' });
  valid(await v.verify(token, undefined));
  assert.equal(await as.revoke(token), true);
  // Within the TTL the cached verdict stands, synchronously.
  const cached = v.verify(token, undefined);
  assert.ok(!(cached instanceof Promise), 'a cache hit must be synchronous');
  valid(cached as TokenOutcome);
  clock.advance(1_000);
  const after = await v.verify(token, undefined);
  assert.deepEqual([after.kind, (after as { reason: string }).reason], ['invalid', 'inactive']);
});

test('negative verdicts are served from the cache for at most the negative TTL', async () => {
  const clock = now();
  const results: IntrospectionRequestResult[] = [];
  let hits = 0;
  const v = verifier(clock, {}, { request: (_p, r) => results.push(r), cacheHit: () => hits++ });
  await as.resetRequests();
  const unknown = 'never-issued-token-value';
  const first = await v.verify(unknown, undefined);
  assert.deepEqual([first.kind, (first as { reason: string }).reason], ['invalid', 'inactive']);
  const second = v.verify(unknown, undefined);
  assert.ok(!(second instanceof Promise), 'a negative cache hit must be synchronous');
  assert.equal(await as.countRequests(INTROSPECT), 1);
  assert.equal(hits, 1);
  clock.advance(5_000);
  await v.verify(unknown, undefined);
  assert.equal(await as.countRequests(INTROSPECT), 2);
  assert.deepEqual(results, ['inactive', 'inactive']);
});

test('200 concurrent verifications of one token make exactly one introspection call', async () => {
  const token = await as.issueToken({ format: 'opaque', clientId: 'app', subject: 'erin', scope: 'read' });
  const v = verifier(now());
  await as.resetRequests();
  const outcomes = await Promise.all(Array.from({ length: 200 }, () => v.verify(token, undefined)));
  assert.ok(outcomes.every((o) => o.kind === 'valid'));
  assert.equal(await as.countRequests(INTROSPECT), 1);
});

test('a certificate-bound token (cnf.x5t#S256) is valid only from the peer holding that certificate, also on cache hits', async () => {
  const certDer = Buffer.from('a stand-in for a client certificate');
  const hex = createHash('sha256').update(certDer).digest('hex');
  const x5t = Buffer.from(hex, 'hex').toString('base64url');
  const token = await as.issueToken({ format: 'opaque', clientId: 'app', subject: 'frank', scope: 'read', x5tS256: x5t });
  const v = verifier(now());
  assert.equal(valid(await v.verify(token, hex)).certThumbprint, x5t);
  assert.equal(valid(v.verify(token, hex.toUpperCase()) as TokenOutcome).subject, 'frank');
  const other = v.verify(token, createHash('sha256').update('another cert').digest('hex')) as TokenOutcome;
  assert.deepEqual([other.kind, (other as { reason: string }).reason], ['invalid', 'cert_mismatch']);
  const none = v.verify(token, undefined) as TokenOutcome;
  assert.deepEqual([none.kind, (none as { reason: string }).reason], ['invalid', 'cert_mismatch']);
});

test('a token that is not an RFC 6750 bearer token never reaches the AS', async () => {
  const v = verifier(now());
  await as.resetRequests();
  const o = await v.verify('has spaces and "quotes"', undefined);
  assert.deepEqual([o.kind, (o as { reason: string }).reason], ['invalid', 'malformed']);
  assert.equal(await as.countRequests(INTROSPECT), 0);
});

// One row per transport/format rule: each answer must fail closed and must not be cached.
const faults: readonly { fault: IntrospectionFault; detail: RegExp }[] = [
  { fault: 'status-500', detail: /answered 500/ },
  { fault: 'not-json', detail: /not JSON/ },
  { fault: 'wrong-content-type', detail: /text\/html, not application\/json/ },
  { fault: 'oversized', detail: /more than 65536 bytes/ },
  { fault: 'missing-active', detail: /"active" is missing/ },
  { fault: 'hang', detail: /within 300 ms/ },
];
for (const row of faults) {
  test(`introspection fault ${row.fault} → unavailable, not cached`, async (t) => {
    const token = await as.issueToken({ format: 'opaque', clientId: 'app', subject: 'gina', scope: 'read' });
    const v = verifier(now(), { requestTimeoutMs: 300 });
    await as.setIntrospectionFault(row.fault);
    t.after(() => as.setIntrospectionFault('none'));
    const o = await v.verify(token, undefined);
    assert.equal(o.kind, 'unavailable');
    assert.equal((o as { reason: string }).reason, 'introspection_unavailable');
    assert.match((o as { detail: string }).detail, row.detail);
    await as.setIntrospectionFault('none');
    valid(await v.verify(token, undefined));
  });
}

test('an authorization server that is down fails closed', async (t) => {
  const down = await startOidcProvider({ cleanup: t });
  const token = await down.issueToken({ format: 'opaque', clientId: 'app', subject: 'hank', scope: 'read' });
  const v = new IntrospectionVerifier(
    {
      provider: 'down',
      endpoint: down.introspectionEndpoint,
      clientAuth: { method: 'client_secret_basic', clientId: 'sidecar', clientSecretFile: down.writeSecretFile('s', down.clients.sidecar.secret!) },
    },
    { clock: now() },
  );
  verifiers.push(v);
  await down.stop();
  const o = await v.verify(token, undefined);
  assert.deepEqual([o.kind, (o as { reason: string }).reason], ['unavailable', 'introspection_unavailable']);
  assert.equal(o.kind === 'unavailable' && o.provider, 'down');
});

test('at most maxInFlight distinct tokens are introspected at once; the next fails closed at once', async (t) => {
  const [a, b] = await Promise.all([as.issueToken({ format: 'opaque', clientId: 'app', subject: 'ivy', scope: 'read' }), as.issueToken({ format: 'opaque', clientId: 'app', subject: 'jack', scope: 'read' })]);
  const v = verifier(now(), { maxInFlight: 1, requestTimeoutMs: 300 });
  await as.setIntrospectionFault('hang');
  t.after(() => as.setIntrospectionFault('none'));
  const first = v.verify(a, undefined);
  const second = await v.verify(b, undefined);
  assert.equal(second.kind, 'unavailable');
  assert.match((second as { detail: string }).detail, /1 introspections already in flight/);
  assert.equal((await first).kind, 'unavailable');
});

test('a closed verifier answers unavailable and serves nothing from its cache', async () => {
  const token = await as.issueToken({ format: 'opaque', clientId: 'app', subject: 'kim', scope: 'read' });
  const v = verifier(now());
  valid(await v.verify(token, undefined));
  await v.close();
  const o = await v.verify(token, undefined);
  assert.deepEqual([o.kind, (o as { detail: string }).detail], ['unavailable', 'the verifier is closed']);
});

test('harness: minted and client-credentials JWT access tokens are at+jwt signed by the published key, also after rotation', async () => {
  const verifyJwt = async (jwt: string): Promise<Record<string, unknown>> => {
    const [h, p, s] = jwt.split('.') as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { kid: string; typ: string; alg: string };
    const jwks = (await (await fetch(as.jwksUri)).json()) as { keys: (JsonWebKey & { kid: string })[] };
    const jwk = jwks.keys.find((k) => k.kid === header.kid);
    assert.ok(jwk, `kid ${header.kid} is published`);
    assert.deepEqual([header.typ, header.alg], ['at+jwt', 'RS256']);
    assert.ok(cryptoVerify('sha256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url')));
    return JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  };
  const minted = await verifyJwt(await as.issueToken({ format: 'jwt', clientId: 'app', subject: 'lee', scope: 'read', audience: JWT_RESOURCE, claims: { tenant: 't1' } }));
  assert.deepEqual([minted['sub'], minted['aud'], minted['scope'], minted['tenant'], minted['iss']], ['lee', JWT_RESOURCE, 'read', 't1', as.issuer]);
  const kid = await as.rotateKeys();
  const { access_token } = await as.clientCredentials(as.clients.app, { scope: 'read', resource: JWT_RESOURCE });
  assert.equal(JSON.parse(Buffer.from(access_token.split('.')[0]!, 'base64url').toString()).kid, kid);
  assert.equal((await verifyJwt(access_token))['client_id'], 'app');
});
