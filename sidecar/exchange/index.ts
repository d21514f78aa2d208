/**
 * exchange: the tokens the outbound side puts on a request in place of the
 * app's own: RFC 8693 token exchange at the authorization server (the
 * sidecar authenticates as itself, with its X509-SVID over mTLS per
 * RFC 8705, its JWT-SVID as a client assertion per
 * draft-ietf-oauth-spiffe-client-auth, or a client secret read from a
 * file, and may name itself as the
 * actor with its JWT-SVID), and this workload's own JWT-SVIDs. Both are
 * cached until expiry minus a skew, bounded, with one call in flight per key.
 *
 * Must not decide routes or answer HTTP (that is `outbound`), log or cache
 * token text by its value (keys are SHA-256 hashes), keep secrets anywhere
 * but in memory read from their file, or hand out a token after a failure:
 * every failure is an outcome the caller must answer, never a fall-back to
 * forwarding the app's token.
 */
export { TokenExchanger } from './token-exchanger.ts';
export type { TokenExchangerDeps, ExchangeTarget } from './token-exchanger.ts';
export { JwtSvidTokens } from './jwt-svid-tokens.ts';
export type { JwtSvidFetcher, JwtSvidTokensOptions } from './jwt-svid-tokens.ts';
export { tokenExchangeProblems, resolveTokenExchangeOptions } from './token-exchange-options.ts';
export type { TokenExchangeOptions, ResolvedTokenExchangeOptions, ExchangeClientAuth, ExchangeClientAuthMethod } from './token-exchange-options.ts';
export { TokenExchangeClient, readReply, TOKEN_EXCHANGE_GRANT, TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_JWT, TOKEN_TYPE_TXN, CLIENT_ASSERTION_TYPE_JWT_SPIFFE } from './token-exchange-client.ts';
export type { ExchangeRequest, IssuedToken } from './token-exchange-client.ts';
export type { TlsClientCertificate } from './token-endpoint-transport.ts';
export { TokenExchangeError } from './token-exchange-error.ts';
export type { TokenExchangeErrorCode, TokenExchangeOptionsProblem } from './token-exchange-error.ts';
export { DENIED } from './token-outcome.ts';
export type { TokenOutcome, TokenGranted, TokenDenied, TokenFailure } from './token-outcome.ts';
export { noopExchangeObserver } from './exchange-observer.ts';
export type { ExchangeObserver, ExchangeResult } from './exchange-observer.ts';
