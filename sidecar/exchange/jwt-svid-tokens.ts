import { describeError, silentLogger, type Clock, type Logger } from '../core/index.ts';
import { ExpiringTokenCache } from './expiring-token-cache.ts';
import { DENIED, type TokenOutcome } from './token-outcome.ts';

/** Where our JWT-SVIDs come from: the Workload API's FetchJWTSVID, adapted by the composition root. */
export interface JwtSvidFetcher {
  /** A JWT-SVID of this workload for `audience`. */
  fetchJwtSvid(audience: string): Promise<{ readonly token: string; readonly expiresAt: Date }>;
}

/** Options of {@link JwtSvidTokens}. */
export interface JwtSvidTokensOptions {
  readonly fetcher: JwtSvidFetcher;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** A JWT-SVID is fetched anew this long before its `exp` (default 30 s). */
  readonly expirySkewMs?: number;
  /** Audiences kept (they come from configuration; default 256). */
  readonly maxEntries?: number;
}

const DEFAULT_SKEW_MS = 30_000;

/**
 * This workload's own JWT-SVIDs by audience (the `jwt-svid` token mode and
 * RFC 8693 actor tokens): fetched from the Workload API on first use,
 * reused until `exp` − skew, one fetch in flight per audience. A cached
 * token is returned synchronously; a failed fetch is never cached.
 */
export class JwtSvidTokens {
  readonly #fetcher: JwtSvidFetcher;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #skewMs: number;
  readonly #cache: ExpiringTokenCache;
  readonly #inFlight = new Map<string, Promise<TokenOutcome>>();

  constructor(o: JwtSvidTokensOptions) {
    this.#fetcher = o.fetcher;
    this.#clock = o.clock;
    this.#logger = (o.logger ?? silentLogger).child({ component: 'jwt-svid-tokens' });
    this.#skewMs = o.expirySkewMs ?? DEFAULT_SKEW_MS;
    this.#cache = new ExpiringTokenCache(o.maxEntries ?? 256);
  }

  /** Our JWT-SVID for `audience`: synchronously when cached. */
  get(audience: string): TokenOutcome | Promise<TokenOutcome> {
    const hit = this.#cache.get(audience, this.#clock.now());
    if (hit !== undefined) return hit;
    let p = this.#inFlight.get(audience);
    if (p === undefined) {
      p = this.#fetch(audience);
      this.#inFlight.set(audience, p);
    }
    return p;
  }

  async #fetch(audience: string): Promise<TokenOutcome> {
    try {
      const svid = await this.#fetcher.fetchJwtSvid(audience);
      const now = this.#clock.now();
      const expiresAtMs = svid.expiresAt.getTime() - this.#skewMs;
      const granted = Object.freeze({ ok: true as const, token: svid.token, expiresAtMs: Math.max(expiresAtMs, 0) });
      this.#cache.set(audience, granted, now);
      return granted;
    } catch (err) {
      this.#logger.warn({ audience, err: describeError(err) }, 'cannot fetch a JWT-SVID from the Workload API');
      return DENIED.jwt_svid_unavailable;
    } finally {
      this.#inFlight.delete(audience);
    }
  }
}
