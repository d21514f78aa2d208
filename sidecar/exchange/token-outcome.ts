/** Why the outbound token step could not produce a token; a closed set. */
export type TokenFailure =
  /** The token endpoint was unreachable, too slow, or answered something unusable. */
  | 'unavailable'
  /** The authorization server refused the exchange (client, audience or scope). */
  | 'refused'
  /** The authorization server refused the subject token itself (`invalid_grant`). */
  | 'subject_refused'
  /** Too many distinct exchanges in flight (maxInFlight). */
  | 'busy'
  /** Our JWT-SVID could not be obtained from the Workload API. */
  | 'jwt_svid_unavailable';

/** A usable token, cached or fresh. */
export interface TokenGranted {
  readonly ok: true;
  readonly token: string;
  /** When the cache stops handing it out (exp − skew); 0 when it is not cached. */
  readonly expiresAtMs: number;
}

/** No token: why. */
export interface TokenDenied {
  readonly ok: false;
  readonly failure: TokenFailure;
}

/** What the token step gets: a token, or a failure to answer with (never a fall-back). */
export type TokenOutcome = TokenGranted | TokenDenied;

/** One shared frozen object per failure, so failing costs no allocation. */
export const DENIED: Readonly<Record<TokenFailure, TokenDenied>> = Object.freeze({
  unavailable: Object.freeze({ ok: false, failure: 'unavailable' }),
  refused: Object.freeze({ ok: false, failure: 'refused' }),
  subject_refused: Object.freeze({ ok: false, failure: 'subject_refused' }),
  busy: Object.freeze({ ok: false, failure: 'busy' }),
  jwt_svid_unavailable: Object.freeze({ ok: false, failure: 'jwt_svid_unavailable' }),
});
