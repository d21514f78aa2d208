import { canonicalHost, parseHostPort, type Authority } from '../core/index.ts';

const CANONICAL = Object.freeze({ port: 'optional', hosts: 'canonical' } as const);

/**
 * Reads a Host header or :authority (`host`, `host:port`, `[v6]`,
 * `[v6]:port`) with core's one host:port parser: lowercase host, IP
 * addresses in any spelling made canonical (core's canonicalHost), so every
 * check after this one sees 127.0.0.1 where the client wrote 0x7f000001.
 * undefined when malformed, an IPv6 address without brackets included
 * (RFC 3986 §3.2.2: `::1:8080` has no single reading).
 */
export function parseAuthority(raw: string): Authority | undefined {
  const r = parseHostPort(raw, CANONICAL);
  return r.ok ? { host: r.host, port: r.port } : undefined;
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
