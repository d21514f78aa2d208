/**
 * The `jwt-svid` client authentication (draft-ietf-oauth-spiffe-client-auth)
 * on the wire: the exchanger's real HTTP client posts to a loopback token
 * endpoint that records the form. A recorder, not an authorization server:
 * oidc-provider refuses every `client_assertion_type` but RFC 7523's
 * jwt-bearer; the real server that accepts it is Keycloak
 * (test/e2e/keycloak/keycloak.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../../../sidecar/core/index.ts';
import { CLIENT_ASSERTION_TYPE_JWT_SPIFFE, JwtSvidTokens, TokenExchanger, TokenExchangeError } from '../../../sidecar/exchange/index.ts';

interface Recorded {
  readonly authorization: string | undefined;
  readonly form: URLSearchParams;
}

async function recorder(t: { after(fn: () => unknown): void }): Promise<{ url: string; seen: Recorded[] }> {
  const seen: Recorded[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ authorization: req.headers.authorization, form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'issued', issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: 60 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/r/token`, seen };
}

function svids(clock: ManualClock, audiences: string[], fail = false): JwtSvidTokens {
  return new JwtSvidTokens({
    clock,
    fetcher: {
      async fetchJwtSvid(aud) {
        audiences.push(aud);
        if (fail) throw new Error('no agent');
        return { token: `svid-for.${Buffer.from(aud).toString('base64url')}.sig`, expiresAt: new Date(3_600_000) };
      },
    },
  });
}

test('jwt-svid: the JWT-SVID for the token endpoint is the client_assertion, typed jwt-spiffe, with client_id and no secret', async (t) => {
  const as = await recorder(t);
  const clock = new ManualClock(0);
  const audiences: string[] = [];
  const ex = new TokenExchanger({ endpoint: as.url, clientAuth: { method: 'jwt-svid', clientId: 'frontend' } }, { clock, jwtSvids: svids(clock, audiences) });
  t.after(() => ex.close());
  const out = await ex.get(ex.target('backend', 'payments', ''), 'user-token');
  assert.deepEqual(out, { ok: true, token: 'issued', expiresAtMs: 30_000 });
  const r = as.seen[0]!;
  assert.deepEqual(audiences, [as.url], 'aud = the token endpoint URL by default');
  assert.equal(r.form.get('client_assertion_type'), CLIENT_ASSERTION_TYPE_JWT_SPIFFE);
  assert.equal(r.form.get('client_assertion'), `svid-for.${Buffer.from(as.url).toString('base64url')}.sig`);
  assert.equal(r.form.get('client_id'), 'frontend');
  assert.equal(r.form.get('client_secret'), null);
  assert.equal(r.authorization, undefined);
  assert.equal(r.form.get('subject_token'), 'user-token');
  assert.equal(r.form.get('audience'), 'payments');
});

test('jwt-svid: a configured assertion audience is used; no JWT-SVID is jwt_svid_unavailable and nothing is sent', async (t) => {
  const as = await recorder(t);
  const clock = new ManualClock(0);
  const audiences: string[] = [];
  const issuer = as.url.replace(/\/token$/, '');
  const ex = new TokenExchanger({ endpoint: as.url, clientAuth: { method: 'jwt-svid', clientId: 'frontend', assertionAudience: issuer } }, { clock, jwtSvids: svids(clock, audiences) });
  t.after(() => ex.close());
  await ex.get(ex.target('backend', 'payments', ''), 'u1');
  assert.deepEqual(audiences, [issuer]);

  const down = new TokenExchanger({ endpoint: as.url, clientAuth: { method: 'jwt-svid', clientId: 'frontend' } }, { clock, jwtSvids: svids(clock, [], true) });
  t.after(() => down.close());
  assert.deepEqual(await down.get(down.target('backend', 'payments', ''), 'u2'), { ok: false, failure: 'jwt_svid_unavailable' });
  assert.equal(as.seen.length, 1, 'no request without the assertion');
});

test('jwt-svid without a JWT-SVID source is refused at construction', () => {
  assert.throws(
    () => new TokenExchanger({ endpoint: 'https://as.example/token', clientAuth: { method: 'jwt-svid', clientId: 'c' } }, { clock: new ManualClock(0) }),
    (e: unknown) => e instanceof TokenExchangeError && e.code === 'exchange.invalid_options',
  );
});
