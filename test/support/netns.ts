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
 * Dual stack (`ipv6: true`): the bridge and every pod also get an address in
 * a random IPv6 ULA /64 (RFC 4193), added without duplicate address
 * detection so it is usable at once; `<pod>-v6` names resolve to it alone,
 * so a test chooses the family by name.
 *
 * Hosts outside the cluster (`outside`): namespaces on the same bridge with
 * addresses from TEST-NET-2 (198.51.100.0/24, RFC 5737), which is in no pod,
 * service or private range. Pods reach them on-link (a route via eth0, no
 * router), so nothing is forwarded by the root namespace.
 *
 * Nothing may leave the bridge: the root namespace drops forwarding from the
 * bridge to any other interface (and accepts bridge-to-bridge traffic,
 * which br_netfilter would otherwise send through a possibly restrictive
 * FORWARD policy), for IPv4 and, with `ipv6`, for IPv6. Every change is
 * registered with a Teardown, which removes it again, also from the process
 * 'exit' hook.
 *
 * Needs root, `ip` and `iptables` (and `ip6tables` with `ipv6`).
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
  /** The pod's IPv6 (ULA) address when the network is dual-stack. */
  readonly ip6?: string | undefined;
  /** The root-namespace end of its veth (a bridge port). */
  readonly hostVeth: string;
}

/** A namespace outside the cluster, on the bridge's wire (see the module comment). */
export interface OutsideHost {
  /** Logical name (`internet`). */
  readonly name: string;
  readonly ns: string;
  /** Host name → its address in this namespace (each name has its own address). */
  readonly addresses: ReadonlyMap<string, string>;
  /** The root-namespace end of its veth. */
  readonly hostVeth: string;
}

/** The range outside hosts are addressed from: TEST-NET-2 (RFC 5737), in no private range. */
export const OUTSIDE_SUBNET = '198.51.100.0/24';

/** The bridge, its /24 and the pods on it. */
export interface PodNetwork {
  /** Random per-run tag in every name this run creates (namespaces, links, files). */
  readonly tag: string;
  readonly bridge: string;
  /** The node's address on the bridge (`10.213.n.1`). */
  readonly gateway: string;
  /** `10.213.n.0/24`. */
  readonly subnet: string;
  /** The node's IPv6 address on the bridge (`fdxx:...::1`) when dual-stack. */
  readonly gateway6?: string | undefined;
  /** The pods' IPv6 /64 when dual-stack. */
  readonly subnet6?: string | undefined;
  readonly pods: ReadonlyMap<string, Pod>;
  /** The pod named `name`; throws when there is none. */
  pod(name: string): Pod;
  /** The outside host named `name`; throws when there is none. */
  outside(name: string): OutsideHost;
}

/** Options of {@link createPodNetwork}. */
export interface PodNetworkOptions {
  /** Pod names, in address order (.2, .3, ...). Lowercase letters, digits and dashes. */
  readonly pods: readonly string[];
  /** Extra host names per pod for /etc/hosts (`backend` always gets `backend.<namespace>.svc[.cluster.local]`). */
  readonly kubernetesNamespace?: string;
  /** Also give the bridge and every pod an IPv6 ULA address (dual stack). */
  readonly ipv6?: boolean;
  /**
   * Namespaces outside the cluster: each gets one TEST-NET-2 address per
   * host name, and every pod's /etc/hosts maps the names to them.
   */
  readonly outside?: readonly { readonly name: string; readonly hostNames: readonly string[] }[];
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

/**
 * Picks a random ULA /64 (fdxx:xxxx:xxxx:yyyy::/64, RFC 4193 §3.2: a random
 * 40-bit global ID) that no IPv6 route or address on this machine starts with.
 */
export function pickSubnet6(): string {
  const taken = [...sh(['ip', '-6', 'route', 'show', 'table', 'all']).stdout.split('\n'), ...sh(['ip', '-6', '-o', 'addr', 'show']).stdout.split('\n')].join('\n').toLowerCase();
  for (let attempt = 0; attempt < 50; attempt++) {
    const b = randomBytes(7);
    const groups = [b.readUInt16BE(1), b.readUInt16BE(3), b.readUInt16BE(5)];
    // No zero group, so the text form below is already the canonical one
    // (RFC 5952 §4.2) that tcpdump and Node print, and tests can compare strings.
    if (groups.includes(0)) continue;
    const prefix = `fd${b[0]!.toString(16).padStart(2, '0')}:${groups.map((g) => g.toString(16)).join(':')}`;
    if (!taken.includes(prefix.split(':').slice(0, 2).join(':'))) return `${prefix}::/64`;
  }
  throw new Error('netns: no free IPv6 ULA /64');
}

const NAME = /^[a-z][a-z0-9-]{0,19}$/;
const HOST_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * Creates the bridge and one namespace per pod (and per outside host), as
 * described in the module comment, registering every undo step with
 * `o.teardown` as it goes.
 */
export async function createPodNetwork(o: PodNetworkOptions): Promise<PodNetwork> {
  const tag = o.tag ?? randomBytes(3).toString('hex');
  const td = o.teardown;
  const outsideSpecs = o.outside ?? [];
  for (const p of [...o.pods, ...outsideSpecs.map((x) => x.name)]) if (!NAME.test(p)) throw new Error(`netns: bad pod name ${p}`);
  if (new Set([...o.pods, ...outsideSpecs.map((x) => x.name)]).size !== o.pods.length + outsideSpecs.length) throw new Error('netns: duplicate pod or outside host name');
  const outsideNames = outsideSpecs.flatMap((x) => x.hostNames);
  for (const h of outsideNames) if (!HOST_NAME.test(h)) throw new Error(`netns: bad outside host name ${h}`);
  if (o.pods.length > 200) throw new Error('netns: at most 200 pods');
  if (outsideNames.length > 100) throw new Error('netns: at most 100 outside host names');
  const subnet = pickSubnet();
  const prefix = subnet.split('.').slice(0, 3).join('.');
  const gateway = `${prefix}.1`;
  const subnet6 = o.ipv6 ? pickSubnet6() : undefined;
  const prefix6 = subnet6?.slice(0, -'::/64'.length);
  const gateway6 = prefix6 === undefined ? undefined : `${prefix6}::1`;
  const bridge = `ssbr${tag}`;

  await mustRun(['ip', 'link', 'add', bridge, 'type', 'bridge']);
  td.addCommand(`delete bridge ${bridge}`, ['ip', 'link', 'del', bridge], { ignoreFailure: true });
  await mustRun(['ip', 'addr', 'add', `${gateway}/24`, 'dev', bridge]);
  if (gateway6 !== undefined) await mustRun(['ip', '-6', 'addr', 'add', `${gateway6}/64`, 'dev', bridge, 'nodad']);
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
  for (const bin of o.ipv6 ? ['iptables', 'ip6tables'] : ['iptables']) {
    for (const rule of forwardRules) {
      await mustRun([bin, '-w', '-I', ...rule.slice(0, 1), '1', ...rule.slice(1)]);
      td.addCommand(`delete root ${bin} FORWARD rule for ${bridge}`, [bin, '-w', '-D', ...rule]);
    }
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
    const ip6 = prefix6 === undefined ? undefined : `${prefix6}::${(i + 2).toString(16)}`;
    pods.set(name, { name, ns: `ss${tag}-${name}`, ip: `${prefix}.${i + 2}`, ip6, hostVeth: `ssv${tag}${i.toString(36)}` });
  });
  const outsideOctets = OUTSIDE_SUBNET.split('.').slice(0, 3).join('.');
  let nextOutside = 10;
  const outside = new Map<string, OutsideHost>();
  outsideSpecs.forEach((spec, j) => {
    const addresses = new Map<string, string>();
    for (const h of spec.hostNames) addresses.set(h, `${outsideOctets}.${nextOutside++}`);
    outside.set(spec.name, { name: spec.name, ns: `ss${tag}-${spec.name}`, addresses, hostVeth: `ssv${tag}${(o.pods.length + j).toString(36)}` });
  });

  const kns = o.kubernetesNamespace ?? 'demo';
  const hosts = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
  for (const p of pods.values()) hosts.push(`${p.ip}\t${p.name} ${p.name}.${kns} ${p.name}.${kns}.svc ${p.name}.${kns}.svc.cluster.local`);
  for (const p of pods.values()) if (p.ip6 !== undefined) hosts.push(`${p.ip6}\t${p.name}-v6 ${p.name}-v6.${kns} ${p.name}-v6.${kns}.svc ${p.name}-v6.${kns}.svc.cluster.local`);
  for (const h of outside.values()) for (const [name, ip] of h.addresses) hosts.push(`${ip}\t${name}`);

  /** Namespace + veth into the bridge, renamed eth0, lo and eth0 up; the rest is the caller's. */
  const attach = async (ns: string, hostVeth: string, etcFiles: boolean): Promise<(...args: string[]) => Promise<string>> => {
    if (etcFiles) {
      const etc = join(etcNetns, ns);
      mkdirSync(etc, { mode: 0o755 });
      td.add(`remove ${etc}`, () => rmSync(etc, { recursive: true, force: true }));
      writeFileSync(join(etc, 'hosts'), `${hosts.join('\n')}\n`, { mode: 0o644 });
      // Nothing listens on the pod's 127.0.0.1:53: unknown names fail at once
      // instead of querying the node's resolver.
      writeFileSync(join(etc, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n', { mode: 0o644 });
    }
    await mustRun(['ip', 'netns', 'add', ns]);
    td.addCommand(`delete netns ${ns}`, ['ip', 'netns', 'del', ns], { ignoreFailure: true });
    const inner = `ssp${hostVeth.slice(3)}`;
    await mustRun(['ip', 'link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', inner, 'netns', ns]);
    td.addCommand(`delete veth ${hostVeth}`, ['ip', 'link', 'del', hostVeth], { ignoreFailure: true });
    await mustRun(['ip', 'link', 'set', hostVeth, 'master', bridge, 'up']);
    const ipns = (...args: string[]): Promise<string> => mustRun(['ip', '-n', ns, ...args]);
    await ipns('link', 'set', inner, 'name', 'eth0');
    await ipns('link', 'set', 'lo', 'up');
    return ipns;
  };

  for (const p of pods.values()) {
    const ipns = await attach(p.ns, p.hostVeth, true);
    await ipns('addr', 'add', `${p.ip}/24`, 'dev', 'eth0');
    if (p.ip6 !== undefined) await ipns('-6', 'addr', 'add', `${p.ip6}/64`, 'dev', 'eth0', 'nodad');
    await ipns('link', 'set', 'eth0', 'up');
    await ipns('route', 'add', 'default', 'via', gateway, 'dev', 'eth0');
    if (gateway6 !== undefined) await ipns('-6', 'route', 'add', 'default', 'via', gateway6, 'dev', 'eth0');
    if (outside.size > 0) await ipns('route', 'add', OUTSIDE_SUBNET, 'dev', 'eth0');
  }
  for (const h of outside.values()) {
    const ipns = await attach(h.ns, h.hostVeth, false);
    for (const ip of h.addresses.values()) await ipns('addr', 'add', `${ip}/24`, 'dev', 'eth0');
    await ipns('link', 'set', 'eth0', 'up');
    // On-link both ways: the pods' /24 is on the same wire, and no default route exists.
    await ipns('route', 'add', subnet, 'dev', 'eth0');
  }

  return {
    tag,
    bridge,
    gateway,
    subnet,
    gateway6,
    subnet6,
    pods,
    pod(name) {
      const p = pods.get(name);
      if (!p) throw new Error(`netns: no pod ${name}`);
      return p;
    },
    outside(name) {
      const h = outside.get(name);
      if (!h) throw new Error(`netns: no outside host ${name}`);
      return h;
    },
  };
}

/**
 * What of a run tagged `tag` is still on the machine: namespaces, links,
 * /etc/netns folders, root FORWARD rules (iptables and ip6tables) naming its bridge, and processes
 * whose command line contains the tag. Empty when teardown was complete.
 */
export function leftovers(tag: string, extraProcessPatterns: readonly string[] = []): string[] {
  const found: string[] = [];
  for (const line of sh(['ip', 'netns', 'list']).stdout.split('\n')) if (line.includes(tag)) found.push(`netns: ${line.trim()}`);
  for (const line of sh(['ip', '-o', 'link', 'show']).stdout.split('\n')) if (line.includes(tag)) found.push(`link: ${line.trim().slice(0, 120)}`);
  if (existsSync('/etc/netns')) for (const e of readdirSync('/etc/netns')) if (e.includes(tag)) found.push(`/etc/netns/${e}`);
  for (const bin of ['iptables', 'ip6tables']) {
    for (const line of sh([bin, '-w', '-S']).stdout.split('\n')) if (line.includes(tag)) found.push(`${bin}: ${line.trim()}`);
  }
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
