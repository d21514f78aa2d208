/**
 * Transaction tokens (`txn` mode, draft-ietf-oauth-transaction-tokens)
 * through real sidecar processes and the real authorization server
 * (examples/authorization-server/server.ts issues them by token exchange).
 * The frontend's sidecar is the edge: it obtains one transaction token for
 * the request from the user's token. The backend's sidecar verifies it (a
 * JWT provider reading the Txn-Token header) and gives its app a context
 * handle; the app's call to the store carries the handle only, and the
 * backend's sidecar forwards the same transaction token, calling no server.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, type InProcessAgent } from '../../support/dev-agent-harness.ts';
import { OPAQUE_RESOURCE, startOidcProvider, type OidcProvider } from '../../support/oidc-provider.ts';
import { freePorts, startSidecar, viaOutbound } from '../../support/sidecar-harness.ts';
import { BACKEND_ID, FRONTEND_ID, TD, startEchoApp, startRelayApp, type Relayed } from '../../support/app-fixtures.ts';
import { fileCleanup } from '../../support/file-cleanup.ts';
import { claimsOf } from '../../support/jwt-sign.ts';

const STORE_ID = `spiffe://${TD}/store`;
const TRUST_DOMAIN_AUDIENCE = `spiffe://${TD}`;
const HANDLE = 'x-auth-context';

const cleanup = fileCleanup();

let as: OidcProvider;
let agent: InProcessAgent;
let edgeOutbound: number;

before(async () => {
  agent = await startDevAgent({ cleanup, workloads: { frontend: [FRONTEND_ID], backend: [BACKEND_ID], store: [STORE_ID] } });
  as = await startOidcProvider({ cleanup });
  const echo = await startEchoApp(cleanup);
  const [edgeOut, backendIn, backendOut, storeIn] = (await freePorts(4)) as [number, number, number, number];
  edgeOutbound = edgeOut;
  // The backend app calls the store with the handle it was given.
  const app = await startRelayApp(cleanup, backendOut, '/stock', 'store', (req) => {
    const handle = req.headers[HANDLE];
    return typeof handle === 'string' ? { [HANDLE]: handle } : {};
  });
  const clientAuth = as.sidecarClientAuth('txn.secret');
  // Every hop after the edge verifies the transaction token with the server's keys, offline.
  const txnAuth = { jwt: [{ name: 'txn', issuer: as.issuer, discovery: true, audiences: [TRUST_DOMAIN_AUDIENCE], tokenLocations: [{ header: 'txn-token' }] }] };
  await Promise.all([
    startSidecar({
      cleanup,
      name: 'edge.yaml',
      config: {
        spiffe: { endpointSocket: agent.address('frontend') },
        outbound: {
          listen: `127.0.0.1:${edgeOut}`,
          upstreams: [{ host: 'backend', address: `127.0.0.1:${backendIn}`, serverId: BACKEND_ID, token: { mode: 'txn', obtain: true, audience: TRUST_DOMAIN_AUDIENCE, scope: 'read' } }],
          tokenExchange: { endpoint: as.tokenEndpoint, clientAuth },
        },
      },
    }),
    startSidecar({
      cleanup,
      name: 'backend.yaml',
      config: {
        spiffe: { endpointSocket: agent.address('backend') },
        inbound: { listen: `127.0.0.1:${backendIn}`, app: `127.0.0.1:${app}` },
        auth: { ...txnAuth, contextHandle: { enabled: true } },
        outbound: { listen: `127.0.0.1:${backendOut}`, upstreams: [{ host: 'store', address: `127.0.0.1:${storeIn}`, serverId: STORE_ID, token: 'txn' }] },
      },
    }),
    startSidecar({
      cleanup,
      name: 'store.yaml',
      config: {
        spiffe: { endpointSocket: agent.address('store') },
        inbound: { listen: `127.0.0.1:${storeIn}`, app: `127.0.0.1:${echo.port}` },
        auth: { ...txnAuth, forwardToken: true },
      },
    }),
  ]);
});

const userOpaque = () => as.issueToken({ format: 'opaque', clientId: 'app', subject: 'alice', audience: OPAQUE_RESOURCE, scope: 'read write' });
const call = async (token: string | undefined) => {
  const r = await viaOutbound(edgeOutbound, '/orders', 'backend', { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200, r.body);
  const b = JSON.parse(r.body) as Relayed;
  return { received: b.received, store: b.upstream, echo: b.upstream.echo };
};

test('the edge obtains one transaction token; the next hop forwards it unchanged without calling the server', async () => {
  const t = await userOpaque();
  await as.resetRequests();
  const r = await call(t);
  assert.equal(r.received['x-auth-subject'], 'alice', 'the backend verified the transaction token');
  assert.equal(r.received['authorization'], undefined);
  assert.equal(r.received['txn-token'], undefined, 'the backend app gets a handle, not the token');
  assert.equal(r.store.status, 200, r.store.body);
  const h = r.echo!.headers;
  assert.equal(h['authorization'], undefined, 'the user token never crosses the mesh');
  assert.equal(h[HANDLE], undefined);
  const claims = claimsOf(h['txn-token']);
  assert.equal(claims['sub'], 'alice');
  assert.equal(claims['aud'], TRUST_DOMAIN_AUDIENCE);
  assert.equal(claims['scope'], 'read', 'narrowed at the edge');
  assert.match(String(claims['txn']), /^[0-9a-f-]{36}$/);
  assert.equal(h['x-auth-subject'], 'alice', 'the store verified it too');
  assert.equal(await as.countRequests('/token'), 1, 'one call to the server for the whole chain');
});

test('each request through the edge is its own transaction', async () => {
  const t = await userOpaque();
  const a = claimsOf((await call(t)).echo!.headers['txn-token']);
  const b = claimsOf((await call(t)).echo!.headers['txn-token']);
  assert.notEqual(a['txn'], b['txn']);
});

test('a user token the server refuses is 401 at the edge, never forwarded', async () => {
  const t = await userOpaque();
  await as.revoke(t);
  const r = await viaOutbound(edgeOutbound, '/orders', 'backend', { headers: { authorization: `Bearer ${t}` } });
  assert.equal(r.status, 401, r.body);
});

test('without a user token nothing is obtained and no transaction token reaches the store', async () => {
  const r = await call(undefined);
  assert.equal(r.store.status, 200, r.store.body);
  assert.equal(r.echo!.headers['txn-token'], undefined);
  assert.equal(r.echo!.headers['x-auth-subject'], undefined);
});
