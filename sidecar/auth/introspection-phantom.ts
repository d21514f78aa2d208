import { quoteUntrusted } from '../spiffe/index.ts';
import { IntrospectionError } from './introspection-error.ts';
import type { IntrospectionKeySet } from './introspection-key-set.ts';
import type { IntrospectionTransport } from './introspection-transport.ts';
import { MAX_KID_LENGTH } from './jwk-set.ts';
import { DEFAULT_JWS_ALGORITHMS, verifyJwsSignature, type JwsAlgorithm } from './jws-algorithm.ts';
import { decodeJws } from './jws-compact.ts';

/** Media type of an RFC 9701 JWT introspection response (§4, §5). */
export const INTROSPECTION_JWT_MEDIA_TYPE = 'application/token-introspection+jwt';
const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const TT_ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const TT_JWT = 'urn:ietf:params:oauth:token-type:jwt';
const MAX_JWT_LENGTH = 64 * 1024;
const MAX_EXCHANGE_RESPONSE_BYTES = 64 * 1024;
/** Only asymmetric algorithms: the sidecar holds no secret shared with the AS for signatures. */
const ALGORITHMS: ReadonlySet<string> = new Set(DEFAULT_JWS_ALGORITHMS);

/** The time and identity context a phantom JWT is checked in. */
export interface PhantomCheckContext {
  readonly provider: string;
  readonly issuer: string;
  readonly now: number;
  readonly clockSkewMs: number;
}

function fail(c: { readonly provider: string }, why: string): IntrospectionError {
  return new IntrospectionError('introspection.unavailable', `introspection: provider ${c.provider}: phantom JWT refused: ${why}`);
}

/**
 * Verifies a compact JWS from the authorization server with its published
 * keys: asymmetric algorithm only, `typ` as expected (RFC 8725 §3.11 keeps
 * one kind of JWT from passing for another), no `crit`, signature by a key
 * the AS publishes under the header's `kid`, `iss` equal to the issuer.
 * Returns the payload. Any failure is 'introspection.unavailable': the AS's
 * answer cannot be trusted, which says nothing about the user's token.
 */
async function verifySigned(jwt: string, typ: string, keys: IntrospectionKeySet, c: PhantomCheckContext): Promise<Readonly<Record<string, unknown>>> {
  if (jwt.length > MAX_JWT_LENGTH) throw fail(c, `longer than ${MAX_JWT_LENGTH} characters`);
  const d = decodeJws(jwt);
  if (!d.ok) throw fail(c, d.detail);
  const { header, payload, signingInput, signature } = d.jws;
  const alg = header['alg'];
  if (typeof alg !== 'string' || !ALGORITHMS.has(alg)) throw fail(c, `"alg" ${quoteUntrusted(String(alg), 32)} is not an allowed asymmetric algorithm`);
  const t = typeof header['typ'] === 'string' ? (header['typ'] as string).toLowerCase() : '';
  // RFC 7515 §4.1.9: the "application/" prefix may be left out.
  if (t !== typ && t !== `application/${typ}`) throw fail(c, `"typ" is not ${typ}`);
  if (header['crit'] !== undefined) throw fail(c, 'carries "crit" parameters');
  const kid = header['kid'];
  if (kid !== undefined && (typeof kid !== 'string' || kid.length > MAX_KID_LENGTH)) throw fail(c, '"kid" is not a short string');
  const candidates = await keys.find(kid as string | undefined);
  const verified = candidates.some((k) => (k.alg === undefined || k.alg === alg) && verifyJwsSignature(alg as JwsAlgorithm, k.key, signingInput, signature));
  if (!verified) throw fail(c, candidates.length === 0 ? 'no published key has its "kid"' : 'signature does not verify');
  if (payload['iss'] !== c.issuer) throw fail(c, '"iss" is not the configured issuer');
  return payload;
}

function numericDate(p: Readonly<Record<string, unknown>>, name: string, c: PhantomCheckContext, required: boolean): number | undefined {
  const v = p[name];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw fail(c, `"${name}" is ${v === undefined ? 'missing' : 'not a NumericDate'}`);
  return v * 1000;
}

function audienceIncludes(aud: unknown, want: string): boolean {
  return aud === want || (Array.isArray(aud) && aud.includes(want));
}

/**
 * Verifies an RFC 9701 JWT introspection response and returns its
 * `token_introspection` member (to be parsed as an RFC 7662 response).
 * RFC 9701 §5: `aud` identifies the resource server that asked (our
 * client_id) and `iat` when it was issued; the JWT has no `exp`, so it is
 * only accepted when issued within the skew of now.
 */
export async function verifyIntrospectionJwt(jwt: string, keys: IntrospectionKeySet, c: PhantomCheckContext & { readonly clientId: string }): Promise<unknown> {
  const p = await verifySigned(jwt, 'token-introspection+jwt', keys, c);
  if (!audienceIncludes(p['aud'], c.clientId)) throw fail(c, '"aud" is not this client');
  const iat = numericDate(p, 'iat', c, true)!;
  if (Math.abs(c.now - iat) > c.clockSkewMs) throw fail(c, '"iat" is not within the clock skew of now');
  const exp = numericDate(p, 'exp', c, false);
  if (exp !== undefined && exp + c.clockSkewMs <= c.now) throw fail(c, 'has expired');
  const ti = p['token_introspection'];
  if (typeof ti !== 'object' || ti === null || Array.isArray(ti)) throw fail(c, 'has no "token_introspection" object');
  return ti;
}

/** What the exchanged JWT must agree with: the introspection verdict it stands for. */
export interface ExchangeExpectations extends PhantomCheckContext {
  /** RFC 8693 `audience` asked for; the JWT's `aud` must contain it. */
  readonly audience: string | undefined;
  /** `sub` of the introspection response, when it had one. */
  readonly subject: string | undefined;
  /** `client_id` of the introspection response, when it had one. */
  readonly clientId: string | undefined;
}

/**
 * RFC 8693 token exchange: trades the opaque access token for a JWT access
 * token at `url`, then verifies it (RFC 9068 §4: `typ` at+jwt, `iss`, `exp`,
 * `aud`) and checks it speaks for the same subject and client as the
 * introspection did, so an AS mix-up cannot hand the app someone else's
 * identity. Resolves the JWT and its `exp` in ms.
 */
export async function exchangeForJwt(
  transport: IntrospectionTransport,
  url: URL,
  token: string,
  keys: IntrospectionKeySet,
  c: ExchangeExpectations,
): Promise<{ readonly jwt: string; readonly expiresAtMs: number }> {
  const form: Record<string, string> = {
    grant_type: TOKEN_EXCHANGE_GRANT,
    subject_token: token,
    subject_token_type: TT_ACCESS_TOKEN,
    requested_token_type: TT_JWT,
  };
  if (c.audience !== undefined) form['audience'] = c.audience;
  const reply = await transport.postForm(url, form, 'application/json', MAX_EXCHANGE_RESPONSE_BYTES);
  if (reply.status !== 200) throw fail(c, `token exchange answered ${reply.status}`);
  if (reply.mediaType !== 'application/json') throw fail(c, 'token exchange answer is not application/json');
  let doc: unknown;
  try {
    doc = JSON.parse(reply.body.toString('utf8'));
  } catch {
    throw fail(c, 'token exchange answer is not JSON');
  }
  const r = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  const jwt = r['access_token'];
  // RFC 8693 §2.2.1: issued_token_type is required; we asked for a JWT.
  if (typeof jwt !== 'string' || (r['issued_token_type'] !== TT_JWT && r['issued_token_type'] !== TT_ACCESS_TOKEN)) {
    throw fail(c, 'token exchange answer has no JWT "access_token"');
  }
  const p = await verifySigned(jwt, 'at+jwt', keys, c);
  const exp = numericDate(p, 'exp', c, true)!;
  if (exp + c.clockSkewMs <= c.now) throw fail(c, 'exchanged JWT has expired');
  const nbf = numericDate(p, 'nbf', c, false);
  if (nbf !== undefined && nbf - c.clockSkewMs > c.now) throw fail(c, 'exchanged JWT is not yet valid');
  if (c.audience !== undefined && !audienceIncludes(p['aud'], c.audience)) throw fail(c, '"aud" lacks the requested audience');
  if (c.subject !== undefined && p['sub'] !== c.subject) throw fail(c, '"sub" differs from the introspected token');
  if (c.clientId !== undefined && p['client_id'] !== c.clientId) throw fail(c, '"client_id" differs from the introspected token');
  return { jwt, expiresAtMs: exp };
}
