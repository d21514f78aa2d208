/**
 * The Workload API agent (the dev agent as a real process, with a state
 * directory) is killed and restarted on the same sockets while requests
 * flow through two real sidecars. The restarted agent loads the same CA
 * from its state directory, as a SPIRE agent restart never changes the
 * trust domain's CA (it belongs to the server). While the agent is down the
 * sidecars keep their valid SVIDs; they notice (workload_api_connected 0),
 * reconnect on their own when it is back, and take new SVIDs from the same
 * CA. Not one request may fail over the whole run: before the kill, while
 * the agent is down, while the sidecars reconnect one after the other, and
 * after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnDevAgent } from '../../support/dev-agent-process.ts';
import { eventually } from '../../support/sidecar-harness.ts';
import type { TestSidecar } from '../../support/sidecar-harness.ts';
import { BACKEND_ID, FRONTEND_ID, TD, describeFailures, loadLoop, startPair } from '../../support/app-fixtures.ts';

/** Far beyond the test's length: every SVID stays valid, so any failed request is a bug. */
const SVID_TTL_MS = 3_600_000;
/** Requests each phase must see, so every phase carries real load. */
const PHASE_REQUESTS = 200;

async function serial(p: TestSidecar): Promise<string | undefined> {
  const r = await p.admin('/debug/svid');
  return (JSON.parse(r.body) as { svid: { serial: string } | null }).svid?.serial;
}

test('agent killed and restarted under load: same CA, zero failed requests over the whole run', { timeout: 120_000 }, async (t) => {
  const workloads = { frontend: [FRONTEND_ID], backend: [BACKEND_ID] };
  const first = await spawnDevAgent({ cleanup: t, workloads, svidTtlMs: SVID_TTL_MS });
  const created = await first.waitForEvent((e) => e.event === 'authority_created' && e['trust_domain'] === TD);
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
  await eventually(() => load.results.length >= downAt + PHASE_REQUESTS, () => `load while the agent is down (${load.results.length - downAt})`);
  for (const s of sidecars) assert.equal((await s.admin('/readyz')).status, 200, 'still ready: the SVID is valid');

  const restartAt = Date.now();
  const second = await spawnDevAgent({ cleanup: t, workloads, svidTtlMs: SVID_TTL_MS, dir: first.dir });
  const loaded = await second.waitForEvent((e) => e.event === 'authority_loaded' && e['trust_domain'] === TD);
  assert.equal(loaded['bundle_sha256'], created['bundle_sha256'], 'the restarted agent serves the same CA');
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
  await eventually(() => load.results.length >= settled + PHASE_REQUESTS, () => 'load after the restart');
  const results = await load.stop();

  const reconnecting = results.filter((r) => r.startedAt >= restartAt && r.startedAt <= convergedAt);
  t.diagnostic(`${results.length} requests; ${results.length - downAt} after both noticed the agent was gone; ${reconnecting.length} while the sidecars reconnected`);
  assert.ok(reconnecting.length > 0, 'requests ran while the sidecars reconnected');
  assert.equal(results.filter((r) => r.status !== 200).length, 0, describeFailures(results));
  for (const s of sidecars) assert.equal(await s.metric('sidecar_tls_handshake_errors_total'), undefined, 'no handshake failed');
  for (const s of sidecars) assert.equal(await s.stop(), 0);
  assert.equal(await second.stop(), 0);
});
