import { SidecarError } from '../core/index.ts';
import type { SpiffeId } from '../spiffe/index.ts';
import type { X509LeafRuleCode } from './x509-svid-error.ts';

/** Every reason a peer's X509-SVID chain is rejected by {@link verifyX509SvidChain}. */
export type PeerVerificationErrorCode =
  | 'x509svid.no_certificates'
  | 'x509svid.malformed'
  | X509LeafRuleCode
  | 'x509svid.no_bundle'
  | 'x509svid.unknown_authority'
  | 'x509svid.expired'
  | 'x509svid.not_yet_valid'
  | 'x509svid.intermediate_not_ca'
  | 'x509svid.intermediate_no_key_cert_sign'
  | 'x509svid.path_len_exceeded'
  | 'x509svid.name_constraint_violation'
  | 'x509svid.unhandled_critical_extension';

/** The code without its module prefix, e.g. 'expired': a bounded label set for metrics. */
export type PeerVerificationReason = PeerVerificationErrorCode extends `x509svid.${infer R}` ? R : never;

/**
 * Raised when a peer's certificate chain does not authenticate a SPIFFE ID.
 * `reason` is the code without the 'x509svid.' prefix, for metric labels;
 * `peerId` is the ID the leaf claimed, when it got that far (for logs: it is
 * NOT authenticated).
 */
export class PeerVerificationError extends SidecarError {
  declare readonly code: PeerVerificationErrorCode;
  readonly reason: PeerVerificationReason;
  readonly peerId: SpiffeId | undefined;

  constructor(code: PeerVerificationErrorCode, message: string, options?: { cause?: unknown; peerId?: SpiffeId }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = code.slice('x509svid.'.length) as PeerVerificationReason;
    this.peerId = options?.peerId;
  }
}
