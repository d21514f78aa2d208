import { deepFreeze, systemClock, type Clock } from '../core/index.ts';
import { SpiffeId, quoteUntrusted, quoteUntrustedList } from '../spiffe/index.ts';
import type { JwtBundleSource } from '../bundle/index.ts';
import { isJwtSvidAlgorithm, verifyJws, type JwtSvidAlgorithm } from './jwt-algorithm.ts';
import { decodeCompactJws, type CompactJws } from './jwt-compact.ts';
import { JwtSvidError, type JwtSvidErrorCode } from './jwt-svid-error.ts';

/** A parsed (and, from {@link parseAndValidateJwtSvid}, verified) JWT-SVID. */
export interface JwtSvid {
  /** The subject: the workload's SPIFFE ID (`sub`). */
  readonly id: SpiffeId;
  /** The compact token. Kept out of JSON.stringify and util.inspect output. */
  readonly token: string;
  /** The `aud` claim as a list (a single-string `aud` becomes a one-element list). */
  readonly audience: readonly string[];
  /** The `exp` claim. */
  readonly expiresAt: Date;
  /** The `iat` claim, when present. */
  readonly issuedAt?: Date;
  /** Every claim of the payload, deeply frozen. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** The Workload API hint the SVID came with, or ''. */
  readonly hint: string;
}

/** Options for {@link parseAndValidateJwtSvid} and {@link parseJwtSvidInsecure}. */
export interface JwtSvidOptions {
  /** Time source for exp/nbf/iat; defaults to the system clock. */
  clock?: Clock;
  /** Allowed clock skew in seconds for exp, nbf and iat; default 60, as go-spiffe and SPIRE. */
  leewaySeconds?: number;
  /** Hint to attach to the result (set by the Workload API client). */
  hint?: string;
}

/**
 * Default clock-skew allowance, the same as go-spiffe and SPIRE: both call
 * go-jose's `Claims.Validate`, whose `DefaultLeeway` is one minute (go-spiffe v2
 * svid/jwtsvid/svid.go, SPIRE pkg/common/jwtsvid/validate.go).
 */
export const DEFAULT_JWT_LEEWAY_SECONDS = 60;

/** The only header parameters JWT-SVID.md §2 permits; any other MUST NOT appear. */
const ALLOWED_HEADER_PARAMS = new Set(['alg', 'kid', 'typ']);

/** Largest NumericDate accepted (the last second JavaScript's Date can hold). */
const MAX_NUMERIC_DATE = 8_640_000_000_000;

/**
 * Parses a JWT-SVID and verifies it against the JWT bundle of its subject's
 * trust domain (JWT-SVID.md §4). Checks, in order: compact form; header (alg
 * allow-list, typ, no other parameters); claims (sub, exp, aud, and that `aud`
 * holds at least one of `audience`); kid, bundle and key; signature; then
 * exp/nbf/iat with leeway. Throws JwtSvidError; throws TypeError when
 * `audience` is empty, since accepting any audience would make a token for
 * one service good at every other (go-spiffe skips the check in that case).
 */
export function parseAndValidateJwtSvid(
  token: string,
  bundles: JwtBundleSource,
  audience: readonly string[],
  opts: JwtSvidOptions = {},
): JwtSvid {
  return parse(token, audience, opts, bundles);
}

/**
 * Parses a JWT-SVID without checking its signature: every other rule of
 * {@link parseAndValidateJwtSvid} applies, and a kid is not required. Only
 * for tokens the local Workload API just handed us; never for a peer's token.
 */
export function parseJwtSvidInsecure(token: string, audience: readonly string[], opts: JwtSvidOptions = {}): JwtSvid {
  return parse(token, audience, opts, undefined);
}

function fail(code: JwtSvidErrorCode, why: string, cause?: unknown): JwtSvidError {
  return new JwtSvidError(code, `jwtsvid: ${why}`, cause === undefined ? {} : { cause });
}

function parse(token: string, audience: readonly string[], opts: JwtSvidOptions, bundles: JwtBundleSource | undefined): JwtSvid {
  checkExpectedAudience(audience);
  const leewayMs = leewayOf(opts) * 1000;
  const clock = opts.clock ?? systemClock;

  const jws = decodeCompactJws(token);
  const alg = checkHeader(jws.header);
  if (jws.signature.length === 0) throw fail('jwtsvid.malformed', 'malformed token: empty signature');
  const claims = readClaims(jws.payload);
  if (!audience.some((a) => claims.aud.includes(a))) {
    throw fail(
      'jwtsvid.audience_mismatch',
      `token audience ${quoteUntrustedList(claims.aud)} has none of ${quoteUntrustedList(audience)}`,
    );
  }
  if (bundles !== undefined) verifySignature(jws, alg, claims.id, bundles);

  // RFC 7519 §4.1.4: the token is valid only before exp; leeway absorbs skew.
  const now = clock.now();
  if (now >= claims.exp * 1000 + leewayMs) {
    throw fail('jwtsvid.expired', `token for ${claims.id} expired at ${isoSeconds(claims.exp)}`);
  }
  if (claims.nbf !== undefined && now + leewayMs < claims.nbf * 1000) {
    throw fail('jwtsvid.not_yet_valid', `token for ${claims.id} is not valid before ${isoSeconds(claims.nbf)}`);
  }
  // A token "issued" in the future points at a skewed or compromised issuer (go-jose rejects it too).
  if (claims.iat !== undefined && now + leewayMs < claims.iat * 1000) {
    throw fail('jwtsvid.issued_in_future', `token for ${claims.id} is issued in the future (${isoSeconds(claims.iat)})`);
  }
  return new ParsedJwtSvid(token, claims, deepFreeze(jws.payload), opts.hint ?? '');
}

function checkExpectedAudience(audience: readonly string[]): void {
  if (!Array.isArray(audience) || audience.length === 0) {
    throw new TypeError('jwtsvid: the expected audience list must not be empty');
  }
  for (const a of audience) {
    if (typeof a !== 'string' || a.length === 0) throw new TypeError('jwtsvid: expected audiences must be non-empty strings');
  }
}

function leewayOf(opts: JwtSvidOptions): number {
  const leeway = opts.leewaySeconds ?? DEFAULT_JWT_LEEWAY_SECONDS;
  if (!Number.isFinite(leeway) || leeway < 0) throw new TypeError('jwtsvid: leewaySeconds must be a finite number >= 0');
  return leeway;
}

function checkHeader(header: Record<string, unknown>): JwtSvidAlgorithm {
  const alg = header['alg'];
  // JWT-SVID.md §3: only RS*, ES*, PS*. Refusing HS* stops a public key being
  // used as an HMAC secret; refusing 'none' stops unsigned tokens.
  if (!Object.hasOwn(header, 'alg') || !isJwtSvidAlgorithm(alg)) {
    throw fail('jwtsvid.alg_not_allowed', `algorithm ${quoteUntrusted(String(alg))} is not allowed`);
  }
  if (Object.hasOwn(header, 'typ') && header['typ'] !== 'JWT' && header['typ'] !== 'JOSE') {
    throw fail('jwtsvid.bad_typ', `header typ ${quoteUntrusted(String(header['typ']))} is not "JWT" or "JOSE"`);
  }
  for (const name of Object.keys(header)) {
    // JWT-SVID.md §2: parameters other than alg, kid and typ MUST NOT appear.
    // That also shuts out jku/jwk/x5u/x5c (attacker-chosen keys) and crit.
    if (!ALLOWED_HEADER_PARAMS.has(name)) {
      throw fail('jwtsvid.unknown_header', `header parameter ${quoteUntrusted(name)} is not allowed in a JWT-SVID`);
    }
  }
  if (Object.hasOwn(header, 'kid') && typeof header['kid'] !== 'string') {
    throw fail('jwtsvid.malformed', 'malformed token: header kid is not a string');
  }
  return alg;
}

interface Claims {
  readonly id: SpiffeId;
  readonly exp: number;
  readonly nbf: number | undefined;
  readonly iat: number | undefined;
  readonly aud: readonly string[];
}

function readClaims(payload: Record<string, unknown>): Claims {
  const sub = payload['sub'];
  if (!Object.hasOwn(payload, 'sub') || sub === '') throw fail('jwtsvid.missing_sub', 'token has no sub claim');
  if (typeof sub !== 'string') throw fail('jwtsvid.bad_sub', 'sub claim is not a string');
  let id: SpiffeId;
  try {
    id = SpiffeId.parse(sub);
  } catch (cause) {
    throw fail('jwtsvid.bad_sub', `sub claim ${quoteUntrusted(sub)} is not a SPIFFE ID`, cause);
  }
  if (!Object.hasOwn(payload, 'exp')) throw fail('jwtsvid.missing_exp', `token for ${id} has no exp claim`);
  const exp = numericDate(payload, 'exp');
  const aud = readAudience(payload, id);
  return { id, exp: exp!, aud, nbf: numericDate(payload, 'nbf'), iat: numericDate(payload, 'iat') };
}

function numericDate(payload: Record<string, unknown>, name: string): number | undefined {
  if (!Object.hasOwn(payload, name)) return undefined;
  const v = payload[name];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_NUMERIC_DATE) {
    throw fail('jwtsvid.malformed', `malformed token: ${name} is not a NumericDate`);
  }
  return v;
}

function readAudience(payload: Record<string, unknown>, id: SpiffeId): readonly string[] {
  // RFC 7519 §4.1.3: a single string or an array of strings.
  const raw = payload['aud'];
  if (!Object.hasOwn(payload, 'aud') || raw === null) throw fail('jwtsvid.missing_aud', `token for ${id} has no aud claim`);
  const list: unknown = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list)) throw fail('jwtsvid.malformed', 'malformed token: aud is not a string or array');
  if (!list.every((a): a is string => typeof a === 'string')) {
    throw fail('jwtsvid.malformed', 'malformed token: aud holds a non-string');
  }
  // JWT-SVID.md §3: aud MUST hold at least one value.
  if (!list.some((a) => a.length > 0)) throw fail('jwtsvid.missing_aud', `token for ${id} has an empty aud claim`);
  return Object.freeze([...list]);
}

function verifySignature(jws: CompactJws, alg: JwtSvidAlgorithm, id: SpiffeId, bundles: JwtBundleSource): void {
  const kid = jws.header['kid'];
  // JWT-SVID.md §2 makes kid optional, but SPIRE and go-spiffe require it:
  // without one we would have to try every key of the trust domain.
  if (typeof kid !== 'string' || kid.length === 0) throw fail('jwtsvid.missing_kid', `token for ${id} has no kid header`);
  // JWT-SVID.md §4: only the bundle of the subject's own trust domain may vouch for it.
  const bundle = bundles.getJwtBundleForTrustDomain(id.trustDomain);
  if (bundle === undefined) throw fail('jwtsvid.no_bundle', `no JWT bundle for trust domain ${quoteUntrusted(id.trustDomain.name)}`);
  const key = bundle.findKey(kid);
  if (key === undefined) {
    throw fail('jwtsvid.unknown_kid', `no JWT authority ${quoteUntrusted(kid)} in trust domain ${quoteUntrusted(id.trustDomain.name)}`);
  }
  if (!verifyJws(alg, key, jws.signingInput, jws.signature)) {
    throw fail('jwtsvid.bad_signature', `token for ${id} has a bad ${alg} signature for key ${quoteUntrusted(kid)}`);
  }
}

function isoSeconds(numericDate: number): string {
  return new Date(numericDate * 1000).toISOString();
}

const inspectCustom = Symbol.for('nodejs.util.inspect.custom');

/** The JwtSvid implementation: the token lives in a private field, so serialising or inspecting the object never shows it. */
class ParsedJwtSvid implements JwtSvid {
  readonly id: SpiffeId;
  readonly audience: readonly string[];
  readonly expiresAt: Date;
  readonly issuedAt?: Date;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly hint: string;
  readonly #token: string;

  constructor(token: string, c: Claims, claims: Readonly<Record<string, unknown>>, hint: string) {
    this.#token = token;
    this.id = c.id;
    this.audience = c.aud;
    this.expiresAt = new Date(c.exp * 1000);
    if (c.iat !== undefined) this.issuedAt = new Date(c.iat * 1000);
    this.claims = claims;
    this.hint = hint;
    Object.freeze(this);
  }

  get token(): string {
    return this.#token;
  }

  toJSON(): Record<string, unknown> {
    return {
      id: this.id.toString(),
      hint: this.hint,
      audience: this.audience,
      expiresAt: this.expiresAt.toISOString(),
      ...(this.issuedAt ? { issuedAt: this.issuedAt.toISOString() } : {}),
      claims: this.claims,
      token: '[redacted]',
    };
  }

  [inspectCustom](_depth: number, options: object, inspect: (v: unknown, o: object) => string): string {
    return `JwtSvid ${inspect(this.toJSON(), options)}`;
  }
}
