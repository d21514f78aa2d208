/**
 * End-user identity through real sidecar processes and a real
 * authorization server (oidc-provider, test/support/oidc-provider.ts): the
 * backend's sidecar verifies the user's token (RFC 9068 JWT by discovery,
 * opaque by RFC 7662 introspection), authorizes by claims and object-level
 * path templates, and hands the app verified identity headers instead of
 * the token. Every refusal has its status and RFC 6750 challenge.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startDevAgent, type InProcessAgent } from '../../support/dev-agent-harness.ts';
import { JWT_RESOURCE, OPAQUE_RESOURCE, startOidcProvider, type OidcProvider } from '../../support/oidc-provider.ts';
import { eventually, tempDir, viaOutbound } from '../../support/sidecar-harness.ts';
import { BACKEND_ID, FRONTEND_ID, startPair, type Echo, type Pair } from '../../support/app-fixtures.ts';
import { fileCleanup } from '../../support/file-cleanup.ts';

const cleanup = fileCleanup();

let as: OidcProvider;
let agent: InProcessAgent;
let pair: Pair;

before(async () => {
  as = await startOidcProvider({ cleanup });
  agent = await startDevAgent({ cleanup, workloads: { frontend: [FRONTEND_ID], backend: [BACKEND_ID] } });
  const dir = tempDir(cleanup);
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(
    policyFile,
    stringify({
      version: 2,
      rules: [
        {
          name: 'customer-reads-own-accounts',
          from: [{ id: FRONTEND_ID, principals: [`${as.issuer}/*`] }],
          to: [{ pathTemplates: ['/customers/{claims.customer_id}/accounts'], methods: ['GET'] }],
        },
        { name: 'health', from: [{ id: FRONTEND_ID }], to: [{ paths: ['/health'] }] },
      ],
    }),
  );
  const clientAuth = as.sidecarClientAuth('sidecar.secret');
  pair = await startPair(cleanup, {
    agent,
    inbound: { policyFile },
    // The test plays the frontend app holding the user's token: it must reach the backend's sidecar as sent.
    upstream: { token: 'forward' },
    backend: {
      auth: {
        jwt: [{ name: 'corp', issuer: as.issuer, discovery: true, audiences: [JWT_RESOURCE], requireTyp: 'at+jwt' }],
        introspection: {
          name: 'edge-opaque',
          endpoint: as.introspectionEndpoint,
          issuer: as.issuer,
          clientAuth,
        },
      },
      headers: { claimHeaders: [{ claim: 'customer_id', header: 'x-customer-id' }] },
      log: { level: 'info', audit: 'on' },
    },
  });
});

const call = (path: string, headers: Record<string, string> = {}) => viaOutbound(pair.outboundPort, path, 'backend', { headers });
const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` });
const aliceJwt = () => as.issueToken({ format: 'jwt', clientId: 'app', subject: 'alice', audience: JWT_RESOURCE, scope: 'accounts:read', claims: { customer_id: 'c-1' } });

test('alice reads her own accounts: the app sees verified identity headers and no token', async () => {
  const r = await call('/customers/c-1/accounts', { ...bearer(await aliceJwt()), 'x-auth-subject': 'mallory', 'X_Customer_Id': 'c-2' });
  assert.equal(r.status, 200, r.body);
  const h = (JSON.parse(r.body) as Echo).headers;
  assert.equal(h['authorization'], undefined, 'the token never reaches the app');
  assert.equal(h['x-auth-subject'], 'alice');
  assert.equal(h['x-auth-issuer'], as.issuer);
  assert.equal(h['x-auth-client-id'], 'app');
  assert.equal(h['x-customer-id'], 'c-1');
  assert.equal(h['x_customer_id'], undefined, 'a spoofed underscore spelling is stripped');
  assert.equal(h['x-client-spiffe-id'], FRONTEND_ID);
  const claims = JSON.parse(Buffer.from(String(h['x-auth-claims']), 'base64url').toString()) as Record<string, unknown>;
  assert.equal(claims['sub'], 'alice');
});

test("alice on bob's accounts is 403", async () => {
  const r = await call('/customers/c-2/accounts', bearer(await aliceJwt()));
  assert.equal(r.status, 403, r.body);
});

test('no token where a principal is required is 401 with a bare Bearer challenge', async () => {
  const r = await call('/customers/c-1/accounts');
  assert.equal(r.status, 401, r.body);
  assert.equal(r.headers['www-authenticate'], 'Bearer');
});

test('a rule without a principal still admits a request without a token', async () => {
  assert.equal((await call('/health')).status, 200);
});

test('a forged token is 401 invalid_token and never reaches the app', async () => {
  const [h, p] = (await aliceJwt()).split('.');
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), customer_id: 'c-2' })).toString('base64url')}.AAAA`;
  const r = await call('/customers/c-2/accounts', bearer(forged));
  assert.equal(r.status, 401, r.body);
  assert.equal(r.headers['www-authenticate'], 'Bearer error="invalid_token", error_description="the token signature does not verify"');
  assert.match(r.body, /^invalid token: the token signature does not verify/);
});

test('an opaque token is introspected and authorized by its claims', async () => {
  const opaque = await as.issueToken({ format: 'opaque', clientId: 'app', subject: 'alice', audience: OPAQUE_RESOURCE, claims: { customer_id: 'c-1' } });
  const r = await call('/customers/c-1/accounts', bearer(opaque));
  assert.equal(r.status, 200, r.body);
  const h = (JSON.parse(r.body) as Echo).headers;
  assert.equal(h['x-auth-subject'], 'alice');
  assert.equal(h['authorization'], undefined);
  const revoked = await as.issueToken({ format: 'opaque', clientId: 'app', subject: 'alice', audience: OPAQUE_RESOURCE, claims: { customer_id: 'c-1' } });
  await as.revoke(revoked);
  assert.equal((await call('/customers/c-1/accounts', bearer(revoked))).status, 401, 'a revoked opaque token is refused');
});

test('two Authorization headers are 400 invalid_request', async () => {
  const t = await aliceJwt();
  // An array value is sent as two header lines.
  const r = await viaOutbound(pair.outboundPort, '/health', 'backend', { headers: { Authorization: [`Bearer ${t}`, `Bearer ${t}`] } });
  assert.equal(r.status, 400, r.body);
  assert.equal(r.headers['www-authenticate'], 'Bearer error="invalid_request"');
});

test('signing keys rotated at the issuer: new tokens are accepted without a restart', async () => {
  await as.rotateKeys();
  const r = await call('/customers/c-1/accounts', bearer(await aliceJwt()));
  assert.equal(r.status, 200, r.body);
});

test('metrics count token checks and refusals', async () => {
  const m = (await pair.backend.admin('/metrics')).body;
  assert.match(m, /^sidecar_token_checks_total\{provider="corp",result="valid"\} \d+$/m);
  assert.match(m, /^sidecar_token_checks_total\{provider="corp",result="bad_signature"\} 1$/m);
  assert.match(m, /^sidecar_requests_refused_total\{reason="principal_required"\} 1$/m);
  assert.match(m, /^sidecar_token_introspection_requests_total\{provider="edge-opaque",result="valid"\} \d+$/m);
  assert.match(m, /^sidecar_token_key_set_age_seconds\{provider="corp"\} [\d.]+$/m);
});

test('the audit log records who did what on whose behalf, never the token', async () => {
  const t = await aliceJwt();
  assert.equal((await call('/customers/c-1/accounts?secret=1', bearer(t))).status, 200);
  assert.equal((await call('/customers/c-2/accounts', bearer(t))).status, 403);
  const audit = await eventually(
    () => {
      const lines = pair.backend.lines.filter((l) => l['kind'] === 'decision' && l['subject'] === 'alice');
      return lines.some((l) => l['decision'] === 'deny') && lines.some((l) => l['decision'] === 'allow') ? lines : undefined;
    },
    () => 'audit lines for alice (allow and deny)',
    10_000,
  );
  const allow = audit.find((l) => l['decision'] === 'allow' && l['path'] === '/customers/c-1/accounts')!;
  assert.ok(allow, JSON.stringify(audit));
  assert.equal(allow['caller_id'], FRONTEND_ID);
  assert.equal(allow['source_address'], '127.0.0.1');
  assert.equal(allow['client_id'], 'app');
  assert.equal(allow['rule'], 'customer-reads-own-accounts');
  const deny = audit.find((l) => l['decision'] === 'deny')!;
  assert.equal(deny['status'], 403);
  const all = JSON.stringify(pair.backend.lines);
  assert.ok(!all.includes(t), 'the token never appears in any log line');
  assert.ok(!all.includes('secret=1'), 'the query string never appears');
});
