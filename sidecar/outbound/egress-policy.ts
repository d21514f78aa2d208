import { CidrSet } from './cidr-set.ts';

/** One entry of the egress allow-list: a host name pattern or a network, with optional ports. */
export interface EgressRuleOptions {
  /** An exact DNS name (`api.example.com`) or `*.example.com`: any name one or more labels below it. */
  readonly host?: string | undefined;
  /** A network (`203.0.113.0/24`, `2001:db8::/32`) or one address. */
  readonly cidr?: string | undefined;
  /** Only these destination ports; any port when absent. */
  readonly ports?: readonly number[] | undefined;
}

/** Why an egress connection or request was allowed or refused; safe as a metric label. */
export type EgressReason =
  /** Allowed by a `host` rule (HTTP Host or TLS SNI). */
  | 'host'
  /** Allowed by a `cidr` rule (the original destination address). */
  | 'cidr'
  /** No rule matches: the default is deny. */
  | 'no_rule'
  /** Loopback, link-local, multicast or unspecified: never dialled, whatever the rules say. */
  | 'forbidden_address';

/** Every {@link EgressReason}. */
export const EGRESS_REASONS: readonly EgressReason[] = Object.freeze(['host', 'cidr', 'no_rule', 'forbidden_address']);

/** The outcome of one egress check. */
export interface EgressDecision {
  readonly allow: boolean;
  readonly reason: EgressReason;
}

interface NameRule {
  /** The exact name, or the suffix with its leading dot (`.example.com`) for a wildcard. */
  readonly name: string;
  readonly wildcard: boolean;
  readonly ports: ReadonlySet<number> | null;
}

interface NetRule {
  readonly nets: CidrSet;
  readonly ports: ReadonlySet<number> | null;
}

const ALLOW_HOST: EgressDecision = Object.freeze({ allow: true, reason: 'host' });
const ALLOW_CIDR: EgressDecision = Object.freeze({ allow: true, reason: 'cidr' });
const NO_RULE: EgressDecision = Object.freeze({ allow: false, reason: 'no_rule' });

/**
 * The egress allow-list of transparent mode: which destinations outside
 * the mesh the app may reach, by name (HTTP Host, TLS SNI) or by address,
 * and on which ports. Default deny: an empty list allows nothing. Pure;
 * the outbound proxy logs and counts each decision.
 */
export class EgressPolicy {
  readonly #names: readonly NameRule[];
  readonly #nets: readonly NetRule[];

  /** Throws a TypeError for an entry with neither or both of host and cidr (the config module reports them first). */
  constructor(rules: readonly EgressRuleOptions[] = []) {
    const names: NameRule[] = [];
    const nets: NetRule[] = [];
    for (const r of rules) {
      const ports = r.ports === undefined ? null : new Set(r.ports);
      if ((r.host === undefined) === (r.cidr === undefined)) throw new TypeError('outbound: an egress rule needs exactly one of host and cidr');
      if (r.host !== undefined) {
        const h = stripDot(r.host.toLowerCase());
        names.push(h.startsWith('*.') ? { name: h.slice(1), wildcard: true, ports } : { name: h, wildcard: false, ports });
      } else {
        nets.push({ nets: new CidrSet([r.cidr!]), ports });
      }
    }
    this.#names = names;
    this.#nets = nets;
  }

  /** True when no rule exists: every egress destination is refused. */
  get empty(): boolean {
    return this.#names.length === 0 && this.#nets.length === 0;
  }

  /** Whether `name` (a DNS name from Host or SNI, any case) may be reached on `port`. */
  allowsName(name: string, port: number): EgressDecision {
    const n = stripDot(name.toLowerCase());
    for (const r of this.#names) {
      const match = r.wildcard ? n.length > r.name.length && n.endsWith(r.name) : n === r.name;
      if (match && (r.ports === null || r.ports.has(port))) return ALLOW_HOST;
    }
    return NO_RULE;
  }

  /** Whether the IP `address` may be reached on `port`. */
  allowsAddress(address: string, port: number): EgressDecision {
    for (const r of this.#nets) {
      if (r.nets.has(address) && (r.ports === null || r.ports.has(port))) return ALLOW_CIDR;
    }
    return NO_RULE;
  }
}

/** `example.com.` and `example.com` name the same host. */
function stripDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}
