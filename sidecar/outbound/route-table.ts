/** A parsed authority: lowercase host (IPv6 without brackets) and port, or null when absent. */
export interface Authority {
  readonly host: string;
  readonly port: number | null;
}

/**
 * Splits `host`, `host:port`, `[v6]` or `[v6]:port` (a Host header or
 * :authority) into a lowercase host and a port; undefined when malformed.
 * A bare IPv6 literal without brackets is taken as a host.
 */
export function parseAuthority(raw: string): Authority | undefined {
  const s = raw.trim().toLowerCase();
  if (s === '') return undefined;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return undefined;
    const host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest === '') return { host, port: null };
    if (!rest.startsWith(':')) return undefined;
    const port = parsePort(rest.slice(1));
    return port === undefined ? undefined : { host, port };
  }
  const colon = s.lastIndexOf(':');
  if (colon < 0) return { host: s, port: null };
  if (s.indexOf(':') !== colon) return { host: s, port: null }; // unbracketed IPv6
  const port = parsePort(s.slice(colon + 1));
  if (port === undefined) return undefined;
  return { host: s.slice(0, colon), port };
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
      const host = e.host.toLowerCase();
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
