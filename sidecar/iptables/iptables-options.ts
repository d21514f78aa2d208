import { isIPv4, isIPv6 } from 'node:net';
import { IptablesError } from './iptables-error.ts';

/** An IP family: 4 for iptables, 6 for ip6tables. */
export type IpFamily = 4 | 6;

/** What the redirect rules capture and exclude. */
export interface IptablesOptions {
  /** The sidecar's uid: its own connections are never redirected (or they would loop). */
  readonly proxyUid: number;
  /** The sidecar's inbound (mTLS) listener. */
  readonly inboundPort: number;
  /** The sidecar's outbound listener (127.0.0.1, and ::1 for IPv6). */
  readonly outboundPort: number;
  /** The admin port (probes, metrics): never redirected in either direction. */
  readonly adminPort: number;
  /** Inbound TCP ports redirected to inboundPort; '*' means all but the excluded ones; [] none. */
  readonly inboundPorts: readonly number[] | '*';
  readonly excludeInboundPorts: readonly number[];
  /** Whether the app's outbound TCP is redirected to outboundPort. */
  readonly outbound: boolean;
  readonly excludeOutboundPorts: readonly number[];
  /**
   * CIDRs the app reaches directly: IPv4 (a.b.c.d/n) go to the iptables
   * rules, IPv6 (x::y/n) to the ip6tables rules.
   */
  readonly excludeOutboundCidrs: readonly string[];
  /** Whether ip6tables rules are installed beside the iptables ones. */
  readonly ipv6: boolean;
}

/** Defaults matching the injector's (docs/kubernetes.md). */
export const DEFAULT_IPTABLES_OPTIONS: IptablesOptions = {
  proxyUid: 1337,
  inboundPort: 15006,
  outboundPort: 15001,
  adminPort: 15020,
  inboundPorts: '*',
  excludeInboundPorts: [],
  outbound: true,
  excludeOutboundPorts: [],
  excludeOutboundCidrs: [],
  ipv6: true,
};

const isPort = (p: number): boolean => Number.isInteger(p) && p >= 1 && p <= 65535;

const IPV4_CIDR = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\/(3[0-2]|[12]?\d)$/;
/** Hex digits, colons and dots only (an IPv4-suffixed IPv6 address has dots), then /0-128. */
const IPV6_CIDR = /^([0-9a-f:.]+)\/(12[0-8]|1[01]\d|[1-9]?\d)$/i;

/** The family of a CIDR as validateIptablesOptions accepts it, or undefined for anything else. */
export function cidrFamily(cidr: string): IpFamily | undefined {
  if (IPV4_CIDR.test(cidr)) return 4;
  const m = IPV6_CIDR.exec(cidr);
  return m !== null && isIPv6(m[1]!) && !isIPv4(m[1]!) ? 6 : undefined;
}

/**
 * Checks options before any rule is planned; throws
 * 'iptables.options_invalid' listing every problem. Every value ends up in
 * an argv element, never a shell, but a malformed one would still make
 * iptables fail half-way, so it is refused up front.
 */
export function validateIptablesOptions(o: IptablesOptions): IptablesOptions {
  const problems: string[] = [];
  if (!Number.isInteger(o.proxyUid) || o.proxyUid < 1 || o.proxyUid > 2 ** 32 - 2) {
    // uid 0 would exempt every root process of the pod from the redirect.
    problems.push(`proxy uid ${o.proxyUid} must be 1-4294967294 (not root)`);
  }
  for (const [name, p] of [['inbound port', o.inboundPort], ['outbound port', o.outboundPort], ['admin port', o.adminPort]] as const) {
    if (!isPort(p)) problems.push(`${name} ${p} is not a port (1-65535)`);
  }
  if (new Set([o.inboundPort, o.outboundPort, o.adminPort]).size !== 3) problems.push('inbound, outbound and admin ports must differ');
  const lists: [string, readonly number[]][] = [
    ['exclude-inbound-ports', o.excludeInboundPorts],
    ['exclude-outbound-ports', o.excludeOutboundPorts],
  ];
  if (o.inboundPorts !== '*') lists.push(['inbound-ports', o.inboundPorts]);
  for (const [name, list] of lists) {
    for (const p of list) if (!isPort(p)) problems.push(`${name}: ${p} is not a port (1-65535)`);
  }
  if (o.inboundPorts !== '*') {
    for (const p of o.inboundPorts) {
      if ([o.inboundPort, o.outboundPort, o.adminPort].includes(p)) problems.push(`inbound-ports: ${p} is one of the sidecar's own ports`);
    }
  }
  for (const c of o.excludeOutboundCidrs) {
    if (cidrFamily(c) === undefined) problems.push(`exclude-outbound-cidrs: "${c}" is not an IPv4 (a.b.c.d/n) or IPv6 (x::y/n) CIDR`);
  }
  if (typeof o.ipv6 !== 'boolean') problems.push('ipv6 must be true or false');
  if (problems.length > 0) throw new IptablesError('iptables.options_invalid', problems.join('; '));
  return o;
}
