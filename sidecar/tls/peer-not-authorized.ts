import { SidecarError } from '../core/index.ts';

/**
 * The peer's SVID verified, but the authorizer refused its ID. Carries the
 * presented ID and what was expected so operators can tell a wrong upstream
 * from a missing policy rule.
 */
export class PeerNotAuthorized extends SidecarError {
  declare readonly code: 'tls.peer_not_authorized';
  /** Short label for metrics and logs, like PeerVerificationError's. */
  readonly reason = 'not_authorized';
  /** The peer's SPIFFE ID as presented (verified). */
  readonly presentedId: string;
  /** What the authorizer accepts, in words (its description), when it has one. */
  readonly expected: string | undefined;
  /** The authorizer's own sentence. */
  readonly detail: string;

  constructor(presentedId: string, expected: string | undefined, detail: string) {
    super('tls.peer_not_authorized', `tls: peer not authorized: ${detail}`);
    this.presentedId = presentedId;
    this.expected = expected;
    this.detail = detail;
  }
}
