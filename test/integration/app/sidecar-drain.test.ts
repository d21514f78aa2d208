/**
 * SIGTERM drains a real sidecar process: slow responses already in flight
 * through it complete, /readyz answers 503 while it drains, and the
 * process exits 0 with nothing abandoned. Tried on the inbound side
 * (backend's sidecar) and on the outbound side (frontend's sidecar).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent } from '../../support/dev-agent-harness.ts';
import { eventually, viaOutbound, type HttpResult } from '../../support/sidecar-harness.ts';
import { BACKEND_ID, FRONTEND_ID, startPair } from '../../support/app-fixtures.ts';

const IN_FLIGHT = 5;
const SLOW_MS = 2_000;

for (const side of ['backend', 'frontend'] as const) {
  test(`SIGTERM to the ${side} sidecar: in-flight requests complete, readyz 503, exit 0`, async (t) => {
    const agent = await startDevAgent({ cleanup: t, workloads: { frontend: [FRONTEND_ID], backend: [BACKEND_ID] } });
    const pair = await startPair(t, { agent, common: { drain: { timeout: '15s' } } });
    const target = pair[side];

    const requests: Promise<HttpResult>[] = [];
    for (let i = 0; i < IN_FLIGHT; i++) requests.push(viaOutbound(pair.outboundPort, `/slow?ms=${SLOW_MS}&i=${i}`));
    await eventually(() => pair.app.pending() === IN_FLIGHT, () => `all ${IN_FLIGHT} requests reached the app (${pair.app.pending()})`);

    const drainStarted = target.waitForLog((l) => l.msg === 'draining');
    target.child.kill('SIGTERM');
    const draining = await drainStarted;
    assert.equal(draining['in_flight'], IN_FLIGHT);
    const ready = await target.admin('/readyz');
    assert.equal(ready.status, 503, 'not ready while draining');
    assert.equal(ready.body.trim(), 'draining');
    assert.ok(pair.app.pending() > 0, 'the check ran while requests were still in flight');

    const answers = await Promise.all(requests);
    assert.deepEqual(
      answers.map((a) => a.status),
      Array(IN_FLIGHT).fill(200),
      answers.map((a) => a.body).join(' | '),
    );
    assert.equal(await target.exited, 0);
    const stopped = await target.waitForLog((l) => l.msg === 'stopped');
    assert.equal(stopped['abandoned'], 0);
  });
}

test('drain deadline: requests still running at drain.timeout are cut off and counted, exit 0', async (t) => {
  const agent = await startDevAgent({ cleanup: t, workloads: { frontend: [FRONTEND_ID], backend: [BACKEND_ID] } });
  const pair = await startPair(t, { agent, common: { drain: { timeout: '300ms' } } });
  const requests = [0, 1].map((i) => viaOutbound(pair.outboundPort, `/slow?ms=10000&i=${i}`).catch((err: Error) => ({ status: 0, body: err.message, headers: {} })));
  await eventually(() => pair.app.pending() === 2, () => 'both requests reached the app');
  assert.equal(await pair.backend.stop(), 0);
  const stopped = await pair.backend.waitForLog((l) => typeof l['abandoned'] === 'number');
  assert.equal(stopped['abandoned'], 2);
  for (const r of await Promise.all(requests)) assert.notEqual(r.status, 200, 'a cut-off request does not look like a success');
});
