import { SidecarError } from '../core/index.ts';

/** Rules of an X509-SVID leaf certificate (X509-SVID.md §2, §4 and §5.2; go-spiffe v2 svid/x509svid/svid.go). */
export type X509LeafRuleCode =
  | 'x509svid.no_uri_san'
  | 'x509svid.multiple_uri_sans'
  | 'x509svid.san_not_critical'
  | 'x509svid.bad_spiffe_id'
  | 'x509svid.root_path'
  | 'x509svid.leaf_is_ca'
  | 'x509svid.key_usage_missing'
  | 'x509svid.key_usage_not_critical'
  | 'x509svid.leaf_no_digital_signature'
  | 'x509svid.leaf_key_cert_sign'
  | 'x509svid.leaf_crl_sign';

/** Every reason our own X509-SVID (chain + key) is rejected by {@link parseX509Svid}. */
export type X509SvidErrorCode =
  | 'x509svid.malformed'
  | 'x509svid.no_certificates'
  | X509LeafRuleCode
  | 'x509svid.signing_cert_not_ca'
  | 'x509svid.signing_cert_no_key_cert_sign'
  | 'x509svid.no_private_key'
  | 'x509svid.malformed_key'
  | 'x509svid.unsupported_key'
  | 'x509svid.key_mismatch';

/**
 * Raised when an X509-SVID from the Workload API (or files) breaks a rule.
 * Messages name the certificate by its position and never include key material.
 */
export class X509SvidError extends SidecarError {
  declare readonly code: X509SvidErrorCode;

  constructor(code: X509SvidErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
