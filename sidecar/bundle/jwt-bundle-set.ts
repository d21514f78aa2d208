import { TrustDomain, quoteUntrusted } from '../spiffe/index.ts';
import { JwtBundle, JwtBundleError } from './jwt-bundle.ts';

/**
 * Where JWT-SVID validation gets the keys of a trust domain. One method, so
 * a static set, a Workload API watcher or a test double can all serve it.
 */
export interface JwtBundleSource {
  /** The JWT bundle of `td`, or undefined when that trust domain is not trusted. */
  getJwtBundleForTrustDomain(td: TrustDomain): JwtBundle | undefined;
}

/** An immutable set of JWT bundles, at most one per trust domain. */
export class JwtBundleSet implements JwtBundleSource {
  /** Number of trust domains in the set. */
  readonly size: number;
  readonly #byName: ReadonlyMap<string, JwtBundle>;

  private constructor(byName: Map<string, JwtBundle>) {
    this.#byName = byName;
    this.size = byName.size;
    Object.freeze(this);
  }

  /** Builds a set; when two bundles share a trust domain the later one wins (as go-spiffe's Set.Add). */
  static of(bundles: Iterable<JwtBundle>): JwtBundleSet {
    const byName = new Map<string, JwtBundle>();
    for (const b of bundles) byName.set(b.trustDomain.name, b);
    return new JwtBundleSet(byName);
  }

  /**
   * Parses a Workload API `JWTBundlesResponse.bundles` map: keys are trust
   * domains as `spiffe://td` (what SPIRE sends) or bare names, values JWKS
   * documents. Throws JwtBundleError; a bad key name is 'jwtbundle.malformed'.
   */
  static parseBundleMap(entries: Iterable<readonly [string, Uint8Array | string]>): JwtBundleSet {
    const bundles: JwtBundle[] = [];
    for (const [name, jwks] of entries) {
      let td: TrustDomain;
      try {
        td = TrustDomain.parse(name);
      } catch (cause) {
        throw new JwtBundleError('jwtbundle.malformed', `jwtbundle: bad trust domain key ${quoteUntrusted(name)} in bundle map`, { cause });
      }
      bundles.push(JwtBundle.parse(td, jwks));
    }
    return JwtBundleSet.of(bundles);
  }

  /** The bundle of `td`, or undefined. */
  get(td: TrustDomain): JwtBundle | undefined {
    return this.#byName.get(td.name);
  }

  /** Same as {@link JwtBundleSet.get}; the {@link JwtBundleSource} method. */
  getJwtBundleForTrustDomain(td: TrustDomain): JwtBundle | undefined {
    return this.#byName.get(td.name);
  }

  /** The trust domains in the set, sorted by name. */
  trustDomains(): TrustDomain[] {
    return [...this.#byName.values()].map((b) => b.trustDomain).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The bundles in the set, sorted by trust domain name. */
  bundles(): JwtBundle[] {
    return this.trustDomains().map((td) => this.#byName.get(td.name)!);
  }

  /** Iterates the bundles sorted by trust domain name. */
  [Symbol.iterator](): Iterator<JwtBundle> {
    return this.bundles()[Symbol.iterator]();
  }

  /** True when both sets hold the same trust domains with equal bundles ({@link JwtBundle.equals}). */
  equals(o: JwtBundleSet): boolean {
    if (this.size !== o.size) return false;
    for (const [name, bundle] of this.#byName) {
      const other = o.#byName.get(name);
      if (other === undefined || !bundle.equals(other)) return false;
    }
    return true;
  }
}
