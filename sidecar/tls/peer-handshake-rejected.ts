import { SidecarError } from '../core/index.ts';

/**
 * A peer certificate that OpenSSL already refused during the handshake
 * (missing, expired, unknown CA, wrong purpose), so the SPIFFE check never
 * ran. Node reports these only as a code on the socket; this gives them the
 * same `reason` labels as PeerVerificationError so both can be counted alike.
 */
export class PeerHandshakeRejected extends SidecarError {
  declare readonly code: 'tls.peer_handshake_rejected';
  /** Short label: 'no_certificate', 'expired', 'unknown_authority', ... */
  readonly reason: string;
  /** The OpenSSL verify code or Node error code it came from, e.g. 'CERT_HAS_EXPIRED'. */
  readonly opensslCode: string;

  constructor(reason: string, opensslCode: string, options?: { cause?: unknown }) {
    super('tls.peer_handshake_rejected', `tls: peer certificate rejected during the handshake: ${reason} (${opensslCode})`, options);
    this.reason = reason;
    this.opensslCode = opensslCode;
  }
}
