import { TrustDomain, quoteUntrusted } from '../spiffe/index.ts';

/** One trust domain's bundle, as a set holds it. */
export interface TrustDomainBundle<B> {
  readonly trustDomain: TrustDomain;
  /** True when `o` holds the same authorities (for "did the set change?" checks). */
  equals(o: B): boolean;
}

/**
 * What the X.509 and the JWT bundle sets share: an immutable map with at
 * most one bundle per trust domain, read in trust domain name order.
 */
export abstract class BundleSet<B extends TrustDomainBundle<B>> implements Iterable<B> {
  /** Number of trust domains in the set. */
  readonly size: number;
  readonly #byName: ReadonlyMap<string, B>;

  /** When two bundles share a trust domain the later one wins (as go-spiffe's Set.Add). */
  protected constructor(bundles: Iterable<B>) {
    const byName = new Map<string, B>();
    for (const b of bundles) byName.set(b.trustDomain.name, b);
    this.#byName = byName;
    this.size = byName.size;
    Object.freeze(this);
  }

  /** The bundle of `td`, or undefined. */
  get(td: TrustDomain): B | undefined {
    return this.#byName.get(td.name);
  }

  /** The trust domains in the set, sorted by name. */
  trustDomains(): TrustDomain[] {
    return [...this.#byName.values()].map((b) => b.trustDomain).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The bundles in the set, sorted by trust domain name. */
  bundles(): B[] {
    return this.trustDomains().map((td) => this.#byName.get(td.name)!);
  }

  /** Iterates the bundles sorted by trust domain name. */
  [Symbol.iterator](): Iterator<B> {
    return this.bundles()[Symbol.iterator]();
  }

  /** True when both sets hold the same trust domains with equal bundles. */
  equals(o: BundleSet<B>): boolean {
    if (this.size !== o.size) return false;
    for (const [name, bundle] of this.#byName) {
      const other = o.#byName.get(name);
      if (other === undefined || !bundle.equals(other)) return false;
    }
    return true;
  }
}

/**
 * The bundles of a Workload API bundle map: keys are trust domains as
 * `spiffe://td` (what SPIRE sends) or bare names, and `parse` reads each
 * value as that trust domain's bundle. A bad key is reported through
 * `fail`, which gets the message and the parse error.
 */
export function parseBundleMap<V, B>(
  entries: Iterable<readonly [string, V]>,
  parse: (td: TrustDomain, value: V) => B,
  fail: (message: string, cause: unknown) => Error,
): B[] {
  const bundles: B[] = [];
  for (const [name, value] of entries) {
    let td: TrustDomain;
    try {
      td = TrustDomain.parse(name);
    } catch (cause) {
      throw fail(`bad trust domain key ${quoteUntrusted(name)} in bundle map`, cause);
    }
    bundles.push(parse(td, value));
  }
  return bundles;
}
