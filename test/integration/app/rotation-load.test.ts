/**
 * SVID rotation under sustained load through two real sidecar processes
 * (outbound → mTLS → inbound): the dev agent rotates both SVIDs every 2 s (TTL 4 s)
 * while four client loops send requests; not one request may fail, and
 * both sidecars count the rotations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent } from '../../support/dev-agent-harness.ts';
import { eventually } from '../../support/sidecar-harness.ts';
import { BACKEND_ID, FRONTEND_ID, describeFailures, loadLoop, startPair } from '../../support/app-fixtures.ts';

test('rotation during sustained load: zero failed requests, rotations counted', async (t) => {
  const agent = await startDevAgent({ cleanup: t, workloads: { frontend: [FRONTEND_ID], backend: [BACKEND_ID] }, svidTtlMs: 4_000 });
  const pair = await startPair(t, { agent });
  const load = loadLoop(pair.outboundPort, 4);
  t.after(() => load.stop());

  // Until each side has rotated three times (about 6-8 s), bounded.
  await eventually(
    async () => ((await pair.frontend.metric('sidecar_svid_rotations_total')) ?? 0) >= 3 && ((await pair.backend.metric('sidecar_svid_rotations_total')) ?? 0) >= 3,
    () => `both sidecars rotated three times (${load.results.length} requests so far)`,
    20_000,
    200,
  );
  const results = await load.stop();
  assert.ok(results.length >= 50, `enough load: ${results.length} requests`);
  assert.equal(results.filter((r) => r.status !== 200).length, 0, describeFailures(results));

  const inbound = await pair.backend.metric('sidecar_requests_total', { direction: 'inbound', code: '200', peer_spiffe_id: FRONTEND_ID });
  const outbound = await pair.frontend.metric('sidecar_requests_total', { direction: 'outbound', code: '200' });
  assert.equal(inbound, results.length, 'the backend counted every request under the caller SPIFFE ID');
  assert.equal(outbound, results.length, 'the frontend counted every request');
  assert.equal(await pair.backend.metric('sidecar_tls_handshake_errors_total'), undefined, 'no handshake failed');
  assert.equal(await pair.frontend.stop(), 0);
  assert.equal(await pair.backend.stop(), 0);
});
