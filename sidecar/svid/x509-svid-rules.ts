import { SpiffeId, quoteUntrusted } from '../spiffe/index.ts';
import type { CertificateInfo } from '../x509/index.ts';
import type { X509LeafRuleCode } from './x509-svid-error.ts';

/** A broken rule: the code and the message to raise it with. */
export interface RuleFailure<C extends string> {
  readonly code: C;
  readonly message: string;
  readonly cause?: unknown;
}

/**
 * Checks the leaf rules shared by parsing our own SVID and verifying a
 * peer's, in go-spiffe's Parse order (go-spiffe v2 svid/x509svid/svid.go)
 * with the spec's keyUsage presence and criticality (X509-SVID.md §4.3)
 * checked before its bits.
 * Returns the leaf's SPIFFE ID or the first rule broken.
 */
export function checkLeaf(leaf: CertificateInfo): { id: SpiffeId } | { failure: RuleFailure<X509LeafRuleCode> } {
  const fail = (code: X509LeafRuleCode, message: string, cause?: unknown) => ({
    failure: { code, message: `x509svid: ${message}`, ...(cause === undefined ? {} : { cause }) },
  });
  // Exactly one URI SAN (X509-SVID.md §2): a second one would make the identity ambiguous.
  if (leaf.uriSans.length === 0) return fail('x509svid.no_uri_san', 'leaf certificate has no URI SAN');
  if (leaf.uriSans.length > 1) return fail('x509svid.multiple_uri_sans', `leaf certificate has ${leaf.uriSans.length} URI SANs; exactly one is allowed`);
  // With an empty Subject the SAN carries the whole identity, so it must be
  // marked critical (X509-SVID.md §4; RFC 5280 §4.2.1.6): a relying party that
  // ignores SANs must then reject the certificate instead of seeing no name.
  if (isEmptyName(leaf.subjectDer) && !leaf.subjectAltNameCritical) {
    return fail('x509svid.san_not_critical', 'leaf certificate has an empty subject, so its subjectAltName extension must be critical');
  }
  const uri = leaf.uriSans[0]!;
  let id: SpiffeId;
  try {
    id = SpiffeId.parse(uri);
  } catch (cause) {
    return fail('x509svid.bad_spiffe_id', `leaf URI SAN ${quoteUntrusted(uri)} is not a valid SPIFFE ID`, cause);
  }
  // A root ID names the trust domain itself, never a workload (X509-SVID.md §3).
  if (id.isRoot()) return fail('x509svid.root_path', `leaf SPIFFE ID ${quoteUntrusted(uri)} must have a non-root path`);
  if (leaf.isCa) return fail('x509svid.leaf_is_ca', 'leaf certificate must not be a CA (basicConstraints cA=true)');
  const ku = keyUsageFailure(leaf, 'leaf certificate');
  if (ku) return { failure: ku };
  const usage = leaf.keyUsage!;
  if (!usage.digitalSignature) return fail('x509svid.leaf_no_digital_signature', "leaf certificate's keyUsage lacks digitalSignature");
  // A leaf that can sign certificates or CRLs could mint identities (X509-SVID.md §4.3).
  if (usage.keyCertSign) return fail('x509svid.leaf_key_cert_sign', "leaf certificate's keyUsage must not have keyCertSign");
  if (usage.cRLSign) return fail('x509svid.leaf_crl_sign', "leaf certificate's keyUsage must not have cRLSign");
  return { id };
}

/** keyUsage must be present and critical on every SVID certificate (X509-SVID.md §4.3). */
export function keyUsageFailure(
  cert: CertificateInfo,
  what: string,
): RuleFailure<'x509svid.key_usage_missing' | 'x509svid.key_usage_not_critical'> | undefined {
  if (!cert.keyUsage) return { code: 'x509svid.key_usage_missing', message: `x509svid: ${what} has no keyUsage extension` };
  if (!cert.keyUsage.critical) return { code: 'x509svid.key_usage_not_critical', message: `x509svid: ${what} has a non-critical keyUsage extension` };
  return undefined;
}

/**
 * Checks a certificate that signs others (X509-SVID.md §4.1): cA=true, then
 * keyUsage present and critical, then keyCertSign. `codes` picks the names
 * the caller reports (own-SVID parse vs peer verification).
 */
export function checkSigningCert<N extends string, K extends string>(
  cert: CertificateInfo,
  what: string,
  codes: { notCa: N; noKeyCertSign: K },
): RuleFailure<N | K | 'x509svid.key_usage_missing' | 'x509svid.key_usage_not_critical'> | undefined {
  if (!cert.isCa) return { code: codes.notCa, message: `x509svid: ${what} is not a CA (basicConstraints cA=true missing)` };
  const ku = keyUsageFailure(cert, what);
  if (ku) return ku;
  if (!cert.keyUsage!.keyCertSign) return { code: codes.noKeyCertSign, message: `x509svid: ${what} lacks keyUsage keyCertSign` };
  return undefined;
}

/** True for the DER of an empty Name: SEQUENCE OF RDN with no elements. */
function isEmptyName(der: Buffer): boolean {
  return der.length === 2 && der[0] === 0x30 && der[1] === 0x00;
}
