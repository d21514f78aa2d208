import { SidecarError } from '../core/index.ts';

/**
 * Every reason a JWT-SVID can be rejected; one code per rule of JWT-SVID.md
 * (§2–§3, Appendix A) and of go-spiffe v2 svid/jwtsvid/svid.go.
 */
export type JwtSvidErrorCode =
  | 'jwtsvid.malformed'
  | 'jwtsvid.alg_not_allowed'
  | 'jwtsvid.bad_typ'
  | 'jwtsvid.unknown_header'
  | 'jwtsvid.missing_kid'
  | 'jwtsvid.missing_sub'
  | 'jwtsvid.bad_sub'
  | 'jwtsvid.missing_exp'
  | 'jwtsvid.missing_aud'
  | 'jwtsvid.audience_mismatch'
  | 'jwtsvid.expired'
  | 'jwtsvid.not_yet_valid'
  | 'jwtsvid.issued_in_future'
  | 'jwtsvid.no_bundle'
  | 'jwtsvid.unknown_kid'
  | 'jwtsvid.bad_signature';

/**
 * Raised when a JWT-SVID is rejected. Messages never contain the token; they
 * may quote the subject, key ID or trust domain (escaped).
 */
export class JwtSvidError extends SidecarError {
  declare readonly code: JwtSvidErrorCode;

  constructor(code: JwtSvidErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
