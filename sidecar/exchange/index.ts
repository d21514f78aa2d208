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
export type { ExchangeTarget } from './token-exchanger.ts';
export { JwtSvidTokens } from './jwt-svid-tokens.ts';
export type { JwtSvidFetcher } from './jwt-svid-tokens.ts';
export { tokenExchangeProblems, resolveTokenExchangeOptions } from './token-exchange-options.ts';
export type { TokenExchangeOptions } from './token-exchange-options.ts';
export { readReply, CLIENT_ASSERTION_TYPE_JWT_SPIFFE } from './token-exchange-client.ts';
export type { ExchangeRequest, IssuedToken } from './token-exchange-client.ts';
export type { TlsClientCertificate } from '../auth/index.ts';
export { TokenExchangeError } from './token-exchange-error.ts';
export type { TokenExchangeErrorCode } from './token-exchange-error.ts';
export type { TokenOutcome, TokenFailure } from './token-outcome.ts';
