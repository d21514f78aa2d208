import { isIPv6 } from 'node:net';

/**
 * A parsed authority: lowercase host (IPv6 without brackets) and port, or
 * null when absent. An IP address is in its canonical spelling (see
 * {@link canonicalHost}).
 */
export interface Authority {
  readonly host: string;
  readonly port: number | null;
}

/** The last label (a trailing dot ignored) is a number: all digits, or `0x` and hex digits. */
function endsInNumber(host: string): boolean {
  let end = host.length;
  if (end > 1 && host.charCodeAt(end - 1) === 0x2e) end--;
  const start = host.lastIndexOf('.', end - 1) + 1;
  if (start >= end) return false;
  const last = host.slice(start, end);
  return /^[0-9]+$/.test(last) || /^0x[0-9a-f]*$/.test(last);
}

/**
 * The host as every URL parser and resolver reads it: a host the WHATWG
 * URL Standard (§3.5 host parsing, "ends in a number" and the IPv4 parser)
 * takes as an IPv4 address becomes its dotted quad (`2130706433`,
 * `0x7f000001`, `127.1`, `0177.0.0.1` → 127.0.0.1; `10.5` → 10.0.0.5), an
 * IPv6 address its RFC 5952 form (`0:0:0:0:0:ffff:127.0.0.1` →
 * `::ffff:7f00:1`); any other host is returned as it is. undefined when the
 * host ends in a number but is no valid address (`1.2.3.4.5`, `09.1`): no
 * name can end in a number, and resolvers disagree on what such hosts mean.
 *
 * Why: getaddrinfo and inet_aton accept these spellings too, so a check
 * that only knows dotted quads treats `0x7f000001` as a DNS name and lets
 * the resolver turn it into 127.0.0.1 (issue 12). `host` is lowercase,
 * without brackets or port.
 */
export function canonicalHost(host: string): string | undefined {
  if (host.includes(':')) {
    if (!isIPv6(host)) return host;
    try {
      // Validated as IPv6 first, so no other URL part can hide in it; zone IDs do not parse.
      return new URL(`http://[${host}]/`).hostname.slice(1, -1);
    } catch {
      return undefined;
    }
  }
  if (!endsInNumber(host)) return host;
  // Only these characters reach the URL parser, so userinfo, paths and
  // percent-escapes cannot change what it reads as the host.
  if (!/^[0-9a-z.-]+$/.test(host)) return undefined;
  try {
    return new URL(`http://${host}/`).hostname;
  } catch {
    return undefined;
  }
}

/**
 * Splits `host`, `host:port`, `[v6]` or `[v6]:port` (a Host header or
 * :authority) into a lowercase host and a port; undefined when malformed.
 * A bare IPv6 literal without brackets is taken as a host. IP addresses in
 * any spelling come back canonical ({@link canonicalHost}), so every check
 * after this one sees 127.0.0.1 where the client wrote 0x7f000001.
 */
export function parseAuthority(raw: string): Authority | undefined {
  const s = raw.trim().toLowerCase();
  if (s === '') return undefined;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return undefined;
    const inside = s.slice(1, close);
    // Brackets hold an IPv6 address and nothing else (RFC 3986 §3.2.2).
    const host = isIPv6(inside) ? canonicalHost(inside) : undefined;
    if (host === undefined) return undefined;
    const rest = s.slice(close + 1);
    if (rest === '') return { host, port: null };
    if (!rest.startsWith(':')) return undefined;
    const port = parsePort(rest.slice(1));
    return port === undefined ? undefined : { host, port };
  }
  const colon = s.lastIndexOf(':');
  if (colon < 0) return hostOnly(s, null);
  if (s.indexOf(':') !== colon) return hostOnly(s, null); // unbracketed IPv6
  const port = parsePort(s.slice(colon + 1));
  if (port === undefined) return undefined;
  return hostOnly(s.slice(0, colon), port);
}

function hostOnly(raw: string, port: number | null): Authority | undefined {
  const host = canonicalHost(raw);
  return host === undefined ? undefined : { host, port };
}

function parsePort(s: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : undefined;
}

const MEMO_LIMIT = 256;

/** One route: the host (and optionally port) the app addresses, and what it leads to. */
export interface RouteEntry<T> {
  readonly host: string;
  /** When set, only this port matches; otherwise any port (and none) does. */
  readonly port: number | null;
  readonly value: T;
}

/**
 * Host-based routing of the outbound listener. An exact `host:port` route
 * wins over a host-only one; host names compare case-insensitively. There is
 * no default route: a host nobody configured matches nothing, which is what
 * keeps the outbound listener from being an open proxy.
 */
export class RouteTable<T> {
  readonly #exact = new Map<string, T>();
  readonly #byHost = new Map<string, T>();
  /** Answers by the raw authority as received: apps send the same few values on every request. */
  readonly #memo = new Map<string, T | null>();

  constructor(entries: Iterable<RouteEntry<T>>) {
    for (const e of entries) {
      // Keyed by the canonical spelling that parseAuthority gives lookups.
      const lower = e.host.toLowerCase();
      const host = canonicalHost(lower) ?? lower;
      if (e.port !== null) this.#exact.set(`${host}:${e.port}`, e.value);
      else this.#byHost.set(host, e.value);
    }
  }

  /** The route for a Host / :authority value, or undefined. */
  lookup(authority: string): T | undefined {
    const known = this.#memo.get(authority);
    if (known !== undefined) return known ?? undefined;
    const found = this.#resolve(authority);
    // Bounded: a client cycling through made-up hosts only resets the memo.
    if (this.#memo.size >= MEMO_LIMIT) this.#memo.clear();
    this.#memo.set(authority, found ?? null);
    return found;
  }

  #resolve(authority: string): T | undefined {
    const a = parseAuthority(authority);
    if (a === undefined) return undefined;
    if (a.port !== null) {
      const exact = this.#exact.get(`${a.host}:${a.port}`);
      if (exact !== undefined) return exact;
    }
    return this.#byHost.get(a.host);
  }
}
