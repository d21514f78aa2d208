/**
 * Transparent inbound for real: a pod network namespace whose redirect
 * rules come from the product's own `spiffe-sidecar iptables apply`
 * (every TCP port but the inbound and admin ports → 15006), an inbound
 * proxy in it with no appPorts (transparent-pod.ts), two HTTP apps, one
 * TCP app declared opaque, and mTLS callers from the node's namespace
 * dialling the pod IP. The port each caller dialled picks the app.
 * Needs root, ip and iptables; everything is removed in t.after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import tls from 'node:tls';
import { createPodNetwork, inNamespace, mustRun } from '../../support/netns.ts';
import { Teardown } from '../../support/teardown.ts';
import { requireTools } from '../../support/tools.ts';

const root = resolve(import.meta.dirname, '..', '..', '..');
const node = [process.execPath, '--disable-warning=ExperimentalWarning'];
const podScript = join(import.meta.dirname, 'transparent-pod.ts');

interface PodInfo {
  readonly ca: string;
  readonly client: { cert: string; key: string };
  readonly intruder: { cert: string; key: string };
}

/** Connects with mTLS to ip:port, sends `payload`, and resolves with everything received until the close. */
function call(ip: string, port: number, ca: string, creds: { cert: string; key: string }, payload: string, alpn: string[] = ['http/1.1']): Promise<string> {
  return new Promise((res) => {
    let got = '';
    const s = tls.connect({ host: ip, port, ca, cert: creds.cert, key: creds.key, checkServerIdentity: () => undefined, ALPNProtocols: alpn });
    s.setTimeout(10_000, () => s.destroy());
    s.on('secureConnect', () => s.write(payload));
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.on('error', () => {});
    s.on('close', () => res(got));
  });
}

const get = (host: string): string => `GET /hello HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;

test('transparent inbound: the original destination port picks the app, opaque ports are TCP after the policy', async (t) => {
  if (!requireTools(t, ['ip', 'iptables'], { root: true })) return;
  const td = new Teardown();
  t.after(() => td.run());
  const net = await createPodNetwork({ pods: ['backend'], teardown: td });
  const pod = net.pod('backend');
  await mustRun(inNamespace(pod.ns, [...node, join(root, 'sidecar', 'cli', 'main.ts'), 'iptables', 'apply', '--inbound-ports', '*', '--no-outbound']));

  const child = spawn(inNamespace(pod.ns, [...node, podScript])[0]!, inNamespace(pod.ns, [...node, podScript]).slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  td.add('stop the pod process', () => void child.kill('SIGKILL'));
  const info = await new Promise<PodInfo>((res, rej) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) res(JSON.parse(out.slice(0, nl)) as PodInfo);
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => rej(new Error(`transparent-pod exited ${code}: ${err}`)));
  });

  const rows: { name: string; port: number; creds: 'client' | 'intruder'; payload: string; expect: (got: string) => boolean }[] = [
    { name: 'port 8080 → the 8080 app', port: 8080, creds: 'client', payload: get('backend'), expect: (g) => g.includes('app-8080 /hello') && g.includes('URI=spiffe://example.org/client') },
    // Host names no port: by Host alone this would be the default app (8080).
    { name: 'port 8081 → the 8081 app without appPorts', port: 8081, creds: 'client', payload: get('backend'), expect: (g) => g.includes('app-8081 /hello') && g.includes('URI=spiffe://example.org/client') },
    // Host names 8081, but the caller dialled 8080: the kernel's port wins.
    { name: 'the dialled port wins over the Host port', port: 8080, creds: 'client', payload: get('backend:8081'), expect: (g) => g.includes('app-8080 /hello') },
    // Not redirected: the inbound port itself; today's Host-based choice (no appPorts → default app).
    { name: 'not redirected → the default app', port: 15006, creds: 'client', payload: get('backend:8081'), expect: (g) => g.includes('app-8080 /hello') },
    { name: 'opaque port 7000 → raw TCP for an allowed caller', port: 7000, creds: 'client', payload: 'ping', expect: (g) => g === 'tcp-7000:ping' },
    { name: 'opaque port 7000 → closed for a caller the policy refuses', port: 7000, creds: 'intruder', payload: 'ping', expect: (g) => g === '' },
    { name: 'HTTP port → 403 for a caller the policy refuses', port: 8081, creds: 'intruder', payload: get('backend'), expect: (g) => g.startsWith('HTTP/1.1 403') && !g.includes('app-8081') },
    // 15001 is the outbound listener's port: redirected like any port, but never dialled for a caller.
    { name: "the sidecar's own port is refused", port: 15001, creds: 'client', payload: get('backend'), expect: (g) => g === '' },
  ];
  for (const row of rows) {
    const got = await call(pod.ip, row.port, info.ca, info[row.creds], row.payload);
    assert.ok(row.expect(got), `${row.name}: got ${JSON.stringify(got.slice(0, 300))}`);
  }
});
