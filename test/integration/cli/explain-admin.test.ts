/**
 * `spiffe-sidecar explain --admin` against a real sidecar process: the
 * policy comes from its loopback-only /debug/policy, follows a reload of the
 * policy file, and the exit status says allowed (0) or denied (1). No
 * Workload API is needed: the admin listener and the policy are up before
 * the first SVID.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, freePorts, runCli, startSidecar, tempDir } from '../../support/sidecar-harness.ts';

const WEB = 'spiffe://example.org/web';

function policy(path: string): string {
  return JSON.stringify({
    version: 2,
    rules: [
      { name: 'web-read', from: [{ id: WEB }], to: [{ pathPrefixes: [path], methods: ['GET'] }] },
      { name: 'gold', from: [{ id: WEB, claims: [{ claim: 'tier', equals: 'gold' }] }], to: [{ pathPrefixes: ['/gold'] }] },
    ],
  });
}

test('explain --admin: the running sidecar inbound policy, reloads included', async (t) => {
  const dir = tempDir(t, 'explain-admin-');
  const policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, policy('/v1'));
  const [inboundPort, appPort] = (await freePorts(2)) as [number, number];
  const sidecar = await startSidecar({
    cleanup: t,
    dir,
    waitReady: false,
    config: {
      spiffe: { endpointSocket: `unix://${dir}/absent.sock` },
      inbound: { listen: `127.0.0.1:${inboundPort}`, app: `127.0.0.1:${appPort}`, policyFile },
    },
  });
  await sidecar.waitFor('/healthz', 200);
  const admin = `http://127.0.0.1:${sidecar.adminPort}`;
  const explain = (...args: string[]) => runCli(['explain', '--admin', admin, '--caller', WEB, ...args], { timeoutMs: 30_000 });

  const allowed = await explain('--path', '/v1/items');
  assert.equal(allowed.status, 0, allowed.stderr);
  assert.match(allowed.stdout, /^decision: {2}allow, by rule web-read: forwarded to the app$/m);
  assert.match(allowed.stdout, new RegExp(`^policy: {4}${admin}/debug/policy \\(${policyFile.replace(/[.]/g, '\\.')}\\) \\(version 2, 2 rules\\)$`, 'm'));

  const needsToken = await explain('--path', '/gold/x', '--output', 'json');
  assert.equal(needsToken.status, 1, needsToken.stderr);
  const doc = JSON.parse(needsToken.stdout) as { reason: string; status: number; rule: string };
  assert.deepEqual([doc.reason, doc.status, doc.rule], ['principal_required', 401, 'gold']);

  const withToken = await explain('--path', '/gold/x', '--issuer', 'https://idp.example', '--claims', '{"sub":"alice","tier":"gold"}');
  assert.equal(withToken.status, 0, withToken.stderr);

  writeFileSync(policyFile, policy('/v2'));
  await eventually(async () => (await explain('--path', '/v2/items')).status === 0, () => 'explain never saw the reloaded policy', 25_000, 300);
  const old = await explain('--path', '/v1/items');
  assert.equal(old.status, 1);
  assert.match(old.stdout, /to\[0\]\.pathPrefixes: path \/v1\/items is not under \[\/v2\]/);
});

test('explain --admin: an admin port that does not answer exits 2', async () => {
  const [port] = (await freePorts(1)) as [number];
  const r = await runCli(['explain', '--admin', `http://127.0.0.1:${port}`, '--caller', WEB], { timeoutMs: 30_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^spiffe-sidecar explain: explain: cannot get http:\/\/127\.0\.0\.1:\d+\/debug\/policy: .*ECONNREFUSED.* \[explain\.admin_unreachable\]\n$/);
  assert.equal(r.stdout, '');
});
