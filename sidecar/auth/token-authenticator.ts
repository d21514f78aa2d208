import { hash } from 'node:crypto';
import { silentLogger, systemClock, type Clock, type Logger } from '../core/index.ts';
import { quoteUntrusted } from '../spiffe/index.ts';
import type { JwtBundleSource } from '../bundle/index.ts';
import { noopAuthObserver, type AuthObserver } from './auth-observer.ts';
import { IssuerClient } from './issuer-client.ts';
import { discoveryUrl } from './issuer-url.ts';
import { decodeJws } from './jws-compact.ts';
import { KeyFileLoader } from './key-file-loader.ts';
import { KeySetCache, type KeySetCacheDeps, type KeySetStatus } from './key-set-cache.ts';
import { DiscoveryLoader, JwksUrlLoader, type KeySetLoader } from './key-set-loader.ts';
import { JwtProvider, type JwtTokenProvider, type VerifyResult } from './jwt-provider.ts';
import type { ResolvedJwtProvider } from './jwt-provider-options.ts';
import { resolveAuthenticatorOptions, type TokenAuthenticatorOptions } from './token-authenticator-options.ts';
import { TokenExtractor, type ResolvedLocation } from './token-location.ts';
import type { TokenOutcome } from './verified-token.ts';
import { TokenDigestCache } from './token-digest-cache.ts';
import { VerifiedEntry } from './verified-token-cache.ts';
import { WorkloadJwtProvider } from './workload-jwt-provider.ts';

/**
 * Checks tokens that are not JWTs (RFC 7662 introspection, written
 * elsewhere). `provider` names it in outcomes and metrics.
 */
export interface OpaqueTokenVerifier {
  readonly provider: string;
  verify(token: string, peerCertSha256Hex: string | undefined): TokenOutcome | Promise<TokenOutcome>;
}

/** What a {@link TokenAuthenticator} needs besides its options; everything has a default except the two optional collaborators. */
export interface TokenAuthenticatorDeps {
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly observer?: AuthObserver;
  /** The Workload API's JWT bundles; required when a provider sets `workloadApi`. */
  readonly jwtBundles?: JwtBundleSource;
  /** Where tokens that are not JWS-shaped go; without it they are `malformed`. */
  readonly opaque?: OpaqueTokenVerifier;
  /** Uniform in [0, 1), for retry jitter (tests pass a constant). */
  readonly random?: () => number;
}

/** Result of {@link TokenAuthenticator.ready}: true when every provider holds keys. */
export interface AuthReadiness {
  readonly ready: boolean;
  readonly providers: readonly KeySetStatus[];
}

/**
 * End-user token authentication for the inbound side: finds the request's
 * token, routes it by its (unverified) `iss` to the one JWT provider for
 * that issuer, or to the opaque-token verifier when it is not a JWS, and
 * returns a {@link TokenOutcome}. Synchronous whenever no I/O is needed
 * (a cached token, or keys already held); verified tokens are cached by
 * their SHA-256, the certificate binding (RFC 8705 §3) is checked on every
 * request.
 */
export class TokenAuthenticator {
  readonly #clock: Clock;
  readonly #observer: AuthObserver;
  readonly #providers: readonly JwtTokenProvider[];
  /** Per provider, a bit per extractor location it accepts tokens from. */
  readonly #masks: readonly number[];
  readonly #opaqueMask: number;
  readonly #opaque: OpaqueTokenVerifier | undefined;
  readonly #byIssuer: ReadonlyMap<string, number>;
  readonly #workload: number;
  readonly #extractor: TokenExtractor;
  /** Verified tokens by the SHA-256 of the token text, so a repeated token skips signature verification. */
  readonly #cache: TokenDigestCache<VerifiedEntry>;
  readonly #cacheOn: boolean;

  /** Validates `options` (throws AuthOptionsError with every problem) and builds the providers; no I/O until {@link start}. */
  constructor(options: TokenAuthenticatorOptions, deps: TokenAuthenticatorDeps = {}) {
    const resolved = resolveAuthenticatorOptions(options, deps.jwtBundles !== undefined);
    this.#clock = deps.clock ?? systemClock;
    this.#observer = deps.observer ?? noopAuthObserver;
    const logger = (deps.logger ?? silentLogger).child({ component: 'auth' });
    const cacheDeps: KeySetCacheDeps = { clock: this.#clock, logger, observer: this.#observer, random: deps.random ?? Math.random };
    this.#providers = resolved.providers.map((p, i) => buildProvider(p, i, cacheDeps, deps.jwtBundles));
    this.#opaque = deps.opaque;

    const locations: ResolvedLocation[] = [];
    const indexOf = (l: ResolvedLocation) => {
      const at = locations.findIndex((x) => x.id === l.id);
      return at >= 0 ? at : locations.push(l) - 1;
    };
    const maskOf = (ls: readonly ResolvedLocation[]) => ls.reduce((m, l) => m | (1 << indexOf(l)), 0);
    this.#masks = resolved.providers.map((p) => maskOf(p.locations));
    this.#opaqueMask = deps.opaque === undefined ? 0 : maskOf(resolved.opaqueLocations);
    this.#extractor = new TokenExtractor(locations, resolved.maxTokenBytes);

    const byIssuer = new Map<string, number>();
    resolved.providers.forEach((p, i) => p.issuer !== undefined && byIssuer.set(p.issuer, i));
    this.#byIssuer = byIssuer;
    this.#workload = resolved.providers.findIndex((p) => p.source.kind === 'workload');
    this.#cache = new TokenDigestCache(resolved.tokenCacheEntries);
    this.#cacheOn = resolved.tokenCacheEntries > 0;
  }

  /** Starts every provider's first key load in the background. */
  start(): void {
    for (const p of this.#providers) p.start();
  }

  /**
   * Authenticates one request. `headers` is node's raw header array (name,
   * value, ...); `peerCertSha256Hex` the hex SHA-256 of the mTLS peer's leaf
   * certificate DER, if any. Returns synchronously unless keys must be
   * fetched or the opaque verifier answers asynchronously. Never includes
   * the token in an outcome's detail.
   */
  authenticate(headers: readonly string[], peerCertSha256Hex: string | undefined): TokenOutcome | Promise<TokenOutcome> {
    const found = this.#extractor.extract(headers);
    if (found.kind !== 'token') {
      if (found.kind === 'invalid') this.#observer.tokenValidated('', found.reason);
      return found;
    }
    const token = found.token;
    const bit = 1 << found.location;
    const now = this.#clock.now();
    const key = this.#cacheOn ? hash('sha256', token, 'base64url') : '';
    if (this.#cacheOn) {
      const hit = this.#cache.get(key, now);
      if (hit !== undefined) {
        const p = this.#providers[hit.provider]!;
        if ((this.#masks[hit.provider]! & bit) !== 0 && p.isCurrent(hit, now)) return this.#bind(hit, peerCertSha256Hex);
        this.#cache.delete(key);
      }
    }
    const decoded = decodeJws(token);
    if (!decoded.ok) {
      if (!decoded.jwtShaped && this.#opaque !== undefined && (this.#opaqueMask & bit) !== 0) return this.#opaque.verify(token, peerCertSha256Hex);
      const detail = decoded.jwtShaped || this.#opaque === undefined ? decoded.detail : 'opaque tokens are not accepted in this location';
      return this.#refuse('', 'malformed', detail);
    }
    const index = this.#route(decoded.jws.payload);
    if (index < 0) {
      const iss = decoded.jws.payload['iss'];
      return this.#refuse('', 'unknown_issuer', `no provider for iss ${typeof iss === 'string' ? quoteUntrusted(iss, 128) : '(absent)'}`);
    }
    const provider = this.#providers[index]!;
    if ((this.#masks[index]! & bit) === 0) {
      return this.#refuse(provider.options.name, 'unknown_issuer', `provider ${provider.options.name} does not accept tokens in this location`);
    }
    const r = provider.verify(decoded.jws, token, now);
    if (r instanceof Promise) return r.then((v) => this.#finish(v, key, peerCertSha256Hex));
    return this.#finish(r, key, peerCertSha256Hex);
  }

  /**
   * A copy of a raw header array without the credentials this authenticator
   * reads (token headers and cookies), for the request passed to the app
   * when the token is not forwarded.
   */
  withoutCredentials(headers: readonly string[]): string[] {
    return this.#extractor.strip(headers);
  }

  /** Waits up to `timeoutMs` for every provider's first key set (for /readyz). */
  async ready(timeoutMs: number): Promise<AuthReadiness> {
    const results = await Promise.all(this.#providers.map((p) => p.ready(timeoutMs)));
    return Object.freeze({ ready: results.every(Boolean), providers: Object.freeze(this.status()) });
  }

  /** Each provider's key-set state. */
  status(): KeySetStatus[] {
    return this.#providers.map((p) => p.status());
  }

  /** Stops refresh timers, aborts fetches in flight and closes the HTTP agents. */
  async close(): Promise<void> {
    await Promise.all(this.#providers.map((p) => p.close()));
    this.#cache.clear();
  }

  /**
   * The provider for a token: the one whose issuer equals `iss` exactly;
   * a token without `iss` whose `sub` is a SPIFFE ID goes to the
   * workloadApi provider (JWT-SVIDs need no `iss`, JWT-SVID.md §3).
   * The claims are unverified here: they only choose whose keys to try.
   */
  #route(payload: Readonly<Record<string, unknown>>): number {
    const iss = payload['iss'];
    if (typeof iss === 'string') return this.#byIssuer.get(iss) ?? -1;
    if (iss !== undefined || this.#workload < 0) return -1;
    const sub = payload['sub'];
    return typeof sub === 'string' && sub.startsWith('spiffe://') ? this.#workload : -1;
  }

  #finish(r: VerifyResult, key: string, peerHex: string | undefined): TokenOutcome {
    if (!(r instanceof VerifiedEntry)) {
      if (r.kind === 'invalid' || r.kind === 'unavailable') this.#observer.tokenValidated(r.provider, r.reason);
      return r;
    }
    if (this.#cacheOn) this.#cache.set(key, r, this.#clock.now(), r.validUntilMs);
    return this.#bind(r, peerHex);
  }

  /** The per-request part of a verified token: its certificate binding (RFC 8705 §3.1). */
  #bind(entry: VerifiedEntry, peerHex: string | undefined): TokenOutcome {
    const b = entry.binding;
    const name = this.#providers[entry.provider]!.options.name;
    if (b === 'none') {
      this.#observer.tokenValidated(name, 'valid');
      return entry.outcome;
    }
    if (b === 'unsupported') return this.#refuse(name, 'cert_mismatch', 'the token is bound by a cnf method other than x5t#S256, which cannot be checked here');
    if (peerHex === undefined) return this.#refuse(name, 'cert_mismatch', 'the token is certificate-bound but the connection has no client certificate');
    if (peerHex !== b.hex && peerHex.toLowerCase() !== b.hex) return this.#refuse(name, 'cert_mismatch', 'the token is bound to another client certificate');
    this.#observer.tokenValidated(name, 'valid');
    return entry.outcome;
  }

  #refuse(provider: string, reason: 'malformed' | 'unknown_issuer' | 'cert_mismatch', detail: string): TokenOutcome {
    this.#observer.tokenValidated(provider, reason);
    return { kind: 'invalid', reason, provider, detail };
  }
}

function buildProvider(p: ResolvedJwtProvider, index: number, deps: KeySetCacheDeps, bundles: JwtBundleSource | undefined): JwtTokenProvider {
  if (p.source.kind === 'workload') return new WorkloadJwtProvider(p, index, bundles!, deps.clock);
  const bounds = { minMs: p.cache.minLifetimeMs, maxMs: p.cache.maxLifetimeMs, defaultMs: p.cache.defaultLifetimeMs };
  let loader: KeySetLoader;
  if (p.source.kind === 'file') loader = new KeyFileLoader(p.source.path, p.cache.minLifetimeMs);
  else {
    const client = new IssuerClient({ timeoutMs: p.fetchTimeoutMs, ca: p.ca });
    loader = p.source.kind === 'jwks'
      ? new JwksUrlLoader(p.source.url, client, bounds)
      : new DiscoveryLoader(p.issuer!, discoveryUrl(p.source.issuerUrl), client, bounds, deps.clock);
  }
  const keys = new KeySetCache(p.name, loader, { cache: p.cache, fetchTimeoutMs: p.fetchTimeoutMs }, { ...deps, logger: deps.logger.child({ provider: p.name }) });
  return new JwtProvider(p, index, keys, deps.clock);
}
