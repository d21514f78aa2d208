/**
 * `spiffe-sidecar run` as a process: exit 2 with every configuration
 * problem printed, exit 1 when start-up fails, config warnings logged, and
 * a sidecar configured by environment variables alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDevAgent } from '../../support/dev-agent-harness.ts';
import { freePorts, runCli, startEnvSidecar, tempDir } from '../../support/sidecar-harness.ts';
import { startEchoApp } from '../../support/app-fixtures.ts';

test('a broken configuration: exit 2 and every problem printed', async (t) => {
  const dir = tempDir(t);
  const configPath = join(dir, 'broken.yaml');
  writeFileSync(
    configPath,
    [
      'spiffe:',
      '  endpointSocket: http://agent',
      'inbound:',
      '  listen: 0.0.0.0:99999',
      '  polcyFile: /etc/policy.yaml',
      'outbound:',
      '  upstreams:',
      '    - host: backend',
      '      address: 10.0.0.5:15006',
      'drain:',
      '  timeout: "500"',
      'log:',
      '  level: loud',
      '',
    ].join('\n'),
  );
  const r = await runCli(['run', '--config', configPath]);
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.equal(r.stdout, '', 'nothing is logged before the configuration is valid');
  for (const expected of [
    configPath,
    'spiffe.endpointSocket',
    'inbound.listen: "0.0.0.0:99999": port must be 1-65535',
    'inbound.polcyFile: unknown key (did you mean "policyFile"?)',
    'inbound.app',
    'outbound.upstreams[0]: needs exactly one of serverId, serverIds or serverTrustDomain',
    'drain.timeout',
    'log.level',
  ]) {
    assert.ok(r.stderr.includes(expected), `stderr mentions ${JSON.stringify(expected)}:\n${r.stderr}`);
  }
});

test('configuration errors of other kinds: YAML syntax, a missing file, bad environment, bad flags', async (t) => {
  const dir = tempDir(t);
  const syntax = join(dir, 'syntax.yaml');
  writeFileSync(syntax, 'inbound:\n  app: 127.0.0.1:8080\n  app: 127.0.0.1:8081\n');
  const r1 = await runCli(['run', '--config', syntax]);
  assert.equal(r1.status, 2);
  assert.match(r1.stderr, /line 3, column 3/);

  const r2 = await runCli(['run', '--config', join(dir, 'missing.yaml')]);
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /cannot open .*missing\.yaml: no such file or directory \(ENOENT\)/);

  const r3 = await runCli(['run'], { env: { SPIFFE_SIDECAR_LOG_LEVEL: 'loud' } });
  assert.equal(r3.status, 2);
  assert.match(r3.stderr, /env SPIFFE_SIDECAR_LOG_LEVEL: "loud"/);
  assert.match(r3.stderr, /endpointSocket/, 'the missing Workload API address is reported in the same run');

  const r4 = await runCli(['run', '--confg', 'x.yaml']);
  assert.equal(r4.status, 2);
  assert.match(r4.stderr, /spiffe-sidecar run: .*--confg/);
});

test('start-up failure (address in use): exit 1 with the listener named', async (t) => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()));
  t.after(() => busy.close());
  const port = (busy.address() as AddressInfo).port;
  const dir = tempDir(t);
  const configPath = join(dir, 'sidecar.yaml');
  writeFileSync(configPath, `spiffe:\n  endpointSocket: unix://${dir}/agent.sock\noutbound:\n  listen: 127.0.0.1:${port}\n  upstreams: []\nadmin:\n  listen: 127.0.0.1:${(await freePorts(1))[0]}\n`);
  const r = await runCli(['run', '--config', configPath]);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(lines.some((l) => l['level'] === 'warn' && String(l['msg']).includes('upstreams')), 'config warnings are logged at warn');
  const failed = lines.find((l) => l['msg'] === 'start-up failed');
  assert.equal(failed?.['code'], 'app.listen_failed');
  assert.match(String(failed?.['err']), new RegExp(`outbound cannot listen on 127.0.0.1:${port}: .*EADDRINUSE`));
});

test('configured by environment variables alone (no --config); SIGINT stops it with exit 0', async (t) => {
  const agent = await startDevAgent({ cleanup: t });
  const app = await startEchoApp(t);
  const [inboundPort, adminPort] = (await freePorts(2)) as [number, number];
  const p = await startEnvSidecar(t, adminPort, {
    SPIFFE_ENDPOINT_SOCKET: agent.address(),
    SPIFFE_SIDECAR_INBOUND_LISTEN: `127.0.0.1:${inboundPort}`,
    SPIFFE_SIDECAR_APP_ADDRESS: `127.0.0.1:${app.port}`,
  });
  const listening = p.lines.filter((l) => l.msg === 'listening').map((l) => l['listener']);
  assert.deepEqual(listening.sort(), ['admin', 'inbound']);
  const started = await p.waitForLog((l) => l.msg === 'sidecar started');
  assert.equal(started['config'], '(environment)');
  assert.equal(await p.stop('SIGINT'), 0);
});
