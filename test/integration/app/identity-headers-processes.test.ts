/**
 * Caller identity headers through real sidecar processes: the app behind
 * the inbound sidecar receives exactly one x-client-spiffe-id (the caller's
 * verified ID) and one XFCC `By=<own ID>;Hash=<sha256 of the caller's leaf
 * certificate>;URI=<caller ID>`, whatever the caller sent; the outbound
 * sidecar strips identity headers the local app sent before they leave the
 * pod; and the metrics label requests with the peer's SPIFFE ID.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { MtlsAgent, authorizeAny, authorizeId, mtlsServer } from '../../../sidecar/tls/index.ts';
import { SpiffeId } from '../../../sidecar/spiffe/index.ts';
import { X509Source, WorkloadApiClient } from '../../../sidecar/workload/index.ts';
import { startDevAgent } from '../../support/dev-agent-harness.ts';
import { freePorts, startSidecar, viaOutbound } from '../../support/sidecar-harness.ts';
import { BACKEND_ID, FRONTEND_ID, startPair, type Echo } from '../../support/app-fixtures.ts';

const SPOOF = {
  'x-client-spiffe-id': 'spiffe://example.org/admin',
  'X-Forwarded-Client-Cert': 'By=spiffe://example.org/backend;Hash=00;URI=spiffe://example.org/admin',
  x_client_spiffe_id: 'spiffe://example.org/admin',
};

async function leafSha256(address: string): Promise<string> {
  const client = new WorkloadApiClient({ address });
  try {
    const ctx = await client.fetchX509Context();
    return createHash('sha256').update(ctx.svids[0]!.certificates[0]!.der).digest('hex');
  } finally {
    client.close();
  }
}

test('inbound sets the verified identity (x-client-spiffe-id, XFCC By/Hash/URI) and drops what the caller sent', async (t) => {
  const agent = await startDevAgent({ cleanup: t, workloads: { frontend: [FRONTEND_ID], backend: [BACKEND_ID] } });
  const pair = await startPair(t, { agent });
  const expectedHash = await leafSha256(agent.address('frontend'));
  const debug = JSON.parse((await pair.frontend.admin('/debug/svid')).body) as { svid: { leafSha256: string } };
  assert.equal(debug.svid.leafSha256, expectedHash, "the frontend's /debug/svid shows the certificate it presents");
  const expectedXfcc = `By=${BACKEND_ID};Hash=${expectedHash};URI=${FRONTEND_ID}`;

  // Through both sidecars, with spoofed headers from the app.
  const r = await viaOutbound(pair.outboundPort, '/whoami', 'backend', { headers: SPOOF });
  assert.equal(r.status, 200, r.body);
  const seen = (JSON.parse(r.body) as Echo).headers;
  assert.equal(seen['x-client-spiffe-id'], FRONTEND_ID);
  assert.equal(seen['x-forwarded-client-cert'], expectedXfcc);
  assert.equal(seen['x_client_spiffe_id'], undefined, "the '_' spelling is stripped too");

  // Straight to the inbound listener over mTLS (no outbound sidecar in
  // between), with spoofed headers: the inbound sidecar alone replaces them.
  const source = await X509Source.create({ address: agent.address('frontend'), timeoutMs: 10_000 });
  t.after(() => source.close());
  const direct = new MtlsAgent({ svidSource: source, bundleSource: source, authorize: authorizeId(SpiffeId.parse(BACKEND_ID)) });
  t.after(() => direct.destroy());
  const body = await new Promise<string>((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port: pair.inboundPort, path: '/direct', agent: direct, headers: SPOOF }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve(text));
      })
      .on('error', reject);
  });
  const direct1 = (JSON.parse(body) as Echo).headers;
  assert.equal(direct1['x-client-spiffe-id'], FRONTEND_ID);
  assert.equal(direct1['x-forwarded-client-cert'], expectedXfcc);
  assert.equal(direct1['x_client_spiffe_id'], undefined);

  const metrics = (await pair.backend.admin('/metrics')).body;
  assert.match(metrics, new RegExp(`^sidecar_requests_total\\{direction="inbound",method="GET",code="200",peer_spiffe_id="${FRONTEND_ID}"\\} 2$`, 'm'));
  assert.match(metrics, new RegExp(`^sidecar_authz_decisions_total\\{decision="allow",peer_spiffe_id="${FRONTEND_ID}"\\} 2$`, 'm'));
  const outMetrics = (await pair.frontend.admin('/metrics')).body;
  assert.match(outMetrics, new RegExp(`^sidecar_requests_total\\{direction="outbound",method="GET",code="200",peer_spiffe_id="${BACKEND_ID}"\\} 1$`, 'm'));
});

test('outbound strips the identity headers the app sent before the request leaves the pod', async (t) => {
  const agent = await startDevAgent({ cleanup: t, workloads: { frontend: [FRONTEND_ID], backend: [BACKEND_ID] } });
  // A bare mTLS server with the backend's identity records what arrives on the wire.
  const source = await X509Source.create({ address: agent.address('backend'), timeoutMs: 10_000 });
  t.after(() => source.close());
  const m = mtlsServer({ svidSource: source, bundleSource: source, authorize: authorizeAny() });
  let received: Record<string, unknown> = {};
  const server = m.attach(
    https.createServer(m.options, (req, res) => {
      received = req.headers;
      res.end('ok');
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const [outboundPort] = (await freePorts(1)) as [number];
  await startSidecar({
    cleanup: t,
    config: {
      spiffe: { endpointSocket: agent.address('frontend') },
      outbound: {
        listen: `127.0.0.1:${outboundPort}`,
        upstreams: [{ host: 'raw', address: `127.0.0.1:${(server.address() as AddressInfo).port}`, serverId: BACKEND_ID }],
      },
    },
  });
  const r = await viaOutbound(outboundPort, '/x', 'raw', { headers: { ...SPOOF, 'x-other': 'kept' } });
  assert.equal(r.status, 200, r.body);
  assert.equal(received['x-other'], 'kept');
  for (const name of ['x-client-spiffe-id', 'x-forwarded-client-cert', 'x_client_spiffe_id']) {
    assert.equal(received[name], undefined, `${name} must not leave the pod`);
  }
});
