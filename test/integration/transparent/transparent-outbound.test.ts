/**
 * Transparent outbound for real (docs/decisions/014-outbound-classification.md):
 * three pod namespaces on a dual-stack bridge, redirect rules from the
 * product's own `spiffe-sidecar iptables apply`, the outbound proxy in the
 * client pods reading each connection's original destination with the
 * addon (transparent-mesh-pod.ts), and the server pod's opaque-stream
 * inbound reading its own. Apps in the client pod dial the server pod's
 * IP and port directly, as a database client would, with no tunnel
 * configuration; the server's policy admits the client's SPIFFE ID only.
 * Needs root, ip, iptables, ip6tables and setpriv; everything is removed
 * in t.after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CertificateAuthority } from '../../../sidecar/devagent/index.ts';
import { SpiffeId, TrustDomain } from '../../../sidecar/spiffe/index.ts';
import { createPodNetwork, inNamespace, mustRun } from '../../support/netns.ts';
import { Teardown } from '../../support/teardown.ts';
import { requireTools } from '../../support/tools.ts';
import { podTcpCall } from './pod-tcp-call.ts';

const root = resolve(import.meta.dirname, '..', '..', '..');
const node = [process.execPath, '--disable-warning=ExperimentalWarning'];
const podScript = join(import.meta.dirname, 'transparent-mesh-pod.ts');
const PROXY = { uid: 1337, gid: 1337 };
const TD = 'example.org';
const CLIENT = `spiffe://${TD}/ns/demo/sa/psql`;

test('transparent outbound: opaque TCP to a pod IP goes over mTLS and reaches the port the app dialled', async (t) => {
  if (!requireTools(t, ['ip', 'iptables', 'ip6tables', 'setpriv'], { root: true })) return;
  const td = new Teardown();
  t.after(() => td.run());
  const dir = mkdtempSync(join(tmpdir(), 'ss-transparent-out-'));
  td.add('remove the material', () => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);

  const ca = await CertificateAuthority.create({ trustDomain: TrustDomain.parse(TD) });
  const material = async (name: string, id: string): Promise<string> => {
    const issued = await ca.issueX509Svid({ id: SpiffeId.parse(id), ttlMs: 3_600_000 });
    const file = join(dir, `${name}.json`);
    const body = { trustDomain: TD, bundle: ca.bundle().toDer().toString('base64'), chain: issued.chainDer.toString('base64'), key: issued.keyPkcs8Der.toString('base64'), allow: CLIENT };
    writeFileSync(file, JSON.stringify(body), { mode: 0o644 });
    return file;
  };

  const net = await createPodNetwork({ pods: ['client', 'intruder', 'db'], ipv6: true, teardown: td });
  const db = net.pod('db');
  const cli = [...node, join(root, 'sidecar', 'cli', 'main.ts'), 'iptables', 'apply'];
  await mustRun(inNamespace(db.ns, [...cli, '--inbound-ports', '*', '--no-outbound']));
  for (const p of ['client', 'intruder']) await mustRun(inNamespace(net.pod(p).ns, [...cli, '--inbound-ports=']));

  const logs: string[] = [];
  const start = async (pod: string, role: 'client' | 'server', file: string): Promise<void> => {
    const argv = inNamespace(net.pod(pod).ns, [...node, podScript, role, file], PROXY);
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
    td.add(`stop ${pod}`, () => void child.kill('SIGKILL'));
    child.stderr!.on('data', (d: Buffer) => logs.push(...d.toString().trimEnd().split('\n').map((l) => `${pod}: ${l}`)));
    await new Promise<void>((res, rej) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && res());
      child.on('exit', (code) => rej(new Error(`${pod} exited ${code}:\n${logs.join('\n')}`)));
    });
  };
  await start('db', 'server', await material('db', `spiffe://${TD}/ns/demo/sa/postgres`));
  await start('client', 'client', await material('client', CLIENT));
  await start('intruder', 'client', await material('intruder', `spiffe://${TD}/ns/demo/sa/intruder`));

  const call = (pod: string, host: string, port: number, payload: string): Promise<string> => podTcpCall(net.pod(pod).ns, host, port, payload);

  const rows: { name: string; pod: string; host: string; port: number; payload: string; want: string }[] = [
    // 5432 is on the default opaque list: joined at once on both sides.
    { name: 'PostgreSQL-like bytes to 5432', pod: 'client', host: db.ip, port: 5432, payload: '\x00\x00\x00\x08\x04\xd2\x16\x2f', want: 'echo:\x00\x00\x00\x08\x04\xd2\x16\x2f' },
    // 3306 is server-first: nothing from the client, the greeting must still arrive.
    { name: 'a server-first protocol on 3306', pod: 'client', host: db.ip, port: 3306, payload: '', want: '220 greeter\r\n' },
    // 7000 is on no list: both sidecars look at the first bytes (a RESP array is not HTTP).
    { name: 'RESP to an unlisted port', pod: 'client', host: db.ip, port: 7000, payload: '*1\r\n$4\r\nPING\r\n', want: 'echo:*1\r\n$4\r\nPING\r\n' },
    { name: 'over IPv6 to the pod ULA address', pod: 'client', host: db.ip6!, port: 5432, payload: 'v6\x00', want: 'echo:v6\x00' },
    // The server's policy admits the client's ID only: the intruder is closed before any byte reaches the app.
    { name: 'a workload the policy does not name is closed', pod: 'intruder', host: db.ip, port: 5432, payload: '\x00secret', want: '' },
  ];
  for (const row of rows) {
    const got = await call(row.pod, row.host, row.port, row.payload);
    assert.equal(got, row.want, `${row.name}\n${logs.join('\n')}`);
  }
  // Every connection was classified by the client's sidecar, never sent around it.
  const classified = logs.filter((l) => l.startsWith('client:') && l.includes('"msg":"classified"'));
  assert.ok(classified.length >= 4, logs.join('\n'));
  assert.ok(logs.some((l) => l.startsWith('db:') && l.includes('tunnel denied') && l.includes('intruder')), logs.join('\n'));
});
