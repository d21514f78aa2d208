/**
 * The redirect rules for real: two network namespaces joined by a veth
 * pair (a "pod" at 192.0.2.1 and 2001:db8::1, a "peer" at 192.0.2.2 and
 * 2001:db8::2, documentation prefixes of RFC 5737 and RFC 3849), the CLI
 * applying the rules inside the pod namespace, iptables-save and
 * ip6tables-save reading them back, and TCP connections over both
 * families showing where traffic really lands.
 * Needs root, iptables, ip6tables and ip; every namespace is deleted in t.after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { requireTools } from '../../support/tools.ts';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..', '..', '..');
const main = join(root, 'sidecar', 'cli', 'main.ts');
const probe = join(import.meta.dirname, 'net-probe.ts');
const node = [process.execPath, '--disable-warning=ExperimentalWarning'];

/**
 * The test network of each address family: the pod's and the peer's
 * addresses, a second peer address whose traffic the rules exclude by CIDR,
 * and the loopback the rules leave alone.
 */
const V4 = { family: 'IPv4', pod: '192.0.2.1', peer: '192.0.2.2', excluded: '192.0.2.3', loopback: '127.0.0.1', loopbackNet: '127.0.0.0/8', hostPrefix: 32 } as const;
const V6 = { family: 'IPv6', pod: '2001:db8::1', peer: '2001:db8::2', excluded: '2001:db8::3', loopback: '::1', loopbackNet: '::1/128', hostPrefix: 128 } as const;
type Family = typeof V4 | typeof V6;

async function nsExec(ns: string, argv: string[]): Promise<string> {
  const { stdout } = await run('ip', ['netns', 'exec', ns, ...argv], { timeout: 30_000 });
  return stdout;
}

/** Creates the pod and peer namespaces; registers their removal (and of any child) with t.after. */
async function twoHosts(t: import('node:test').TestContext): Promise<{ pod: string; peer: string; children: ChildProcess[] }> {
  const tag = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const pod = `ssc-pod-${tag}`;
  const peer = `ssc-peer-${tag}`;
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const c of children) c.kill('SIGKILL');
    for (const ns of [pod, peer]) await run('ip', ['netns', 'del', ns]).catch(() => {});
  });
  await run('ip', ['netns', 'add', pod]);
  await run('ip', ['netns', 'add', peer]);
  const vethPod = `vp${tag.slice(-6)}`;
  const vethPeer = `vq${tag.slice(-6)}`;
  await run('ip', ['link', 'add', vethPod, 'netns', pod, 'type', 'veth', 'peer', 'name', vethPeer, 'netns', peer]);
  const hosts = [
    [pod, vethPod, [V4.pod], [V6.pod]],
    [peer, vethPeer, [V4.peer, V4.excluded], [V6.peer, V6.excluded]],
  ] as const;
  for (const [ns, dev, v4, v6] of hosts) {
    await nsExec(ns, ['ip', 'link', 'set', 'lo', 'up']);
    for (const ip of v4) await nsExec(ns, ['ip', 'addr', 'add', `${ip}/24`, 'dev', dev]);
    // nodad: the address is usable at once instead of after duplicate address detection.
    for (const ip of v6) await nsExec(ns, ['ip', '-6', 'addr', 'add', `${ip}/64`, 'dev', dev, 'nodad']);
    await nsExec(ns, ['ip', 'link', 'set', dev, 'up']);
  }
  return { pod, peer, children };
}

/** Starts net-probe's server in `ns` and waits for "ready". */
function serve(ns: string, children: ChildProcess[], host: string, ports: Record<number, string>): Promise<void> {
  const child = spawn('ip', ['netns', 'exec', ns, ...node, probe, 'serve', host, ...Object.entries(ports).map(([p, l]) => `${p}=${l}`)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((res, rej) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) res();
    });
    child.on('exit', (code) => rej(new Error(`net-probe serve exited ${code}: ${err}`)));
  });
}

async function dial(ns: string, host: string, port: number, uid?: number): Promise<string> {
  const out = await nsExec(ns, [...node, probe, 'connect', host, String(port), ...(uid !== undefined ? [String(uid)] : [])]);
  return out.trim();
}

/** The nat rules of our chains as iptables-save prints them, with the implicit "-m tcp" dropped. */
async function savedRules(ns: string, save: string): Promise<string[]> {
  const out = await nsExec(ns, [save, '-t', 'nat']);
  return out
    .split('\n')
    .filter((l) => l.includes('SPIFFE_SIDECAR'))
    .map((l) => l.replace(' -m tcp', ''));
}

async function backendOf(bin: string): Promise<string> {
  const { stdout } = await run(bin, ['--version']);
  return /nf_tables/.test(stdout) ? 'nft' : /legacy/.test(stdout) ? 'legacy' : stdout.trim();
}

/** The rules of one family as its *-save prints them. */
const expected = (f: Family): string[] => [
  ':SPIFFE_SIDECAR_INBOUND - [0:0]',
  ':SPIFFE_SIDECAR_OUTPUT - [0:0]',
  ':SPIFFE_SIDECAR_REDIRECT - [0:0]',
  '-A PREROUTING -p tcp -j SPIFFE_SIDECAR_INBOUND',
  '-A OUTPUT -p tcp -j SPIFFE_SIDECAR_OUTPUT',
  '-A SPIFFE_SIDECAR_INBOUND -p tcp --dport 15001 -j REDIRECT --to-ports 15006',
  '-A SPIFFE_SIDECAR_INBOUND -p tcp --dport 8080 -j REDIRECT --to-ports 15006',
  '-A SPIFFE_SIDECAR_OUTPUT -m owner --uid-owner 1337 -j RETURN',
  `-A SPIFFE_SIDECAR_OUTPUT -d ${f.loopbackNet} -j RETURN`,
  '-A SPIFFE_SIDECAR_OUTPUT -o lo -j RETURN',
  '-A SPIFFE_SIDECAR_OUTPUT -p tcp --dport 15020 -j RETURN',
  '-A SPIFFE_SIDECAR_OUTPUT -p tcp --dport 5432 -j RETURN',
  `-A SPIFFE_SIDECAR_OUTPUT -d ${f.excluded}/${f.hostPrefix} -j RETURN`,
  '-A SPIFFE_SIDECAR_OUTPUT -j SPIFFE_SIDECAR_REDIRECT',
  '-A SPIFFE_SIDECAR_REDIRECT -p tcp -j REDIRECT --to-ports 15001',
];
const EXPECTED = expected(V4);
const EXPECTED6 = expected(V6);
const APPLY_FLAGS = ['--inbound-ports=8080', '--exclude-outbound-ports=5432', `--exclude-outbound-cidrs=${V4.excluded},${V6.excluded}`];

test('iptables apply/clean in a network namespace with the default (Debian) iptables', async (t) => {
  if (!requireTools(t, ['iptables', 'iptables-save', 'ip6tables', 'ip6tables-save', 'ip'], { root: true })) return;
  t.diagnostic(`iptables backend: ${await backendOf('iptables')}, ip6tables backend: ${await backendOf('ip6tables')}`);
  const { pod, peer, children } = await twoHosts(t);
  const apply = [...node, main, 'iptables', 'apply', ...APPLY_FLAGS];

  // Before: the peer refuses 9999, so a redirect is visible as a different answer.
  // '::' listens on both families (IPv4 arrives IPv4-mapped), like the injected sidecar's [::] listeners.
  await serve(peer, children, '::', { 5432: 'peer-db', 7000: 'peer-direct' });
  assert.match(await dial(pod, V4.peer, 9999), /ECONNREFUSED/);
  assert.match(await dial(pod, V6.peer, 9999), /ECONNREFUSED/);

  await nsExec(pod, apply);
  // Idempotent: a second apply (a restarted init container) leaves one copy of each rule.
  await nsExec(pod, apply);
  assert.deepEqual([...(await savedRules(pod, 'iptables-save'))].sort(), [...EXPECTED].sort());
  assert.deepEqual([...(await savedRules(pod, 'ip6tables-save'))].sort(), [...EXPECTED6].sort());

  await serve(pod, children, '::', { 15001: 'outbound-listener', 15006: 'inbound-listener', 8080: 'app', 15020: 'admin' });

  // What each connection reaches with the rules in place. Every row holds for
  // both families: without the ip6tables rules each IPv6 one would bypass the sidecar.
  const rows: { name: string; from: string; to: (f: Family) => string; port: number; uid?: number; want: string | RegExp }[] = [
    { name: 'outbound TCP from the app lands on 15001', from: pod, to: (f) => f.peer, port: 9999, want: 'outbound-listener' },
    { name: 'the sidecar uid is not redirected', from: pod, to: (f) => f.peer, port: 9999, uid: 1337, want: /ECONNREFUSED/ },
    { name: 'another uid is redirected', from: pod, to: (f) => f.peer, port: 9999, uid: 1000, want: 'outbound-listener' },
    { name: 'an excluded outbound port goes straight out', from: pod, to: (f) => f.peer, port: 5432, want: 'peer-db' },
    { name: 'an excluded CIDR goes straight out', from: pod, to: (f) => f.excluded, port: 7000, want: 'peer-direct' },
    { name: 'the same port outside the excluded CIDR is redirected', from: pod, to: (f) => f.peer, port: 7000, want: 'outbound-listener' },
    { name: 'loopback is not redirected', from: pod, to: (f) => f.loopback, port: 8080, want: 'app' },
    { name: "the pod's own address (routed over lo) is not redirected", from: pod, to: (f) => f.pod, port: 8080, want: 'app' },
    { name: 'inbound to the app port from the peer lands on 15006', from: peer, to: (f) => f.pod, port: 8080, want: 'inbound-listener' },
    { name: 'inbound to the admin port is not redirected', from: peer, to: (f) => f.pod, port: 15020, want: 'admin' },
    { name: "the outbound listener's port from outside lands on the mTLS listener", from: peer, to: (f) => f.pod, port: 15001, want: 'inbound-listener' },
  ];
  for (const f of [V4, V6]) {
    for (const r of rows) {
      await t.test(`${f.family}: ${r.name}`, async () => {
        const got = await dial(r.from, r.to(f), r.port, r.uid);
        if (typeof r.want === 'string') assert.equal(got, r.want);
        else assert.match(got, r.want);
      });
    }
  }

  await t.test('clean removes every chain and jump of both families; traffic flows directly again', async () => {
    await nsExec(pod, [...node, main, 'iptables', 'clean']);
    assert.deepEqual(await savedRules(pod, 'iptables-save'), []);
    assert.deepEqual(await savedRules(pod, 'ip6tables-save'), []);
    assert.match(await dial(pod, V4.peer, 9999), /ECONNREFUSED/);
    assert.match(await dial(pod, V6.peer, 9999), /ECONNREFUSED/);
    assert.equal(await dial(peer, V4.pod, 8080), 'app');
    assert.equal(await dial(peer, V6.pod, 8080), 'app');
    // clean is idempotent too.
    await nsExec(pod, [...node, main, 'iptables', 'clean']);
  });
});

// Debian's iptables package ships both backends; images or nodes may use either.
test('iptables apply with the legacy backend', async (t) => {
  if (!requireTools(t, ['iptables-legacy', 'iptables-legacy-save', 'ip6tables-legacy', 'ip6tables-legacy-save', 'ip'], { root: true })) return;
  const { pod } = await twoHosts(t);
  const legacy = ['--iptables=iptables-legacy', '--ip6tables=ip6tables-legacy'];
  await nsExec(pod, [...node, main, 'iptables', 'apply', ...legacy, ...APPLY_FLAGS]);
  assert.deepEqual([...(await savedRules(pod, 'iptables-legacy-save'))].sort(), [...EXPECTED].sort());
  assert.deepEqual([...(await savedRules(pod, 'ip6tables-legacy-save'))].sort(), [...EXPECTED6].sort());
  await nsExec(pod, [...node, main, 'iptables', 'clean', ...legacy]);
  assert.deepEqual(await savedRules(pod, 'iptables-legacy-save'), []);
  assert.deepEqual(await savedRules(pod, 'ip6tables-legacy-save'), []);
});
