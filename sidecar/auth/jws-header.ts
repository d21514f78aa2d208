import { quoteUntrusted } from '../spiffe/index.ts';
import type { ClaimFailure } from './jwt-claims.ts';
import { MAX_KID_LENGTH } from './jwk-set.ts';
import { isJwsAlgorithm, type JwsAlgorithm } from './jws-algorithm.ts';

/** The header fields verification uses, once checked. */
export interface CheckedHeader {
  readonly alg: JwsAlgorithm;
  /** A lookup key only, never a path or URL (RFC 8725 §3.10). */
  readonly kid: string | undefined;
}

/** What {@link checkJwsHeader} enforces for one provider. */
export interface HeaderRules {
  readonly algorithms: ReadonlySet<JwsAlgorithm>;
  readonly requireTyp: boolean;
}

/**
 * Checks a JWS header: `alg` on the provider's allow-list (RFC 8725 §3.1),
 * `crit` absent or empty (RFC 7515 §4.1.11: we understand no extension),
 * `kid` a string of at most 256 characters, and `typ` `at+jwt` when
 * required (RFC 9068 §2.1; media types compare case-insensitively and may
 * carry the `application/` prefix, RFC 7515 §4.1.9).
 *
 * `jku`, `x5u`, `jwk` and `x5c` are deliberately not read: a key named or
 * carried by the token itself proves nothing (RFC 8725 §3.10).
 */
export function checkJwsHeader(header: Readonly<Record<string, unknown>>, rules: HeaderRules): CheckedHeader | ClaimFailure {
  const alg = header['alg'];
  if (typeof alg !== 'string' || !Object.hasOwn(header, 'alg')) return { reason: 'malformed', detail: 'the JWS header has no "alg"' };
  if (!isJwsAlgorithm(alg) || !rules.algorithms.has(alg)) return { reason: 'bad_algorithm', detail: `alg ${quoteUntrusted(alg, 32)} is not allowed` };
  if (Object.hasOwn(header, 'crit')) {
    const crit = header['crit'];
    if (!Array.isArray(crit) || crit.length > 0) return { reason: 'malformed', detail: 'the JWS header lists critical extensions ("crit") this verifier does not understand' };
  }
  const kid = header['kid'];
  if (Object.hasOwn(header, 'kid') && (typeof kid !== 'string' || kid.length > MAX_KID_LENGTH)) {
    return { reason: 'malformed', detail: `"kid" is not a string of at most ${MAX_KID_LENGTH} characters` };
  }
  if (rules.requireTyp) {
    const typ = header['typ'];
    const t = typeof typ === 'string' ? typ.toLowerCase() : '';
    if (t !== 'at+jwt' && t !== 'application/at+jwt') return { reason: 'bad_type', detail: `typ ${typeof typ === 'string' ? quoteUntrusted(typ, 64) : '(absent)'} is not at+jwt` };
  }
  return { alg, kid: typeof kid === 'string' ? kid : undefined };
}
