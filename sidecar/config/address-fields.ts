/*
 * The config's address-valued fields (listen, app, address, target, a
 * route's host): core's one host:port parser with exact hosts, wrapped in
 * the config's Parsed results, and the checks between addresses.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { parseHostPort, type Address, type Authority } from '../core/index.ts';
import { accept, quoted, reject, typeName, type Parsed } from './parsed.ts';

/** Placeholder for an address that failed validation; port 0 makes cross-checks skip it. */
export const NO_ADDRESS: Address = Object.freeze({ host: '', port: 0 });

/**
 * Parses a configured `host:port` or `[v6]:port` (core's parseHostPort,
 * exact hosts: another spelling of an IPv4 address is refused naming the
 * address); the host is lowercased.
 */
export function parseAddress(raw: unknown): Parsed<Address> {
  if (typeof raw !== 'string') return reject(`must be "host:port", got ${typeName(raw)}`);
  const r = parseHostPort(raw, { port: 'required', hosts: 'exact' });
  if (!r.ok) return reject(`${quoted(raw)}: ${r.problem}`);
  return accept({ host: r.host, port: r.port ?? 0 });
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** True for `localhost`, 127.0.0.0/8, ::1 and IPv4-mapped 127.x addresses. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIPv4(host)) return loopback.check(host, 'ipv4');
  if (isIPv6(host)) return loopback.check(host, 'ipv6');
  return false;
}

/** True for the any-address hosts a listener uses to bind every interface. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '0:0:0:0:0:0:0:0';
}

/** True when binding both addresses would collide: same port, and same host or either binds everything. */
export function addressesOverlap(a: Address, b: Address): boolean {
  return a.port === b.port && (a.host === b.host || isWildcardHost(a.host) || isWildcardHost(b.host));
}

/**
 * Parses what an outbound route matches in Host / :authority: `backend`,
 * `backend:8080`, `10.0.0.5`, `[fd00::5]:8080` (core's parseHostPort, port
 * optional, exact hosts); the host is lowercased (RFC 9110 §4.2.3).
 */
export function parseHostMatch(raw: unknown): Parsed<Authority> {
  if (typeof raw !== 'string') return reject(`must be a host name, optionally with ":port", got ${typeName(raw)}`);
  const r = parseHostPort(raw, { port: 'optional', hosts: 'exact' });
  if (!r.ok) return reject(`${quoted(raw)}: ${r.problem}`);
  return accept({ host: r.host, port: r.port });
}
