/**
 * auth: end-user token authentication on the inbound side. Finds the
 * request's bearer token, verifies JWTs against each configured issuer's
 * keys (JWKS URL, OpenID Connect discovery, key file, or the Workload API's
 * JWT bundles) and hands opaque tokens to an introspection verifier
 * (RFC 7662), producing a {@link TokenOutcome}.
 *
 * It must not decide what a request may do (that is `policy` and the
 * enforcement stage), answer HTTP, log or return tokens, or trust keys a
 * token names itself (`jku`, `x5u`, `jwk`, `x5c`). Depends on `core`,
 * `spiffe`, `bundle` and `svid` (plus undici towards issuers) only; metrics
 * plug in through {@link AuthObserver}.
 */

// Shared vocabulary.
export type {
  VerifiedToken,
  TokenInvalidReason,
  TokenOutcome,
} from './verified-token.ts';

// JWT authentication.
export { TokenAuthenticator } from './token-authenticator.ts';
export type { OpaqueTokenVerifier } from './token-authenticator.ts';
export { tokenAuthenticatorProblems } from './token-authenticator-options.ts';
export type { TokenAuthenticatorOptions } from './token-authenticator-options.ts';
export type { JwtProviderOptions, KeySetCacheOptions } from './jwt-provider-options.ts';
export { withoutTokenLocations } from './token-location.ts';
export type { TokenLocation } from './token-location.ts';
export { AuthOptionsError } from './auth-options-error.ts';
export type { AuthOptionsProblemCode } from './auth-options-error.ts';
export { KeySetError } from './key-set-error.ts';
export type { KeySetErrorCode } from './key-set-error.ts';
export type { KeySetStatus } from './key-set-cache.ts';
export { noopAuthObserver } from './auth-observer.ts';
export type { AuthObserver } from './auth-observer.ts';

// ---- Opaque-token introspection (RFC 7662): exports go here, below this line. ----
export { IntrospectionVerifier } from './introspection-verifier.ts';
export { resolveIntrospectionOptions } from './introspection-options.ts';
export { isHttpsOrLoopback } from './issuer-url.ts';
export type { IntrospectionOptions, IntrospectionClientAuth } from './introspection-options.ts';
export { IntrospectionOptionsError } from './introspection-error.ts';
export { noopIntrospectionObserver } from './introspection-observer.ts';
export type { IntrospectionObserver } from './introspection-observer.ts';
// ---- End of introspection exports. ----

// ---- Context handles (the app gets a handle, the outbound side resolves it): exports go here. ----
export {
  ContextHandles,
  ContextHandleError,
  contextHandleProblems,
  DEFAULT_CONTEXT_HANDLE_HEADER,
  DEFAULT_CONTEXT_HANDLE_LIFETIME_MS,
  DEFAULT_CONTEXT_HANDLE_ENTRIES,
  CONTEXT_HANDLE_LENGTH,
} from './context-handles.ts';
export type { ContextHandleErrorCode } from './context-handles.ts';
export { ClientSecretFile } from './client-secret-file.ts';
// The transport pieces the RFC 8693 client (sidecar/exchange) shares with introspection.
export { ClientCertAgent } from './client-cert-agent.ts';
export { basicAuthorization } from './introspection-transport.ts';
export type { TlsClientCertificate } from './introspection-options.ts';
