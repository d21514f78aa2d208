import { isIPv6 } from 'node:net';

/**
 * Parsers for the values of `spiffe-sidecar.io/*` annotations and the
 * matching CLI flags. Each returns a result instead of throwing so callers
 * can collect every problem of a pod before refusing it.
 */

/** A parsed value or the reason it was refused. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (message: string): Parsed<never> => ({ ok: false, message });

/** Parses a TCP port, 1-65535, written in decimal without sign or leading zeros. */
export function parsePort(text: string): Parsed<number> {
  const t = text.trim();
  if (!/^[1-9][0-9]{0,4}$/.test(t) || Number(t) > 65535) return bad(`"${text}" is not a port (1-65535)`);
  return ok(Number(t));
}

/** Parses "8080,9090" (duplicates removed, order kept); the empty string is the empty list. */
export function parsePortList(text: string): Parsed<readonly number[]> {
  if (text.trim() === '') return ok([]);
  const out: number[] = [];
  for (const part of text.split(',')) {
    const p = parsePort(part);
    if (!p.ok) return p;
    if (!out.includes(p.value)) out.push(p.value);
  }
  return ok(out);
}

/** Parses a port list or "*" (every port). */
export function parsePortsOrAll(text: string): Parsed<readonly number[] | '*'> {
  return text.trim() === '*' ? ok('*') : parsePortList(text);
}

/**
 * Parses a comma-separated list of IPv4 addresses or CIDRs only; an IPv6
 * value is refused (use {@link parseCidrList} for both families).
 */
export function parseIpv4CidrList(text: string): Parsed<readonly string[]> {
  if (text.trim() === '') return ok([]);
  const out: string[] = [];
  for (const raw of text.split(',')) {
    const t = raw.trim();
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(t);
    if (!m) return bad(`"${raw}" is not an IPv4 address or CIDR${t.includes(':') ? ' (IPv6 is not accepted here)' : ''}`);
    const octets = m.slice(1, 5).map(Number);
    if (octets.some((o, i) => o > 255 || /^0\d/.test(m[i + 1]!))) return bad(`"${raw}" has an octet out of range`);
    if (m[5] !== undefined && (Number(m[5]) > 32 || /^0\d/.test(m[5]))) return bad(`"${raw}" has a prefix length out of range (0-32)`);
    const cidr = m[5] === undefined ? `${t}/32` : t;
    if (!out.includes(cidr)) out.push(cidr);
  }
  return ok(out);
}

/**
 * Parses one IPv6 address or CIDR (hex digits, colons, and dots for an
 * embedded IPv4 tail; prefix 0-128); a bare address becomes /128. Lowercased.
 */
function parseIpv6Cidr(raw: string): Parsed<string> {
  const t = raw.trim().toLowerCase();
  const m = /^([0-9a-f:.]+)(?:\/(\d{1,3}))?$/.exec(t);
  if (!m || !isIPv6(m[1]!)) return bad(`"${raw}" is not an IPv6 address or CIDR`);
  if (m[2] !== undefined && (Number(m[2]) > 128 || /^0\d/.test(m[2]))) return bad(`"${raw}" has a prefix length out of range (0-128)`);
  return ok(m[2] === undefined ? `${t}/128` : t);
}

/**
 * Parses a comma-separated list of IPv4 and IPv6 addresses or CIDRs (a bare
 * address becomes /32 or /128). IPv4 entries go to the iptables rules, IPv6
 * entries to the ip6tables rules.
 */
export function parseCidrList(text: string): Parsed<readonly string[]> {
  if (text.trim() === '') return ok([]);
  const out: string[] = [];
  for (const raw of text.split(',')) {
    const r = raw.includes(':') ? parseIpv6Cidr(raw) : parseIpv4CidrList(raw);
    if (!r.ok) return r;
    for (const c of typeof r.value === 'string' ? [r.value] : r.value) if (!out.includes(c)) out.push(c);
  }
  return ok(out);
}

/** Parses "true" or "false" exactly (Kubernetes annotation values are strings). */
export function parseBoolean(text: string): Parsed<boolean> {
  if (text === 'true') return ok(true);
  if (text === 'false') return ok(false);
  return bad(`"${text}" must be "true" or "false"`);
}

/** The sidecar's log levels (docs/config.md `log.level`). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** A sidecar log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Parses a log level. */
export function parseLogLevel(text: string): Parsed<LogLevel> {
  return (LOG_LEVELS as readonly string[]).includes(text) ? ok(text as LogLevel) : bad(`"${text}" must be one of ${LOG_LEVELS.join(', ')}`);
}

const SUFFIX: Record<string, number> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/**
 * Parses a Kubernetes resource quantity such as `50m`, `0.5`, `64Mi` and
 * returns its value in base units (cores or bytes), so requests can be
 * compared with limits. Exponent forms (`1e3`) are refused: valid for the
 * API server, but nobody writes them in an annotation on purpose.
 */
export function parseQuantity(text: string): Parsed<{ readonly text: string; readonly value: number }> {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(text);
  if (!m) return bad(`"${text}" is not a Kubernetes quantity (e.g. 100m, 0.5, 64Mi, 1Gi)`);
  const value = Number(m[1]) * SUFFIX[m[2] ?? '']!;
  if (value <= 0) return bad(`"${text}" must be greater than zero`);
  return ok({ text, value });
}

/**
 * Checks a ConfigMap name: a DNS-1123 subdomain (lowercase letters, digits,
 * '-' and '.', at most 253 characters, starting and ending alphanumeric).
 */
export function parseConfigMapName(text: string): Parsed<string> {
  if (text.length === 0 || text.length > 253 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(text)) {
    return bad(`"${text}" is not a valid ConfigMap name (DNS-1123 subdomain)`);
  }
  return ok(text);
}
