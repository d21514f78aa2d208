/**
 * The dev agent as a real process (`node sidecar/cli/main.ts dev-agent`):
 * killed with SIGKILL, the source keeps serving its last good SVID; started
 * again on the same socket, the client reconnects by itself and picks up
 * the new agent's SVID. The agent runs without a state directory on
 * purpose: the restart is also a CA change, which the client must accept.
 * (test/integration/app/sidecar-agent-restart.test.ts covers the kept CA.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyX509SvidChain } from '../../../sidecar/svid/index.ts';
import { X509Source, type X509SourceUpdate } from '../../../sidecar/workload/index.ts';
import { spawnDevAgent } from '../../support/dev-agent-process.ts';

test('agent killed and restarted on the same socket: last good SVID kept, then replaced', async (t) => {
  const workloads = { api: ['spiffe://example.org/api'] };
  const first = await spawnDevAgent({ cleanup: t, workloads, stateDir: false });
  const source = await X509Source.create({ address: first.address(), timeoutMs: 15_000, backoff: { initialMs: 100, maxMs: 1_000 } });
  t.after(() => source.close());
  const before = source.getX509Svid();
  const errors: string[] = [];
  source.on('error', (e) => errors.push(e.code));

  await first.kill();
  // The agent is gone: wait until the client has noticed (stream ended / reconnect refused).
  await waitFor(() => errors.length > 0);
  assert.ok(errors.every((c) => c === 'workload.transient' || c === 'workload.stream_ended'), errors.join());
  assert.equal(source.getX509Svid(), before, 'the last good SVID is kept while the agent is down');
  assert.ok(source.isReady(), 'still ready while the SVID is valid');

  const replaced = new Promise<X509SourceUpdate>((resolve) => source.on('update', resolve));
  const second = await spawnDevAgent({ cleanup: t, workloads, dir: first.dir, stateDir: false });
  const ev = await withTimeout(replaced, 30_000, () => `no update after restart; errors: ${errors.join()}`);
  assert.equal(ev.svid!.id.toString(), 'spiffe://example.org/api');
  assert.ok(!ev.svid!.certificates[0]!.der.equals(before.certificates[0]!.der), 'an SVID from the new agent');
  // The new agent has a new CA: the delivered bundle verifies the new SVID, not the old one.
  verifyX509SvidChain(ev.svid!.certificates.map((c) => c.der), ev.bundles);
  assert.throws(() => verifyX509SvidChain(before.certificates.map((c) => c.der), ev.bundles));
  assert.equal(await second.stop(), 0, 'SIGTERM stops the agent cleanly with exit code 0');
});

async function waitFor(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(what())), ms);
    }),
  ]);
}
