/**
 * The two CLI commands as real processes: `dev-agent` (flags, JSON log
 * lines, clean stop) and `svid` against it (--json, --write, file modes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { devAgentOptionsFromArgs } from '../../../sidecar/cli/dev-agent.ts';
import { UsageError } from '../../../sidecar/cli/io.ts';
import { makeSocketDir } from '../../support/dev-agent-harness.ts';
import { devAgentArgs, spawnDevAgent } from '../../support/dev-agent-process.ts';

const root = resolve(import.meta.dirname, '..', '..', '..');
const main = join(root, 'sidecar', 'cli', 'main.ts');

function run(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', main, ...args], {
      cwd: root,
      env: { ...process.env, SPIFFE_ENDPOINT_SOCKET: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

test('svid CLI against the dev-agent process: --json and --write with file modes', async (t) => {
  const agent = await spawnDevAgent({
    cleanup: t,
    trustDomains: [{ name: 'example.org', federatesWith: ['partner.org'] }, { name: 'partner.org' }],
    workloads: { frontend: ['spiffe://example.org/frontend'] },
  });
  const out = join(makeSocketDir(t), 'files');
  const r = await run(['svid', '--json', '--write', out, '--timeout', '10s'], { SPIFFE_ENDPOINT_SOCKET: agent.address() });
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { svids: { spiffeId: string; hint: string }[]; bundles: Record<string, number> };
  assert.deepEqual(doc.svids.map((s) => s.spiffeId), ['spiffe://example.org/frontend']);
  assert.deepEqual(doc.bundles, { 'example.org': 1, 'partner.org': 1 });
  assert.equal(statSync(join(out, 'svid_key.pem')).mode & 0o777, 0o600);
  assert.match(readFileSync(join(out, 'svid_key.pem'), 'utf8'), /BEGIN PRIVATE KEY/);
  assert.match(readFileSync(join(out, 'svid.pem'), 'utf8'), /BEGIN CERTIFICATE/);
  assert.match(readFileSync(join(out, 'bundle.pem'), 'utf8'), /BEGIN CERTIFICATE/);
});

test('svid CLI: a bad --socket is a usage error (exit 2) naming the flag', async () => {
  const r = await run(['svid', '--socket', 'tcp://localhost:1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--socket/);
  assert.match(r.stderr, /DNS names are not allowed/);
});

test('dev-agent: JSON log lines without key material, rotation events, clean stop on SIGTERM', async (t) => {
  const agent = await spawnDevAgent({ cleanup: t, svidTtlMs: 2_000, workloads: { api: ['spiffe://example.org/api'] } });
  const listening = await agent.waitForEvent((e) => e.event === 'listening');
  assert.equal(listening['socket'], agent.socketPath());
  assert.deepEqual(listening['spiffe_ids'], ['spiffe://example.org/api']);
  assert.equal(statSync(agent.socketPath()).mode & 0o777, 0o600);
  const rotated = await agent.waitForEvent((e) => e.event === 'rotated');
  assert.equal(rotated['socket'], agent.socketPath());
  assert.equal(await agent.stop(), 0);
  assert.ok(agent.events.some((e) => e.event === 'stopped'));
  assert.equal(existsSync(agent.socketPath()), false, 'socket removed on stop');
  const all = JSON.stringify(agent.events);
  assert.doesNotMatch(all, /PRIVATE KEY|BEGIN CERTIFICATE|x509_svid_key/);
  assert.equal(agent.stderr(), '');
});

for (const [args, flag] of [
  [['--workload', '/tmp/x.sock=spiffe://example.org/x'], '--trust-domain'],
  [['--trust-domain', 'example.org'], '--workload'],
  [['--trust-domain', 'Example.org', '--workload', '/tmp/x.sock=spiffe://example.org/x'], '--trust-domain'],
  [['--trust-domain', 'example.org', '--workload', 'rel.sock=spiffe://example.org/x'], '--workload'],
  [['--trust-domain', 'example.org', '--workload', '/tmp/x.sock=spiffe://other.org/x'], '--workload'],
  [['--trust-domain', 'example.org', '--workload', '/tmp/x.sock=spiffe://example.org'], '--workload'],
  [['--trust-domain', 'example.org', '--workload', '/tmp/x.sock'], '--workload'],
  [['--trust-domain', 'example.org', '--workload', '/tmp/x.sock=spiffe://example.org/x', '--ttl', '5'], '--ttl'],
  [['--trust-domain', 'example.org', '--workload', '/tmp/x.sock=spiffe://example.org/x', '--ttl', '500ms'], '--ttl'],
  [['--trust-domain', 'example.org', '--workload', '/tmp/x.sock=spiffe://example.org/x', '--jwt-ttl', 'x'], '--jwt-ttl'],
  [['--trust-domain', 'example.org', '--workload', '/tmp/x.sock=spiffe://example.org/x', '--federate', 'example.org=nowhere.org'], '--federate'],
  [['--trust-domain', 'example.org', '--workload', '/tmp/x.sock=spiffe://example.org/x', '--key-type', 'dsa'], '--key-type'],
  [['--trust-domain', 'example.org', '--workload', '/tmp/x.sock=spiffe://example.org/x', '--socket-mode', 'rw'], '--socket-mode'],
  [['--trust-domain', 'example.org', '--workload', '/tmp/x.sock=spiffe://example.org/x', '--state-dir', ''], '--state-dir'],
] as const) {
  test(`dev-agent ${args.join(' ')} → UsageError naming ${flag}`, () => {
    assert.throws(
      () => devAgentOptionsFromArgs(args),
      (err: unknown) => {
        assert.ok(err instanceof UsageError, String(err));
        assert.ok(err.message.startsWith(flag), err.message);
        return true;
      },
    );
  });
}

test('dev-agent flags map to DevAgent options', () => {
  const opts = devAgentOptionsFromArgs([
    '--trust-domain', 'example.org', '--trust-domain', 'partner.org',
    '--workload', '/run/a.sock=spiffe://example.org/a,spiffe://example.org/b',
    '--workload', '/run/a.sock=spiffe://partner.org/c',
    '--federate', 'example.org=partner.org',
    '--ttl', '2s', '--jwt-ttl', '1m', '--key-type', 'ec-p384', '--socket-mode', '0660',
  ]);
  assert.deepEqual(opts, {
    trustDomains: [
      { name: 'example.org', federatesWith: ['partner.org'] },
      { name: 'partner.org', federatesWith: [] },
    ],
    workloads: [{ socketPath: '/run/a.sock', ids: ['spiffe://example.org/a', 'spiffe://example.org/b', 'spiffe://partner.org/c'], socketMode: 0o660 }],
    svidTtlMs: 2_000,
    jwtTtlMs: 60_000,
    keyType: 'ec-p384',
  });
});

test('dev-agent --state-dir: resolved against the working directory; in the help', async () => {
  const opts = devAgentOptionsFromArgs(['--trust-domain', 'example.org', '--workload', '/run/a.sock=spiffe://example.org/a', '--state-dir', 'dev-state']);
  assert.equal(opts !== 'help' && opts.stateDir, resolve('dev-state'));
  const r = await run(['dev-agent', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--state-dir DIR/);
});

test('dev-agent: a corrupt state file exits 1 naming the file; the agent restarted on a good one keeps its CA', async (t) => {
  const first = await spawnDevAgent({ cleanup: t });
  const created = await first.waitForEvent((e) => e.event === 'authority_created');
  assert.equal(await first.stop(), 0);
  const second = await spawnDevAgent({ cleanup: t, dir: first.dir });
  const loaded = await second.waitForEvent((e) => e.event === 'authority_loaded');
  assert.equal(loaded['bundle_sha256'], created['bundle_sha256']);
  assert.equal(await second.stop(), 0);
  const file = String(created['file']);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  writeFileSync(file, 'not json', { mode: 0o600 });
  const r = await run(devAgentArgs(first.dir, {}));
  assert.equal(r.code, 1, r.stderr);
  assert.ok(r.stderr.includes(file), r.stderr);
  assert.match(r.stderr, /is not valid JSON.*\[devagent\.bad_state\]/);
});

test('dev-agent: a usage error exits 2 and names the flag', async () => {
  const r = await run(['dev-agent', '--trust-domain', 'example.org', '--workload', '/tmp/x.sock=spiffe://example.org/x', '--ttl', 'soon']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--ttl/);
});
