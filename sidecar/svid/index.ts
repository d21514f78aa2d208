/**
 * svid: SPIFFE verifiable identity documents: X509-SVIDs and JWT-SVIDs.
 * Parses our own SVIDs and verifies peers' SVIDs against trust bundles.
 *
 * Pure: no sockets, no Workload API, no TLS wiring; time comes in through a
 * Clock. Depends on `core`, `spiffe`, `x509` and `bundle` only.
 */
export { parseAndValidateJwtSvid, parseJwtSvidInsecure, DEFAULT_JWT_LEEWAY_SECONDS } from './jwt-svid.ts';
export type { JwtSvid, JwtSvidOptions } from './jwt-svid.ts';
export { JwtSvidError } from './jwt-svid-error.ts';
export type { JwtSvidErrorCode } from './jwt-svid-error.ts';
export { JWT_SVID_ALGORITHMS, isJwtSvidAlgorithm, signJws, verifyJws } from './jwt-algorithm.ts';
export type { JwtSvidAlgorithm } from './jwt-algorithm.ts';
export { MAX_JWT_SVID_LENGTH } from './jwt-compact.ts';
export { X509Svid, parseX509Svid, parseX509SvidPem, parseX509SvidCertificates } from './x509-svid.ts';
export type { X509SvidSource } from './x509-svid.ts';
export { X509SvidError } from './x509-svid-error.ts';
export type { X509SvidErrorCode, X509LeafRuleCode } from './x509-svid-error.ts';
export { verifyX509SvidChain } from './x509-verify.ts';
export type { X509VerifyOptions, X509VerifyResult } from './x509-verify.ts';
export { PeerVerificationError } from './x509-verify-error.ts';
export type { PeerVerificationErrorCode, PeerVerificationReason } from './x509-verify-error.ts';
export { decodeCertificate, splitDerCertificates, parsePemCertificates, toPem, CertificateError, CertificateCache } from '../x509/index.ts';
export type { CertificateInfo, KeyUsageInfo, NameConstraintsInfo, GeneralSubtreeInfo, CertificateErrorCode } from '../x509/index.ts';
