import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startDevAgent } from '../../support/dev-agent-harness.ts';
import { freePorts, runCli, startSidecar, tempDir } from '../../support/sidecar-harness.ts';

interface Report {
  ok: boolean;
  checks: { name: string; status: string; detail: string; fix: string }[];
}

function statusOf(report: Report): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.name, c.status]));
}

test('spiffe-sidecar check against the dev agent: pre-flight: every check passes for a good configuration (iptables warns outside a pod)', async (t) => {
  const agent = await startDevAgent({ cleanup: t });
  const dir = tempDir(t);
  const [inbound, admin] = await freePorts(2);
  const config = join(dir, 'sidecar.yaml');
  writeFileSync(config, stringify({ spiffe: { endpointSocket: agent.address() }, inbound: { listen: `127.0.0.1:${inbound}`, app: '127.0.0.1:8080' }, admin: { listen: `127.0.0.1:${admin}` } }));
  const r = await runCli(['check', '--config', config, '--output', 'json']);
  const report = JSON.parse(r.stdout) as Report;
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.deepEqual(statusOf(report), {
    config: 'ok',
    policy: 'ok',
    'workload-api': 'ok',
    svid: 'ok',
    'clock-skew': 'ok',
    bundles: 'ok',
    'token-keys': 'ok',
    listeners: 'ok',
    iptables: 'warn',
  });
  assert.match(report.checks.find((c) => c.name === 'svid')!.detail, /spiffe:\/\/example\.org\/workload expires in 59m|spiffe:\/\/example\.org\/workload expires in 1h/);
});

test('spiffe-sidecar check against the dev agent: pre-flight: an unreachable Workload API fails with exit 1 and its fix', async (t) => {
  const dir = tempDir(t);
  const config = join(dir, 'sidecar.yaml');
  writeFileSync(config, stringify({ spiffe: { endpointSocket: `unix://${join(dir, 'nothing.sock')}` }, inbound: { app: '127.0.0.1:8080' } }));
  const r = await runCli(['check', '--config', config, '--timeout', '2s']);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^FAIL {2}workload-api {2}cannot reach the Workload API at unix:\/\/.*nothing\.sock: no socket at that path/m);
  assert.match(r.stdout, /fix: start the SPIRE agent/);
  assert.match(r.stdout, /^warn {2}svid {10}not checked/m);
});

test('spiffe-sidecar check against a running sidecar: live: the sidecar is ready and its listeners are bound', async (t) => {
  const agent = await startDevAgent({ cleanup: t });
  const [inbound] = await freePorts(1);
  const sidecar = await startSidecar({ cleanup: t, config: { spiffe: { endpointSocket: agent.address() }, inbound: { listen: `127.0.0.1:${inbound}`, app: '127.0.0.1:8080' } } });
  const r = await runCli(['check', '--config', sidecar.configPath, '--admin', `http://127.0.0.1:${sidecar.adminPort}`, '--output', 'json']);
  const report = JSON.parse(r.stdout) as Report;
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(statusOf(report)['sidecar-ready'], 'ok');
  const listeners = report.checks.find((c) => c.name === 'listeners')!;
  assert.equal(listeners.status, 'ok', listeners.detail);
  assert.match(listeners.detail, new RegExp(`inbound 127\\.0\\.0\\.1:${inbound}`));
});

test('spiffe-sidecar check against a running sidecar: live: no sidecar at --admin fails sidecar-ready and listeners', async (t) => {
  const agent = await startDevAgent({ cleanup: t });
  const dir = tempDir(t);
  const [unused] = await freePorts(1);
  const config = join(dir, 'sidecar.yaml');
  writeFileSync(config, stringify({ spiffe: { endpointSocket: agent.address() }, inbound: { app: '127.0.0.1:8080' } }));
  const r = await runCli(['check', '--config', config, '--admin', `http://127.0.0.1:${unused}`, '--output', 'json']);
  const report = JSON.parse(r.stdout) as Report;
  assert.equal(r.status, 1);
  assert.equal(statusOf(report)['sidecar-ready'], 'fail');
  assert.equal(statusOf(report)['listeners'], 'fail');
  assert.equal(statusOf(report)['workload-api'], 'ok');
});
