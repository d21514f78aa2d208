/**
 * devagent: an embedded Workload API server backed by in-memory authorities
 * (an X.509 CA and a JWT signing key). The development default and the test
 * fixture for everything that talks to a Workload API.
 *
 * Never for production trust: keys live in memory, or with `stateDir` in
 * plain files of a private directory (so a restart keeps the CA).
 * May use `spiffe`, `x509`, `bundle`, `svid` and `workload` (for the
 * proto and message types it serves); nothing may import `devagent`
 * except the CLI, the composition root and tests.
 */
export { JwtAuthority, JwtAuthorityError } from './jwt-authority.ts';
export type { JwtAuthorityErrorCode, JwtAuthorityState, JwtKeyType, JwtSvidClaims } from './jwt-authority.ts';
export { CertificateAuthority, CaError } from './ca.ts';
export type { CaErrorCode, CertificateAuthorityOptions, CertificateAuthorityState, IssueX509SvidOptions, IssuedX509Svid } from './ca.ts';
export { AuthorityStore } from './authority-store.ts';
export type { AuthorityLoadOptions, TrustDomainAuthorities } from './authority-store.ts';
export { buildCertificate, generateKey, generateKeySync, randomSerial } from './cert-builder.ts';
export type { CertificateSpec, CertificateIssuer, KeyPair, KeyType, KeyUsageBit, NameAttribute, RawExtension } from './cert-builder.ts';
export { DevAgent } from './dev-agent.ts';
export type { DevAgentOptions, DevAgentTrustDomain, DevAgentWorkload } from './dev-agent-options.ts';
export { DevAgentError } from './dev-agent-error.ts';
export type { DevAgentErrorCode } from './dev-agent-error.ts';
export { WorkloadApiServer, RpcStatusError } from './server.ts';
export type { WorkloadApiBackend, WorkloadApiServerOptions } from './server.ts';
