import { TrustDomain, quoteUntrusted } from '../spiffe/index.ts';
import { X509Bundle, X509BundleError } from './x509-bundle.ts';

/**
 * Where X509-SVID verification gets the CA certificates of a trust domain.
 * One method, so a static set, a Workload API watcher or a test double can
 * all serve it (go-spiffe `x509bundle.Source`).
 */
export interface X509BundleSource {
  /** The X.509 bundle of `td`, or undefined when that trust domain is not trusted. */
  getX509BundleForTrustDomain(td: TrustDomain): X509Bundle | undefined;
}

/** An immutable set of X.509 bundles, at most one per trust domain. */
export class X509BundleSet implements X509BundleSource {
  /** Number of trust domains in the set. */
  readonly size: number;
  readonly #byName: ReadonlyMap<string, X509Bundle>;

  private constructor(byName: Map<string, X509Bundle>) {
    this.#byName = byName;
    this.size = byName.size;
    Object.freeze(this);
  }

  /** Builds a set; when two bundles share a trust domain the later one wins (as go-spiffe's Set.Add). */
  static of(bundles: Iterable<X509Bundle>): X509BundleSet {
    const byName = new Map<string, X509Bundle>();
    for (const b of bundles) byName.set(b.trustDomain.name, b);
    return new X509BundleSet(byName);
  }

  /**
   * Parses a Workload API bundle map (`X509BundlesResponse.bundles`,
   * `X509SVIDResponse.federated_bundles`): keys are trust domains as
   * `spiffe://td` (what SPIRE sends) or bare names, values concatenated DER.
   * Throws X509BundleError 'x509bundle.malformed'.
   */
  static parseBundleMap(entries: Iterable<readonly [string, Uint8Array]>): X509BundleSet {
    const bundles: X509Bundle[] = [];
    for (const [name, der] of entries) {
      let td: TrustDomain;
      try {
        td = TrustDomain.parse(name);
      } catch (cause) {
        throw new X509BundleError('x509bundle.malformed', `x509bundle: bad trust domain key ${quoteUntrusted(name)} in bundle map`, { cause });
      }
      bundles.push(X509Bundle.fromDer(td, der));
    }
    return X509BundleSet.of(bundles);
  }

  /** The bundle of `td`, or undefined. */
  get(td: TrustDomain): X509Bundle | undefined {
    return this.#byName.get(td.name);
  }

  /** Same as {@link X509BundleSet.get}; the {@link X509BundleSource} method. */
  getX509BundleForTrustDomain(td: TrustDomain): X509Bundle | undefined {
    return this.#byName.get(td.name);
  }

  /** The trust domains in the set, sorted by name. */
  trustDomains(): TrustDomain[] {
    return [...this.#byName.values()].map((b) => b.trustDomain).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Iterates the bundles sorted by trust domain name. */
  *[Symbol.iterator](): IterableIterator<X509Bundle> {
    for (const td of this.trustDomains()) yield this.#byName.get(td.name)!;
  }
}
