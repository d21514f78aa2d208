/**
 * /readyz of a real sidecar process follows its identity: 503 "no SVID yet"
 * while the Workload API is not there (the admin listener answers at once),
 * 200 once an SVID arrived and every listener is bound, and 503 again once
 * that SVID expired with no agent left to rotate it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSocketDir, startDevAgent } from '../../support/dev-agent-harness.ts';
import { freePorts, startSidecar } from '../../support/sidecar-harness.ts';
import { startEchoApp } from '../../support/app-fixtures.ts';

test('readyz: 503 before the first SVID, 200 with it, 503 after it expired', async (t) => {
  const dir = makeSocketDir(t);
  const app = await startEchoApp(t);
  const [inboundPort] = (await freePorts(1)) as [number];
  // The socket does not exist yet: the dev agent creates it later.
  const sidecar = await startSidecar({
    cleanup: t,
    waitReady: false,
    config: {
      spiffe: { endpointSocket: `unix://${dir}/workload.sock` },
      inbound: { listen: `127.0.0.1:${inboundPort}`, app: `127.0.0.1:${app.port}` },
    },
  });

  const before = await sidecar.waitFor('/readyz', 503, 20_000, 'no SVID yet');
  assert.match(before.body, /^no SVID yet/m);
  assert.match(before.body, /inbound listener not bound yet/, 'the inbound listener waits for the SVID');
  assert.equal((await sidecar.admin('/healthz')).status, 200, 'alive while not ready');
  assert.equal(await sidecar.metric('sidecar_workload_api_connected'), 0);

  const ttlMs = 4_000;
  const agent = await startDevAgent({ cleanup: t, dir, svidTtlMs: ttlMs });
  await sidecar.waitReady(20_000);
  assert.equal(await sidecar.metric('sidecar_workload_api_connected'), 1);
  const debug = JSON.parse((await sidecar.admin('/debug/svid')).body) as { svid: { spiffeId: string; notAfter: string; chainLength: number } };
  assert.equal(debug.svid.spiffeId, 'spiffe://example.org/workload');
  assert.equal(debug.svid.chainLength, 1);

  // No agent, no rotation: the last SVID runs out.
  await agent.stop();
  const expired = await sidecar.waitFor('/readyz', 503, ttlMs + 15_000, 'expired');
  assert.match(expired.body, /SVID expired at \S+ and no new one arrived/);
  await sidecar.waitForLog((l) => l.msg === 'X509-SVID expired and no new one arrived: not ready', 5_000);
  assert.equal(await sidecar.metric('sidecar_workload_api_connected'), 0);
  assert.equal(await sidecar.stop(), 0);
});

test('readyz: 503 while the Workload API withdraws the identity, 200 again when it is issued', async (t) => {
  const agent = await startDevAgent({ cleanup: t });
  const app = await startEchoApp(t);
  const [inboundPort] = (await freePorts(1)) as [number];
  const sidecar = await startSidecar({
    cleanup: t,
    config: { spiffe: { endpointSocket: agent.address() }, inbound: { listen: `127.0.0.1:${inboundPort}`, app: `127.0.0.1:${app.port}` } },
  });
  await agent.agent.setWorkloadIds(agent.socketPath(), []);
  const withdrawn = await sidecar.waitFor('/readyz', 503, 20_000, 'withdrew');
  assert.match(withdrawn.body, /no SVID: the Workload API withdrew it/);
  await sidecar.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('X509-SVID withdrawn'), 5_000);
  await agent.agent.setWorkloadIds(agent.socketPath(), ['spiffe://example.org/workload']);
  await sidecar.waitReady(20_000);
  assert.equal(await sidecar.metric('sidecar_svid_rotations_total'), 1, 'the re-issued SVID counts as a rotation');
});
