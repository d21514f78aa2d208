import { SidecarError } from '../core/index.ts';

/** Stable codes of {@link ExplainError}. */
export type ExplainErrorCode = 'explain.admin_unreachable' | 'explain.admin_refused' | 'explain.admin_answer' | 'explain.policy_unreadable';

/**
 * Raised by `spiffe-sidecar explain` when it cannot get the policy to
 * explain: the admin endpoint cannot be reached ('explain.admin_unreachable'),
 * answers with an error status ('explain.admin_refused') or with something
 * that is not a policy description ('explain.admin_answer'), or the policy
 * file cannot be read ('explain.policy_unreadable').
 */
export class ExplainError extends SidecarError {
  declare readonly code: ExplainErrorCode;

  constructor(code: ExplainErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
