import { matchAny, matchId, matchMemberOf, matchOneOf, quoteUntrusted, type IdMatcher, type SpiffeId, type TrustDomain } from '../spiffe/index.ts';
import type { CertificateInfo } from '../x509/index.ts';

/** What an {@link Authorizer} decided: allow, or deny with a sentence for logs and errors. */
export type AuthorizationResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Decides whether an authenticated peer may talk to us. It runs after the
 * peer's chain verified against its own trust domain's bundle, on every
 * handshake, so it must be pure and cheap. `description` says what is
 * accepted (used as "expected" in PeerNotAuthorized).
 */
export interface Authorizer {
  (peerId: SpiffeId, verifiedChain: readonly CertificateInfo[]): AuthorizationResult;
  readonly description?: string;
}

const allow: AuthorizationResult = Object.freeze({ ok: true });

function authorizer(description: string, fn: (peerId: SpiffeId) => AuthorizationResult): Authorizer {
  return Object.assign((peerId: SpiffeId) => fn(peerId), { description });
}

/**
 * Allows any peer whose SVID verified. Authentication still binds the peer
 * to its own trust domain's bundle, so this means "anyone we federate with".
 */
export function authorizeAny(): Authorizer {
  return authorizeMatcher(matchAny());
}

/** Allows exactly `id`; a string is parsed first (throws SpiffeIdError if invalid). */
export function authorizeId(id: SpiffeId | string): Authorizer {
  return authorizeMatcher(matchId(id));
}

/** Allows any of `ids`; with none it allows nobody. */
export function authorizeOneOf(...ids: (SpiffeId | string)[]): Authorizer {
  return authorizeMatcher(matchOneOf(...ids));
}

/** Allows every ID in trust domain `td` (a name or a full ID). */
export function authorizeMemberOf(td: TrustDomain | string): Authorizer {
  return authorizeMatcher(matchMemberOf(td));
}

/**
 * Allows the IDs `m` matches. The denial names what was presented and what
 * was wanted, e.g. `unexpected ID "spiffe://a/x", want spiffe://a/y`; the
 * presented ID is quoted because it comes from the peer.
 */
export function authorizeMatcher(m: IdMatcher): Authorizer {
  return authorizer(m.description, (peerId) =>
    m.matches(peerId) ? allow : { ok: false, reason: `unexpected ID ${quoteUntrusted(peerId.toString())}, want ${m.description}` },
  );
}
