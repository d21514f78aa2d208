import { SidecarError } from '../core/index.ts';

/**
 * OpenSSL verify codes (as Node reports them on `socket.authorizationError`
 * or as `err.code` on the client) mapped to the short reason labels the
 * SPIFFE verifier uses, so a rejection counts the same whichever layer made it.
 */
const byOpensslCode: Readonly<Record<string, string>> = {
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not_yet_valid',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown_authority',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown_authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown_authority',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'unknown_authority',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown_authority',
  CERT_SIGNATURE_FAILURE: 'unknown_authority',
  CERT_UNTRUSTED: 'unknown_authority',
  INVALID_CA: 'invalid_ca',
  PATH_LENGTH_EXCEEDED: 'invalid_ca',
  INVALID_PURPOSE: 'invalid_purpose',
  CERT_REJECTED: 'invalid_purpose',
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: 'no_certificate',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'no_certificate',
};

/**
 * Labels that name the same fact under another word in another layer: the
 * SPIFFE verifier says 'no_certificates' where OpenSSL's alerts say
 * 'no_certificate'. A peer without a certificate is counted under one label
 * whichever layer noticed it.
 */
const sameFact: Readonly<Record<string, string>> = { no_certificates: 'no_certificate' };

/** The one label used for `reason` (see {@link sameFact}); other labels are returned unchanged. */
export function canonicalReason(reason: string): string {
  return sameFact[reason] ?? reason;
}

/**
 * The reason label of any TLS failure: the `reason` of our own errors
 * (PeerVerificationError, PeerNotAuthorized, PeerHandshakeRejected), the
 * mapped OpenSSL code for Node's verify errors, else 'handshake_failed'.
 */
export function tlsFailureReason(err: unknown): string {
  if (err instanceof SidecarError) {
    const reason = (err as { reason?: unknown }).reason;
    if (typeof reason === 'string') return canonicalReason(reason);
  }
  if (err !== null && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') return byOpensslCode[code] ?? 'handshake_failed';
  }
  return 'handshake_failed';
}

/** The label for an OpenSSL verify code or Node TLS error code; 'handshake_failed' when unknown. */
export function reasonForOpensslCode(code: string): string {
  return byOpensslCode[code] ?? 'handshake_failed';
}
