import { SidecarError } from '../core/index.ts';

/** Stable codes of {@link TokenExchangeError}. */
export type TokenExchangeErrorCode =
  /** The options break a rule; every problem is listed. */
  | 'exchange.invalid_options'
  /** The client secret file is missing, unreadable or empty. */
  | 'exchange.secret_file'
  /** The token endpoint could not be reached or answered something that is not RFC 8693. */
  | 'exchange.unavailable'
  /** The authorization server refused the subject token (RFC 6749 §5.2 `invalid_grant`). */
  | 'exchange.subject_refused'
  /** The authorization server refused the exchange for another reason (client, audience, scope). */
  | 'exchange.refused'
  /** Our own JWT-SVID (actor token or jwt-svid mode) could not be obtained from the Workload API. */
  | 'exchange.jwt_svid_unavailable';

/** One broken option rule, with where it is. */
export interface TokenExchangeOptionsProblem {
  readonly path: string;
  readonly message: string;
}

/** What the outbound token step failed on; messages never carry tokens or secrets. */
export class TokenExchangeError extends SidecarError {
  declare readonly code: TokenExchangeErrorCode;
  readonly problems: readonly TokenExchangeOptionsProblem[];

  constructor(code: TokenExchangeErrorCode, message: string, options: { cause?: unknown; problems?: readonly TokenExchangeOptionsProblem[] } = {}) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.problems = options.problems ?? [];
  }
}
