/**
 * spiffe-sidecar as a library: the SPIFFE primitives, the Workload API
 * client and sources, and the mTLS helpers a Node service needs to speak
 * SPIFFE mTLS without a sidecar, the way go-spiffe is used from Go.
 *
 * Two more entry points sit beside this one (package.json "exports"):
 * `spiffe-sidecar/dev` (sidecar/dev.ts) has the development Workload API
 * and its in-memory CAs, and `spiffe-sidecar/testing` (sidecar/testing.ts)
 * a manual clock and a harness that runs the sidecar as a child process.
 * Neither belongs in production code, so neither is reachable from here.
 *
 * The proxies, config and CLI are the product built on top; they are not
 * part of this surface and may change without notice.
 */
export { SidecarError, errorCode, systemClock, silentLogger } from './core/index.ts';
export type { Clock, TimerHandle, Logger } from './core/index.ts';

export {
  TrustDomain,
  SpiffeId,
  SpiffeIdError,
  matchAny,
  matchId,
  matchOneOf,
  matchMemberOf,
  matchPredicate,
} from './spiffe/index.ts';
export type { IdMatcher, SpiffeIdErrorCode } from './spiffe/index.ts';

export { decodeCertificate, splitDerCertificates, parsePemCertificates, toPem, CertificateError } from './x509/index.ts';
export type { CertificateInfo } from './x509/index.ts';

export { X509Bundle, X509BundleError, X509BundleSet, JwtBundle, JwtBundleError, JwtBundleSet } from './bundle/index.ts';
export type { X509BundleSource, JwtBundleSource } from './bundle/index.ts';

export {
  X509Svid,
  parseX509Svid,
  parseX509SvidPem,
  X509SvidError,
  verifyX509SvidChain,
  PeerVerificationError,
  parseAndValidateJwtSvid,
  parseJwtSvidInsecure,
  JwtSvidError,
} from './svid/index.ts';
export type { X509SvidSource, X509VerifyResult, JwtSvid, PeerVerificationReason } from './svid/index.ts';

export {
  WorkloadApiClient,
  X509Source,
  JwtSource,
  WorkloadApiError,
  parseEndpointAddress,
  SPIFFE_ENDPOINT_SOCKET,
} from './workload/index.ts';
export type { X509SourceOptions, X509SourceUpdate, JwtSourceOptions, WorkloadApiErrorCode } from './workload/index.ts';

export {
  authorizeAny,
  authorizeId,
  authorizeOneOf,
  authorizeMemberOf,
  authorizeMatcher,
  SecureContextStore,
  mtlsServer,
  createMtlsServer,
  mtlsClientOptions,
  MtlsAgent,
  peerIdentity,
  PeerNotAuthorized,
  PeerHandshakeRejected,
} from './tls/index.ts';
export type { Authorizer, AuthorizationResult, PeerIdentity, PeerRejectedEvent } from './tls/index.ts';
