/**
 * The Workload API agent (the dev agent as a real process) is killed and
 * restarted on the same sockets while requests flow through two real
 * sidecars. While it is down, the sidecars keep their valid SVIDs and not
 * one request fails; they notice (workload_api_connected 0), reconnect on
 * their own when it is back, and serve with the new SVIDs.
 *
 * The dev agent keeps its CA in memory, so a restarted agent is a new CA:
 * between the moment one sidecar has the new bundle and the moment the
 * other has it too, the two distrust each other by design (SPIRE agents do
 * not change the trust domain's CA when they restart). Requests started in
 * that window are not held to the zero-failure rule; all others are.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnDevAgent } from '../../support/dev-agent.ts';
import { eventually } from '../../support/sidecar-process.ts';
import type { TestSidecar } from '../../support/sidecar-process.ts';
import { BACKEND_ID, FRONTEND_ID, describeFailures, loadLoop, startPair } from './app-fixtures.ts';

async function serial(p: TestSidecar): Promise<string | undefined> {
  const r = await p.admin('/debug/svid');
  return (JSON.parse(r.body) as { svid: { serial: string } | null }).svid?.serial;
}

test('agent killed and restarted under load: zero failed requests while the SVIDs are valid', async (t) => {
  const workloads = { frontend: [FRONTEND_ID], backend: [BACKEND_ID] };
  const first = await spawnDevAgent({ cleanup: t, workloads });
  const pair = await startPair(t, { agent: first });
  const sidecars = [pair.frontend, pair.backend];
  const oldSerials = await Promise.all(sidecars.map(serial));
  const load = loadLoop(pair.outboundPort, 4);
  t.after(() => load.stop());
  await eventually(() => load.results.length >= 20, () => 'load started');

  await first.kill();
  await eventually(
    async () => (await Promise.all(sidecars.map((s) => s.metric('sidecar_workload_api_connected')))).every((v) => v === 0),
    () => 'both sidecars noticed the agent is gone',
  );
  const downAt = load.results.length;
  await eventually(() => load.results.length >= downAt + 200, () => `load while the agent is down (${load.results.length - downAt})`);
  for (const s of sidecars) assert.equal((await s.admin('/readyz')).status, 200, 'still ready: the SVID is valid');

  const restartAt = Date.now();
  const second = await spawnDevAgent({ cleanup: t, workloads, dir: first.dir });
  await eventually(
    async () => {
      const now = await Promise.all(sidecars.map(serial));
      const connected = await Promise.all(sidecars.map((s) => s.metric('sidecar_workload_api_connected')));
      return now.every((s, i) => s !== undefined && s !== oldSerials[i]) && connected.every((v) => v === 1);
    },
    () => 'both sidecars reconnected and took the new agent SVIDs',
    30_000,
    100,
  );
  const convergedAt = Date.now();
  const settled = load.results.length;
  await eventually(() => load.results.length >= settled + 200, () => 'load after the restart');
  const results = await load.stop();

  const window = results.filter((r) => r.startedAt >= restartAt && r.startedAt <= convergedAt);
  const held = results.filter((r) => r.startedAt < restartAt || r.startedAt > convergedAt);
  t.diagnostic(`${results.length} requests; ${window.length} in the CA-change window (${window.filter((r) => r.status !== 200).length} failed there)`);
  assert.equal(held.filter((r) => r.status !== 200).length, 0, describeFailures(held));
  for (const s of sidecars) assert.equal(await s.stop(), 0);
  assert.equal(await second.stop(), 0);
});
