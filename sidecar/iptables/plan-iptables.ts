import type { IpFamily, IptablesOptions } from './iptables-options.ts';
import { cidrFamily, validateIptablesOptions } from './iptables-options.ts';

/** The project's own nat chains; nothing else in the pod's rules is touched. */
export const CHAINS = {
  /** Jumped to from PREROUTING: inbound app ports → the inbound listener. */
  inbound: 'SPIFFE_SIDECAR_INBOUND',
  /** The single REDIRECT to the outbound listener. */
  redirect: 'SPIFFE_SIDECAR_REDIRECT',
  /** Jumped to from OUTPUT: exclusions, then SPIFFE_SIDECAR_REDIRECT. */
  output: 'SPIFFE_SIDECAR_OUTPUT',
} as const;

/** The jump rules from the built-in chains, as they are added and deleted. */
const JUMPS = {
  inbound: ['PREROUTING', '-p', 'tcp', '-j', CHAINS.inbound],
  output: ['OUTPUT', '-p', 'tcp', '-j', CHAINS.output],
} as const;

/** The loopback range of each family: in-pod traffic that must stay in the pod. */
const LOOPBACK: Readonly<Record<IpFamily, string>> = { 4: '127.0.0.0/8', 6: '::1/128' };

const nat = (...args: string[]): string[] => ['-t', 'nat', ...args];

/**
 * Plans the commands (argv after the `iptables` binary, or `ip6tables` for
 * family 6) that install the redirect rules, assuming the project's chains
 * do not exist yet (`applyIptables` removes them first). Pure. Both
 * families get the same chains and rules; only the loopback range and the
 * excluded CIDRs of the other family differ.
 *
 * Inbound (PREROUTING, traffic from outside the pod): the listed app ports,
 * or every TCP port except the inbound listener, the admin port and the
 * excluded ones, are redirected to the inbound listener, so nothing reaches
 * the app without passing mTLS and the policy. With outbound interception,
 * the outbound listener's port is redirected there too: that listener may
 * bind every address (`[::]`, to receive IPv6 redirects on ::1), and from
 * outside the pod it must never be reachable as an open egress proxy.
 *
 * Outbound (OUTPUT, traffic the pod opens), in this order:
 * 1. the sidecar's own uid returns: its connections to peers and to the app
 *    must not be redirected back to itself;
 * 2. loopback (127.0.0.0/8 or ::1, and anything routed over `lo`, which
 *    includes the pod's own addresses) returns: in-pod traffic stays in the pod;
 * 3. the admin port and the excluded ports and CIDRs return;
 * 4. everything else jumps to SPIFFE_SIDECAR_REDIRECT → the outbound
 *    listener (REDIRECT maps locally generated packets to 127.0.0.1 or ::1,
 *    iptables-extensions(8)).
 */
export function planIptables(options: IptablesOptions, family: IpFamily = 4): string[][] {
  const o = validateIptablesOptions(options);
  const cmds: string[][] = [nat('-N', CHAINS.inbound), nat('-N', CHAINS.redirect), nat('-N', CHAINS.output)];
  const redirectIn = ['-j', 'REDIRECT', '--to-ports', String(o.inboundPort)];
  const inboundRules: string[][] = [];
  if (o.inboundPorts === '*') {
    const keep = [o.inboundPort, o.adminPort, ...o.excludeInboundPorts.filter((p) => p !== o.inboundPort && p !== o.adminPort)];
    for (const p of keep) inboundRules.push(['-p', 'tcp', '--dport', String(p), '-j', 'RETURN']);
    inboundRules.push(['-p', 'tcp', ...redirectIn]);
  } else {
    if (o.outbound) inboundRules.push(['-p', 'tcp', '--dport', String(o.outboundPort), ...redirectIn]);
    for (const p of o.inboundPorts) {
      if (!o.excludeInboundPorts.includes(p)) inboundRules.push(['-p', 'tcp', '--dport', String(p), ...redirectIn]);
    }
  }
  for (const r of inboundRules) cmds.push(nat('-A', CHAINS.inbound, ...r));
  if (inboundRules.length > 0) cmds.push(nat('-A', ...JUMPS.inbound));

  if (o.outbound) {
    cmds.push(nat('-A', CHAINS.redirect, '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(o.outboundPort)));
    const out = (...rule: string[]): void => void cmds.push(nat('-A', CHAINS.output, ...rule));
    out('-m', 'owner', '--uid-owner', String(o.proxyUid), '-j', 'RETURN');
    out('-d', LOOPBACK[family], '-j', 'RETURN');
    out('-o', 'lo', '-j', 'RETURN');
    for (const p of [o.adminPort, ...o.excludeOutboundPorts.filter((x) => x !== o.adminPort)]) out('-p', 'tcp', '--dport', String(p), '-j', 'RETURN');
    for (const c of o.excludeOutboundCidrs) if (cidrFamily(c) === family) out('-d', c, '-j', 'RETURN');
    out('-j', CHAINS.redirect);
    cmds.push(nat('-A', ...JUMPS.output));
  }
  return cmds;
}

/**
 * Plans the commands that remove everything {@link planIptables} adds (the
 * same for both families): the jumps from PREROUTING and OUTPUT, then flush
 * and delete the three chains. Each may fail when there is nothing to
 * remove; the runner tolerates that, and repeats a jump deletion until it
 * fails so duplicate jumps go too.
 */
export function planIptablesClean(): string[][] {
  return [
    nat('-D', ...JUMPS.inbound),
    nat('-D', ...JUMPS.output),
    nat('-F', CHAINS.inbound),
    nat('-F', CHAINS.output),
    nat('-F', CHAINS.redirect),
    nat('-X', CHAINS.inbound),
    nat('-X', CHAINS.output),
    nat('-X', CHAINS.redirect),
  ];
}
