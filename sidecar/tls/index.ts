/**
 * tls: SPIFFE mTLS for Node's tls, https and http2: the credentials home
 * that follows SVID and bundle rotation (one secure-context store, one
 * generation, one change event per process; see
 * docs/decisions/013-credentials-home.md), peer verification (X509-SVID
 * against the peer's own trust-domain bundle) with authorizers, and the
 * client and server options built from them. Used by library users and by
 * the inbound/outbound data plane alike.
 *
 * Reads identity only through the X509SvidSource and bundle-set interfaces;
 * it must not talk to the Workload API, evaluate request-level policy
 * (that is `policy`), or open listeners or connections itself.
 */
export { authorizeAny, authorizeId, authorizeOneOf, authorizeMemberOf, authorizeMatcher } from './authorizer.ts';
export type { Authorizer, AuthorizationResult } from './authorizer.ts';
export { Credentials } from './credentials.ts';
export type { CredentialsOptions } from './credentials.ts';
export { CredentialsError } from './credentials-error.ts';
export type { CredentialsErrorCode } from './credentials-error.ts';
export { SecureContextStore, currentBundleSet } from './secure-context-store.ts';
export type { SecureContextStoreOptions, SecureContextSnapshot, X509BundleSetProvider } from './secure-context-store.ts';
export { peerChainDer, verifyPeerChain, verifyPeerSocket, peerIdentity, rememberPeerIdentity } from './peer-verification.ts';
export type { PeerIdentity, PeerVerification, PeerVerificationFailure, PeerVerifierOptions } from './peer-verification.ts';
export { mtlsServer, createMtlsServer } from './mtls-server.ts';
export type { MtlsServer, MtlsServerConfig, MtlsServerOptions, MtlsServerEvents, PeerRejectedEvent } from './mtls-server.ts';
export { mtlsClientOptions, serverIdentityCheck, MtlsAgent } from './mtls-client.ts';
export type { MtlsClientConfig, MtlsClientOptions } from './mtls-client.ts';
export { PeerNotAuthorized } from './peer-not-authorized.ts';
export { PeerHandshakeRejected } from './peer-handshake-rejected.ts';
export { tlsFailureReason, reasonForOpensslCode } from './failure-reason.ts';
