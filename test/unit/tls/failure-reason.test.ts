import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerVerificationError } from '../../../sidecar/svid/index.ts';
import { PeerHandshakeRejected, PeerNotAuthorized, tlsFailureReason } from '../../../sidecar/tls/index.ts';

const nodeError = (code: string): Error => Object.assign(new Error(code), { code });

const rows: { input: unknown; want: string }[] = [
  { input: new PeerVerificationError('x509svid.expired', 'x509svid: expired'), want: 'expired' },
  { input: new PeerVerificationError('x509svid.no_bundle', 'x509svid: no bundle'), want: 'no_bundle' },
  // One label for a peer without a certificate, whichever layer noticed it.
  { input: new PeerVerificationError('x509svid.no_certificates', 'x509svid: peer presented no certificates'), want: 'no_certificate' },
  { input: new PeerNotAuthorized('spiffe://a/x', 'spiffe://a/y', 'unexpected'), want: 'not_authorized' },
  { input: new PeerHandshakeRejected('invalid_purpose', 'INVALID_PURPOSE'), want: 'invalid_purpose' },
  { input: nodeError('CERT_HAS_EXPIRED'), want: 'expired' },
  { input: nodeError('CERT_NOT_YET_VALID'), want: 'not_yet_valid' },
  { input: nodeError('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), want: 'unknown_authority' },
  { input: nodeError('UNABLE_TO_GET_ISSUER_CERT_LOCALLY'), want: 'unknown_authority' },
  { input: nodeError('DEPTH_ZERO_SELF_SIGNED_CERT'), want: 'unknown_authority' },
  { input: nodeError('SELF_SIGNED_CERT_IN_CHAIN'), want: 'unknown_authority' },
  { input: nodeError('INVALID_PURPOSE'), want: 'invalid_purpose' },
  { input: nodeError('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), want: 'no_certificate' },
  { input: nodeError('ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE'), want: 'no_certificate' },
  // A peer-chosen `reason` on a foreign error object must not become a label.
  { input: Object.assign(nodeError('ECONNRESET'), { reason: 'anything' }), want: 'handshake_failed' },
  { input: nodeError('ECONNRESET'), want: 'handshake_failed' },
  { input: 'not an error', want: 'handshake_failed' },
];

for (const r of rows) {
  test(`tlsFailureReason(${r.input instanceof Error ? ((r.input as { code?: string }).code ?? r.input.name) : String(r.input)}) = ${r.want}`, () => {
    assert.equal(tlsFailureReason(r.input), r.want);
  });
}
