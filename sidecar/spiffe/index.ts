/**
 * spiffe: SPIFFE IDs and trust domains (SPIFFE-ID.md §2): parsing, the
 * validation rules, and ID matchers that authorizers are built from.
 *
 * Pure and synchronous: no I/O, no clock, no certificates or tokens (those
 * live in `svid` and `bundle`). Depends on `core` only.
 */
export { TrustDomain } from './trust-domain.ts';
export { SpiffeId } from './spiffe-id.ts';
export { SpiffeIdError } from './spiffe-id-error.ts';
export type { SpiffeIdErrorCode } from './spiffe-id-error.ts';
export { matchAny, matchId, matchOneOf, matchMemberOf, matchPredicate } from './id-matcher.ts';
export type { IdMatcher } from './id-matcher.ts';
export { quoteUntrusted, quoteUntrustedList } from './quote-untrusted.ts';
