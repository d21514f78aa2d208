import { deepFreeze } from '../core/index.ts';
import { Buffer } from 'node:buffer';
import { quoteUntrusted } from '../spiffe/index.ts';
import { IntrospectionError } from './introspection-error.ts';
import type { TokenInvalidReason, TokenOutcome, VerifiedToken } from './verified-token.ts';

/**
 * An RFC 7662 §2.2 response that said the token is active, with the members
 * this sidecar interprets pulled out and typed. `claims` holds every member,
 * deeply frozen.
 */
export interface ActiveIntrospection {
  readonly active: true;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly scopes: readonly string[];
  readonly clientId: string | undefined;
  readonly subject: string | undefined;
  readonly issuer: string | undefined;
  readonly audiences: readonly string[];
  /** Seconds since the epoch (NumericDate). */
  readonly exp: number | undefined;
  readonly nbf: number | undefined;
  readonly iat: number | undefined;
  /** `cnf.x5t#S256` (RFC 8705 §3.1), base64url of a SHA-256 digest. */
  readonly certThumbprint: string | undefined;
}

/** A parsed introspection response: active with its members, or inactive (every other member ignored). */
export type ParsedIntrospection = ActiveIntrospection | { readonly active: false };

const INACTIVE: ParsedIntrospection = Object.freeze({ active: false });
const NO_STRINGS: readonly string[] = Object.freeze([]);
const STRING_MEMBERS = ['client_id', 'username', 'token_type', 'sub', 'iss', 'jti'] as const;
const TIME_MEMBERS = ['exp', 'iat', 'nbf'] as const;
/** A SHA-256 digest in unpadded base64url is 43 characters. */
const X5T_S256_RE = /^[A-Za-z0-9_-]{43}$/;

function bad(detail: string): IntrospectionError {
  return new IntrospectionError('introspection.unavailable', `introspection: response is not RFC 7662: ${detail}`);
}

/**
 * Checks a decoded JSON introspection response against RFC 7662 §2.2 (and
 * RFC 8705 §3.2 for `cnf`). A response that breaks the rules is the
 * authorization server misbehaving, not a verdict on the token, so this
 * throws IntrospectionError 'introspection.unavailable' (fail closed, never
 * cached) rather than returning a refusal.
 */
export function parseIntrospectionResponse(doc: unknown): ParsedIntrospection {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad('not a JSON object');
  const o = doc as Record<string, unknown>;
  // §2.2: "active" is REQUIRED and a boolean; a string "true" is not active.
  if (typeof o['active'] !== 'boolean') throw bad('"active" is missing or not a boolean');
  // §2.2: for an inactive token the server should say nothing else; whatever
  // it says anyway is not to be trusted, so it is dropped.
  if (!o['active']) return INACTIVE;
  for (const m of STRING_MEMBERS) {
    if (o[m] !== undefined && typeof o[m] !== 'string') throw bad(`"${m}" is not a string`);
  }
  for (const m of TIME_MEMBERS) {
    const v = o[m];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) throw bad(`"${m}" is not a NumericDate`);
  }
  const scope = o['scope'];
  if (scope !== undefined && typeof scope !== 'string') throw bad('"scope" is not a space-separated string');
  return Object.freeze({
    active: true as const,
    claims: deepFreeze(o),
    scopes: typeof scope === 'string' ? Object.freeze(scope.split(' ').filter((s) => s.length > 0)) : NO_STRINGS,
    clientId: o['client_id'] as string | undefined,
    subject: o['sub'] as string | undefined,
    issuer: o['iss'] as string | undefined,
    audiences: audiences(o['aud']),
    exp: o['exp'] as number | undefined,
    nbf: o['nbf'] as number | undefined,
    iat: o['iat'] as number | undefined,
    certThumbprint: thumbprint(o['cnf']),
  });
}

function audiences(aud: unknown): readonly string[] {
  if (aud === undefined) return NO_STRINGS;
  if (typeof aud === 'string') return Object.freeze([aud]);
  if (Array.isArray(aud) && aud.every((a) => typeof a === 'string')) return Object.freeze([...(aud as string[])]);
  throw bad('"aud" is not a string or a list of strings');
}

function thumbprint(cnf: unknown): string | undefined {
  if (cnf === undefined) return undefined;
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) throw bad('"cnf" is not a JSON object');
  const x5t = (cnf as Record<string, unknown>)['x5t#S256'];
  if (x5t === undefined) return undefined;
  if (typeof x5t !== 'string' || !X5T_S256_RE.test(x5t)) throw bad('"cnf"."x5t#S256" is not a base64url SHA-256 digest');
  return x5t;
}

/** What the verifier needs to judge an active response. */
export interface IntrospectionJudgeContext {
  readonly provider: string;
  readonly now: number;
  readonly clockSkewMs: number;
  readonly cacheMaxTtlMs: number;
  /** When set, `iss` must equal it. */
  readonly issuer: string | undefined;
  /** When set, `aud` must intersect it. */
  readonly audiences: ReadonlySet<string> | undefined;
}

/** The verdict on one response: accepted with how long it may be reused, or refused with a reason. */
export type IntrospectionJudgement =
  | { readonly kind: 'valid'; readonly token: VerifiedToken; readonly ttlMs: number }
  | { readonly kind: 'invalid'; readonly outcome: TokenOutcome & { readonly kind: 'invalid' } };

/**
 * Applies the sidecar's own rules to a parsed response: inactive → refused;
 * an active token whose `exp` has passed or whose `nbf` is ahead (beyond the
 * skew) is refused even though the server said active; `iss` and `aud` must
 * match the configuration when it names them. An accepted token may be
 * reused until min(exp, now + cacheMaxTtlMs); without `exp`, for
 * cacheMaxTtlMs only, and `expiresAtMs` reports that bound.
 */
export function judgeIntrospection(p: ParsedIntrospection, ctx: IntrospectionJudgeContext, jwt?: string): IntrospectionJudgement {
  if (!p.active) return refuse(ctx, 'inactive', 'the authorization server says the token is not active');
  const expMs = p.exp === undefined ? undefined : p.exp * 1000;
  if (expMs !== undefined && expMs + ctx.clockSkewMs <= ctx.now) return refuse(ctx, 'expired', 'active, but "exp" has passed');
  if (p.nbf !== undefined && p.nbf * 1000 - ctx.clockSkewMs > ctx.now) return refuse(ctx, 'not_yet_valid', '"nbf" is in the future');
  if (ctx.issuer !== undefined && p.issuer !== ctx.issuer) {
    return refuse(ctx, 'unknown_issuer', `"iss" ${p.issuer === undefined ? 'is missing' : quoteUntrusted(p.issuer, 128)} is not the configured issuer`);
  }
  if (ctx.audiences !== undefined && !p.audiences.some((a) => ctx.audiences!.has(a))) {
    return refuse(ctx, 'wrong_audience', '"aud" names none of the configured audiences');
  }
  const cacheUntil = ctx.now + ctx.cacheMaxTtlMs;
  const ttlMs = expMs === undefined ? ctx.cacheMaxTtlMs : Math.max(0, Math.min(expMs, cacheUntil) - ctx.now);
  const token: VerifiedToken = Object.freeze({
    provider: ctx.provider,
    kind: 'opaque' as const,
    issuer: p.issuer ?? '',
    subject: p.subject ?? '',
    clientId: p.clientId ?? '',
    scopes: p.scopes,
    audiences: p.audiences,
    expiresAtMs: expMs ?? cacheUntil,
    certThumbprint: p.certThumbprint,
    claims: p.claims,
    jwt,
  });
  return { kind: 'valid', token, ttlMs };
}

function refuse(ctx: IntrospectionJudgeContext, reason: TokenInvalidReason, detail: string): IntrospectionJudgement {
  return { kind: 'invalid', outcome: Object.freeze({ kind: 'invalid' as const, reason, provider: ctx.provider, detail }) };
}

/** Hex SHA-256 (as the inbound proxy has the peer's certificate) of a base64url `x5t#S256`, for cheap per-request comparison. */
export function thumbprintHex(x5tS256: string): string {
  return Buffer.from(x5tS256, 'base64url').toString('hex');
}
