import { createHash } from 'node:crypto';
import { describeError, silentLogger, type Clock, type Logger } from '../core/index.ts';
import { ClientSecretFile, type TlsClientCertificate } from '../auth/index.ts';
import { noopExchangeObserver, type ExchangeObserver, type ExchangeResult } from './exchange-observer.ts';
import { ExpiringTokenCache } from './expiring-token-cache.ts';
import type { JwtSvidTokens } from './jwt-svid-tokens.ts';
import { MAX_EXCHANGE_RESPONSE_BYTES, TOKEN_TYPE_TXN, TokenExchangeClient, type IssuedToken } from './token-exchange-client.ts';
import { TokenEndpointTransport } from './token-endpoint-transport.ts';
import { TokenExchangeError } from './token-exchange-error.ts';
import { resolveTokenExchangeOptions, type ResolvedTokenExchangeOptions, type TokenExchangeOptions } from './token-exchange-options.ts';
import { DENIED, type TokenDenied, type TokenOutcome } from './token-outcome.ts';

/** The exchange client's secret file names its errors and log lines as the exchange's. */
const EXCHANGE_SECRET = {
  label: 'exchange',
  fail: (message: string, cause?: unknown): Error => new TokenExchangeError('exchange.secret_file', `exchange: ${message}`, cause === undefined ? undefined : { cause }),
};

/** What {@link TokenExchanger} needs besides its options. */
export interface TokenExchangerDeps {
  readonly clock: Clock;
  readonly logger?: Logger;
  readonly observer?: ExchangeObserver;
  /** The SVID for the TLS client authentication methods. */
  readonly clientCertificate?: () => TlsClientCertificate;
  /** Our JWT-SVIDs, required when `actorToken` is on or the client authenticates with `jwt-svid`. */
  readonly jwtSvids?: JwtSvidTokens;
  /** Replaces the HTTP client (tests). */
  readonly client?: Pick<TokenExchangeClient, 'exchange'>;
}

/**
 * Where exchanged tokens go: one per route, built once at start, so a
 * request costs no key building beyond the subject token's hash.
 */
export interface ExchangeTarget {
  /** Metric label (the upstream's name). */
  readonly route: string;
  readonly audience: string;
  /** Space-separated scope to ask for; '' for none. */
  readonly scope: string;
  /** Cache key suffix: audience and scope. */
  readonly keySuffix: string;
}

/** What {@link TokenExchanger} got from one call to the token endpoint. */
type CallOutcome =
  | { readonly result: 'ok'; readonly denied: undefined; readonly issued: IssuedToken }
  | { readonly result: Exclude<ExchangeResult, 'ok'>; readonly denied: TokenDenied; readonly issued: undefined };

/** Stands for "no JWT-SVID needed" in {@link TokenExchanger}'s call. */
const NO_SVID = Object.freeze({ ok: true as const, token: '', expiresAtMs: 0 });

/**
 * RFC 8693 token exchange for the outbound side: the app's token in, a
 * token made for one upstream out. Results are cached per (SHA-256 of the
 * subject token, audience, scope) until `exp` − skew, bounded in count;
 * concurrent requests for one key share one call (single flight); distinct
 * calls in flight are bounded (beyond: `busy`). A cache hit is returned
 * synchronously. Failures are never cached and never become a fall-back:
 * the caller answers them.
 */
export class TokenExchanger {
  readonly options: ResolvedTokenExchangeOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #observer: ExchangeObserver;
  readonly #jwtSvids: JwtSvidTokens | undefined;
  readonly #secret: ClientSecretFile | undefined;
  readonly #transport: TokenEndpointTransport | undefined;
  readonly #client: Pick<TokenExchangeClient, 'exchange'>;
  readonly #cache: ExpiringTokenCache;
  readonly #inFlight = new Map<string, Promise<TokenOutcome>>();
  #txnInFlight = 0;

  constructor(options: TokenExchangeOptions, deps: TokenExchangerDeps) {
    const o = resolveTokenExchangeOptions(options);
    if (o.actorToken && deps.jwtSvids === undefined) {
      throw new TokenExchangeError('exchange.invalid_options', 'exchange: actorToken needs a JWT-SVID source (the Workload API)');
    }
    if (o.clientAuth.method === 'jwt-svid' && deps.jwtSvids === undefined) {
      throw new TokenExchangeError('exchange.invalid_options', 'exchange: clientAuth jwt-svid needs a JWT-SVID source (the Workload API)');
    }
    const tls = o.clientAuth.method === 'tls_client_auth' || o.clientAuth.method === 'self_signed_tls_client_auth';
    if (tls && deps.clientCertificate === undefined && deps.client === undefined) {
      throw new TokenExchangeError('exchange.invalid_options', `exchange: ${o.clientAuth.method} needs the SVID as client certificate`);
    }
    this.options = o;
    this.#clock = deps.clock;
    this.#logger = (deps.logger ?? silentLogger).child({ component: 'token-exchange' });
    this.#observer = deps.observer ?? noopExchangeObserver;
    this.#jwtSvids = deps.jwtSvids;
    this.#cache = new ExpiringTokenCache(o.maxCacheEntries);
    if (deps.client !== undefined) {
      this.#client = deps.client;
    } else {
      this.#secret = o.clientAuth.clientSecretFile !== undefined ? new ClientSecretFile(o.clientAuth.clientSecretFile, deps.clock, this.#logger, EXCHANGE_SECRET) : undefined;
      this.#transport = new TokenEndpointTransport({
        endpoint: o.endpoint,
        clientAuth: o.clientAuth,
        secret: this.#secret,
        clientCertificate: deps.clientCertificate,
        ca: o.ca,
        timeoutMs: o.requestTimeoutMs,
        maxBodyBytes: MAX_EXCHANGE_RESPONSE_BYTES,
      });
      this.#client = new TokenExchangeClient(this.#transport, () => deps.clock.now());
    }
  }

  /** The target for one route; call once per route at start. */
  target(route: string, audience: string, scope: string): ExchangeTarget {
    return Object.freeze({ route, audience, scope, keySuffix: `\n${audience}\n${scope}` });
  }

  /** A token for `target` in place of `subjectToken`: synchronously from the cache, else after one exchange. */
  get(target: ExchangeTarget, subjectToken: string): TokenOutcome | Promise<TokenOutcome> {
    // Keyed by the token's hash: the cache never holds the app's token itself.
    const key = createHash('sha256').update(subjectToken).digest('base64url') + target.keySuffix;
    const hit = this.#cache.get(key, this.#clock.now());
    if (hit !== undefined) {
      this.#observer.cacheHit(target.route);
      return hit;
    }
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) return pending;
    if (this.#inFlight.size >= this.options.maxInFlight) {
      this.#observer.exchanged(target.route, 'busy', 0);
      return DENIED.busy;
    }
    const p = this.#exchange(target, subjectToken, key);
    this.#inFlight.set(key, p);
    return p;
  }

  /**
   * A transaction token for one request (draft-ietf-oauth-transaction-tokens:
   * token exchange with `requested_token_type` txn_token, `audience` the
   * trust domain). Never cached and never shared between requests: each
   * transaction gets its own `txn` id. Bounded with the exchanges in flight.
   */
  transactionToken(target: ExchangeTarget, subjectToken: string): TokenOutcome | Promise<TokenOutcome> {
    if (this.#inFlight.size + this.#txnInFlight >= this.options.maxInFlight) {
      this.#observer.exchanged(target.route, 'busy', 0);
      return DENIED.busy;
    }
    this.#txnInFlight++;
    return this.#transactionToken(target, subjectToken);
  }

  async #transactionToken(target: ExchangeTarget, subjectToken: string): Promise<TokenOutcome> {
    const started = performance.now();
    const call = await this.#call(target, subjectToken, false, TOKEN_TYPE_TXN);
    this.#txnInFlight--;
    this.#observer.exchanged(target.route, call.result, (performance.now() - started) / 1000);
    // Never cached: every request gets a transaction token of its own.
    return call.result === 'ok' ? { ok: true, token: call.issued.token, expiresAtMs: call.issued.expiresAtMs ?? 0 } : call.denied;
  }

  /** Stops the secret re-reads and closes connections. */
  async close(): Promise<void> {
    this.#secret?.close();
    this.#cache.clear();
    await this.#transport?.close();
  }

  async #exchange(target: ExchangeTarget, subjectToken: string, key: string): Promise<TokenOutcome> {
    const started = performance.now();
    const call = await this.#call(target, subjectToken, this.options.actorToken, undefined);
    this.#inFlight.delete(key);
    this.#observer.exchanged(target.route, call.result, (performance.now() - started) / 1000);
    if (call.result !== 'ok') return call.denied;
    const until = call.issued.expiresAtMs === undefined ? 0 : call.issued.expiresAtMs - this.options.expirySkewMs;
    const granted = Object.freeze({ ok: true as const, token: call.issued.token, expiresAtMs: Math.max(until, 0) });
    // A token without a known expiry, or about to expire, serves this request only.
    this.#cache.set(key, granted, this.#clock.now());
    return granted;
  }

  /**
   * One call to the token endpoint, for exchange and transaction tokens
   * alike: this sidecar's JWT-SVIDs as actor token and client assertion
   * when configured, then the request. Never throws; a failure is the
   * answer to send and its metric result.
   */
  async #call(target: ExchangeTarget, subjectToken: string, withActor: boolean, requestedTokenType: string | undefined): Promise<CallOutcome> {
    try {
      const actor = withActor ? await this.#jwtSvids!.get(this.options.actorTokenAudience) : NO_SVID;
      if (!actor.ok) return { result: 'jwt_svid_unavailable', denied: actor, issued: undefined };
      const assertion = this.options.assertionAudience !== '' ? await this.#jwtSvids!.get(this.options.assertionAudience) : NO_SVID;
      if (!assertion.ok) return { result: 'jwt_svid_unavailable', denied: assertion, issued: undefined };
      const issued = await this.#client.exchange({
        subjectToken,
        audience: target.audience,
        scope: target.scope,
        actorToken: actor.token,
        clientAssertion: assertion.token,
        ...(requestedTokenType !== undefined ? { requestedTokenType } : {}),
      });
      return { result: 'ok', denied: undefined, issued };
    } catch (err) {
      const code = err instanceof TokenExchangeError ? err.code : 'exchange.unavailable';
      const result = code === 'exchange.subject_refused' ? 'subject_refused' : code === 'exchange.refused' ? 'refused' : 'unavailable';
      const message = describeError(err);
      if (result === 'subject_refused') this.#logger.debug({ route: target.route, code }, message);
      else this.#logger.warn({ route: target.route, code }, message);
      return { result, denied: DENIED[result], issued: undefined };
    }
  }
}
