/**
 * Context handles through real sidecar processes and a real authorization
 * server (oidc-provider, examples/authorization-server/server.ts). A client
 * sidecar forwards the user's token to the frontend's inbound, which
 * verifies it and gives the frontend app a handle instead; the app calls the
 * backend through its own sidecar's outbound with only that handle, and the
 * outbound exchanges the token the app never saw (RFC 8693). The backend's
 * sidecar requires a verified user (principal) and shows what arrived.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startDevAgent, type InProcessAgent } from '../../support/dev-agent-harness.ts';
import { JWT_RESOURCE, startOidcProvider, type OidcProvider } from '../../support/oidc-provider.ts';
import { freePorts, startSidecar, tempDir, viaOutbound, type TestSidecar } from '../../support/sidecar-harness.ts';
import { BACKEND_ID, FRONTEND_ID, TD, startEchoApp, startRelayApp, type Relayed } from '../../support/app-fixtures.ts';
import { fileCleanup } from '../../support/file-cleanup.ts';
import { claimsOf } from '../../support/jwt-sign.ts';

const CLIENT_ID = `spiffe://${TD}/client`;
const HANDLE = 'x-auth-context';

const cleanup = fileCleanup();

let as: OidcProvider;
let agent: InProcessAgent;
let frontend: TestSidecar;
let clientOutbound: number;

/**
 * The frontend app's forwarded headers: the handle header it was given
 * (propagated as it would `traceparent`) on its call to the backend;
 * `?forge=1` sends a made-up handle instead, `?none=1` sends none.
 */
function propagateHandle(req: IncomingMessage): Record<string, string> {
  const url = new URL(req.url ?? '/', 'http://app');
  const handle = req.headers[HANDLE];
  if (url.searchParams.has('forge')) return { [HANDLE]: 'A'.repeat(32) };
  if (!url.searchParams.has('none') && typeof handle === 'string') return { [HANDLE]: handle };
  return {};
}

before(async () => {
  agent = await startDevAgent({ cleanup, workloads: { client: [CLIENT_ID], frontend: [FRONTEND_ID], backend: [BACKEND_ID] } });
  as = await startOidcProvider({ cleanup });
  const echo = await startEchoApp(cleanup);
  const [frontendIn, frontendOut, backendIn, clientOut] = (await freePorts(4)) as [number, number, number, number];
  clientOutbound = clientOut;
  const relay = await startRelayApp(cleanup, frontendOut, '/orders', 'backend', propagateHandle);
  const dir = tempDir(cleanup);
  const policyFile = join(dir, 'policy.yaml');
  // The backend admits the frontend only with a verified user.
  writeFileSync(policyFile, stringify({ version: 2, rules: [{ name: 'orders', from: [{ id: FRONTEND_ID, principals: [`${as.issuer}/*`] }], to: [{ paths: ['/orders'] }] }] }));
  const clientAuth = as.sidecarClientAuth('exchange.secret');
  const corp = { name: 'corp', issuer: as.issuer, discovery: true, audiences: [JWT_RESOURCE] };
  [frontend] = await Promise.all([
    startSidecar({
      cleanup,
      name: 'frontend.yaml',
      config: {
        spiffe: { endpointSocket: agent.address('frontend') },
        inbound: { listen: `127.0.0.1:${frontendIn}`, app: `127.0.0.1:${relay}` },
        auth: { jwt: [corp], contextHandle: { enabled: true, header: HANDLE, maxLifetime: '2m' } },
        outbound: {
          listen: `127.0.0.1:${frontendOut}`,
          upstreams: [{ host: 'backend', address: `127.0.0.1:${backendIn}`, serverId: BACKEND_ID, token: { mode: 'exchange', audience: JWT_RESOURCE, scope: 'read' } }],
          tokenExchange: { endpoint: as.tokenEndpoint, clientAuth },
        },
      },
    }),
    startSidecar({
      cleanup,
      name: 'backend.yaml',
      config: {
        spiffe: { endpointSocket: agent.address('backend') },
        inbound: { listen: `127.0.0.1:${backendIn}`, app: `127.0.0.1:${echo.port}`, policyFile },
        auth: { jwt: [corp], forwardToken: true },
      },
    }),
    startSidecar({
      cleanup,
      name: 'client.yaml',
      config: {
        spiffe: { endpointSocket: agent.address('client') },
        // The test plays the client app holding the user's token; it reaches the frontend's sidecar as sent.
        outbound: { listen: `127.0.0.1:${clientOut}`, upstreams: [{ host: 'frontend', address: `127.0.0.1:${frontendIn}`, serverId: FRONTEND_ID, token: 'forward' }] },
      },
    }),
  ]);
});

const userJwt = () => as.issueToken({ format: 'jwt', clientId: 'app', subject: 'alice', audience: JWT_RESOURCE, scope: 'read write' });
/** What the frontend app got, and what its call to the backend got. */
const call = async (path: string, headers: Record<string, string>): Promise<{ received: Relayed['received']; backend: Relayed['upstream'] }> => {
  const r = await viaOutbound(clientOutbound, path, 'frontend', { headers });
  assert.equal(r.status, 200, r.body);
  const b = JSON.parse(r.body) as Relayed;
  return { received: b.received, backend: b.upstream };
};

test('the app gets a handle instead of the token, and its outbound call with only the handle carries an exchanged token', async () => {
  const t = await userJwt();
  const r = await call('/', { authorization: `Bearer ${t}` });
  assert.equal(r.received['authorization'], undefined, 'the frontend app never sees the token');
  const handle = r.received[HANDLE];
  assert.match(String(handle), /^[A-Za-z0-9_-]{32}$/, 'an opaque 192-bit base64url handle');
  assert.equal(r.backend.status, 200, r.backend.body);
  const h = r.backend.echo!.headers;
  assert.equal(h[HANDLE], undefined, 'the handle never leaves the pod');
  assert.ok(!String(h['authorization']).includes(t), 'the original token never reaches the backend');
  const claims = claimsOf(h['authorization']);
  assert.equal(claims['sub'], 'alice');
  assert.equal(claims['scope'], 'read', 'exchanged and narrowed');
  assert.equal(h['x-auth-subject'], 'alice', 'the backend verified it');
});

test('every request gets a fresh handle', async () => {
  const t = await userJwt();
  const a = await call('/', { authorization: `Bearer ${t}` });
  const b = await call('/', { authorization: `Bearer ${t}` });
  assert.notEqual(a.received[HANDLE], b.received[HANDLE]);
});

test('a handle the caller sends in is stripped: the app sees only the one the sidecar issued', async () => {
  const t = await userJwt();
  const spoofed = 'B'.repeat(32);
  const r = await call('/', { authorization: `Bearer ${t}`, [HANDLE]: spoofed });
  assert.notEqual(r.received[HANDLE], spoofed);
  assert.equal([r.received[HANDLE]].flat().length, 1);
});

test('without a verified token the app gets no handle, and a spoofed one is stripped', async () => {
  const r = await call('/', { [HANDLE]: 'C'.repeat(32) });
  assert.equal(r.received[HANDLE], undefined);
  assert.equal(r.backend.status, 401, 'no user token: the backend requires a principal');
});

test('a forged or foreign handle resolves to nothing: the call goes without credentials and the backend refuses it', async () => {
  const t = await userJwt();
  const r = await call('/?forge=1', { authorization: `Bearer ${t}` });
  assert.equal(r.backend.status, 401, r.backend.body);
});

test('without the handle the call carries no user token', async () => {
  const t = await userJwt();
  const r = await call('/?none=1', { authorization: `Bearer ${t}` });
  assert.equal(r.backend.status, 401, r.backend.body);
  const m = (await frontend.admin('/metrics')).body;
  assert.match(m, /^sidecar_token_exchanges_total\{route="backend",result="ok"\} \d+$/m);
});
