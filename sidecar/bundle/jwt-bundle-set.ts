import type { TrustDomain } from '../spiffe/index.ts';
import { BundleSet, parseBundleMap } from './bundle-set.ts';
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
export class JwtBundleSet extends BundleSet<JwtBundle> implements JwtBundleSource {
  /** Builds a set; when two bundles share a trust domain the later one wins (as go-spiffe's Set.Add). */
  static of(bundles: Iterable<JwtBundle>): JwtBundleSet {
    return new JwtBundleSet(bundles);
  }

  /**
   * Parses a Workload API `JWTBundlesResponse.bundles` map: keys are trust
   * domains as `spiffe://td` (what SPIRE sends) or bare names, values JWKS
   * documents. Throws JwtBundleError; a bad key name is 'jwtbundle.malformed'.
   */
  static parseBundleMap(entries: Iterable<readonly [string, Uint8Array | string]>): JwtBundleSet {
    const bundles = parseBundleMap(entries, (td, jwks) => JwtBundle.parse(td, jwks), (message, cause) => new JwtBundleError('jwtbundle.malformed', `jwtbundle: ${message}`, { cause }));
    return JwtBundleSet.of(bundles);
  }

  /** Same as {@link JwtBundleSet.get}; the {@link JwtBundleSource} method. */
  getJwtBundleForTrustDomain(td: TrustDomain): JwtBundle | undefined {
    return this.get(td);
  }
}
