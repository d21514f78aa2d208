import { isHttpsOrLoopback } from '../auth/index.ts';
import { TokenExchangeError, type TokenExchangeOptionsProblem } from './token-exchange-error.ts';

/**
 * How the sidecar authenticates to the token endpoint: a secret (RFC 6749
 * §2.3.1), its X509-SVID over mTLS (RFC 8705 §2), or its JWT-SVID as a
 * client assertion (`jwt-svid`, draft-ietf-oauth-spiffe-client-auth).
 */
export type ExchangeClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'tls_client_auth' | 'self_signed_tls_client_auth' | 'jwt-svid';

/**
 * Client authentication as configured: a secret read from a file (never a
 * literal), the sidecar's X509-SVID over mTLS (its certificate comes from
 * `TokenExchangerDeps.clientCertificate`), or its JWT-SVID as the
 * `client_assertion` (from `TokenExchangerDeps.jwtSvids`).
 */
export interface ExchangeClientAuth {
  readonly method: ExchangeClientAuthMethod;
  readonly clientId: string;
  /** Required for the client_secret_* methods, refused for the SVID ones. */
  readonly clientSecretFile?: string | undefined;
  /**
   * `jwt-svid` only: the `aud` of the JWT-SVID sent as client assertion;
   * default the token endpoint URL (RFC 7523 §3). Set it to the server's
   * issuer when the server wants that instead.
   */
  readonly assertionAudience?: string | undefined;
}

/** Settings of the RFC 8693 client; plain data (the config section). */
export interface TokenExchangeOptions {
  /** The authorization server's token endpoint: `https`, or `http` on a loopback host only. */
  readonly endpoint: string;
  readonly clientAuth: ExchangeClientAuth;
  /** PEM CA certificates for the endpoint's TLS certificate; default the system roots. */
  readonly ca?: string | undefined;
  /** Send our JWT-SVID as `actor_token`, so the issued token's `act` names this workload (RFC 8693 §4.1). */
  readonly actorToken?: boolean | undefined;
  /** Audience of that JWT-SVID; default the endpoint's origin (set it to the server's issuer when that differs). */
  readonly actorTokenAudience?: string | undefined;
  /** Bound on one whole call to the token endpoint (default 2 000, 100–60 000). */
  readonly requestTimeoutMs?: number | undefined;
  /** Exchanged tokens kept (default 10 000, 0 disables the cache, at most 1 000 000). */
  readonly maxCacheEntries?: number | undefined;
  /** Distinct exchanges in flight at once; beyond it requests fail closed (default 256, 1–10 000). */
  readonly maxInFlight?: number | undefined;
  /** A cached token is dropped this long before its `exp` (default 30 000, 0–300 000). */
  readonly expirySkewMs?: number | undefined;
}

/** {@link TokenExchangeOptions} with every default applied. */
export interface ResolvedTokenExchangeOptions {
  readonly endpoint: URL;
  readonly clientAuth: ExchangeClientAuth;
  /** `jwt-svid` only: the audience of the client assertion; '' for the other methods. */
  readonly assertionAudience: string;
  readonly ca: string | undefined;
  readonly actorToken: boolean;
  readonly actorTokenAudience: string;
  readonly requestTimeoutMs: number;
  readonly maxCacheEntries: number;
  readonly maxInFlight: number;
  readonly expirySkewMs: number;
}

const METHODS: readonly ExchangeClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'tls_client_auth', 'self_signed_tls_client_auth', 'jwt-svid'];
const RANGES = {
  requestTimeoutMs: [100, 60_000, 2_000],
  maxCacheEntries: [0, 1_000_000, 10_000],
  maxInFlight: [1, 10_000, 256],
  expirySkewMs: [0, 300_000, 30_000],
} as const;

/** Checks the endpoint URL; returns a message or undefined. */
function endpointProblem(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw === '') return 'is required: the token endpoint URL';
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (!isHttpsOrLoopback(u)) {
    return 'must be https (plain http only on a loopback host): the request carries the user token and client credentials';
  }
  if (u.username !== '' || u.password !== '') return 'must not carry credentials';
  if (u.search !== '' || u.hash !== '') return 'must not have a query or fragment';
  return undefined;
}

/** Every broken rule of `o`, with paths relative to the option object. */
export function tokenExchangeProblems(o: TokenExchangeOptions): TokenExchangeOptionsProblem[] {
  const problems: TokenExchangeOptionsProblem[] = [];
  const add = (path: string, message: string): void => void problems.push({ path, message });
  const ep = endpointProblem(o.endpoint);
  if (ep !== undefined) add('endpoint', ep);
  const a = o.clientAuth as ExchangeClientAuth | undefined;
  if (typeof a !== 'object' || a === null) add('clientAuth', 'is required: { method, clientId, clientSecretFile? }');
  else {
    if (!METHODS.includes(a.method)) add('clientAuth.method', `must be one of ${METHODS.join(', ')}`);
    if (typeof a.clientId !== 'string' || a.clientId === '') add('clientAuth.clientId', 'is required: the client id registered at the authorization server');
    const secret = a.method === 'client_secret_basic' || a.method === 'client_secret_post';
    if (secret && (typeof a.clientSecretFile !== 'string' || a.clientSecretFile === '')) {
      add('clientAuth.clientSecretFile', `is required for ${a.method}: a file holding the secret (never the secret itself)`);
    }
    if (!secret && a.clientSecretFile !== undefined) add('clientAuth.clientSecretFile', `does not apply to ${a.method}: the SVID authenticates`);
    if (a.assertionAudience !== undefined) {
      if (a.method !== 'jwt-svid') add('clientAuth.assertionAudience', `does not apply to ${a.method}: only jwt-svid sends a client assertion`);
      else if (typeof a.assertionAudience !== 'string' || a.assertionAudience === '') add('clientAuth.assertionAudience', 'must be a non-empty string');
    }
  }
  if (o.actorTokenAudience !== undefined && (typeof o.actorTokenAudience !== 'string' || o.actorTokenAudience === '')) {
    add('actorTokenAudience', 'must be a non-empty string');
  }
  for (const [key, [min, max]] of Object.entries(RANGES)) {
    const v = o[key as keyof typeof RANGES];
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) add(key, `must be an integer from ${min} to ${max}`);
  }
  return problems;
}

/** Applies defaults; throws TokenExchangeError 'exchange.invalid_options' listing every problem. */
export function resolveTokenExchangeOptions(o: TokenExchangeOptions): ResolvedTokenExchangeOptions {
  const problems = tokenExchangeProblems(o);
  if (problems.length > 0) {
    const list = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
    throw new TokenExchangeError('exchange.invalid_options', `exchange: invalid options: ${list}`, { problems });
  }
  const endpoint = new URL(o.endpoint);
  const jwtSvid = o.clientAuth.method === 'jwt-svid';
  return {
    endpoint,
    clientAuth: o.clientAuth,
    assertionAudience: jwtSvid ? (o.clientAuth.assertionAudience ?? `${endpoint.origin}${endpoint.pathname}`) : '',
    ca: o.ca,
    actorToken: o.actorToken === true,
    actorTokenAudience: o.actorTokenAudience ?? endpoint.origin,
    requestTimeoutMs: o.requestTimeoutMs ?? RANGES.requestTimeoutMs[2],
    maxCacheEntries: o.maxCacheEntries ?? RANGES.maxCacheEntries[2],
    maxInFlight: o.maxInFlight ?? RANGES.maxInFlight[2],
    expirySkewMs: o.expirySkewMs ?? RANGES.expirySkewMs[2],
  };
}
