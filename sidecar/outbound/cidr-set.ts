import { BlockList, isIP } from 'node:net';

/** One CIDR in canonical parts; `prefix` is the length of the network part. */
export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/**
 * Parses `a.b.c.d/n`, `v6/n`, or a single address (a /32 or /128). Host
 * bits may be set (`10.1.2.3/8` means 10.0.0.0/8), as in iptables.
 * undefined when malformed.
 */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const v = isIP(address);
  if (v === 0) return undefined;
  const max = v === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > max) return undefined;
    prefix = Number(p);
  }
  return { address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

const MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/**
 * A set of IPv4 and IPv6 networks, checked per connection. An
 * IPv4-mapped IPv6 address (`::ffff:10.0.0.5`, how a dual-stack socket
 * reports IPv4) is checked as the IPv4 address it carries.
 */
export class CidrSet {
  readonly #list = new BlockList();
  readonly #text: readonly string[];

  /** Throws a TypeError naming the first entry that is no CIDR (the config module reports them first). */
  constructor(cidrs: readonly string[]) {
    for (const text of cidrs) {
      const c = parseCidr(text);
      if (c === undefined) throw new TypeError(`outbound: ${JSON.stringify(text)} is not a CIDR (a.b.c.d/n or an IPv6 prefix)`);
      this.#list.addSubnet(c.address, c.prefix, c.family);
    }
    this.#text = Object.freeze([...cidrs]);
  }

  /** The networks as configured, for logs. */
  get cidrs(): readonly string[] {
    return this.#text;
  }

  /** True when `address` (an IP literal) is in one of the networks; false for anything else. */
  has(address: string): boolean {
    const v = isIP(address);
    if (v === 0) return false;
    if (v === 6) {
      const m = MAPPED.exec(address);
      if (m) return this.#list.check(m[1]!, 'ipv4');
    }
    return this.#list.check(address, v === 4 ? 'ipv4' : 'ipv6');
  }
}
