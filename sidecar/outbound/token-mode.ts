import type { ExchangeTarget, JwtSvidTokens, TokenExchanger, TokenFailure, TokenOutcome } from '../exchange/index.ts';
import { OUTBOUND_ANSWERS, type OutboundAnswer, type OutboundAnswerReason } from './outbound-answer.ts';
import { MULTIPLE_TOKENS, type OutboundCredentials } from './outbound-credentials.ts';

/**
 * What the outbound proxy does with the app's credentials for one upstream
 * (docs/config.md, `token`): `none` removes them (the default), `forward`
 * keeps them as sent, `jwt-svid` replaces them with this workload's
 * JWT-SVID for the upstream, `exchange` replaces the app's bearer token
 * with one the authorization server issued for the upstream (RFC 8693).
 */
export type OutboundTokenMode = 'none' | 'forward' | 'jwt-svid' | 'exchange';

/** Every {@link OutboundTokenMode}. */
export const OUTBOUND_TOKEN_MODES: readonly OutboundTokenMode[] = Object.freeze(['none', 'forward', 'jwt-svid', 'exchange']);

/** One upstream's token settings. */
export interface OutboundTokenOptions {
  readonly mode: OutboundTokenMode;
  /** The token's audience (`jwt-svid` and `exchange`; required there). */
  readonly audience?: string | undefined;
  /** Narrower scope to ask for (`exchange` only). */
  readonly scope?: string | undefined;
}

/** What the token steps share: the credential reader and the token sources. */
export interface OutboundTokenServices {
  readonly credentials: OutboundCredentials;
  readonly exchanger?: TokenExchanger | undefined;
  readonly jwtSvids?: JwtSvidTokens | undefined;
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
  readonly #target: ExchangeTarget | undefined;
  readonly #audience: string;

  /** Throws TypeError when the mode lacks what it needs (an audience, the exchanger, the JWT-SVID source). */
  constructor(route: string, o: OutboundTokenOptions | undefined, services: OutboundTokenServices) {
    this.mode = o?.mode ?? 'none';
    this.#credentials = services.credentials;
    this.#audience = o?.audience ?? '';
    const needsAudience = this.mode === 'jwt-svid' || this.mode === 'exchange';
    if (needsAudience && this.#audience === '') throw new TypeError(`outbound: upstream ${route}: token mode ${this.mode} needs an audience`);
    if (!needsAudience && o?.audience !== undefined) throw new TypeError(`outbound: upstream ${route}: token.audience applies only to jwt-svid and exchange`);
    if (this.mode !== 'exchange' && o?.scope !== undefined) throw new TypeError(`outbound: upstream ${route}: token.scope applies only to exchange`);
    if (this.mode === 'exchange' && services.exchanger === undefined) throw new TypeError(`outbound: upstream ${route}: token mode exchange needs outbound.tokenExchange`);
    if (this.mode === 'jwt-svid' && services.jwtSvids === undefined) throw new TypeError(`outbound: upstream ${route}: token mode jwt-svid needs the Workload API's JWT-SVIDs`);
    this.#exchanger = this.mode === 'exchange' ? services.exchanger : undefined;
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
        const subject = this.#credentials.subjectToken(req.headers);
        if (subject === MULTIPLE_TOKENS) return OUTBOUND_ANSWERS.multiple_tokens;
        if (subject === undefined) {
          // Nothing to exchange: the request goes without credentials and the upstream decides.
          req.headers = this.#credentials.strip(req.headers);
          return null;
        }
        return this.#settle(req, this.#exchanger!.get(this.#target!, subject));
      }
    }
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
