/**
 * The shared vocabulary of end-user authentication: what a verified token
 * says about the user, and the closed set of outcomes a token check can
 * have. The enforcement stage, policy and identity headers read these
 * values; nothing here parses or verifies.
 */

/** How the token reached the sidecar: a JWT verified with the issuer's keys, or an opaque token introspected (RFC 7662). */
export type TokenKind = 'jwt' | 'opaque';

/**
 * What a token that passed every check says, normalised across JWTs
 * (RFC 9068 claim names) and introspection responses (RFC 7662 §2.2).
 */
export interface VerifiedToken {
  /** Name of the configured provider that verified it (a bounded metric label). */
  readonly provider: string;
  readonly kind: TokenKind;
  /** `iss`; for a JWT-SVID, the trust domain's issuer if any, else `spiffe://<td>`. */
  readonly issuer: string;
  /** `sub`; '' when the token has none (e.g. some client-credentials tokens). */
  readonly subject: string;
  /** The OAuth client the token was issued to: `client_id` (RFC 9068 §2.2), else `azp`; '' when absent. */
  readonly clientId: string;
  /** `scope` split on spaces (RFC 8693 §4.2, RFC 9068 §2.2.3); empty when absent. */
  readonly scopes: readonly string[];
  /** `aud` as a list. */
  readonly audiences: readonly string[];
  /** `exp` in milliseconds since the epoch. */
  readonly expiresAtMs: number;
  /** `cnf.x5t#S256` (RFC 8705 §3.1), base64url, when the token is certificate-bound; already checked against the peer. */
  readonly certThumbprint: string | undefined;
  /** Every verified claim (JWT payload, or the introspection response's members), deeply frozen. */
  readonly claims: Readonly<Record<string, unknown>>;
  /**
   * The JWT the app and later hops may be given: the token itself for a
   * JWT, the phantom JWT for an opaque token when phantom mode obtained
   * one, undefined otherwise.
   */
  readonly jwt: string | undefined;
}

/**
 * Why a presented token was refused; a closed set, safe as a metric label.
 * Each maps to 401 `invalid_token` (RFC 6750 §3.1) except where noted in
 * {@link TokenUnavailableReason} and {@link TokenRequestReason}.
 */
export type TokenInvalidReason =
  | 'malformed' // not a compact JWS / not base64url / not JSON
  | 'unknown_issuer' // no provider accepts its `iss`
  | 'bad_algorithm' // `alg` not on the provider's allow-list (`none`, HS* without a configured secret, ...)
  | 'bad_type' // `typ` is not `at+jwt` where required (RFC 9068 §4)
  | 'unknown_key' // no key with its `kid` even after a refetch
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid' // `nbf` (or `iat`) in the future beyond the skew
  | 'missing_claim' // no `exp`, or another required claim
  | 'wrong_audience'
  | 'inactive' // introspection said `active: false` (RFC 7662 §2.2)
  | 'cert_mismatch'; // `cnf.x5t#S256` differs from the mTLS peer's certificate (RFC 8705 §3)

/** Why a token could not be judged: the authority is unreachable (answer 503, fail closed). */
export type TokenUnavailableReason = 'keys_unavailable' | 'introspection_unavailable';

/** Why the request's credentials are unusable as sent (answer 400, or 431 for size). */
export type TokenRequestReason = 'multiple_tokens' | 'token_too_large';

/** The outcome of authenticating one request's token. */
export type TokenOutcome =
  | { readonly kind: 'none' }
  | { readonly kind: 'valid'; readonly token: VerifiedToken }
  | { readonly kind: 'invalid'; readonly reason: TokenInvalidReason; readonly provider: string; readonly detail: string }
  | { readonly kind: 'unavailable'; readonly reason: TokenUnavailableReason; readonly provider: string; readonly detail: string }
  | { readonly kind: 'bad_request'; readonly reason: TokenRequestReason; readonly detail: string };
