/**
 * The package's main entry used the way an application would use go-spiffe:
 * two services speak SPIFFE mTLS directly (no sidecar), with identities from
 * the Workload API and authorization by SPIFFE ID. Imports only from
 * sidecar/index.ts, so the public surface is what gets exercised.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  X509Source,
  SpiffeId,
  authorizeId,
  createMtlsServer,
  MtlsAgent,
  peerIdentity,
  PeerNotAuthorized,
} from '../../../sidecar/index.ts';
import { startDevAgent } from '../../support/dev-agent-harness.ts';

function get(agent: MtlsAgent, port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/whoami', agent }, (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a service and its client authenticate each other by SPIFFE ID through the public API', async (t) => {
  const agent = await startDevAgent({
    cleanup: t,
    workloads: {
      api: ['spiffe://example.org/api'],
      client: ['spiffe://example.org/client'],
      other: ['spiffe://example.org/other'],
    },
  });
  const sources: X509Source[] = [];
  t.after(() => sources.forEach((s) => s.close()));
  const open = async (name: string): Promise<X509Source> => {
    const s = await X509Source.create({ address: `unix://${agent.socketPath(name)}`, timeoutMs: 10_000 });
    sources.push(s);
    return s;
  };
  const [api, client, other] = [await open('api'), await open('client'), await open('other')];
  const bundles = { bundles: () => api.bundles() };

  const server = createMtlsServer({
    svidSource: api,
    bundleSource: bundles,
    authorize: authorizeId(SpiffeId.parse('spiffe://example.org/client')),
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    const who = peerIdentity(socket);
    socket.on('error', () => {});
    socket.on('data', () => {
      socket.end(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${who?.id.toString() ?? 'unknown'}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;

  const good = new MtlsAgent({
    svidSource: client,
    bundleSource: { bundles: () => client.bundles() },
    authorize: authorizeId(SpiffeId.parse('spiffe://example.org/api')),
  });
  t.after(() => good.destroy());
  const res = await get(good, port);
  assert.equal(res.status, 200);
  assert.equal(res.body, 'spiffe://example.org/client', 'the server saw the client SVID');

  // The client refuses a server whose ID is not the one it meant to reach.
  const wrongServer = new MtlsAgent({
    svidSource: client,
    bundleSource: { bundles: () => client.bundles() },
    authorize: authorizeId(SpiffeId.parse('spiffe://example.org/payments')),
  });
  t.after(() => wrongServer.destroy());
  await assert.rejects(get(wrongServer, port), (err: unknown) => {
    assert.ok(err instanceof PeerNotAuthorized, `expected PeerNotAuthorized, got ${String(err)}`);
    assert.match(err.message, /spiffe:\/\/example\.org\/api/);
    return true;
  });

  // The server refuses an authenticated client it does not authorize.
  const rejected = new Promise<{ reason: string }>((r) => server.once('peerRejected', r));
  const intruder = new MtlsAgent({
    svidSource: other,
    bundleSource: { bundles: () => other.bundles() },
    authorize: authorizeId(SpiffeId.parse('spiffe://example.org/api')),
  });
  t.after(() => intruder.destroy());
  await assert.rejects(get(intruder, port));
  assert.equal((await rejected).reason, 'not_authorized');
});
