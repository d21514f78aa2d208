/**
 * SPIRE's OIDC Discovery Provider (pinned v1.15.3 build) as a generic
 * OpenID Connect issuer in front of the embedded dev agent: the provider
 * reads the trust domain's JWT bundle over the Workload API and publishes
 * it as `/.well-known/openid-configuration` + `/keys`; the sidecar's
 * TokenAuthenticator, configured with `discovery: true` and the provider's
 * issuer URL, verifies JWT-SVIDs against those keys.
 *
 * What the dev agent mints: JWT-SVIDs with `sub`, `aud`, `exp` and `iat`
 * but no `iss` (SPIRE only sets `iss` when its server has `jwt_issuer`).
 * Such a token cannot be routed to an issuer-pinned provider, and the test
 * pins that down. To exercise the issuer path with the agent's real key,
 * the test reads the agent's JWT authority from its state directory and
 * signs the same claims plus `iss`, as a SPIRE server with `jwt_issuer`
 * would.
 *
 * Needs Go and a C compiler (the provider is built with SPIRE, once); under
 * CI=true a missing tool fails the test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TokenAuthenticator, type TokenOutcome } from '../../../sidecar/auth/index.ts';
import { AuthorityStore } from '../../../sidecar/devagent/index.ts';
import { TrustDomain } from '../../../sidecar/spiffe/index.ts';
import { WorkloadApiClient } from '../../../sidecar/workload/index.ts';
import { makeSocketDir, startDevAgent } from '../../support/dev-agent-harness.ts';
import { startOidcDiscoveryProvider } from '../../support/oidc-discovery-provider.ts';
import { requireTools } from '../../support/tools.ts';

const td = 'example.org';
const workloadId = `spiffe://${td}/frontend`;
const audience = 'spiffe-sidecar';

function header(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

function refusal(out: TokenOutcome): { reason: string; detail: string } {
  assert.equal(out.kind, 'invalid', JSON.stringify(out));
  return out as Extract<TokenOutcome, { kind: 'invalid' }>;
}

test('SPIRE OIDC Discovery Provider in front of the dev agent as a discovery issuer', { timeout: 300_000 }, async (t) => {
  if (!requireTools(t, ['go', 'cc'])) return;

  const dir = makeSocketDir(t);
  const stateDir = join(dir, 'agent-state');
  const agent = await startDevAgent({ cleanup: t, dir, stateDir, workloads: { workload: [workloadId] } });
  const provider = await startOidcDiscoveryProvider({ cleanup: t, workloadApiSocket: agent.socketPath(), trustDomain: td });

  const client = new WorkloadApiClient({ address: agent.address() });
  t.after(() => client.close());
  const svid = await client.fetchJwtSvid({ audience: [audience] });

  const auth = new TokenAuthenticator({ providers: [{ name: 'spire-oidc', issuer: provider.issuer, audiences: [audience], discovery: true }] });
  t.after(() => auth.close());
  auth.start();
  const authenticate = async (token: string): Promise<TokenOutcome> => auth.authenticate(['authorization', `Bearer ${token}`], undefined);

  await t.test('the provider publishes the agent JWT key under an http issuer on loopback', async () => {
    // Without jwt_issuer the issuer is the scheme and Host of the request.
    assert.equal(provider.issuer, provider.url);
    assert.equal(provider.jwksUri, `${provider.url}/keys`);
    const agentKids = (JSON.parse(agent.agent.jwks(td)) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    assert.deepEqual((await provider.keyIds()).sort(), agentKids.sort());
    assert.ok(agentKids.includes(String(header(svid.token)['kid'])), 'the JWT-SVID is signed with a published key');
  });

  await t.test('the authenticator loads the key set through discovery', async () => {
    const readiness = await auth.ready(10_000);
    assert.equal(readiness.ready, true, JSON.stringify(readiness.providers));
  });

  await t.test("the dev agent's JWT-SVID has no iss, so no issuer-pinned provider takes it", async () => {
    assert.equal(svid.claims['iss'], undefined);
    const out = refusal(await authenticate(svid.token));
    assert.equal(out.reason, 'unknown_issuer');
  });

  // The agent's own JWT authority, as saved in its state directory, signs
  // what a SPIRE server with jwt_issuer would: the SVID's claims plus iss.
  const store = await AuthorityStore.open(stateDir);
  const authorities = await store.load(TrustDomain.parse(td), { ca: { trustDomain: TrustDomain.parse(td) }, jwtKeyType: 'ec-p256' });
  assert.ok(authorities !== undefined, 'the dev agent saved no authority state');
  const nowS = Math.floor(Date.now() / 1000);
  const sign = (claims: Record<string, unknown>): string =>
    authorities.jwt.sign({ sub: workloadId, aud: [audience], iat: nowS, exp: nowS + 300, iss: provider.issuer, ...claims });

  await t.test('a JWT-SVID with the provider as iss is valid', async () => {
    const out = await authenticate(sign({}));
    assert.equal(out.kind, 'valid', JSON.stringify(out));
    const v = (out as Extract<TokenOutcome, { kind: 'valid' }>).token;
    assert.equal(v.provider, 'spire-oidc');
    assert.equal(v.issuer, provider.issuer);
    assert.equal(v.subject, workloadId);
    assert.deepEqual(v.audiences, [audience]);
  });

  await t.test('refusals with the provider as iss', async (t2) => {
    const rows: readonly { name: string; token: string; reason: string }[] = [
      { name: 'another audience', token: sign({ aud: ['other-api'] }), reason: 'wrong_audience' },
      { name: 'expired beyond the skew', token: sign({ iat: nowS - 600, exp: nowS - 120 }), reason: 'expired' },
      { name: 'an issuer with a trailing slash (compared exactly)', token: sign({ iss: `${provider.issuer}/` }), reason: 'unknown_issuer' },
    ];
    for (const row of rows) {
      await t2.test(row.name, async () => assert.equal(refusal(await authenticate(row.token)).reason, row.reason));
    }
  });
});
