/**
 * The injector-default pod, end to end through the CLI: sidecars configured
 * by environment variables only (as the injector writes them, no config
 * file), SVIDs from the dev agent, redirect rules from `spiffe-sidecar
 * iptables apply`. A database-like app in the `db` pod and a client in the
 * `client` pod that dials the db pod's IP and port directly: the client's
 * sidecar classifies the connection (5432 is opaque by default), sends it
 * over mTLS with the opaque signal, and the db pod's sidecar joins it to
 * 5432 after its policy file admits the client's SPIFFE ID; an intruder
 * pod's identity is refused at connection time, and the refusal counted.
 * Also an IPv6 row and a server-first row. Needs root, ip, iptables,
 * ip6tables and setpriv; everything is removed in t.after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createPodNetwork, inNamespace, mustRun, nsRun } from '../../support/netns.ts';
import { Teardown } from '../../support/teardown.ts';
import { requireTools } from '../../support/tools.ts';
import { podTcpCall } from './pod-tcp-call.ts';

const root = resolve(import.meta.dirname, '..', '..', '..');
const node = [process.execPath, '--disable-warning=ExperimentalWarning'];
const main = join(root, 'sidecar', 'cli', 'main.ts');
const PROXY = { uid: 1337, gid: 1337 };
const TD = 'example.org';
const IDS = { client: `spiffe://${TD}/ns/demo/sa/psql`, intruder: `spiffe://${TD}/ns/demo/sa/intruder`, db: `spiffe://${TD}/ns/demo/sa/postgres` };

/** The db pod's apps: an echo on 5432 and a server-first greeter on 3306. */
const APPS = `
const net = require('node:net');
net.createServer((s) => { s.on('error', () => {}); s.on('data', (d) => s.write(Buffer.concat([Buffer.from('echo:'), d]))); }).listen(5432, '127.0.0.1');
net.createServer((s) => { s.on('error', () => {}); s.write('220 greeter\\r\\n'); }).listen(3306, '127.0.0.1', () => process.stdout.write('ready\\n'));
`;
/** Fetches the admin /metrics inside a pod. */
const METRICS = `require('node:http').get('http://127.0.0.1:15020/metrics', (r) => { let b = ''; r.on('data', (d) => (b += d)); r.on('end', () => process.stdout.write(b)); });`;

test('injector-default pods: opaque TCP between pods by IP, configured by env only', async (t) => {
  if (!requireTools(t, ['ip', 'iptables', 'ip6tables', 'setpriv'], { root: true })) return;
  const td = new Teardown();
  t.after(() => td.run());
  const dir = mkdtempSync(join(tmpdir(), 'ss-env-only-'));
  td.add('remove the temp dir', () => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, `version: 1\nrules:\n  - name: psql\n    from:\n      - id: ${IDS.client}\n`, { mode: 0o644 });

  const logs: string[] = [];
  const spawnLogged = (name: string, argv: string[], env: Record<string, string> = {}): Promise<void> => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: root, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/tmp', ...env } });
    td.add(`stop ${name}`, () => void child.kill('SIGKILL'));
    return new Promise<void>((res, rej) => {
      const onOut = (d: Buffer): void => {
        for (const line of d.toString().trimEnd().split('\n')) {
          logs.push(`${name}: ${line}`);
          if (line.includes('ready') || line.includes('"msg":"inbound listening"') || line.includes('"msg":"outbound listening"')) res();
        }
      };
      child.stdout!.on('data', onOut);
      child.stderr!.on('data', onOut);
      child.on('exit', (code) => rej(new Error(`${name} exited ${code}:\n${logs.join('\n')}`)));
    });
  };

  // One dev agent for every pod: each pod's sidecar gets its own socket, hence its own identity.
  const sock = (pod: string): string => join(dir, `${pod}.sock`);
  const agent = spawnLogged('dev-agent', [...node, main, 'dev-agent', '--trust-domain', TD, '--socket-mode', '0666', ...Object.entries(IDS).flatMap(([pod, id]) => ['--workload', `${sock(pod)}=${id}`])]);
  agent.catch(() => {});
  for (let i = 0; i < 100 && !Object.keys(IDS).every((p) => existsSync(sock(p))); i++) await new Promise((r) => setTimeout(r, 100));

  const net = await createPodNetwork({ pods: ['client', 'intruder', 'db'], ipv6: true, teardown: td });
  const db = net.pod('db');
  const iptables = [...node, main, 'iptables', 'apply'];
  await mustRun(inNamespace(db.ns, [...iptables, '--inbound-ports', '5432,3306']));
  for (const p of ['client', 'intruder']) await mustRun(inNamespace(net.pod(p).ns, [...iptables, '--inbound-ports=']));

  const common = { SPIFFE_SIDECAR_ADMIN_LISTEN: '[::]:15020', SPIFFE_SIDECAR_LOG_LEVEL: 'info' };
  await spawnLogged('db-apps', inNamespace(db.ns, [process.execPath, '-e', APPS]));
  // What the injector writes for a pod with app port 5432, a policy ConfigMap and no config file.
  await spawnLogged('db-sidecar', inNamespace(db.ns, [...node, main, 'run'], PROXY), {
    ...common,
    SPIFFE_ENDPOINT_SOCKET: `unix://${sock('db')}`,
    SPIFFE_SIDECAR_INBOUND_LISTEN: '[::]:15006',
    SPIFFE_SIDECAR_APP_ADDRESS: '127.0.0.1:5432',
    SPIFFE_SIDECAR_INBOUND_TRANSPARENT: 'true',
    SPIFFE_SIDECAR_POLICY_FILE: policy,
  });
  for (const p of ['client', 'intruder'] as const) {
    await spawnLogged(`${p}-sidecar`, inNamespace(net.pod(p).ns, [...node, main, 'run'], PROXY), {
      ...common,
      SPIFFE_ENDPOINT_SOCKET: `unix://${sock(p)}`,
      SPIFFE_SIDECAR_OUTBOUND_LISTEN: '[::]:15001',
      SPIFFE_SIDECAR_TRANSPARENT: 'true',
    });
  }
  // Outbound binds at start; the first SVID may come a moment later.
  await new Promise((r) => setTimeout(r, 1000));

  const call = (pod: string, host: string, port: number, payload: string): Promise<string> => podTcpCall(net.pod(pod).ns, host, port, payload);
  const rows: { name: string; pod: string; host: string; port: number; payload: string; want: string }[] = [
    { name: 'PostgreSQL-like bytes to the db pod IP', pod: 'client', host: db.ip, port: 5432, payload: '\x00\x00\x00\x08\x04\xd2\x16\x2f', want: 'echo:\x00\x00\x00\x08\x04\xd2\x16\x2f' },
    { name: 'the same over IPv6', pod: 'client', host: db.ip6!, port: 5432, payload: 'v6\x00', want: 'echo:v6\x00' },
    { name: 'a server-first protocol', pod: 'client', host: db.ip, port: 3306, payload: '', want: '220 greeter\r\n' },
    { name: 'a workload the policy does not name is closed', pod: 'intruder', host: db.ip, port: 5432, payload: '\x00secret', want: '' },
  ];
  for (const row of rows) assert.equal(await call(row.pod, row.host, row.port, row.payload), row.want, `${row.name}\n${logs.join('\n')}`);

  const clientMetrics = (await nsRun(net.pod('client').ns, [process.execPath, '-e', METRICS])).stdout;
  assert.match(clientMetrics, /sidecar_outbound_classified_total\{protocol="tcp",destination="mesh",detected="port"\} [1-9]/, clientMetrics);
  const dbMetrics = (await nsRun(db.ns, [process.execPath, '-e', METRICS])).stdout;
  assert.match(dbMetrics, new RegExp(`sidecar_authz_decisions_total\\{[^}]*decision="deny"[^}]*\\} [1-9]`), dbMetrics);
  assert.ok(logs.some((l) => l.startsWith('db-sidecar:') && l.includes('tunnel denied') && l.includes('intruder')), logs.join('\n'));
});
