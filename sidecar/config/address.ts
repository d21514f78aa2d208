import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { accept, quoted, reject, typeName, type Parsed } from './parsed.ts';

/** A TCP endpoint. `host` is a lowercase DNS name or an IP literal without brackets. */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/** Placeholder for an address that failed validation; port 0 makes cross-checks skip it. */
export const NO_ADDRESS: Address = Object.freeze({ host: '', port: 0 });

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const PORT_MESSAGE = 'port must be 1-65535';

/** Formats an address as `host:port`, bracketing IPv6 (`[::1]:15006`). */
export function formatAddress(a: Address): string {
  return isIPv6(a.host) ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * The WHATWG URL Standard's "ends in a number" (§3.5): the last label (a
 * trailing dot ignored) is all digits, or `0x` and hex digits. Such a host
 * is parsed as an IPv4 address, never as a name.
 */
function endsInNumber(host: string): boolean {
  const labels = host.split('.');
  if (labels.length > 1 && labels.at(-1) === '') labels.pop();
  const last = labels.at(-1) ?? '';
  return /^[0-9]+$/.test(last) || /^0x[0-9a-f]*$/.test(last);
}

/**
 * Checks a host without port: an IPv4 literal (dotted quad), a bare IPv6
 * literal (brackets removed by the caller) or a DNS name. Other spellings
 * of an IPv4 address (`127.1`, `0x7f000001`, `2130706433`, `0177.0.0.1`)
 * are refused naming the address they stand for: resolvers and the
 * sidecar's own route checks read them as that address (outbound
 * route-table.ts), so only one spelling may appear in a config.
 */
export function checkHost(host: string): string | undefined {
  if (host === '') return 'host is missing (use 0.0.0.0 for all interfaces)';
  if (isIPv4(host) || isIPv6(host)) return undefined;
  if (host.length > 253) return 'host name is longer than 253 characters';
  const labels = host.split('.');
  if (!labels.every((l) => LABEL.test(l) || l === '')) return 'host must be an IP address or a DNS name (letters, digits, dashes and dots)';
  if (endsInNumber(host)) {
    let reading: string | undefined;
    try {
      // Only letters, digits, dashes and dots get here, so nothing but the host is parsed.
      reading = new URL(`http://${host}/`).hostname;
    } catch {
      reading = undefined;
    }
    return reading === undefined
      ? `${host} is not a valid IPv4 address (a host name cannot end in a number)`
      : `${host} is read as the IPv4 address ${reading} by URL parsers and resolvers; write ${reading}`;
  }
  if (!labels.every((l) => LABEL.test(l))) return 'host must be an IP address or a DNS name (letters, digits, dashes and dots)';
  return undefined;
}

/**
 * Splits `host:port` / `[v6]:port` / `host` into host and optional port
 * string. Unbracketed IPv6 is refused: `::1:8080` has no single reading.
 */
export function splitHostPort(text: string): { host: string; port: string | undefined } | { error: string } {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) return { error: 'missing "]" after the IPv6 address' };
    const host = text.slice(1, close);
    if (!isIPv6(host)) return { error: `${host} in brackets is not an IPv6 address` };
    const rest = text.slice(close + 1);
    if (rest === '') return { host, port: undefined };
    if (!rest.startsWith(':')) return { error: 'expected ":port" after "]"' };
    return { host, port: rest.slice(1) };
  }
  const first = text.indexOf(':');
  if (first !== text.lastIndexOf(':')) return { error: 'IPv6 addresses must be in brackets, e.g. [::1]:15006' };
  if (first === -1) return { host: text, port: undefined };
  return { host: text.slice(0, first), port: text.slice(first + 1) };
}

/** Parses a decimal port 1-65535, or returns undefined. */
export function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** Parses `host:port` or `[v6]:port`; the host is lowercased. */
export function parseAddress(raw: unknown): Parsed<Address> {
  if (typeof raw !== 'string') return reject(`must be "host:port", got ${typeName(raw)}`);
  const split = splitHostPort(raw.trim().toLowerCase());
  if ('error' in split) return reject(`${quoted(raw)}: ${split.error}`);
  if (split.port === undefined) return reject(`${quoted(raw)}: missing ":port"`);
  const hostProblem = checkHost(split.host);
  if (hostProblem !== undefined) return reject(`${quoted(raw)}: ${hostProblem}`);
  const port = parsePort(split.port);
  if (port === undefined) return reject(`${quoted(raw)}: ${PORT_MESSAGE}`);
  return accept({ host: split.host, port });
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

/** What an outbound route matches in Host / :authority: a host and, optionally, an exact port. */
export interface HostMatch {
  readonly host: string;
  readonly port: number | null;
}

/** Parses `backend`, `backend:8080`, `10.0.0.5`, `[fd00::5]:8080`; the host is lowercased (RFC 9110 §4.2.3). */
export function parseHostMatch(raw: unknown): Parsed<HostMatch> {
  if (typeof raw !== 'string') return reject(`must be a host name, optionally with ":port", got ${typeName(raw)}`);
  const split = splitHostPort(raw.trim().toLowerCase());
  if ('error' in split) return reject(`${quoted(raw)}: ${split.error}`);
  const hostProblem = checkHost(split.host);
  if (hostProblem !== undefined) return reject(`${quoted(raw)}: ${hostProblem}`);
  if (split.port === undefined) return accept({ host: split.host, port: null });
  const port = parsePort(split.port);
  if (port === undefined) return reject(`${quoted(raw)}: ${PORT_MESSAGE}`);
  return accept({ host: split.host, port });
}
