import { hash } from 'node:crypto';
import { describeError, silentLogger, systemClock, type Clock, type Logger } from '../core/index.ts';
import { TokenDigestCache } from './token-digest-cache.ts';
import { IntrospectionError } from './introspection-error.ts';
import { IntrospectionKeySet } from './introspection-key-set.ts';
import { noopIntrospectionObserver, type IntrospectionObserver } from './introspection-observer.ts';
import { resolveIntrospectionOptions, type IntrospectionOptions, type ResolvedIntrospectionOptions } from './introspection-options.ts';
import { exchangeForJwt, INTROSPECTION_JWT_MEDIA_TYPE, verifyIntrospectionJwt } from './introspection-phantom.ts';
import { judgeIntrospection, parseIntrospectionResponse, thumbprintHex, type IntrospectionJudgement, type ParsedIntrospection } from './introspection-response.ts';
import { ClientSecretFile } from './client-secret-file.ts';
import { IntrospectionTransport } from './introspection-transport.ts';
import type { OpaqueTokenVerifier } from './token-authenticator.ts';
import type { TokenOutcome, VerifiedToken } from './verified-token.ts';

/** The introspection client's secret file names its errors and log lines as introspection's. */
const INTROSPECTION_SECRET = {
  label: 'introspection',
  fail: (message: string, cause?: unknown): Error => new IntrospectionError('introspection.secret_file', `introspection: ${message}`, cause === undefined ? undefined : { cause }),
};

/** What the verifier is given besides its options. */
export interface IntrospectionVerifierDeps {
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly observer?: IntrospectionObserver;
}

/** RFC 7662 §4 allows any size; a verdict larger than this is refused (fail closed). */
export const MAX_INTROSPECTION_RESPONSE_BYTES = 64 * 1024;
/** Longest opaque token sent to the AS; the authenticator normally bounds tokens well below. */
const MAX_TOKEN_LENGTH = 16 * 1024;
/** Shortest gap between two warnings about a failing authorization server. */
const FAILURE_WARN_INTERVAL_MS = 10_000;
/** RFC 6750 §2.1 b64token: anything else is not a bearer token and never leaves the sidecar. */
const B64TOKEN_RE = /^[A-Za-z0-9\-._~+/]+=*$/;

/** A positive verdict as cached: the shared outcome object and, for a bound token, its thumbprint in hex. */
interface Positive {
  readonly outcome: TokenOutcome & { readonly kind: 'valid' };
  readonly thumbprintHex: string | undefined;
}

/** What one introspection produced: a positive verdict (checked per request against the peer) or a final outcome. */
type Verdict = Positive | { readonly outcome: TokenOutcome; readonly thumbprintHex?: undefined };

/**
 * Verifies opaque access tokens with an RFC 7662 introspection endpoint and
 * caches the verdicts.
 *
 * - Cache keyed by the token's SHA-256, never the token. A positive verdict
 *   lives until min(exp, now + cacheMaxTtlMs); a negative one (inactive,
 *   expired, wrong issuer or audience) at most 5 s, so a token that becomes
 *   valid is not refused for long. Failures to get an answer are never cached.
 * - A cache hit returns synchronously; concurrent requests for one token share
 *   one call to the AS (single flight); at most `maxInFlight` distinct tokens
 *   are introspected at once.
 * - Fails closed: an unreachable, slow, or misbehaving AS gives `unavailable`
 *   / 'introspection_unavailable' (the caller answers 503).
 * - `cnf.x5t#S256` (RFC 8705 §3) is checked on every request against the
 *   mTLS peer's certificate, also on cache hits.
 * - Phantom mode hands the app a JWT (RFC 9701 signed introspection
 *   response, or an RFC 8693-exchanged RFC 9068 access token), verified with
 *   the issuer's published keys before it is handed on.
 */
export class IntrospectionVerifier implements OpaqueTokenVerifier {
  readonly provider: string;
  readonly #o: ResolvedIntrospectionOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #observer: IntrospectionObserver;
  readonly #secret: ClientSecretFile | undefined;
  readonly #transport: IntrospectionTransport;
  readonly #keys: IntrospectionKeySet | undefined;
  readonly #positive: TokenDigestCache<Positive>;
  readonly #negative: TokenDigestCache<TokenOutcome>;
  readonly #inflight = new Map<string, Promise<Verdict>>();
  readonly #form: Record<string, string> = { token: '', token_type_hint: 'access_token' };
  #closed = false;
  #lastWarnAt = -Infinity;

  /** Validates the options (IntrospectionOptionsError lists every problem) and reads the client secret file (IntrospectionError 'introspection.secret_file'). */
  constructor(options: IntrospectionOptions, deps: IntrospectionVerifierDeps = {}) {
    const o = resolveIntrospectionOptions(options);
    this.#o = o;
    this.provider = o.provider;
    this.#clock = deps.clock ?? systemClock;
    this.#logger = (deps.logger ?? silentLogger).child({ component: 'introspection', provider: o.provider });
    this.#observer = deps.observer ?? noopIntrospectionObserver;
    const auth = o.clientAuth;
    this.#secret =
      auth.method === 'client_secret_basic' || auth.method === 'client_secret_post'
        ? new ClientSecretFile(auth.clientSecretFile, this.#clock, this.#logger, INTROSPECTION_SECRET)
        : undefined;
    this.#transport = new IntrospectionTransport({ provider: o.provider, clientAuth: auth, secret: this.#secret, ca: o.ca, timeoutMs: o.requestTimeoutMs });
    this.#keys =
      o.phantom === undefined
        ? undefined
        : new IntrospectionKeySet({ provider: o.provider, issuer: o.issuer!, jwksUri: o.jwksUri, transport: this.#transport, clock: this.#clock, logger: this.#logger });
    this.#positive = new TokenDigestCache(o.maxCacheEntries);
    this.#negative = new TokenDigestCache(o.maxCacheEntries);
  }

  /**
   * Judges `token` for a request whose mTLS peer presented a certificate with
   * SHA-256 `peerCertSha256Hex` (undefined without one). Synchronous on a
   * cache hit; otherwise resolves once the AS answered (never rejects).
   */
  verify(token: string, peerCertSha256Hex: string | undefined): TokenOutcome | Promise<TokenOutcome> {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return this.#malformed();
    const key = hash('sha256', token, 'base64url');
    const now = this.#clock.now();
    const hit = this.#positive.get(key, now);
    if (hit !== undefined) {
      this.#observer.cacheHit(this.provider);
      return this.#bind(hit, peerCertSha256Hex);
    }
    const refused = this.#negative.get(key, now);
    if (refused !== undefined) {
      this.#observer.cacheHit(this.provider);
      return refused;
    }
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      if (this.#closed) return this.#unavailable('the verifier is closed');
      if (!B64TOKEN_RE.test(token)) return this.#malformed();
      // Bounded: a flood of distinct tokens fails closed instead of queueing without limit.
      if (this.#inflight.size >= this.#o.maxInFlight) return this.#unavailable(`${this.#o.maxInFlight} introspections already in flight`);
      pending = this.#introspect(token, key);
      this.#inflight.set(key, pending);
    }
    return pending.then((v) => (v.outcome.kind === 'valid' ? this.#bind(v as Positive, peerCertSha256Hex) : v.outcome));
  }

  /** Stops the secret-file refresh and closes connections; later uncached verifications are `unavailable`. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#secret?.close();
    this.#positive.clear();
    this.#negative.clear();
    await this.#transport.close();
  }

  /** RFC 8705 §3: a certificate-bound token is valid only on a connection authenticated with that certificate. */
  #bind(p: Positive, peerHex: string | undefined): TokenOutcome {
    if (p.thumbprintHex === undefined) return p.outcome;
    if (peerHex !== undefined && peerHex.toLowerCase() === p.thumbprintHex) return p.outcome;
    return {
      kind: 'invalid',
      reason: 'cert_mismatch',
      provider: this.provider,
      detail: peerHex === undefined ? 'the token is certificate-bound but the peer presented no certificate' : "the token is bound to another certificate than the peer's",
    };
  }

  async #introspect(token: string, key: string): Promise<Verdict> {
    try {
      const verdict = await this.#ask(token);
      const now = this.#clock.now();
      if (verdict.kind === 'invalid') {
        this.#negative.set(key, verdict.outcome, now, now + this.#o.negativeCacheTtlMs);
        this.#observer.request(this.provider, verdict.outcome.reason);
        return { outcome: verdict.outcome };
      }
      const x5t = verdict.token.certThumbprint;
      const positive: Positive = { outcome: Object.freeze({ kind: 'valid' as const, token: verdict.token }), thumbprintHex: x5t === undefined ? undefined : thumbprintHex(x5t) };
      this.#positive.set(key, positive, now, now + verdict.ttlMs);
      this.#observer.request(this.provider, 'valid');
      return positive;
    } catch (err) {
      this.#observer.request(this.provider, 'introspection_unavailable');
      const detail = err instanceof IntrospectionError ? err.message : `introspection: unexpected failure: ${describeError(err)}`;
      this.#logFailure(detail);
      return { outcome: this.#unavailable(detail) };
    } finally {
      this.#inflight.delete(key);
    }
  }

  /** One round with the AS: introspection (JSON or RFC 9701 JWT), then the optional token exchange. */
  async #ask(token: string): Promise<IntrospectionJudgement> {
    const o = this.#o;
    const wantJwt = o.phantom === 'jwt-introspection';
    const form = { ...this.#form, token };
    const reply = await this.#transport.postForm(o.endpoint, form, wantJwt ? INTROSPECTION_JWT_MEDIA_TYPE : 'application/json', MAX_INTROSPECTION_RESPONSE_BYTES);
    if (reply.status !== 200) throw this.#bad(`the introspection endpoint answered ${reply.status}`);
    let parsed: ParsedIntrospection;
    let jwt: string | undefined;
    if (wantJwt) {
      // A server that ignores the Accept header would give the app no JWT: refuse rather than degrade.
      if (reply.mediaType !== INTROSPECTION_JWT_MEDIA_TYPE) throw this.#bad(`asked for ${INTROSPECTION_JWT_MEDIA_TYPE} (RFC 9701), got ${reply.mediaType || 'no media type'}`);
      jwt = reply.body.toString('utf8').trim();
      const inner = await verifyIntrospectionJwt(jwt, this.#keys!, { ...this.#phantomContext(), clientId: o.clientAuth.clientId });
      parsed = parseIntrospectionResponse(inner);
    } else {
      if (reply.mediaType !== 'application/json') throw this.#bad(`answer is ${reply.mediaType || 'untyped'}, not application/json`);
      let doc: unknown;
      try {
        doc = JSON.parse(reply.body.toString('utf8'));
      } catch {
        throw this.#bad('answer is not JSON');
      }
      parsed = parseIntrospectionResponse(doc);
    }
    const now = this.#clock.now();
    const judged = judgeIntrospection(parsed, { provider: o.provider, now, clockSkewMs: o.clockSkewMs, cacheMaxTtlMs: o.cacheMaxTtlMs, issuer: o.issuer, audiences: o.audiences }, jwt);
    if (judged.kind === 'invalid' || o.phantom !== 'token-exchange' || !parsed.active) return judged;
    const exchanged = await exchangeForJwt(this.#transport, o.exchangeEndpoint!, token, this.#keys!, {
      ...this.#phantomContext(),
      audience: o.exchangeAudience,
      subject: parsed.subject,
      clientId: parsed.clientId,
    });
    const t: VerifiedToken = Object.freeze({ ...judged.token, jwt: exchanged.jwt });
    return { kind: 'valid', token: t, ttlMs: Math.max(0, Math.min(judged.ttlMs, exchanged.expiresAtMs - this.#clock.now())) };
  }

  /** Per-request failures go to debug; warn at most every {@link FAILURE_WARN_INTERVAL_MS} so a down AS does not flood the log. */
  #logFailure(detail: string): void {
    const now = this.#clock.now();
    if (now - this.#lastWarnAt >= FAILURE_WARN_INTERVAL_MS) {
      this.#lastWarnAt = now;
      this.#logger.warn({ err: detail }, 'introspection: no usable answer; failing closed');
    } else {
      this.#logger.debug({ err: detail }, 'introspection: no usable answer; failing closed');
    }
  }

  #phantomContext(): { provider: string; issuer: string; now: number; clockSkewMs: number } {
    return { provider: this.provider, issuer: this.#o.issuer!, now: this.#clock.now(), clockSkewMs: this.#o.clockSkewMs };
  }

  #bad(why: string): IntrospectionError {
    return new IntrospectionError('introspection.unavailable', `introspection: provider ${this.provider}: ${why}`);
  }

  #malformed(): TokenOutcome {
    return { kind: 'invalid', reason: 'malformed', provider: this.provider, detail: `not an RFC 6750 bearer token of 1..${MAX_TOKEN_LENGTH} characters` };
  }

  #unavailable(detail: string): TokenOutcome {
    return { kind: 'unavailable', reason: 'introspection_unavailable', provider: this.provider, detail };
  }
}
