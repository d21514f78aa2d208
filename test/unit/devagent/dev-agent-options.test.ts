import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DevAgent, DevAgentError, type DevAgentOptions } from '../../../sidecar/devagent/index.ts';

const base: DevAgentOptions = {
  trustDomains: [{ name: 'example.org' }],
  workloads: [{ socketPath: '/tmp/never-created.sock', ids: ['spiffe://example.org/w'] }],
  svidTtlMs: 60_000,
};

// Option checks run before any socket or key is made, so these never listen.
const rows: { name: string; opts: DevAgentOptions; message: RegExp }[] = [
  { name: 'intermediate must be a boolean', opts: { ...base, intermediate: 'yes' as unknown as boolean }, message: /intermediate: must be true or false/ },
];

for (const row of rows) {
  test(`DevAgent.start refuses: ${row.name}`, async () => {
    await assert.rejects(DevAgent.start(row.opts), (err: unknown) => {
      assert.ok(err instanceof DevAgentError);
      assert.equal(err.code, 'devagent.bad_config');
      assert.match(err.message, row.message);
      return true;
    });
  });
}
