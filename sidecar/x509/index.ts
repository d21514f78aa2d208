/**
 * x509: the certificate vocabulary shared by `bundle` and `svid`: decoding
 * one DER certificate into the facts SPIFFE rules need (extensions with their
 * criticality), splitting concatenated DER, and PEM in and out.
 *
 * It only describes certificates; it must not decide whether one is a valid
 * SVID or trusted (that is `svid`), and it never touches keys' secrets,
 * files or the clock.
 */
export { decodeCertificate, splitDerCertificates, parsePemCertificates } from './certificate.ts';
export type { CertificateInfo, KeyUsageInfo, NameConstraintsInfo, GeneralSubtreeInfo } from './certificate.ts';
export { CertificateCache } from './certificate-cache.ts';
export { CertificateError } from './certificate-error.ts';
export type { CertificateErrorCode } from './certificate-error.ts';
export { parsePemBlocks, toPem } from './pem.ts';
export { OID } from './oid.ts';
