import { X509Certificate } from 'node:crypto';
import { quoteUntrusted } from '../spiffe/index.ts';
import { isHttpsOrLoopback } from './issuer-url.ts';
import { IntrospectionOptionsError, type IntrospectionOptionsProblem, type IntrospectionOptionsProblemCode } from './introspection-error.ts';

/** The client certificate and key the sidecar presents to the authorization server (its X509-SVID). */
export interface TlsClientCertificate {
  /** Leaf first, then intermediates, PEM. */
  readonly certChainPem: string;
  /** PKCS#8 PEM private key of the leaf. */
  readonly keyPem: string;
}

/**
 * How the sidecar authenticates to the introspection endpoint (RFC 7662 §2.1
 * requires some authentication). Secrets come from a file, never a literal,
 * so they stay out of configuration dumps.
 */
export type IntrospectionClientAuth =
  | {
      /** RFC 6749 §2.3.1: HTTP Basic with the form-encoded id and secret, or both in the request body. */
      readonly method: 'client_secret_basic' | 'client_secret_post';
      readonly clientId: string;
      /** File holding the secret; read at start (a missing or empty file is an error) and re-read when it changes. */
      readonly clientSecretFile: string;
    }
  | {
      /**
       * RFC 8705 §2: mutual TLS. `tls_client_auth` has the AS check the
       * certificate's chain and subject (e.g. the SPIFFE ID as
       * `tls_client_auth_san_uri`); `self_signed_tls_client_auth` matches the
       * registered certificate itself. `client_id` goes in the form.
       */
      readonly method: 'tls_client_auth' | 'self_signed_tls_client_auth';
      readonly clientId: string;
      /**
       * Returns the certificate to present now. Called for each request that
       * reaches the AS; a different object than last time (an SVID rotation)
       * makes later connections use it.
       */
      readonly clientCertificate: () => TlsClientCertificate;
    };

/** Where phantom mode gets the JWT it hands to the app. */
export type PhantomSource = 'jwt-introspection' | 'token-exchange';

/** Options of one opaque-token provider: an RFC 7662 introspection endpoint and how to trust its answers. */
export interface IntrospectionOptions {
  /** Provider name: a bounded metric label and the `provider` of every outcome. */
  readonly provider: string;
  /** The introspection endpoint: https, or http only on a loopback host. No query, fragment or credentials. */
  readonly endpoint: string;
  /** When set, an active response's `iss` must equal it exactly; required for phantom mode (its keys are discovered from it). */
  readonly issuer?: string | undefined;
  /** When set, an active response's `aud` must name at least one of these. */
  readonly audiences?: readonly string[] | undefined;
  readonly clientAuth: IntrospectionClientAuth;
  /** Longest a positive answer is reused, in ms (default 60 000, 1 000..3 600 000); never past the token's `exp`. */
  readonly cacheMaxTtlMs?: number | undefined;
  /** How long a negative answer (inactive, expired, wrong audience...) is reused, in ms (default 5 000, 0..5 000). */
  readonly negativeCacheTtlMs?: number | undefined;
  /** Most positive answers kept, and separately most negative ones (default 10 000, 1..1 000 000). */
  readonly maxCacheEntries?: number | undefined;
  /** Total time allowed for one call to the AS, in ms (default 2 000, 100..30 000). */
  readonly requestTimeoutMs?: number | undefined;
  /** Most distinct tokens being introspected at once; beyond it a request fails closed (default 256, 1..10 000). */
  readonly maxInFlight?: number | undefined;
  /** Tolerance for `exp`/`nbf`/`iat` against the local clock, in ms (default 60 000, 0..300 000). */
  readonly clockSkewMs?: number | undefined;
  /** PEM CA certificates for the AS's TLS certificate; default the system roots. */
  readonly ca?: string | undefined;
  /**
   * Phantom-token mode: also obtain a JWT the app can verify, so it never
   * sees the opaque token. Needs `issuer`. Default false.
   */
  readonly phantom?: boolean | undefined;
  /**
   * 'jwt-introspection' (default): ask the introspection endpoint for the
   * RFC 9701 signed response and hand that JWT on. 'token-exchange': after a
   * positive introspection, exchange the token for an RFC 9068 JWT access
   * token at `exchangeEndpoint` (RFC 8693).
   */
  readonly phantomSource?: PhantomSource | undefined;
  /** The RFC 8693 token endpoint for 'token-exchange' (same URL rules as `endpoint`). */
  readonly exchangeEndpoint?: string | undefined;
  /** RFC 8693 `audience` to ask for; the exchanged JWT's `aud` must contain it. */
  readonly exchangeAudience?: string | undefined;
  /** The AS's JWK Set URL; default the `jwks_uri` of `<issuer>/.well-known/openid-configuration`. */
  readonly jwksUri?: string | undefined;
}

/** The options after validation, with every default filled in. */
export interface ResolvedIntrospectionOptions {
  readonly provider: string;
  readonly endpoint: URL;
  readonly issuer: string | undefined;
  readonly audiences: ReadonlySet<string> | undefined;
  readonly clientAuth: IntrospectionClientAuth;
  readonly cacheMaxTtlMs: number;
  readonly negativeCacheTtlMs: number;
  readonly maxCacheEntries: number;
  readonly requestTimeoutMs: number;
  readonly maxInFlight: number;
  readonly clockSkewMs: number;
  readonly ca: string | undefined;
  readonly phantom: PhantomSource | undefined;
  readonly exchangeEndpoint: URL | undefined;
  readonly exchangeAudience: string | undefined;
  readonly jwksUri: URL | undefined;
}

/** Upper bound of the negative cache TTL: a revoked-then-reissued or newly activated token is not refused for longer. */
export const MAX_NEGATIVE_CACHE_TTL_MS = 5_000;

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Validates `o`, fills defaults, and throws {@link IntrospectionOptionsError} listing every problem. */
export function resolveIntrospectionOptions(o: IntrospectionOptions): ResolvedIntrospectionOptions {
  const problems: IntrospectionOptionsProblem[] = [];
  const add = (path: string, code: IntrospectionOptionsProblemCode, message: string): void => {
    problems.push({ path, code, message });
  };
  if (typeof o.provider !== 'string' || !NAME_RE.test(o.provider)) {
    add('provider', 'introspection.bad_name', `${quoteUntrusted(String(o.provider))} is not 1-63 letters, digits, '.', '_' or '-'`);
  }
  const endpoint = endpointUrl('endpoint', o.endpoint, add);
  checkClientAuth(o.clientAuth, add);
  const num = (path: keyof IntrospectionOptions, v: number | undefined, def: number, min: number, max: number): number => {
    if (v === undefined) return def;
    if (!Number.isInteger(v) || v < min || v > max) add(path, 'introspection.out_of_range', `${String(v)} is not an integer in ${min}..${max}`);
    return v;
  };
  let audiences: ReadonlySet<string> | undefined;
  if (o.audiences !== undefined) {
    if (!Array.isArray(o.audiences) || o.audiences.length === 0 || o.audiences.some((a) => typeof a !== 'string' || a.length === 0)) {
      add('audiences', 'introspection.bad_audiences', 'must be a non-empty list of non-empty strings (omit it to accept any audience)');
    } else {
      audiences = new Set(o.audiences);
    }
  }
  if (o.issuer !== undefined && (typeof o.issuer !== 'string' || o.issuer.length === 0)) {
    add('issuer', 'introspection.bad_url', 'must be a non-empty string');
  }
  if (o.ca !== undefined) checkCa(o.ca, add);
  const phantom = o.phantom === true ? (o.phantomSource ?? 'jwt-introspection') : undefined;
  let exchangeEndpoint: URL | undefined;
  let jwksUri: URL | undefined;
  if (phantom !== undefined) {
    if (o.issuer === undefined) add('issuer', 'introspection.phantom_needs_issuer', 'phantom mode verifies JWTs from the issuer, so the issuer must be set');
    if (phantom !== 'jwt-introspection' && phantom !== 'token-exchange') {
      add('phantomSource', 'introspection.phantom_source', `${quoteUntrusted(String(phantom))} is not 'jwt-introspection' or 'token-exchange'`);
    }
    if (phantom === 'token-exchange') {
      if (o.exchangeEndpoint === undefined) add('exchangeEndpoint', 'introspection.phantom_source', "is required when phantomSource is 'token-exchange'");
      else exchangeEndpoint = endpointUrl('exchangeEndpoint', o.exchangeEndpoint, add);
    }
    if (o.jwksUri !== undefined) jwksUri = endpointUrl('jwksUri', o.jwksUri, add);
    else if (o.issuer !== undefined) endpointUrl('issuer', o.issuer, add);
  }
  const resolved: ResolvedIntrospectionOptions = {
    provider: o.provider,
    endpoint: endpoint ?? new URL('https://invalid.invalid/'),
    issuer: o.issuer,
    audiences,
    clientAuth: o.clientAuth,
    cacheMaxTtlMs: num('cacheMaxTtlMs', o.cacheMaxTtlMs, 60_000, 1_000, 3_600_000),
    negativeCacheTtlMs: num('negativeCacheTtlMs', o.negativeCacheTtlMs, MAX_NEGATIVE_CACHE_TTL_MS, 0, MAX_NEGATIVE_CACHE_TTL_MS),
    maxCacheEntries: num('maxCacheEntries', o.maxCacheEntries, 10_000, 1, 1_000_000),
    requestTimeoutMs: num('requestTimeoutMs', o.requestTimeoutMs, 2_000, 100, 30_000),
    maxInFlight: num('maxInFlight', o.maxInFlight, 256, 1, 10_000),
    clockSkewMs: num('clockSkewMs', o.clockSkewMs, 60_000, 0, 300_000),
    ca: o.ca,
    phantom,
    exchangeEndpoint,
    exchangeAudience: o.exchangeAudience,
    jwksUri,
  };
  if (problems.length > 0) throw new IntrospectionOptionsError(String(o.provider), problems);
  return Object.freeze(resolved);
}

type Add = (path: string, code: IntrospectionOptionsProblemCode, message: string) => void;

function endpointUrl(path: string, value: unknown, add: Add): URL | undefined {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    add(path, 'introspection.bad_url', `${quoteUntrusted(String(value))} is not a URL`);
    return undefined;
  }
  // Credentials or a query in the URL would end up in logs and metrics labels.
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    add(path, 'introspection.bad_url', 'must not carry credentials, a query or a fragment');
    return undefined;
  }
  // Tokens and client secrets travel in this request: plain HTTP only where
  // nobody else can listen (RFC 7662 §4 requires TLS).
  if (isHttpsOrLoopback(url)) return url;
  add(path, 'introspection.insecure_url', `${url.protocol}//${url.host} must use https (http is allowed on loopback hosts only)`);
  return undefined;
}

function checkClientAuth(auth: IntrospectionClientAuth | undefined, add: Add): void {
  if (typeof auth !== 'object' || auth === null) {
    add('clientAuth', 'introspection.bad_client_auth', 'is required (RFC 7662 §2.1: the endpoint authenticates its callers)');
    return;
  }
  if (typeof auth.clientId !== 'string' || auth.clientId.length === 0) add('clientAuth.clientId', 'introspection.bad_client_auth', 'must be a non-empty string');
  switch (auth.method) {
    case 'client_secret_basic':
    case 'client_secret_post':
      if (typeof auth.clientSecretFile !== 'string' || auth.clientSecretFile.length === 0) {
        add('clientAuth.clientSecretFile', 'introspection.bad_client_auth', 'must name the file holding the client secret');
      }
      return;
    case 'tls_client_auth':
    case 'self_signed_tls_client_auth':
      if (typeof auth.clientCertificate !== 'function') {
        add('clientAuth.clientCertificate', 'introspection.bad_client_auth', 'must be a function returning the current certificate and key');
      }
      return;
    default:
      add(
        'clientAuth.method',
        'introspection.bad_client_auth',
        `${quoteUntrusted(String((auth as { method?: unknown }).method))} is not client_secret_basic, client_secret_post, tls_client_auth or self_signed_tls_client_auth`,
      );
  }
}

function checkCa(ca: string, add: Add): void {
  try {
    new X509Certificate(ca);
  } catch {
    add('ca', 'introspection.bad_ca', 'is not a PEM certificate');
  }
}
