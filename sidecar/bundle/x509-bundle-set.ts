import type { TrustDomain } from '../spiffe/index.ts';
import { BundleSet, parseBundleMap } from './bundle-set.ts';
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
export class X509BundleSet extends BundleSet<X509Bundle> implements X509BundleSource {
  /** Builds a set; when two bundles share a trust domain the later one wins (as go-spiffe's Set.Add). */
  static of(bundles: Iterable<X509Bundle>): X509BundleSet {
    return new X509BundleSet(bundles);
  }

  /**
   * Parses a Workload API bundle map (`X509BundlesResponse.bundles`,
   * `X509SVIDResponse.federated_bundles`): keys are trust domains as
   * `spiffe://td` (what SPIRE sends) or bare names, values concatenated DER.
   * Throws X509BundleError 'x509bundle.malformed'.
   */
  static parseBundleMap(entries: Iterable<readonly [string, Uint8Array]>): X509BundleSet {
    const bundles = parseBundleMap(entries, (td, der) => X509Bundle.fromDer(td, der), (message, cause) => new X509BundleError('x509bundle.malformed', `x509bundle: ${message}`, { cause }));
    return X509BundleSet.of(bundles);
  }

  /** Same as {@link X509BundleSet.get}; the {@link X509BundleSource} method. */
  getX509BundleForTrustDomain(td: TrustDomain): X509Bundle | undefined {
    return this.get(td);
  }
}
