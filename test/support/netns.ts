/**
 * A small "cluster" of pods as Linux network namespaces on one node: a
 * bridge in the root namespace with the node's address (x.y.z.1/24), and
 * one namespace per pod with a veth into the bridge (eth0), lo up, an
 * address in the same /24 and a default route via the bridge. Each pod
 * gets its own /etc/hosts (service names → pod IPs) and a resolv.conf
 * pointing at 127.0.0.1 through /etc/netns/<ns>/, which `ip netns exec`
 * bind-mounts over /etc; so names resolve as cluster DNS would and no DNS
 * query leaves the pod.
 *
 * Nothing may leave the /24: the root namespace drops forwarding from the
 * bridge to any other interface (and accepts bridge-to-bridge traffic,
 * which br_netfilter would otherwise send through a possibly restrictive
 * FORWARD policy). Every change is registered with a Teardown, which
 * removes it again, also from the process 'exit' hook.
 *
 * Needs root, `ip` and `iptables`.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type CommandResult, type Credentials } from './spire.ts';
import type { Teardown } from './teardown.ts';

/** One pod: a network namespace with one address on the bridge. */
export interface Pod {
  /** Logical name (`frontend`), also its service name in every pod's /etc/hosts. */
  readonly name: string;
  /** The network namespace (`ss<tag>-frontend`). */
  readonly ns: string;
  /** The pod IP. */
  readonly ip: string;
  /** The root-namespace end of its veth (a bridge port). */
  readonly hostVeth: string;
}

/** The bridge, its /24 and the pods on it. */
export interface PodNetwork {
  /** Random per-run tag in every name this run creates (namespaces, links, files). */
  readonly tag: string;
  readonly bridge: string;
  /** The node's address on the bridge (`10.213.n.1`). */
  readonly gateway: string;
  /** `10.213.n.0/24`. */
  readonly subnet: string;
  readonly pods: ReadonlyMap<string, Pod>;
  /** The pod named `name`; throws when there is none. */
  pod(name: string): Pod;
}

/** Options of {@link createPodNetwork}. */
export interface PodNetworkOptions {
  /** Pod names, in address order (.2, .3, ...). Lowercase letters, digits and dashes. */
  readonly pods: readonly string[];
  /** Extra host names per pod for /etc/hosts (`backend` always gets `backend.<namespace>.svc[.cluster.local]`). */
  readonly kubernetesNamespace?: string;
  readonly teardown: Teardown;
  /** Tag for names; random when omitted. */
  readonly tag?: string;
}

function sh(argv: readonly string[]): CommandResult {
  const [cmd, ...args] = argv;
  const r = spawnSync(cmd!, args, { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** Runs a command to completion and throws with its output when it fails. */
export async function mustRun(argv: readonly string[], timeoutMs = 30_000): Promise<string> {
  const [cmd, ...args] = argv;
  const r = await run(cmd!, args, { timeoutMs });
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code ?? r.signal}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** argv that runs `argv` inside namespace `ns`, optionally as `who` (no supplementary groups). */
export function inNamespace(ns: string, argv: readonly string[], who?: Credentials): string[] {
  const drop = who === undefined ? [] : ['setpriv', `--reuid=${who.uid}`, `--regid=${who.gid}`, '--clear-groups'];
  return ['ip', 'netns', 'exec', ns, ...drop, ...argv];
}

/** Runs `argv` in `ns` (as `who` when given) to completion; does not throw on failure. */
export function nsRun(ns: string, argv: readonly string[], who?: Credentials, timeoutMs = 30_000): Promise<CommandResult> {
  const [cmd, ...args] = inNamespace(ns, argv, who);
  return run(cmd!, args, { timeoutMs, env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/tmp' } });
}

/** Parses `a.b.c.d/n` into a 32-bit network and mask. */
function cidr(text: string): { net: number; mask: number } | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(text);
  if (!m) return undefined;
  const bits = m[5] === undefined ? 32 : Number(m[5]);
  const addr = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { net: (addr & mask) >>> 0, mask };
}

function overlaps(a: { net: number; mask: number }, b: { net: number; mask: number }): boolean {
  const mask = (a.mask & b.mask) >>> 0;
  return ((a.net & mask) >>> 0) === ((b.net & mask) >>> 0);
}

/**
 * Picks 10.213.n.0/24 with a random n that no route (any table) and no
 * address on this machine overlaps.
 */
export function pickSubnet(): string {
  const used: { net: number; mask: number }[] = [];
  const routes = sh(['ip', '-4', 'route', 'show', 'table', 'all']).stdout.split('\n');
  for (const line of routes) {
    const words = line.trim().split(/\s+/);
    // "local 10.0.0.1 dev ..." / "broadcast ..." put the type first.
    const dst = ['local', 'broadcast', 'unicast', 'multicast', 'blackhole', 'unreachable', 'prohibit'].includes(words[0] ?? '') ? words[1] : words[0];
    const c = dst === undefined || dst === 'default' ? undefined : cidr(dst);
    if (c) used.push(c);
  }
  for (const line of sh(['ip', '-4', '-o', 'addr', 'show']).stdout.split('\n')) {
    const m = /\sinet\s(\S+)/.exec(line);
    const c = m ? cidr(m[1]!) : undefined;
    if (c) used.push(c);
  }
  for (let attempt = 0; attempt < 200; attempt++) {
    const subnet = `10.213.${randomInt(0, 256)}.0/24`;
    const c = cidr(subnet)!;
    if (!used.some((u) => overlaps(u, c))) return subnet;
  }
  throw new Error('netns: no free 10.213.x.0/24 (every candidate overlaps a route or address)');
}

const NAME = /^[a-z][a-z0-9-]{0,19}$/;

/**
 * Creates the bridge and one namespace per pod, as described in the module
 * comment, registering every undo step with `o.teardown` as it goes.
 */
export async function createPodNetwork(o: PodNetworkOptions): Promise<PodNetwork> {
  const tag = o.tag ?? randomBytes(3).toString('hex');
  const td = o.teardown;
  for (const p of o.pods) if (!NAME.test(p)) throw new Error(`netns: bad pod name ${p}`);
  if (o.pods.length > 200) throw new Error('netns: at most 200 pods');
  const subnet = pickSubnet();
  const prefix = subnet.split('.').slice(0, 3).join('.');
  const gateway = `${prefix}.1`;
  const bridge = `ssbr${tag}`;

  await mustRun(['ip', 'link', 'add', bridge, 'type', 'bridge']);
  td.addCommand(`delete bridge ${bridge}`, ['ip', 'link', 'del', bridge], { ignoreFailure: true });
  await mustRun(['ip', 'addr', 'add', `${gateway}/24`, 'dev', bridge]);
  await mustRun(['ip', 'link', 'set', bridge, 'up']);

  // Root-namespace guards. br_netfilter (bridge-nf-call-iptables=1) sends
  // bridged frames through FORWARD, where a Docker-style DROP policy would
  // cut pod-to-pod traffic; and anything routed out of the bridge must
  // never reach another network.
  const forwardRules = [
    ['FORWARD', '-i', bridge, '-o', bridge, '-j', 'ACCEPT'],
    ['FORWARD', '-i', bridge, '!', '-o', bridge, '-j', 'DROP'],
    ['FORWARD', '!', '-i', bridge, '-o', bridge, '-j', 'DROP'],
  ];
  for (const rule of forwardRules) {
    await mustRun(['iptables', '-w', '-I', ...rule.slice(0, 1), '1', ...rule.slice(1)]);
    td.addCommand(`delete root FORWARD rule for ${bridge}`, ['iptables', '-w', '-D', ...rule]);
  }

  const etcNetns = '/etc/netns';
  if (!existsSync(etcNetns)) {
    mkdirSync(etcNetns, { mode: 0o755 });
    td.add(`remove ${etcNetns} if empty`, () => {
      try {
        rmdirSync(etcNetns);
      } catch {
        // another run (or the system) still has files there
      }
    });
  }

  const pods = new Map<string, Pod>();
  o.pods.forEach((name, i) => {
    pods.set(name, { name, ns: `ss${tag}-${name}`, ip: `${prefix}.${i + 2}`, hostVeth: `ssv${tag}${i.toString(36)}` });
  });
  const kns = o.kubernetesNamespace ?? 'demo';
  const hosts = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
  for (const p of pods.values()) hosts.push(`${p.ip}\t${p.name} ${p.name}.${kns} ${p.name}.${kns}.svc ${p.name}.${kns}.svc.cluster.local`);

  for (const p of pods.values()) {
    const etc = join(etcNetns, p.ns);
    mkdirSync(etc, { mode: 0o755 });
    td.add(`remove ${etc}`, () => rmSync(etc, { recursive: true, force: true }));
    writeFileSync(join(etc, 'hosts'), `${hosts.join('\n')}\n`, { mode: 0o644 });
    // Nothing listens on the pod's 127.0.0.1:53: unknown names fail at once
    // instead of querying the node's resolver.
    writeFileSync(join(etc, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n', { mode: 0o644 });

    await mustRun(['ip', 'netns', 'add', p.ns]);
    td.addCommand(`delete netns ${p.ns}`, ['ip', 'netns', 'del', p.ns], { ignoreFailure: true });
    const inner = `ssp${tag}${p.hostVeth.slice(-1)}`;
    await mustRun(['ip', 'link', 'add', p.hostVeth, 'type', 'veth', 'peer', 'name', inner, 'netns', p.ns]);
    td.addCommand(`delete veth ${p.hostVeth}`, ['ip', 'link', 'del', p.hostVeth], { ignoreFailure: true });
    await mustRun(['ip', 'link', 'set', p.hostVeth, 'master', bridge, 'up']);
    const ipns = (...args: string[]): Promise<string> => mustRun(['ip', '-n', p.ns, ...args]);
    await ipns('link', 'set', inner, 'name', 'eth0');
    await ipns('link', 'set', 'lo', 'up');
    await ipns('addr', 'add', `${p.ip}/24`, 'dev', 'eth0');
    await ipns('link', 'set', 'eth0', 'up');
    await ipns('route', 'add', 'default', 'via', gateway, 'dev', 'eth0');
  }

  return {
    tag,
    bridge,
    gateway,
    subnet,
    pods,
    pod(name) {
      const p = pods.get(name);
      if (!p) throw new Error(`netns: no pod ${name}`);
      return p;
    },
  };
}

/**
 * What of a run tagged `tag` is still on the machine: namespaces, links,
 * /etc/netns folders, root FORWARD rules naming its bridge, and processes
 * whose command line contains the tag. Empty when teardown was complete.
 */
export function leftovers(tag: string, extraProcessPatterns: readonly string[] = []): string[] {
  const found: string[] = [];
  for (const line of sh(['ip', 'netns', 'list']).stdout.split('\n')) if (line.includes(tag)) found.push(`netns: ${line.trim()}`);
  for (const line of sh(['ip', '-o', 'link', 'show']).stdout.split('\n')) if (line.includes(tag)) found.push(`link: ${line.trim().slice(0, 120)}`);
  if (existsSync('/etc/netns')) for (const e of readdirSync('/etc/netns')) if (e.includes(tag)) found.push(`/etc/netns/${e}`);
  for (const line of sh(['iptables', '-w', '-S']).stdout.split('\n')) if (line.includes(tag)) found.push(`iptables: ${line.trim()}`);
  for (const pattern of [tag, ...extraProcessPatterns]) {
    const r = sh(['pgrep', '-a', '-f', pattern]);
    for (const line of r.stdout.split('\n')) {
      const pid = Number(line.split(' ')[0]);
      // pgrep never lists itself; skip this test process, whose argv may hold the pattern.
      if (line.trim() !== '' && pid !== process.pid) found.push(`process: ${line.trim().slice(0, 160)}`);
    }
  }
  return found;
}
