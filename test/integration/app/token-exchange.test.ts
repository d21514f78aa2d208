/**
 * Outbound token modes through real sidecar processes and a real
 * authorization server (oidc-provider with its RFC 8693 grant,
 * examples/authorization-server/server.ts). The frontend sidecar's routes
 * differ only in `token`; the backend sidecar verifies what arrives (RFC 9068
 * JWTs by discovery, JWT-SVIDs through the Workload API) and hands it to an
 * echo app, so each test reads exactly the credentials that crossed the mesh.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, type InProcessAgent } from '../../support/dev-agent-harness.ts';
import { JWT_RESOURCE, OPAQUE_RESOURCE, startOidcProvider, type OidcProvider } from '../../support/oidc-provider.ts';
import { freePorts, startSidecar, viaOutbound, type TestSidecar } from '../../support/sidecar-harness.ts';
import { BACKEND_ID, FRONTEND_ID, startEchoApp, type Echo } from '../../support/app-fixtures.ts';
import { fileCleanup } from '../../support/file-cleanup.ts';
import { claimsOf } from '../../support/jwt-sign.ts';

const cleanup = fileCleanup();

let as: OidcProvider;
let agent: InProcessAgent;
let frontend: TestSidecar;
let outboundPort: number;

before(async () => {
  agent = await startDevAgent({ cleanup, workloads: { frontend: [FRONTEND_ID], backend: [BACKEND_ID] } });
  // The AS verifies actor tokens (our JWT-SVIDs) with the trust domain's JWT bundle.
  as = await startOidcProvider({ cleanup, actorJwks: agent.agent.jwks('example.org') });
  const app = await startEchoApp(cleanup);
  const [inboundPort, port] = (await freePorts(2)) as [number, number];
  outboundPort = port;
  const inbound = `127.0.0.1:${inboundPort}`;
  const clientAuth = as.sidecarClientAuth('exchange.secret');
  const route = (host: string, token?: unknown) => ({ host, address: inbound, serverId: BACKEND_ID, ...(token !== undefined ? { token } : {}) });
  [, frontend] = await Promise.all([
    startSidecar({
      cleanup,
      name: 'backend.yaml',
      config: {
        spiffe: { endpointSocket: agent.address('backend') },
        inbound: { listen: inbound, app: `127.0.0.1:${app.port}` },
        auth: {
          jwt: [
            { name: 'corp', issuer: as.issuer, discovery: true, audiences: [JWT_RESOURCE] },
            { name: 'mesh', workloadApi: true, audiences: [BACKEND_ID] },
          ],
          // The echo app shows the token that arrived.
          forwardToken: true,
        },
      },
    }),
    startSidecar({
      cleanup,
      name: 'frontend.yaml',
      config: {
        spiffe: { endpointSocket: agent.address('frontend') },
        outbound: {
          listen: `127.0.0.1:${outboundPort}`,
          upstreams: [
            route('plain'),
            route('forwarding', 'forward'),
            route('backend', { mode: 'exchange', audience: JWT_RESOURCE, scope: 'read' }),
            route('svid', 'jwt-svid'),
          ],
          tokenExchange: {
            endpoint: as.tokenEndpoint,
            clientAuth,
            actorToken: true,
          },
        },
      },
    }),
  ]);
});

const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` });
const userJwt = () => as.issueToken({ format: 'jwt', clientId: 'app', subject: 'alice', audience: JWT_RESOURCE, scope: 'read write' });
const userOpaque = () => as.issueToken({ format: 'opaque', clientId: 'app', subject: 'alice', audience: OPAQUE_RESOURCE, scope: 'read write' });
const call = async (host: string, token: string | undefined) => {
  const r = await viaOutbound(outboundPort, '/orders', host, { headers: token === undefined ? {} : bearer(token) });
  return { ...r, echo: r.status === 200 ? (JSON.parse(r.body) as Echo) : undefined };
};

test('none (the default): the app token is removed before the network', async () => {
  const r = await call('plain', await userJwt());
  assert.equal(r.status, 200, r.body);
  assert.equal(r.echo!.headers['authorization'], undefined);
  assert.equal(r.echo!.headers['x-auth-subject'], undefined, 'the backend saw no user');
});

test('forward: the app token crosses as sent', async () => {
  const t = await userJwt();
  const r = await call('forwarding', t);
  assert.equal(r.status, 200, r.body);
  assert.equal(r.echo!.headers['authorization'], `Bearer ${t}`);
  assert.equal(r.echo!.headers['x-auth-subject'], 'alice');
});

test('exchange: the backend gets a token made for its audience, narrowed, naming the frontend as actor', async () => {
  const t = await userOpaque();
  const r = await call('backend', t);
  assert.equal(r.status, 200, r.body);
  const h = r.echo!.headers;
  assert.ok(!String(h['authorization']).includes(t), 'the original token never reaches the backend');
  const claims = claimsOf(h['authorization']);
  assert.equal(claims['sub'], 'alice');
  assert.deepEqual([claims['aud']].flat(), [JWT_RESOURCE]);
  assert.equal(claims['scope'], 'read', 'narrowed from "read write"');
  assert.deepEqual(claims['act'], { sub: FRONTEND_ID });
  assert.equal(h['x-auth-subject'], 'alice', 'the backend verified it');
});

test('exchange: one call to the authorization server for many requests with one token', async () => {
  const t = await userOpaque();
  await as.resetRequests();
  for (let i = 0; i < 5; i++) assert.equal((await call('backend', t)).status, 200);
  assert.equal(await as.countRequests('/token'), 1);
  const m = (await frontend.admin('/metrics')).body;
  assert.match(m, /^sidecar_token_exchange_cache_hits_total\{route="backend"\} ([4-9]|\d\d+)$/m);
  assert.match(m, /^sidecar_token_exchanges_total\{route="backend",result="ok"\} \d+$/m);
});

test('exchange: a subject token the authorization server refuses is 401, never forwarded', async () => {
  const t = await userOpaque();
  await as.revoke(t);
  const r = await call('backend', t);
  assert.equal(r.status, 401, r.body);
  assert.equal(r.headers['www-authenticate'], 'Bearer error="invalid_token"');
});

test('exchange: no token on the request goes without credentials', async () => {
  const r = await call('backend', undefined);
  assert.equal(r.status, 200, r.body);
  assert.equal(r.echo!.headers['authorization'], undefined);
});

test('jwt-svid: the backend gets our JWT-SVID for its SPIFFE ID and validates it through the Workload API', async () => {
  const r = await call('svid', await userJwt());
  assert.equal(r.status, 200, r.body);
  const claims = claimsOf(r.echo!.headers['authorization']);
  assert.equal(claims['sub'], FRONTEND_ID);
  assert.deepEqual([claims['aud']].flat(), [BACKEND_ID]);
  assert.equal(r.echo!.headers['x-auth-subject'], FRONTEND_ID);
});

test('exchange: the authorization server down is 503, never a fall-back to forwarding', async () => {
  const t = await userOpaque();
  await as.stop();
  const r = await call('backend', t);
  assert.equal(r.status, 503, r.body);
  assert.ok(r.headers['retry-after']);
  const m = (await frontend.admin('/metrics')).body;
  assert.match(m, /^sidecar_token_exchanges_total\{route="backend",result="unavailable"\} 1$/m);
});
