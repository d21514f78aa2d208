/**
 * bundle: trust bundles, i.e. what each trust domain's SVIDs are verified
 * against: X.509 CA certificates and JWT signing keys, singly and as sets,
 * plus the one-method source interfaces validators read them through.
 *
 * Pure: parses and holds bundles; must not fetch them (that is `workload`)
 * or verify SVIDs (that is `svid`). Depends on `core`, `spiffe` and `x509` only.
 */
export { JwtBundle, JwtBundleError } from './jwt-bundle.ts';
export type { JwtBundleErrorCode } from './jwt-bundle.ts';
export { JwtBundleSet } from './jwt-bundle-set.ts';
export type { JwtBundleSource } from './jwt-bundle-set.ts';
export { X509Bundle, X509BundleError } from './x509-bundle.ts';
export type { X509BundleErrorCode } from './x509-bundle.ts';
export { X509BundleSet } from './x509-bundle-set.ts';
export type { X509BundleSource } from './x509-bundle-set.ts';
