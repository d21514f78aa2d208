import { createSecureContext } from 'node:tls';
import { quoteUntrusted } from '../spiffe/index.ts';
import type { AuthOptionsProblem, AuthOptionsProblemCode } from './auth-options-error.ts';
import { DEFAULT_JWS_ALGORITHMS, isHmacAlgorithm, isJwsAlgorithm, type JwsAlgorithm } from './jws-algorithm.ts';
import { parseFetchUrl } from './issuer-url.ts';
import { DEFAULT_TOKEN_LOCATIONS, resolveTokenLocations, tokenLocationProblems, type ResolvedLocation, type TokenLocation } from './token-location.ts';

/** How long fetched key sets are kept and how often an unknown `kid` may force a refetch. All in milliseconds. */
export interface KeySetCacheOptions {
  /** Shortest lifetime of a fetched set, also used for `no-store`/`no-cache` (default 60 000, 1 s .. 24 h). */
  readonly minLifetimeMs?: number;
  /** Longest lifetime, whatever `max-age` says (default 86 400 000 = 24 h, up to 7 days). */
  readonly maxLifetimeMs?: number;
  /** Lifetime when the response has no `max-age` (default 600 000 = 10 min). */
  readonly defaultLifetimeMs?: number;
  /** How long after its expiry a set is still used while refreshes fail (default 86 400 000 = 24 h, 0 .. 7 days). */
  readonly staleIfErrorMs?: number;
  /** Least time between two refetches forced by an unknown `kid` (default 30 000, 1 s .. 1 h). */
  readonly unknownKeyRefetchIntervalMs?: number;
}

/**
 * One issuer of end-user JWTs (RFC 7519, access tokens per RFC 9068) the
 * inbound side accepts. Exactly one key source must be given: `jwksUri`,
 * `discovery`, `keysFile` or `workloadApi`.
 */
export interface JwtProviderOptions {
  /** Names the provider in logs, metrics and the verified token: 1-64 of [A-Za-z0-9_.-], starting alphanumeric. */
  readonly name: string;
  /**
   * The exact `iss` tokens carry (RFC 7519 §4.1.1, compared as a string).
   * Required except with `workloadApi`, where JWT-SVIDs may have no `iss`.
   */
  readonly issuer?: string;
  /** Accepted `aud` values; a token must name at least one (RFC 7519 §4.1.3, RFC 9068 §4). */
  readonly audiences: readonly string[];
  /** Key source: a JWK Set URL, https (http only on loopback). */
  readonly jwksUri?: string;
  /**
   * Key source: read `jwks_uri` from `<issuer>/.well-known/openid-configuration`
   * (OpenID Connect Discovery 1.0 §4; RFC 8414 §3). The document's `issuer`
   * must equal `issuer` exactly.
   */
  readonly discovery?: boolean;
  /** Key source: a JWKS file on disk, re-read when it changes. The only source that may hold `kty: "oct"` secrets for HS*. */
  readonly keysFile?: string;
  /** Key source: the JWT bundles from the SPIFFE Workload API; tokens are JWT-SVIDs whose `sub` is a SPIFFE ID. */
  readonly workloadApi?: boolean;
  /**
   * Allowed `alg` values (default RS256 RS384 RS512 PS256 PS384 PS512 ES256
   * ES384 EdDSA). `none` is refused outright; HS256/384/512 only with `keysFile`.
   */
  readonly algorithms?: readonly string[];
  /** Require header `typ` `at+jwt` (RFC 9068 §2.1, §4), also accepted as `application/at+jwt`, any case. */
  readonly requireTyp?: 'at+jwt';
  /** Allowed clock skew for `exp`, `nbf` and `iat` (default 60 000, 0 .. 300 000). */
  readonly clockSkewMs?: number;
  /** Where this provider's tokens may be carried (default `Authorization: Bearer`). */
  readonly tokenLocations?: readonly TokenLocation[];
  /** Key-set cache tuning. */
  readonly keySetCache?: KeySetCacheOptions;
  /** Bound on one fetch from the issuer, connection included; concurrent requests waiting on a refetch wait at most this long (default 5 000, 100 .. 60 000). */
  readonly fetchTimeoutMs?: number;
  /** PEM CA certificates to trust for the issuer's TLS instead of the system roots (tests, private issuers). */
  readonly ca?: string;
}

/** Where a provider gets its keys. */
export type KeySource =
  | { readonly kind: 'jwks'; readonly url: URL }
  | { readonly kind: 'discovery'; readonly issuerUrl: URL }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'workload' };

/** A provider's options, validated and with every default filled in. */
export interface ResolvedJwtProvider {
  readonly name: string;
  readonly issuer: string | undefined;
  readonly audiences: readonly string[];
  readonly source: KeySource;
  readonly algorithms: ReadonlySet<JwsAlgorithm>;
  readonly requireTyp: boolean;
  readonly clockSkewMs: number;
  readonly locations: readonly ResolvedLocation[];
  readonly cache: Required<KeySetCacheOptions>;
  readonly fetchTimeoutMs: number;
  readonly ca: string | undefined;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const DAY = 86_400_000;
const MAX_AUDIENCES = 64;

/** Default key-set cache tuning. */
export const DEFAULT_KEY_SET_CACHE: Required<KeySetCacheOptions> = Object.freeze({
  minLifetimeMs: 60_000,
  maxLifetimeMs: DAY,
  defaultLifetimeMs: 600_000,
  staleIfErrorMs: DAY,
  unknownKeyRefetchIntervalMs: 30_000,
});

/**
 * Checks one provider's options. Returns every problem (paths under
 * `path`) and, when there are none, the resolved provider.
 */
export function checkJwtProvider(o: JwtProviderOptions, path: string): { problems: AuthOptionsProblem[]; resolved?: ResolvedJwtProvider } {
  const problems: AuthOptionsProblem[] = [];
  const add = (field: string, code: AuthOptionsProblemCode, message: string) =>
    problems.push({ path: field === '' ? path : `${path}.${field}`, code, message });

  if (typeof o.name !== 'string' || !NAME.test(o.name)) add('name', 'auth.bad_name', `${show(o.name)} must be 1-64 characters of [A-Za-z0-9_.-], starting alphanumeric`);
  const source = checkSource(o, add);
  if (o.issuer !== undefined && (typeof o.issuer !== 'string' || o.issuer.length === 0 || o.issuer.length > 1024)) {
    add('issuer', 'auth.missing_issuer', 'must be a non-empty string of at most 1024 characters');
  } else if (o.issuer === undefined && source?.kind !== 'workload') {
    add('issuer', 'auth.missing_issuer', 'is required (only a workloadApi provider may omit it)');
  }
  if (!Array.isArray(o.audiences) || o.audiences.length === 0 || o.audiences.length > MAX_AUDIENCES || !o.audiences.every((a) => typeof a === 'string' && a.length > 0)) {
    add('audiences', 'auth.bad_audiences', `must be a list of 1 to ${MAX_AUDIENCES} non-empty strings`);
  }
  const algorithms = checkAlgorithms(o.algorithms, source, add);
  if (o.requireTyp !== undefined && o.requireTyp !== 'at+jwt') add('requireTyp', 'auth.bad_typ', `${show(o.requireTyp)} is not "at+jwt"`);
  if (o.requireTyp !== undefined && source?.kind === 'workload') add('requireTyp', 'auth.bad_typ', 'JWT-SVIDs are typed JWT or JOSE, never at+jwt');
  const clockSkewMs = range(o.clockSkewMs, 60_000, 0, 300_000, 'clockSkewMs', add);
  const fetchTimeoutMs = range(o.fetchTimeoutMs, 5_000, 100, 60_000, 'fetchTimeoutMs', add);
  const cache = checkCache(o.keySetCache ?? {}, add);
  const locationList = o.tokenLocations ?? DEFAULT_TOKEN_LOCATIONS;
  problems.push(...tokenLocationProblems(locationList, `${path}.tokenLocations`));
  if (o.ca !== undefined) checkCa(o.ca, source, add);

  if (problems.length > 0 || source === undefined) return { problems };
  return {
    problems,
    resolved: Object.freeze({
      name: o.name,
      issuer: o.issuer,
      audiences: Object.freeze([...o.audiences]),
      source,
      algorithms,
      requireTyp: o.requireTyp !== undefined,
      clockSkewMs,
      locations: Object.freeze(resolveTokenLocations(locationList)),
      cache,
      fetchTimeoutMs,
      ca: o.ca,
    }),
  };
}

type Add = (field: string, code: AuthOptionsProblemCode, message: string) => void;

function checkSource(o: JwtProviderOptions, add: Add): KeySource | undefined {
  const given = [o.jwksUri !== undefined, o.discovery === true, o.keysFile !== undefined, o.workloadApi === true].filter(Boolean).length;
  if (given !== 1) {
    add('', 'auth.key_source', `exactly one key source is required (jwksUri, discovery: true, keysFile or workloadApi: true), got ${given}`);
    return undefined;
  }
  if (o.jwksUri !== undefined) {
    const url = typeof o.jwksUri === 'string' ? parseFetchUrl(o.jwksUri) : { insecure: false, message: 'is not a string' };
    if (!(url instanceof URL)) return void add('jwksUri', url.insecure ? 'auth.insecure_url' : 'auth.bad_url', url.message);
    return { kind: 'jwks', url };
  }
  if (o.discovery === true) {
    if (typeof o.issuer !== 'string') return undefined; // reported as a missing issuer
    const url = parseFetchUrl(o.issuer);
    if (!(url instanceof URL)) return void add('issuer', url.insecure ? 'auth.insecure_url' : 'auth.bad_url', `with discovery, the issuer ${url.message}`);
    // OpenID Connect Discovery 1.0 §2 / RFC 8414 §2: an issuer has no query or fragment.
    if (url.search !== '') return void add('issuer', 'auth.bad_url', 'with discovery, the issuer must not have a query');
    return { kind: 'discovery', issuerUrl: url };
  }
  if (o.keysFile !== undefined) {
    if (typeof o.keysFile !== 'string' || o.keysFile.length === 0 || o.keysFile.includes('\0')) return void add('keysFile', 'auth.key_source', 'must be a file path');
    return { kind: 'file', path: o.keysFile };
  }
  return { kind: 'workload' };
}

function checkAlgorithms(list: readonly string[] | undefined, source: KeySource | undefined, add: Add): ReadonlySet<JwsAlgorithm> {
  if (list === undefined) return new Set(DEFAULT_JWS_ALGORITHMS);
  const out = new Set<JwsAlgorithm>();
  if (!Array.isArray(list) || list.length === 0) {
    add('algorithms', 'auth.unsupported_algorithm', 'must be a non-empty list');
    return out;
  }
  list.forEach((alg, i) => {
    const at = `algorithms[${i}]`;
    // RFC 8725 §3.1: an unsecured JWT is never acceptable, so listing it is a configuration error, not a no-op.
    if (typeof alg === 'string' && alg.toLowerCase() === 'none') return add(at, 'auth.alg_none', '"none" (unsigned tokens) is never accepted');
    if (!isJwsAlgorithm(alg)) return add(at, 'auth.unsupported_algorithm', `${show(alg)} is not one of RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA HS256 HS384 HS512`);
    // Shared secrets only from a local file: a key set fetched over the network is public.
    if (isHmacAlgorithm(alg) && source !== undefined && source.kind !== 'file') return add(at, 'auth.hmac_needs_keys_file', `${alg} needs keysFile with "oct" keys`);
    out.add(alg);
  });
  return out;
}

function checkCache(c: KeySetCacheOptions, add: Add): Required<KeySetCacheOptions> {
  const d = DEFAULT_KEY_SET_CACHE;
  const minLifetimeMs = range(c.minLifetimeMs, d.minLifetimeMs, 1_000, DAY, 'keySetCache.minLifetimeMs', add);
  const maxLifetimeMs = range(c.maxLifetimeMs, d.maxLifetimeMs, minLifetimeMs, 7 * DAY, 'keySetCache.maxLifetimeMs', add);
  return Object.freeze({
    minLifetimeMs,
    maxLifetimeMs,
    defaultLifetimeMs: range(c.defaultLifetimeMs, Math.min(maxLifetimeMs, Math.max(minLifetimeMs, d.defaultLifetimeMs)), minLifetimeMs, maxLifetimeMs, 'keySetCache.defaultLifetimeMs', add),
    staleIfErrorMs: range(c.staleIfErrorMs, d.staleIfErrorMs, 0, 7 * DAY, 'keySetCache.staleIfErrorMs', add),
    unknownKeyRefetchIntervalMs: range(c.unknownKeyRefetchIntervalMs, d.unknownKeyRefetchIntervalMs, 1_000, 3_600_000, 'keySetCache.unknownKeyRefetchIntervalMs', add),
  });
}

function checkCa(ca: string, source: KeySource | undefined, add: Add): void {
  if (source !== undefined && source.kind !== 'jwks' && source.kind !== 'discovery') return add('ca', 'auth.bad_ca', 'only applies to jwksUri or discovery');
  try {
    if (typeof ca !== 'string' || !ca.includes('-----BEGIN CERTIFICATE-----')) throw new TypeError('no PEM certificate');
    createSecureContext({ ca });
  } catch {
    add('ca', 'auth.bad_ca', 'is not a PEM certificate bundle');
  }
}

function range(v: number | undefined, dflt: number, min: number, max: number, field: string, add: Add): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    add(field, 'auth.out_of_range', `${show(v)} must be an integer from ${min} to ${max}`);
    return dflt;
  }
  return v;
}

function show(v: unknown): string {
  return typeof v === 'string' ? quoteUntrusted(v, 64) : String(v);
}
