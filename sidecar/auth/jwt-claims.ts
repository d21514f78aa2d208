import { deepFreeze } from '../core/index.ts';
import { Buffer } from 'node:buffer';
import { quoteUntrusted, quoteUntrustedList } from '../spiffe/index.ts';
import type { TokenInvalidReason, TokenKind, VerifiedToken } from './verified-token.ts';

/** A refusal before it is tied to a provider. */
export interface ClaimFailure {
  readonly reason: TokenInvalidReason;
  readonly detail: string;
}

/** What the time and audience rules need. */
export interface ClaimRules {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly clockSkewMs: number;
}

/** The claims every rule passed, in the form the verified token needs. */
export interface CheckedClaims {
  readonly expMs: number;
  readonly audiences: readonly string[];
}

/** Largest NumericDate accepted (the last second a JavaScript Date can hold). */
const MAX_NUMERIC_DATE = 8_640_000_000_000;

/**
 * Checks the registered claims of a verified JWT (RFC 7519 §4.1, RFC 9068 §4):
 * `iss` equals the provider's issuer exactly; `exp` present and not past;
 * `nbf` and `iat` not in the future; `aud` names a configured audience.
 * The skew widens each time comparison. Returns the failure or the claims.
 */
export function checkJwtClaims(payload: Readonly<Record<string, unknown>>, rules: ClaimRules, now: number): ClaimFailure | CheckedClaims {
  const iss = payload['iss'];
  if (iss !== rules.issuer) return { reason: 'unknown_issuer', detail: `iss ${show(iss)} is not the provider's issuer` };
  if (!Object.hasOwn(payload, 'exp')) return { reason: 'missing_claim', detail: 'the token has no exp claim' };
  const exp = numericDate(payload, 'exp');
  const nbf = numericDate(payload, 'nbf');
  const iat = numericDate(payload, 'iat');
  if (typeof exp === 'string') return { reason: 'malformed', detail: exp };
  if (typeof nbf === 'string') return { reason: 'malformed', detail: nbf };
  if (typeof iat === 'string') return { reason: 'malformed', detail: iat };
  // RFC 7519 §4.1.4: valid only before exp.
  if (now >= exp! * 1000 + rules.clockSkewMs) return { reason: 'expired', detail: `the token expired at ${iso(exp!)}` };
  if (nbf !== undefined && now + rules.clockSkewMs < nbf * 1000) return { reason: 'not_yet_valid', detail: `the token is not valid before ${iso(nbf)}` };
  // An iat in the future points at a skewed or compromised issuer.
  if (iat !== undefined && now + rules.clockSkewMs < iat * 1000) return { reason: 'not_yet_valid', detail: `the token is issued in the future (${iso(iat)})` };
  if (Object.hasOwn(payload, 'sub') && typeof payload['sub'] !== 'string') return { reason: 'malformed', detail: 'sub is not a string' };
  const aud = audienceList(payload);
  if (typeof aud === 'string') return { reason: aud === 'missing' ? 'missing_claim' : 'malformed', detail: aud === 'missing' ? 'the token has no aud claim' : aud };
  if (!aud.some((a) => rules.audiences.includes(a))) return { reason: 'wrong_audience', detail: `aud ${quoteUntrustedList(aud)} names none of the accepted audiences` };
  return { expMs: exp! * 1000, audiences: aud };
}

function numericDate(payload: Readonly<Record<string, unknown>>, name: string): number | string | undefined {
  if (!Object.hasOwn(payload, name)) return undefined;
  const v = payload[name];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_NUMERIC_DATE) return `${name} is not a NumericDate`;
  return v;
}

/** `aud` as a list (RFC 7519 §4.1.3: one string or an array of strings); 'missing' or why it is malformed. */
function audienceList(payload: Readonly<Record<string, unknown>>): readonly string[] | string {
  const raw = payload['aud'];
  if (raw === undefined || raw === null) return 'missing';
  if (typeof raw === 'string') return Object.freeze([raw]);
  if (!Array.isArray(raw) || !raw.every((a) => typeof a === 'string')) return 'aud is not a string or a list of strings';
  return Object.freeze([...(raw as string[])]);
}

/**
 * The certificate binding of a token (RFC 8705 §3.1): none, the SHA-256
 * thumbprint of the client certificate it is bound to (base64url and hex),
 * or 'unsupported' for a `cnf` with another confirmation method (such as
 * DPoP's `jkt`), which this sidecar cannot check and so never accepts.
 */
export type TokenBinding = { readonly thumbprint: string; readonly hex: string } | 'none' | 'unsupported';

/** Reads `cnf`; a failure when it is present but malformed. */
export function tokenBinding(payload: Readonly<Record<string, unknown>>): TokenBinding | ClaimFailure {
  if (!Object.hasOwn(payload, 'cnf')) return 'none';
  const cnf = payload['cnf'];
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) return { reason: 'malformed', detail: 'cnf is not a JSON object' };
  if (!Object.hasOwn(cnf, 'x5t#S256')) return 'unsupported';
  const t = (cnf as Record<string, unknown>)['x5t#S256'];
  const bytes = typeof t === 'string' ? Buffer.from(t, 'base64url') : undefined;
  if (typeof t !== 'string' || bytes === undefined || bytes.length !== 32 || bytes.toString('base64url') !== t) {
    return { reason: 'malformed', detail: 'cnf.x5t#S256 is not a base64url SHA-256 thumbprint' };
  }
  return { thumbprint: t, hex: bytes.toString('hex') };
}

/** Fields of a {@link VerifiedToken} that do not come from the payload. */
export interface TokenFacts {
  readonly provider: string;
  readonly kind: TokenKind;
  readonly issuer: string;
  readonly expiresAtMs: number;
  readonly audiences: readonly string[];
  readonly binding: TokenBinding;
  readonly jwt: string | undefined;
}

/** Builds the frozen verified token from a checked payload (claim names per RFC 9068 §2.2). */
export function verifiedToken(payload: Readonly<Record<string, unknown>>, f: TokenFacts): VerifiedToken {
  const sub = payload['sub'];
  const clientId = typeof payload['client_id'] === 'string' ? payload['client_id'] : typeof payload['azp'] === 'string' ? payload['azp'] : '';
  return Object.freeze({
    provider: f.provider,
    kind: f.kind,
    issuer: f.issuer,
    subject: typeof sub === 'string' ? sub : '',
    clientId,
    scopes: scopes(payload),
    audiences: f.audiences,
    expiresAtMs: f.expiresAtMs,
    certThumbprint: typeof f.binding === 'object' ? f.binding.thumbprint : undefined,
    claims: deepFreeze(payload),
    jwt: f.jwt,
  });
}

/** `scope` split on spaces (RFC 9068 §2.2.3); some issuers send an `scp` array instead. */
function scopes(payload: Readonly<Record<string, unknown>>): readonly string[] {
  const scope = payload['scope'];
  if (typeof scope === 'string') return Object.freeze(scope.split(' ').filter((s) => s.length > 0));
  const scp = payload['scp'];
  if (Array.isArray(scp) && scp.every((s) => typeof s === 'string')) return Object.freeze([...(scp as string[])]);
  return Object.freeze([]);
}

function show(v: unknown): string {
  return typeof v === 'string' ? quoteUntrusted(v, 128) : v === undefined ? '(absent)' : typeof v;
}

function iso(numericDate: number): string {
  return new Date(numericDate * 1000).toISOString();
}
