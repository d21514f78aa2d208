import type { IdMatcher, TrustDomain } from '../spiffe/index.ts';
import type { X509SvidSource } from '../svid/index.ts';

/**
 * Accepts any ID of the trust domain our own current SVID belongs to,
 * read at every check so it follows our identity. Transparent mode's
 * default server expectation when no trust domain is configured: the
 * narrowest one under which a mesh works (docs/config.md). Accepts nothing
 * while we have no SVID (no handshake can happen then anyway).
 */
export function matchOwnTrustDomain(svidSource: X509SvidSource): IdMatcher {
  const own = (): TrustDomain | undefined => {
    try {
      return svidSource.getX509Svid().id.trustDomain;
    } catch {
      return undefined;
    }
  };
  return Object.freeze({
    matches(id) {
      const td = own();
      return td !== undefined && id.memberOf(td);
    },
    get description() {
      const td = own();
      return td === undefined ? 'any ID in our own trust domain' : `any ID in trust domain ${td.name} (our own)`;
    },
  } satisfies IdMatcher);
}
