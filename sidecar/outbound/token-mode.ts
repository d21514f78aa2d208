import type { ContextHandles } from '../auth/index.ts';
import type { ExchangeTarget, JwtSvidTokens, TokenExchanger, TokenFailure, TokenOutcome } from '../exchange/index.ts';
import { OUTBOUND_ANSWERS, type OutboundAnswer, type OutboundAnswerReason } from './outbound-answer.ts';
import { MULTIPLE_TOKENS, type OutboundCredentials } from './outbound-credentials.ts';

/**
 * What the outbound proxy does with the app's credentials for one upstream
 * (docs/config.md, `token`): `none` removes them (the default), `forward`
 * keeps them as sent, `jwt-svid` replaces them with this workload's
 * JWT-SVID for the upstream, `exchange` replaces the app's bearer token
 * with one the authorization server issued for the upstream (RFC 8693),
 * `txn` carries the request's transaction token (obtained at the edge,
 * forwarded unchanged after it; draft-ietf-oauth-transaction-tokens).
 */
export type OutboundTokenMode = 'none' | 'forward' | 'jwt-svid' | 'exchange' | 'txn';

/** Every {@link OutboundTokenMode}. */
export const OUTBOUND_TOKEN_MODES: readonly OutboundTokenMode[] = Object.freeze(['none', 'forward', 'jwt-svid', 'exchange', 'txn']);

/** The header a transaction token travels in (draft-ietf-oauth-transaction-tokens, "Txn-Token" header), lowercase. */
export const TXN_TOKEN_HEADER = 'txn-token';

/** One upstream's token settings. */
export interface OutboundTokenOptions {
  readonly mode: OutboundTokenMode;
  /** The token's audience (`jwt-svid` and `exchange`; required there). */
  readonly audience?: string | undefined;
  /** Narrower scope to ask for (`exchange`, and `txn` when obtaining). */
  readonly scope?: string | undefined;
  /** `txn` only: this sidecar is the edge and obtains the transaction token from the user token (needs an audience: the trust domain). */
  readonly obtain?: boolean | undefined;
}

/** What the token steps share: the credential reader and the token sources. */
export interface OutboundTokenServices {
  readonly credentials: OutboundCredentials;
  readonly exchanger?: TokenExchanger | undefined;
  readonly jwtSvids?: JwtSvidTokens | undefined;
  /** Context handles the app may send instead of a token (docs/end-user-identity.md); none when absent. */
  readonly contextHandles?: Pick<ContextHandles, 'find' | 'preferHandle'> | undefined;
}

/** The part of a request the token step reads and rewrites. */
export interface TokenStepRequest {
  headers: string[];
}

const FAILURE_ANSWER: Readonly<Record<TokenFailure, OutboundAnswerReason>> = Object.freeze({
  unavailable: 'token_exchange_unavailable',
  refused: 'token_exchange_refused',
  subject_refused: 'subject_token_refused',
  busy: 'token_exchange_busy',
  jwt_svid_unavailable: 'jwt_svid_unavailable',
});

/**
 * One upstream's token step, built once at start. `apply` rewrites the
 * request's credentials and returns null (go on), an answer to send
 * instead, or, only when a token must be fetched, a promise of either. A
 * cached token is applied synchronously, without closures or promises.
 */
export class OutboundTokenStep {
  readonly mode: OutboundTokenMode;
  readonly #credentials: OutboundCredentials;
  readonly #exchanger: TokenExchanger | undefined;
  readonly #jwtSvids: JwtSvidTokens | undefined;
  readonly #handles: Pick<ContextHandles, 'find' | 'preferHandle'> | undefined;
  readonly #obtain: boolean;
  readonly #target: ExchangeTarget | undefined;
  readonly #audience: string;

  /** Throws TypeError when the mode lacks what it needs (an audience, the exchanger, the JWT-SVID source). */
  constructor(route: string, o: OutboundTokenOptions | undefined, services: OutboundTokenServices) {
    this.mode = o?.mode ?? 'none';
    this.#credentials = services.credentials;
    this.#audience = o?.audience ?? '';
    this.#obtain = o?.obtain === true;
    if (this.#obtain && this.mode !== 'txn') throw new TypeError(`outbound: upstream ${route}: token.obtain applies only to txn`);
    const obtaining = this.mode === 'txn' && this.#obtain;
    const needsAudience = this.mode === 'jwt-svid' || this.mode === 'exchange' || obtaining;
    if (needsAudience && this.#audience === '') throw new TypeError(`outbound: upstream ${route}: token mode ${this.mode} needs an audience`);
    if (!needsAudience && o?.audience !== undefined) throw new TypeError(`outbound: upstream ${route}: token.audience applies only to jwt-svid, exchange and txn with obtain`);
    if (this.mode !== 'exchange' && !obtaining && o?.scope !== undefined) throw new TypeError(`outbound: upstream ${route}: token.scope applies only to exchange and txn with obtain`);
    if ((this.mode === 'exchange' || obtaining) && services.exchanger === undefined) throw new TypeError(`outbound: upstream ${route}: token mode ${this.mode} needs outbound.tokenExchange`);
    if (this.mode === 'jwt-svid' && services.jwtSvids === undefined) throw new TypeError(`outbound: upstream ${route}: token mode jwt-svid needs the Workload API's JWT-SVIDs`);
    this.#exchanger = this.mode === 'exchange' || obtaining ? services.exchanger : undefined;
    this.#handles = services.contextHandles;
    this.#jwtSvids = this.mode === 'jwt-svid' ? services.jwtSvids : undefined;
    this.#target = this.#exchanger?.target(route, this.#audience, o?.scope ?? '');
  }

  /** Rewrites `req.headers` for this upstream; see the class comment for what it returns. */
  apply(req: TokenStepRequest): OutboundAnswer | null | Promise<OutboundAnswer | null> {
    switch (this.mode) {
      case 'forward':
        return null;
      case 'none':
        req.headers = this.#credentials.strip(req.headers);
        return null;
      case 'jwt-svid':
        return this.#settle(req, this.#jwtSvids!.get(this.#audience));
      case 'exchange': {
        const subject = this.#subjectToken(req.headers);
        if (subject === MULTIPLE_TOKENS) return OUTBOUND_ANSWERS.multiple_tokens;
        if (subject === undefined) {
          // Nothing to exchange: the request goes without credentials and the upstream decides.
          req.headers = this.#credentials.strip(req.headers);
          return null;
        }
        return this.#settle(req, this.#exchanger!.get(this.#target!, subject));
      }
      case 'txn':
        return this.#txn(req);
    }
  }

  /**
   * The user token to exchange: the app's bearer token, or the token behind
   * the context handle the app propagated (first when `preferHandle`).
   */
  #subjectToken(headers: readonly string[]): string | undefined | typeof MULTIPLE_TOKENS {
    const handles = this.#handles;
    if (handles === undefined) return this.#credentials.subjectToken(headers);
    if (handles.preferHandle) return handles.find(headers) ?? this.#credentials.subjectToken(headers);
    return this.#credentials.subjectToken(headers) ?? handles.find(headers);
  }

  /**
   * `txn`: at the edge (`obtain`), a fresh transaction token for this
   * request from the user token; after it, the transaction token the app
   * propagated (its `Txn-Token` header, or the one behind its context
   * handle), forwarded unchanged. Every other credential is removed; without
   * a transaction token the request goes without one and the upstream decides.
   */
  #txn(req: TokenStepRequest): OutboundAnswer | null | Promise<OutboundAnswer | null> {
    if (this.#obtain) {
      const subject = this.#subjectToken(req.headers);
      if (subject === MULTIPLE_TOKENS) return OUTBOUND_ANSWERS.multiple_tokens;
      if (subject === undefined) {
        req.headers = withoutTxnToken(this.#credentials.strip(req.headers));
        return null;
      }
      const o = this.#exchanger!.transactionToken(this.#target!, subject);
      if (o instanceof Promise) return o.then((v) => this.#useTxn(req, v));
      return this.#useTxn(req, o);
    }
    let txn = txnToken(req.headers);
    if (txn === MULTIPLE_TOKENS) return OUTBOUND_ANSWERS.multiple_tokens;
    if (txn === undefined && this.#handles !== undefined) txn = this.#handles.find(req.headers);
    const headers = withoutTxnToken(this.#credentials.strip(req.headers));
    if (txn !== undefined) headers.push(TXN_TOKEN_HEADER, txn);
    req.headers = headers;
    return null;
  }

  #useTxn(req: TokenStepRequest, o: TokenOutcome): OutboundAnswer | null {
    if (!o.ok) return OUTBOUND_ANSWERS[FAILURE_ANSWER[o.failure]];
    const headers = withoutTxnToken(this.#credentials.strip(req.headers));
    headers.push(TXN_TOKEN_HEADER, o.token);
    req.headers = headers;
    return null;
  }

  #settle(req: TokenStepRequest, outcome: TokenOutcome | Promise<TokenOutcome>): OutboundAnswer | null | Promise<OutboundAnswer | null> {
    if (outcome instanceof Promise) return outcome.then((o) => this.#use(req, o));
    return this.#use(req, outcome);
  }

  #use(req: TokenStepRequest, o: TokenOutcome): OutboundAnswer | null {
    if (!o.ok) return OUTBOUND_ANSWERS[FAILURE_ANSWER[o.failure]];
    // The app's credentials never travel on: only the token made for this upstream does.
    const headers = this.#credentials.strip(req.headers);
    headers.push('authorization', `Bearer ${o.token}`);
    req.headers = headers;
    return null;
  }
}

/** The value of the request's one `Txn-Token` header; {@link MULTIPLE_TOKENS} for two. */
function txnToken(raw: readonly string[]): string | undefined | typeof MULTIPLE_TOKENS {
  let value: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== TXN_TOKEN_HEADER.length || name.toLowerCase() !== TXN_TOKEN_HEADER) continue;
    if (value !== undefined) return MULTIPLE_TOKENS;
    value = raw[i + 1]!.trim();
  }
  return value === '' ? undefined : value;
}

/** `raw` without `Txn-Token` headers; `raw` itself when it has none. */
function withoutTxnToken(raw: string[]): string[] {
  let i = 0;
  for (; i + 1 < raw.length; i += 2) if (raw[i]!.length === TXN_TOKEN_HEADER.length && raw[i]!.toLowerCase() === TXN_TOKEN_HEADER) break;
  if (i + 1 >= raw.length) return raw;
  const out = raw.slice(0, i);
  for (; i + 1 < raw.length; i += 2) if (raw[i]!.length !== TXN_TOKEN_HEADER.length || raw[i]!.toLowerCase() !== TXN_TOKEN_HEADER) out.push(raw[i]!, raw[i + 1]!);
  return out;
}
