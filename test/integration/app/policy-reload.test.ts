/**
 * Policy hot reload in a real sidecar process: a good change applies
 * without a restart (a denied path becomes allowed), a broken file keeps
 * the previous policy and counts sidecar_policy_reload_errors_total, and a
 * Kubernetes ConfigMap update (the `..data` symlink swap) is picked up.
 * A broken policy file at start-up stops the sidecar with the file named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startDevAgent } from '../../support/dev-agent-harness.ts';
import { eventually, runCli, tempDir, viaOutbound } from '../../support/sidecar-harness.ts';
import { BACKEND_ID, FRONTEND_ID, startPair } from '../../support/app-fixtures.ts';

const workloads = { frontend: [FRONTEND_ID], backend: [BACKEND_ID] };

function policy(paths: readonly string[]): string {
  return stringify({ version: 1, rules: [{ name: 'frontend-reads', from: [{ id: FRONTEND_ID }], to: [{ paths, methods: ['GET'] }] }] });
}

/** Replaces a file the way editors and config tools do: write aside, then rename over it. */
function replaceFile(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

test('policy file: a good change applies, a bad file keeps the previous policy and is counted', async (t) => {
  const dir = tempDir(t);
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, policy(['/public/']));
  const agent = await startDevAgent({ cleanup: t, workloads });
  const pair = await startPair(t, { agent, inbound: { policyFile } });
  const status = async (path: string): Promise<number> => (await viaOutbound(pair.outboundPort, path)).status;

  assert.equal(await status('/public/a'), 200);
  assert.equal(await status('/private/a'), 403);
  assert.equal(await pair.backend.metric('sidecar_policy_reload_errors_total'), 0);

  replaceFile(policyFile, policy(['/public/', '/private/']));
  await eventually(async () => (await status('/private/a')) === 200, () => 'the reloaded policy allows /private/');
  await pair.backend.waitForLog((l) => l.msg === 'policy reloaded' && l['path'] === policyFile);

  replaceFile(policyFile, 'version: 1\nrules:\n  - name: broken\n    from: [{ id: "spiffe://Example.org/x" }]\n');
  await eventually(async () => (await pair.backend.metric('sidecar_policy_reload_errors_total')) === 1, () => 'the reload error is counted');
  const logged = await pair.backend.waitForLog((l) => l.msg === 'policy reload failed; keeping the previous policy');
  assert.equal(logged['path'], policyFile);
  assert.equal(logged['level'], 'error');
  assert.equal(await status('/private/a'), 200, 'the previous policy is still in force');
  assert.equal(await status('/other'), 403, 'and still denies what it denied');

  // Fixed again: applies, and the error count stays where it was.
  replaceFile(policyFile, policy(['/public/']));
  await eventually(async () => (await status('/private/a')) === 403, () => 'the fixed policy applies');
  assert.equal(await pair.backend.metric('sidecar_policy_reload_errors_total'), 1);
  assert.equal((await pair.backend.admin('/readyz')).status, 200, 'a policy problem never makes the sidecar unready');
});

test('policy file in a Kubernetes ConfigMap volume: the ..data symlink swap is picked up', async (t) => {
  // The kubelet's layout: policy.yaml -> ..data/policy.yaml, ..data -> ..<timestamp>/
  const dir = tempDir(t);
  const version = (name: string, text: string): void => {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'policy.yaml'), text);
  };
  version('..2026_01_01_v1', policy(['/public/']));
  symlinkSync('..2026_01_01_v1', join(dir, '..data'));
  symlinkSync('..data/policy.yaml', join(dir, 'policy.yaml'));

  const agent = await startDevAgent({ cleanup: t, workloads });
  const pair = await startPair(t, { agent, inbound: { policyFile: join(dir, 'policy.yaml') } });
  assert.equal((await viaOutbound(pair.outboundPort, '/private/a')).status, 403);

  // The update: a new version directory, a new symlink renamed over ..data, the old one removed.
  version('..2026_01_01_v2', policy(['/public/', '/private/']));
  symlinkSync('..2026_01_01_v2', join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  rmSync(join(dir, '..2026_01_01_v1'), { recursive: true });

  await eventually(async () => (await viaOutbound(pair.outboundPort, '/private/a')).status === 200, () => 'the swapped ConfigMap applies');
  assert.equal(await pair.backend.metric('sidecar_policy_reload_errors_total'), 0);
});

test('a broken policy file at start-up: exit 2 naming the file and the problem, nothing started', async (t) => {
  const dir = tempDir(t);
  const policyFile = join(dir, 'bad-policy.yaml');
  writeFileSync(policyFile, 'version: 1\nrules:\n  - name: x\n    from: [{ id: "spiffe://example.org/a" }]\n    to: [{ methods: [get] }]\n');
  const configPath = join(dir, 'sidecar.yaml');
  writeFileSync(
    configPath,
    stringify({
      spiffe: { endpointSocket: `unix://${dir}/agent.sock` },
      inbound: { listen: '127.0.0.1:1', app: '127.0.0.1:2', policyFile },
      admin: { listen: '127.0.0.1:3' },
    }),
  );
  const r = await runCli(['run', '--config', configPath]);
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.equal(r.stdout, '', 'nothing was started, so nothing was logged');
  assert.match(r.stderr, /^spiffe-sidecar run: the policy has \d+ problems?; nothing was started:\n.*bad-policy\.yaml: rules\[0\]\.to\[0\]\.methods\[0\]: "get": methods are case-sensitive/m);
});
